//! Trades and aggregated trades of spot, USD-M and COIN-M from the Vision archive's daily
//! files (wire-formats-datasets.md 3.3, 3.6): [`rows`] parses them, [`archive`] fetches a
//! day at a time and streams its rows in chunks. Monthly files are not read: the host asks
//! a day per call, and a monthly file would be downloaded once per day asked; a day
//! without its daily file is reported missing with the reason. No REST source: spot's
//! REST window no longer reaches deep history and futures keep a day or two (section 3.2).

pub mod archive;
pub mod rows;
