//! The cache tests' backends: each test runs on the file system and on a real S3 server
//! (s3s-fs over HTTP on 127.0.0.1, started per test), through one body.

use std::sync::Arc;

use dsm_tests::fake_s3::FakeS3;

use super::storage::ObjectStorage;
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Fs,
    S3,
}

/// A cache on a backend, with what keeps it alive.
pub(super) struct TestCache {
    pub cache: Cache,
    pub backend: Backend,
    /// The file-system cache's parent directory.
    _dir: tempfile::TempDir,
    _s3: Option<FakeS3>,
}

pub(super) fn temp_cache(backend: Backend) -> TestCache {
    let dir = tempfile::tempdir().unwrap();
    let (cache, s3) = match backend {
        Backend::Fs => (Cache::new(dir.path().join("cache")), None),
        Backend::S3 => {
            let s3 = FakeS3::start();
            let url = s3.url("team/cache");
            let options = s3.options();
            let opts: Vec<(&str, &str)> = options.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let storage = ObjectStorage::s3(&url, &opts).unwrap();
            (Cache::with_storage(&url, Arc::new(storage)), Some(s3))
        }
    };
    TestCache {
        cache,
        backend,
        _dir: dir,
        _s3: s3,
    }
}

impl std::ops::Deref for TestCache {
    type Target = Cache;
    fn deref(&self) -> &Cache {
        &self.cache
    }
}

impl TestCache {
    /// The stored bytes of a period, unchecked.
    pub fn raw(&self, k: &SeriesKey, start: i64) -> Vec<u8> {
        let key = self.key_of(k, start).unwrap();
        self.storage().get(&key, u64::MAX).unwrap().expect("stored")
    }

    /// Store bytes at a period's place, unchecked (to damage a file).
    pub fn put_raw(&self, k: &SeriesKey, start: i64, bytes: &[u8]) {
        let key = self.key_of(k, start).unwrap();
        self.storage().put(&key, bytes).unwrap();
    }

    /// Store bytes at `name` in a series' directory.
    pub fn put_named(&self, k: &SeriesKey, name: &str, bytes: &[u8]) {
        self.storage()
            .put(&format!("{}{name}", k.prefix()), bytes)
            .unwrap();
    }

    /// The file names in a series' directory, sorted.
    pub fn names_in(&self, k: &SeriesKey) -> Vec<String> {
        let prefix = k.prefix();
        let mut names: Vec<String> = self
            .storage()
            .list(&prefix)
            .map(|e| e.unwrap().key[prefix.len()..].to_string())
            .collect();
        names.sort();
        names
    }

    /// Every key stored below `prefix`.
    pub fn keys_below(&self, prefix: &str) -> Vec<String> {
        self.storage()
            .list(prefix)
            .map(|e| e.unwrap().key)
            .collect()
    }
}

/// `#[test]`s `on_fs::NAME` and `on_s3::NAME` for each `fn NAME(Backend)`.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod on_fs {
            $(#[test] fn $test() { super::$test(super::Backend::Fs) })*
        }
        mod on_s3 {
            $(#[test] fn $test() { super::$test(super::Backend::S3) })*
        }
    };
}
pub(super) use on_every_backend;
