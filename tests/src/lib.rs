//! Test support for dsm: a fake Binance REST exchange (`fake`) that the end-to-end tests and
//! the `fake-exchange` binary serve on 127.0.0.1.

pub mod fake;
