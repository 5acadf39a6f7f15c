//! Trades and aggregated trades of spot, USD-M and COIN-M (wire-formats-datasets.md 3):
//! [`archive`] fetches the Vision daily files a day at a time and streams their rows in
//! chunks ([`rows`] parses them); [`rest`] fills what the archive lacks (today, days not
//! yet uploaded) from aggTrades on every market and historicalTrades on spot ([`json`]
//! parses the pages). Monthly files are not read: the host asks a day per call, and a
//! monthly file would be downloaded once per day asked. Futures raw trades have no REST
//! source here: historicalTrades there needs an API key and keeps a month (section 3.2).

pub mod archive;
pub mod json;
pub mod rest;
pub mod rows;
