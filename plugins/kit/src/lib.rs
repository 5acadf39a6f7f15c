//! dsm-plugin-kit: what every dsm plugin links statically.
//!
//! - [`Core`]: a provider's settings, host services, lazy runtime and HTTP client;
//! - [`http`]: GET with timeouts, retries, backoff, Retry-After, request counting, logging;
//! - [`limit`]: concurrency and a used-weight-per-minute gate;
//! - [`window`] and [`ordered`]: split a range into one-page windows, fetch them
//!   concurrently and deliver in order;
//! - [`parse`], [`interval`]: payload parsing and dsm interval names;
//! - [`cancel`]: waits that end when the host cancels; [`testing`]: a host for tests.
//!
//! Exchange specifics (URLs, weights, error codes, columns) stay in the plugins.

pub mod backoff;
pub mod cancel;
pub mod core;
pub mod http;
pub mod interval;
pub mod limit;
pub mod ordered;
pub mod parse;
pub mod runtime;
pub mod testing;
pub mod window;

pub use crate::core::Core;
pub use http::{HttpClient, Response, Weighted};
pub use interval::Interval;
pub use limit::WeightGate;
pub use window::Window;
