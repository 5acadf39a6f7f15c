//! The used-weight budget of each Binance API host, shared by every provider instance of
//! the process (`kit::budget`): klines, funding and every manager of one market draw from
//! one budget, as Binance counts per IP.
//!
//! Two variables, read when a provider is created (the plugin interface has no field for
//! them): `DSM_BINANCE_WEIGHT_LIMIT` caps the weight per window on every API host below the
//! documented limit (e.g. to leave room for other tools on the same IP), and
//! `DSM_BINANCE_WEIGHT_WINDOW_MS` sets the window the exchange counts in (60000, a minute;
//! only a test server counts in shorter ones).

use std::sync::Arc;

use dsm_plugin_kit::{budget, WeightGate};
use dsm_sdk::{ErrorKind, ProviderError};

use crate::markets::Market;

/// The variable capping the weight per window.
pub const LIMIT_ENV: &str = "DSM_BINANCE_WEIGHT_LIMIT";
/// The variable setting the counting window in ms.
pub const WINDOW_ENV: &str = "DSM_BINANCE_WEIGHT_WINDOW_MS";
/// Header with the IP's used request weight this minute (lowercase on fapi; any case works).
const USED_WEIGHT_HEADER: &str = "x-mbx-used-weight-1m";
/// Share of the weight limit left unused, for other clients on the same IP and clock skew.
const HEADROOM_PCT: u32 = 10;

/// What the environment says about the budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub limit: Option<u32>,
    pub window_ms: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            limit: None,
            window_ms: 60_000,
        }
    }
}

impl Weights {
    /// From `get(name)`; a value that is not a positive whole number is an error naming it.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Weights, ProviderError> {
        let number = |name: &str| -> Result<Option<u32>, ProviderError> {
            let Some(v) = get(name) else { return Ok(None) };
            match v.trim().parse::<u32>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(ProviderError::new(
                    ErrorKind::INVALID_REQUEST,
                    format!(
                        "{name}={v:?} is not a positive whole number (unset it for the default)"
                    ),
                )),
            }
        };
        Ok(Weights {
            limit: number(LIMIT_ENV)?,
            window_ms: number(WINDOW_ENV)?.map_or(60_000, i64::from),
        })
    }

    /// The process's gate for `market` at `base_url`: the same `Arc` for every instance.
    pub fn gate(&self, market: Market, base_url: &str) -> Arc<WeightGate> {
        let limit = self
            .limit
            .map_or(market.weight_limit(), |l| l.min(market.weight_limit()));
        let key = format!("{} {} {limit}/{}ms", market.id(), base_url, self.window_ms);
        budget::weight_gate(&key, || {
            WeightGate::with_window(USED_WEIGHT_HEADER, limit, HEADROOM_PCT, self.window_ms)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_from_the_environment_or_refused_naming_the_variable() {
        let none = Weights::from_env(|_| None).unwrap();
        assert_eq!(none, Weights::default());
        let set = Weights::from_env(|k| Some(if k == LIMIT_ENV { "120" } else { "500" }.into()));
        assert_eq!(
            set.unwrap(),
            Weights {
                limit: Some(120),
                window_ms: 500
            }
        );
        let bad = Weights::from_env(|k| (k == WINDOW_ENV).then(|| "0".into())).unwrap_err();
        assert!(bad.message.contains(WINDOW_ENV), "{}", bad.message);
    }

    #[test]
    fn a_limit_above_the_documented_one_is_not_taken() {
        let w = Weights {
            limit: Some(1_000_000),
            window_ms: 60_000,
        };
        assert_eq!(w.gate(Market::Um, "http://w-test").budget(), 2400 * 9 / 10);
    }
}
