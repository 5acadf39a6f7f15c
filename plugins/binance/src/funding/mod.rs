//! Funding rate history of USD-M and COIN-M perpetuals (wire-formats-datasets.md 1.1-1.4,
//! 1.7): REST `/fapi|dapi/v1/fundingRate` paged forward ([`rest`]) and the Vision monthly
//! `fundingRate` files ([`archive`]); [`rows`] parses both. Settlement times are kept as
//! given (a few ms past the hour is normal). REST rows state no interval (`interval_ms` 0);
//! Vision rows do, per row, and carry no mark price (NaN).

pub mod archive;
pub mod rest;
pub mod rows;
