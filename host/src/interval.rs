//! Kline intervals: the SDK's table (`dsm_sdk::interval`), re-exported under the host's
//! names, and how its parse errors become user errors.

pub use dsm_sdk::calendar::{civil_from_days, days_from_civil};
pub use dsm_sdk::interval::{Interval, IntervalError};
pub use dsm_sdk::time::{
    DAY_MS as DAY, HOUR_MS as HOUR, MINUTE_MS as MINUTE, SECOND_MS as SECOND, WEEK_MS as WEEK,
};

use crate::error::DsmError;

impl From<IntervalError> for DsmError {
    fn from(e: IntervalError) -> DsmError {
        DsmError::InvalidInput(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_interval_is_a_usage_error_with_its_message() {
        let e: DsmError = Interval::parse("5x").unwrap_err().into();
        assert!(e.is_usage());
        assert!(e.to_string().contains("unknown unit \"x\""), "{e}");
    }
}
