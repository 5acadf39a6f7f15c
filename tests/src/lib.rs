//! Test support for dsm: a fake Binance REST exchange (`fake`) that the end-to-end tests and
//! the `fake-exchange` binary serve on 127.0.0.1, and an S3-compatible server (`fake_s3`,
//! the `fake-s3` binary) for the cache on object storage.

pub mod fake;
pub mod fake_s3;
