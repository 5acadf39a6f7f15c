//! The object-storage backend (`s3://bucket/prefix`) through the `object_store` crate.
//!
//! A put is one PUT request (never a multipart upload): S3 makes an object visible only
//! once its whole body has arrived, so a writer killed mid-upload leaves nothing, and two
//! writers of one key leave one of their whole objects (the last PUT wins). There are no
//! partial objects to list or sweep.
//!
//! `object_store` is async and the cache is called from blocking code (the failover, the
//! CLI, Python threads), so the backend owns a small tokio runtime (2 threads) that it
//! starts on its first request: creating a manager, listing providers or importing the
//! Python package starts nothing, and a fetch served from disk never pays for it. Each
//! call blocks its caller on that runtime; several callers (the cache writes a chunk's
//! periods on up to `WRITE_THREADS` threads) share it.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientConfigKey, GetOptions, GetRange, ObjectStore, PutPayload, RetryConfig};

use super::ends::Ends;
use super::files::too_large;
use super::{Entry, Listing, ReadSeek, Storage, What, WriteFn};

/// Objects below a prefix of a bucket.
pub struct ObjectStorage {
    /// `s3://bucket/prefix` as given (without a trailing `/`).
    url: String,
    bucket: String,
    /// The key prefix inside the bucket, `""` or ending in `/`.
    prefix: String,
    /// Settings over the environment's (`aws_endpoint`, ...), for tests and embedders.
    options: Vec<(String, String)>,
    store: OnceLock<Result<Arc<dyn ObjectStore>, String>>,
    runtime: OnceLock<io::Result<tokio::runtime::Runtime>>,
}

impl std::fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStorage")
            .field("url", &self.url)
            .finish()
    }
}

impl ObjectStorage {
    /// `s3://bucket/prefix`, configured from the `AWS_*` environment variables
    /// (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ALLOW_HTTP`, ...) and then `options` (object_store's S3 configuration keys,
    /// e.g. `("aws_endpoint", "http://127.0.0.1:9000")`). Nothing is contacted yet.
    pub fn s3(url: &str, options: &[(&str, &str)]) -> io::Result<ObjectStorage> {
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{url}: {why}; the form is s3://bucket/prefix"),
            )
        };
        let rest = url
            .strip_prefix("s3://")
            .or_else(|| url.strip_prefix("s3a://"))
            .ok_or_else(|| bad("not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = |b: &str| {
            (3..=63).contains(&b.len())
                && b.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        };
        if !bucket_ok(bucket) {
            return Err(bad(
                "the bucket name must be 3 to 63 of a-z, 0-9, '-' and '.'",
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..")
            || prefix.contains("//")
            || ObjectPath::parse(prefix).is_err()
        {
            return Err(bad("the prefix is not a valid object path"));
        }
        Ok(ObjectStorage {
            url: format!("s3://{}", super::join(bucket, prefix).trim_end_matches('/')),
            bucket: bucket.to_string(),
            prefix: super::join(prefix, ""),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            store: OnceLock::new(),
            runtime: OnceLock::new(),
        })
    }

    /// Whether the runtime or the client exist yet.
    #[cfg(test)]
    pub(crate) fn started(&self) -> bool {
        self.runtime.get().is_some() || self.store.get().is_some()
    }

    /// The client, built on first use.
    fn store(&self) -> io::Result<&Arc<dyn ObjectStore>> {
        let built = self.store.get_or_init(|| {
            // Timeouts as settings, not ClientOptions: those would replace the environment's
            // client settings (AWS_ALLOW_HTTP among them).
            let client =
                |k: ClientConfigKey, v: &str| (AmazonS3ConfigKey::Client(k), v.to_string());
            let mut b = AmazonS3Builder::from_env().with_bucket_name(&self.bucket);
            for (k, v) in [
                client(ClientConfigKey::ConnectTimeout, "10s"),
                client(ClientConfigKey::Timeout, "120s"),
            ] {
                b = b.with_config(k, v);
            }
            for (k, v) in &self.options {
                let key = k.parse().map_err(|e| format!("{k}: {e}"))?;
                b = b.with_config(key, v);
            }
            let retry = RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(60),
                ..RetryConfig::default()
            };
            b.with_retry(retry)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| e.to_string())
        });
        built.as_ref().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: cannot set up object storage: {e}", self.url),
            )
        })
    }

    /// Run `fut` on the backend's runtime, blocking the caller (from inside another
    /// runtime, on a thread of its own: blocking a runtime thread would panic).
    fn run<T: Send>(&self, fut: impl Future<Output = T> + Send) -> io::Result<T> {
        let rt = self
            .runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("dsm-object-store")
                    .enable_all()
                    .build()
            })
            .as_ref()
            .map_err(|e| io::Error::other(format!("cannot start object storage: {e}")))?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(rt.block_on(fut));
        }
        std::thread::scope(|s| {
            s.spawn(|| rt.block_on(fut))
                .join()
                .map_err(|_| io::Error::other("object storage call panicked"))
        })
    }

    fn put_owned(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        let (store, path) = (self.store()?, self.path(key)?);
        let payload = PutPayload::from(bytes);
        self.run(async { store.put(&path, payload).await.map(drop) })?
            .map_err(|e| self.err(key, e))
    }

    fn path(&self, key: &str) -> io::Result<ObjectPath> {
        ObjectPath::parse(format!("{}{key}", self.prefix))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{key}: {e}")))
    }

    /// The error of a request, with the object it was about.
    fn err(&self, key: &str, e: object_store::Error) -> io::Error {
        use object_store::Error as E;
        let kind = match &e {
            E::NotFound { .. } => io::ErrorKind::NotFound,
            E::AlreadyExists { .. } | E::Precondition { .. } => io::ErrorKind::AlreadyExists,
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
                io::ErrorKind::PermissionDenied
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("{}: {e}", self.location(key).display()))
    }
}

