//! How many Vision requests may be in flight at once: the archive's own limit, separate
//! from `ProviderConfig::concurrency` (which paces the REST APIs and their weight budget).
//!
//! The SDK's `ProviderConfig` has no field for it, so it is read from the environment
//! when the provider is created, as the endpoint overrides are: `DSM_BINANCE_ARCHIVE_CONCURRENCY`.

use dsm_sdk::{ErrorKind, ProviderError};

/// The variable that sets the limit (a whole number from 1 to [`MAX`]).
pub const ENV: &str = "DSM_BINANCE_ARCHIVE_CONCURRENCY";

/// The default: 32 requests in flight, that is 16 files with their CHECKSUMs. The archive
/// has no weight budget, but it is a CDN shared by everyone who downloads Binance data, so
/// the default is a compromise (README, "Archive concurrency"): 16 large downloads at once,
/// what download tools commonly treat as the polite most per server (aria2 refuses more
/// than 16 connections to one server), each beside its ~100-byte CHECKSUM; a third of the
/// 100 connections some tools open. At 16 requests (8 files) a year of daily files waited
/// 730 / 16 round trips, 2.3 s at 50 ms; at 32 half that.
pub const DEFAULT: usize = 32;

/// The most accepted: beyond this the limit would no longer protect anyone.
pub const MAX: usize = 256;

/// The limit from `get(ENV)`: unset is [`DEFAULT`]; anything but a whole number from 1 to
/// [`MAX`] is an error naming the variable and what it accepts.
pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<usize, ProviderError> {
    let Some(value) = get(ENV) else {
        return Ok(DEFAULT);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX).contains(&n) => Ok(n),
        _ => Err(ProviderError::new(
            ErrorKind::INVALID_REQUEST,
            format!(
                "{ENV}={value:?} is not a number of archive requests in flight from 1 to {MAX} \
                 (unset it for the default, {DEFAULT})"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: Option<&str>) -> Result<usize, ProviderError> {
        from_env(|k| {
            assert_eq!(k, ENV);
            value.map(String::from)
        })
    }

    #[test]
    fn unset_is_the_default_and_whole_numbers_in_range_are_taken() {
        assert_eq!(with(None).unwrap(), DEFAULT);
        assert_eq!(with(Some("1")).unwrap(), 1);
        assert_eq!(with(Some(" 64 ")).unwrap(), 64);
        assert_eq!(with(Some("256")).unwrap(), MAX);
    }

    #[test]
    fn anything_else_is_refused_with_the_variable_named() {
        for bad in ["0", "-3", "257", "eight", "", "1.5"] {
            let e = with(Some(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::INVALID_REQUEST);
            assert!(
                e.message
                    .starts_with(&format!("DSM_BINANCE_ARCHIVE_CONCURRENCY={bad:?} is not")),
                "{}",
                e.message
            );
            assert!(e.message.contains("from 1 to 256"), "{}", e.message);
        }
    }
}
