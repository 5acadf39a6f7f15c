//! What a sync is asked for: symbols (names, globs, `all`), intervals, kinds, a range, the
//! markets of one provider; from code, the command line or a TOML spec file.

use serde::Deserialize;

use crate::error::{DsmError, Result};

/// The series of a sync, before expansion (see [`crate::sync::plan`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSpec {
    /// Provider id, e.g. `binance`.
    pub provider: String,
    /// Markets of that provider, e.g. `["spot", "um"]`.
    #[serde(alias = "market", deserialize_with = "one_or_many")]
    pub markets: Vec<String>,
    /// Symbols as the exchange writes them, globs (`*USDT`, `BTC?USDT`), or `all`.
    #[serde(alias = "symbol", deserialize_with = "one_or_many")]
    pub symbols: Vec<String>,
    /// Intervals for the candle kinds, e.g. `["1m", "1h"]`.
    #[serde(default, alias = "interval", deserialize_with = "one_or_many")]
    pub intervals: Vec<String>,
    /// Data kinds (default `["klines"]`).
    #[serde(default = "klines", alias = "kind", deserialize_with = "one_or_many")]
    pub kinds: Vec<String>,
    /// Start (inclusive), as `dsm fetch --start` takes it.
    pub start: String,
    /// End (exclusive), clipped to now.
    pub end: String,
}

fn klines() -> Vec<String> {
    vec!["klines".into()]
}

/// `"a"` or `["a", "b"]`; a string may itself be a comma-separated list.
fn one_or_many<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    };
    Ok(split_list(&items))
}

/// Comma-separated items of every entry, trimmed, empty ones dropped.
pub fn split_list(items: &[String]) -> Vec<String> {
    items
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl SyncSpec {
    /// A spec from a TOML file's text; `source` names the file in errors.
    pub fn from_toml(text: &str, source: &str) -> Result<SyncSpec> {
        let spec: SyncSpec = toml::from_str(text).map_err(|e| {
            DsmError::InvalidInput(format!(
                "{source}: not a sync spec: {}; the fields are provider, markets, symbols, \
                 intervals, kinds, start, end (README \"Syncing many series\")",
                e.message()
            ))
        })?;
        spec.check()?;
        Ok(spec)
    }

    /// Every list that must not be empty is not.
    pub fn check(&self) -> Result<()> {
        for (name, list) in [
            ("markets", &self.markets),
            ("symbols", &self.symbols),
            ("kinds", &self.kinds),
        ] {
            if list.is_empty() {
                return Err(DsmError::InvalidInput(format!(
                    "the sync names no {name}: give at least one"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_file_takes_lists_or_single_values() {
        let spec = SyncSpec::from_toml(
            "provider = \"binance\"\nmarket = \"spot\"\nsymbols = [\"BTCUSDT\", \"ETHUSDT,BNBUSDT\"]\n\
             intervals = \"1m, 1h\"\nstart = \"2024-01-01\"\nend = \"2024-02-01\"\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(spec.markets, ["spot"]);
        assert_eq!(spec.symbols, ["BTCUSDT", "ETHUSDT", "BNBUSDT"]);
        assert_eq!(spec.intervals, ["1m", "1h"]);
        assert_eq!(spec.kinds, ["klines"]);
    }

    #[test]
    fn unknown_or_missing_fields_are_named() {
        let e = SyncSpec::from_toml("provider = \"binance\"\nsymbls = []\n", "s.toml").unwrap_err();
        assert!(e.to_string().contains("symbls"), "{e}");
        let e = SyncSpec::from_toml(
            "provider = \"b\"\nmarkets = []\nsymbols = [\"A\"]\nstart = \"1\"\nend = \"2\"\n",
            "s.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("no markets"), "{e}");
    }
}