impl Drop for ObjectStorage {
    fn drop(&mut self) {
        // Never blocks, so dropping a cache inside async code is fine too.
        if let Some(Ok(rt)) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Storage for ObjectStorage {
    fn get(&self, key: &str, max: u64) -> io::Result<Option<Vec<u8>>> {
        let (store, path) = (self.store()?, self.path(key)?);
        self.run(async {
            let got = match store.get(&path).await {
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                other => other.map_err(|e| self.err(key, e))?,
            };
            if got.meta.size > max {
                return Err(too_large(got.meta.size, max));
            }
            // Counted as it arrives too: a server may send more than it announced.
            let mut bytes = Vec::with_capacity(got.meta.size as usize);
            let mut body = got.into_stream();
            while let Some(chunk) = body.next().await {
                bytes.extend_from_slice(&chunk.map_err(|e| self.err(key, e))?);
                if bytes.len() as u64 > max {
                    return Err(too_large(bytes.len() as u64, max));
                }
            }
            Ok(Some(bytes))
        })?
    }

    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        self.put_owned(key, bytes.to_vec())
    }

    /// Two ranged GETs: the last `tail` bytes (whose answer gives the object's size), then
    /// the first `head` of the same version (If-Match its ETag: an object replaced between
    /// the two fails the read instead of mixing two versions).
    fn open_ends(
        &self,
        key: &str,
        max: u64,
        head: u64,
        tail: u64,
    ) -> io::Result<Option<Box<dyn ReadSeek>>> {
        let (store, path) = (self.store()?, self.path(key)?);
        let err = |e| self.err(key, e);
        self.run(async {
            let last = GetOptions {
                range: Some(GetRange::Suffix(tail)),
                ..GetOptions::default()
            };
            let got = match store.get_opts(&path, last).await {
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                other => other.map_err(err)?,
            };
            let len = got.meta.size;
            if len > max {
                return Err(too_large(len, max));
            }
            let (tail_start, e_tag) = (got.range.start, got.meta.e_tag.clone());
            let tail = got.bytes().await.map_err(err)?.to_vec();
            if tail_start + tail.len() as u64 != len {
                return Err(io::Error::other(format!(
                    "{}: asked for the last {} bytes of {len}, got {} from byte {tail_start}",
                    self.location(key).display(),
                    len - tail_start,
                    tail.len()
                )));
            }
            let head = match head.min(tail_start) {
                0 => Vec::new(),
                n => {
                    let first = GetOptions {
                        range: Some(GetRange::Bounded(0..n)),
                        if_match: e_tag,
                        ..GetOptions::default()
                    };
                    let got = store.get_opts(&path, first).await.map_err(err)?;
                    got.bytes().await.map_err(err)?.to_vec()
                }
            };
            let ends = Ends::new(len, head, tail_start, tail);
            Ok(Some(Box::new(ends) as Box<dyn ReadSeek>))
        })?
    }

    /// One PUT of what `write` writes, collected once (not copied again for the request).
    fn put_with(&self, key: &str, write: &mut WriteFn<'_>) -> io::Result<()> {
        let mut bytes = Vec::new();
        write(&mut bytes)?;
        self.put_owned(key, bytes)
    }

    fn exists(&self, key: &str) -> io::Result<bool> {
        let (store, path) = (self.store()?, self.path(key)?);
        match self.run(store.head(&path))? {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.err(key, e)),
        }
    }

    fn list(&self, prefix: &str) -> Listing<'_> {
        let opened = self.store().and_then(|s| Ok((s, self.path(prefix)?)));
        let (store, path) = match opened {
            Ok(v) => v,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        // object_store asks for the next page (1000 keys) when this one is used up.
        let mut pages = store.list(Some(&path));
        let mut failed = false;
        let prefix = prefix.to_string();
        Box::new(std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let next = match self.run(pages.next()) {
                Ok(n) => n?,
                Err(e) => Err(object_store::Error::Generic {
                    store: "S3",
                    source: Box::new(e),
                }),
            };
            Some(match next {
                Ok(meta) => {
                    let full = meta.location.to_string();
                    let key = full.strip_prefix(&self.prefix).unwrap_or(&full).to_string();
                    Ok(Entry {
                        key,
                        bytes: meta.size,
                        what: What::Object,
                    })
                }
                Err(e) => {
                    failed = true;
                    Err(self.err(&prefix, e))
                }
            })
        }))
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let (store, path) = (self.store()?, self.path(key)?);
        match self.run(store.delete(&path))? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(key, e)),
        }
    }

    fn location(&self, key: &str) -> PathBuf {
        PathBuf::from(super::join(&self.url, key))
    }

    /// Nothing to sweep: an upload never shows a part (and a listing per write would cost).
    fn sweep(&self, _prefix: &str) {}

    /// A small object written and removed: the bucket is there, reachable, and these
    /// credentials may write to it.
    fn check_writable(&self) -> io::Result<()> {
        const PROBE: &str = ".dsm-write-check";
        self.put(PROBE, b"dsm")?;
        self.delete(PROBE)
    }
}
