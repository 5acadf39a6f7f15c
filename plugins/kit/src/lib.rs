//! dsm-plugin-kit: what every dsm plugin links statically.
//!
//! - [`Core`]: a provider's settings, host services, lazy runtime and HTTP client;
//! - [`http`]: GET with timeouts, retries, backoff, Retry-After, body caps, request counting,
//!   logging; [`redirect`]: which redirects it follows; [`envelope`]: the rows of a JSON
//!   answer wrapped with a status code;
//! - [`limit`]: concurrency and a used-weight-per-minute gate; [`budget`]: one of each per
//!   exchange host per process, shared by every provider instance;
//! - [`window`] and [`ordered`]: split a range into one-page windows, fetch them
//!   concurrently and deliver in order;
//! - [`parse`], [`number`], [`interval`]: payload parsing (with fast paths for CSV numbers)
//!   and dsm interval names;
//! - archives: [`unzip`] (one entry, bounded against zip bombs), [`checksum`] (sha256sum
//!   files), [`csv`] (streaming lines, header detection), [`calendar`] (UTC days, months);
//! - [`cancel`]: waits that end when the host cancels; [`testing`]: a host for tests;
//! - [`pager`]: paging newest-first APIs backwards; [`deliver`]: the `Out` a fetch writes
//!   to and ordered delivery of fetched windows; [`request`]: common request checks;
//!   [`symbol`]: splitting `BTCUSDT` into base and quote; [`manifest`]: the plugin's own
//!   manifest.json, the one source of its markets' intervals, aliases and page sizes;
//! - other data kinds: [`kinds`] (a request's kind against the manifest), [`funding`]
//!   (funding history paged backwards, its rows sorted and unique for the sink, delivered
//!   as one batch), [`fields`] (object rows).
//!
//! Exchange specifics (URLs, weights, error codes, columns) stay in the plugins.

pub mod backoff;
pub mod budget;
pub mod calendar;
pub mod cancel;
pub mod checksum;
pub mod core;
pub mod csv;
pub mod deliver;
pub mod envelope;
pub mod fields;
pub mod funding;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod http;
pub mod instruments;
pub mod interval;
pub mod kinds;
pub mod limit;
pub mod manifest;
pub mod number;
pub mod ordered;
pub mod pager;
pub mod parse;
pub mod redirect;
pub mod request;
pub mod runtime;
pub mod symbol;
pub mod testing;
pub mod unzip;
pub mod window;

pub use crate::core::Core;
pub use deliver::{Fetched, FundingOut, MetricsOut, Out, TradesOut};
pub use http::{HttpClient, Policy, Response, Throttled, Weighted};
pub use interval::Interval;
pub use limit::{Concurrency, RateLimiter, WeightGate};
pub use window::Window;
