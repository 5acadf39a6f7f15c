//! A real S3-compatible server for the tests: s3s (the S3 HTTP protocol, SigV4 signatures
//! checked) over s3s-fs (objects as files in a directory), served by hyper on 127.0.0.1 and
//! a free port. The tests start one per test, in process (`FakeS3::start`), or as the
//! `fake-s3` binary.
//!
//! One thing is added to s3s-fs: a gate that holds the next PUT after the first chunk of
//! its body has arrived, until the test releases it, so a test can kill a writer while its
//! upload is in flight (deterministically, not after a guessed time). Only the calls a
//! single-PUT client needs are served: a multipart upload is refused (NotImplemented), so a
//! client that tried one would fail its tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use futures_util::{StreamExt, TryStreamExt};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, S3};

/// The bucket every fake serves.
pub const BUCKET: &str = "dsm-test";
/// Credentials the fake requires (requests are signature-checked).
pub const ACCESS_KEY: &str = "dsm-test-key";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "dsm-test-secret-0123456789";
/// The region the client signs for.
pub const REGION: &str = "us-east-1";

/// The hold on PUTs, shared by the server and the test.
#[derive(Default)]
struct Gate {
    armed: AtomicBool,
    /// Only a PUT whose key ends so is held.
    suffix: Mutex<String>,
    puts: AtomicUsize,
    /// Body bytes of every GET answered (ranges as sent).
    served: AtomicU64,
    /// GETs answered with an error (a 404 among them).
    failed_gets: AtomicUsize,
    state: Mutex<Held>,
    changed: Condvar,
}

#[derive(Default)]
struct Held {
    held: bool,
    released: bool,
}

impl Gate {
    fn set(&self, f: impl FnOnce(&mut Held)) {
        f(&mut self.state.lock().unwrap());
        self.changed.notify_all();
    }
}

/// s3s-fs with the gate in front of PUT.
struct Gated {
    fs: s3s_fs::FileSystem,
    /// The directory s3s-fs serves (buckets are its subdirectories).
    root: PathBuf,
    gate: Arc<Gate>,
}

#[async_trait::async_trait]
impl S3 for Gated {
    async fn put_object(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let wanted = req
            .input
            .key
            .ends_with(self.gate.suffix.lock().unwrap().as_str());
        if wanted && self.gate.armed.swap(false, Ordering::SeqCst) {
            if let Some(mut body) = req.input.body.take() {
                let first = body.next().await;
                self.gate.set(|h| h.held = true);
                let gate = self.gate.clone();
                tokio::task::spawn_blocking(move || {
                    let mut h = gate.state.lock().unwrap();
                    while !h.released {
                        h = gate.changed.wait(h).unwrap();
                    }
                })
                .await
                .ok();
                // The rest as it comes (an error if the writer died mid-body).
                let rest = futures_util::stream::iter(first).chain(body);
                req.input.body = Some(StreamingBlob::wrap(rest.map_err(std::io::Error::other)));
            }
        }
        let out = self.fs.put_object(req).await;
        if out.is_ok() {
            self.gate.puts.fetch_add(1, Ordering::SeqCst);
        }
        out
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let mut req = req;
        // S3 answers `bytes=-N` for an object of fewer than N bytes with all of it (206);
        // s3s-fs seeks N before the end and fails (500). Asked as S3 would answer it.
        if let Some(Range::Suffix { length }) = req.input.range {
            let file = self.root.join(&req.input.bucket).join(&req.input.key);
            if std::fs::metadata(&file).is_ok_and(|m| m.len() > 0 && m.len() < length) {
                req.input.range = Some(Range::Int {
                    first: 0,
                    last: None,
                });
            }
        }
        let got = self.fs.get_object(req).await.inspect_err(|_| {
            self.gate.failed_gets.fetch_add(1, Ordering::SeqCst);
        })?;
        let sent = got.output.content_length.unwrap_or(0).max(0) as u64;
        self.gate.served.fetch_add(sent, Ordering::SeqCst);
        Ok(got)
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.fs.head_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.fs.list_objects_v2(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }
}

/// A running server; stopped when dropped.
pub struct FakeS3 {
    addr: SocketAddr,
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    gate: Arc<Gate>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FakeS3 {
    /// A server over a new temporary directory (removed when the server is dropped).
    pub fn start() -> FakeS3 {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let mut s3 = FakeS3::serve(temp.path(), 0).expect("the fake S3 server starts");
        s3._temp = Some(temp);
        s3
    }

    /// A server over `dir` (the bucket is `dir/dsm-test`) on `port` (0: a free one).
    pub fn serve(dir: &Path, port: u16) -> std::io::Result<FakeS3> {
        std::fs::create_dir_all(dir.join(BUCKET))?;
        let fs =
            s3s_fs::FileSystem::new(dir).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let gate = Arc::new(Gate::default());
        let service = {
            let mut b = s3s::service::S3ServiceBuilder::new(Gated {
                fs,
                root: dir.to_path_buf(),
                gate: gate.clone(),
            });
            b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            b.build()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-s3")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))?;
        let addr = listener.local_addr()?;
        runtime.spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                // Without it, small answers wait out the peer's delayed ACK (40 ms each).
                let _ = socket.set_nodelay(true);
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        Ok(FakeS3 {
            addr,
            dir: dir.to_path_buf(),
            _temp: None,
            gate,
            runtime: Some(runtime),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `s3://dsm-test/PREFIX`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The directory holding the bucket's objects as files (`dir/dsm-test/KEY`).
    pub fn bucket_dir(&self) -> PathBuf {
        self.dir.join(BUCKET)
    }

    /// The environment a `dsm` process needs to reach this server (the usual AWS names).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// The same as object_store configuration keys, for a client made in process.
    pub fn options(&self) -> Vec<(&'static str, String)> {
        self.env()
            .into_iter()
            .map(|(k, v)| match k {
                "AWS_ENDPOINT_URL" => ("aws_endpoint", v),
                "AWS_ACCESS_KEY_ID" => ("aws_access_key_id", v),
                "AWS_SECRET_ACCESS_KEY" => ("aws_secret_access_key", v),
                "AWS_REGION" => ("aws_region", v),
                _ => ("aws_allow_http", v),
            })
            .collect()
    }

    /// Hold the next PUT of a key ending in `suffix` once the first chunk of its body has
    /// arrived.
    pub fn hold_next_put(&self, suffix: &str) {
        self.gate.set(|h| *h = Held::default());
        *self.gate.suffix.lock().unwrap() = suffix.to_string();
        self.gate.armed.store(true, Ordering::SeqCst);
    }

    /// Wait until a PUT is held; false if none is within `limit` (a broken client).
    pub fn wait_held(&self, limit: std::time::Duration) -> bool {
        let h = self.gate.state.lock().unwrap();
        let (h, _) = self
            .gate
            .changed
            .wait_timeout_while(h, limit, |h| !h.held)
            .unwrap();
        h.held
    }

    /// Let the held PUT go on (with whatever of its body still comes).
    pub fn release(&self) {
        self.gate.set(|h| h.released = true);
    }

    /// PUTs that stored an object.
    pub fn puts(&self) -> usize {
        self.gate.puts.load(Ordering::SeqCst)
    }

    /// Bytes of object bodies sent in answer to GETs so far.
    pub fn bytes_served(&self) -> u64 {
        self.gate.served.load(Ordering::SeqCst)
    }

    /// GETs answered with an error so far (404s included).
    pub fn failed_gets(&self) -> usize {
        self.gate.failed_gets.load(Ordering::SeqCst)
    }
}

impl Drop for FakeS3 {
    fn drop(&mut self) {
        self.release();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
