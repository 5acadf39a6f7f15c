//! dsm interval names (`1s`, `15m`, `4h`, `1d`, `1w`, `1M`) and their length: the SDK's
//! table, shared with the host (`dsm_sdk::interval`).

pub use dsm_sdk::interval::{Interval, IntervalError};
