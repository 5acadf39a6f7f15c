//! Where an end-to-end test's cache is: a temporary directory, or a prefix of a bucket on
//! the fake S3 server (real HTTP on 127.0.0.1), so one test body runs on both.

use std::process::Command;
use std::sync::Arc;

use dsm_core::cache::{storage::ObjectStorage, Cache};
use dsm_tests::fake_s3::FakeS3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Fs,
    S3,
}

pub struct CacheAt {
    pub backend: Backend,
    dir: tempfile::TempDir,
    s3: Option<FakeS3>,
}

impl CacheAt {
    pub fn new(backend: Backend) -> CacheAt {
        CacheAt {
            backend,
            dir: tempfile::tempdir().unwrap(),
            s3: (backend == Backend::S3).then(FakeS3::start),
        }
    }

    /// `--cache-dir` / `DSM_CACHE_DIR`: a directory or `s3://dsm-test/desk/cache`.
    pub fn location(&self) -> String {
        match &self.s3 {
            None => self.dir.path().join("cache").display().to_string(),
            Some(s3) => s3.url("desk/cache"),
        }
    }

    /// The server, on S3.
    pub fn s3(&self) -> &FakeS3 {
        self.s3.as_ref().expect("an S3 cache")
    }

    /// What a `dsm` process needs to use this cache: DSM_CACHE_DIR and, on S3, the usual
    /// AWS variables (endpoint on 127.0.0.1, keys, region, plain http).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![("DSM_CACHE_DIR".to_string(), self.location())];
        if let Some(s3) = &self.s3 {
            env.extend(s3.env().into_iter().map(|(k, v)| (k.to_string(), v)));
        }
        env
    }

    /// `cmd` pointed at this cache.
    pub fn apply<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    /// The same cache, in this process.
    pub fn cache(&self) -> Cache {
        match &self.s3 {
            None => Cache::new(self.location()),
            Some(s3) => {
                let options = s3.options();
                let opts: Vec<(&str, &str)> =
                    options.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let storage = ObjectStorage::s3(&self.location(), &opts).unwrap();
                Cache::with_storage(self.location(), Arc::new(storage))
            }
        }
    }

    /// `dsm cache verify` in process: panics naming every bad file; the files checked.
    pub fn assert_valid(&self) -> usize {
        let report = self.cache().verify(&Default::default());
        assert!(report.is_ok(), "bad cache files: {:?}", report.bad);
        report.files_checked
    }

    /// Every key stored in the cache (on S3: every object of the prefix, whatever it is).
    pub fn keys(&self) -> Vec<String> {
        let cache = self.cache();
        let mut keys: Vec<String> = cache.storage().list("").map(|e| e.unwrap().key).collect();
        keys.sort();
        keys
    }
}
