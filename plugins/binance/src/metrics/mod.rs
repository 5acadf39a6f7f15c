//! Futures positioning (open interest, long/short ratios) every 5 minutes from the Vision
//! daily `metrics` files of USD-M and COIN-M (wire-formats-datasets.md 4). Archive only:
//! REST `openInterestHist` keeps 30 days.

pub mod archive;
pub mod rows;
