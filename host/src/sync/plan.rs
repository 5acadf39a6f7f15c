//! From a spec to the list of series: symbols expanded (names, globs, `all`) over the
//! symbols known to be listed, crossed with kinds and intervals, sorted; and sharding.

use std::fmt;

use dsm_sdk::DataKind;

use crate::error::{DsmError, Result};
use crate::sync::spec::SyncSpec;

/// One series of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId {
    /// Provider id.
    pub provider: String,
    /// Market id as the spec names it.
    pub market: String,
    /// Symbol, upper case.
    pub symbol: String,
    /// Data kind.
    pub kind: DataKind,
    /// Interval, `""` for kinds without one.
    pub interval: String,
}

impl fmt::Display for SeriesId {
    /// `binance/spot/klines/BTCUSDT/1h`, `binance/um/funding/BTCUSDT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p, m, k, s) = (&self.provider, &self.market, self.kind, &self.symbol);
        match self.interval.is_empty() {
            true => write!(f, "{p}/{m}/{k}/{s}"),
            false => write!(f, "{p}/{m}/{k}/{s}/{}", self.interval),
        }
    }
}

/// Whether a symbol pattern needs the listing (a glob or `all`).
pub fn needs_listing(pattern: &str) -> bool {
    pattern.eq_ignore_ascii_case("all") || pattern.contains(['*', '?'])
}

/// The symbols `patterns` name, sorted and unique: plain names as they are (upper case),
/// globs (`*` any run, `?` one character) and `all` over `known`. `known` is `None` when no
/// listing is available: then a glob or `all` is an error saying so.
pub fn expand_symbols(patterns: &[String], known: Option<&[String]>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for pattern in patterns {
        let pattern = pattern.trim().to_ascii_uppercase();
        if !needs_listing(&pattern) {
            out.push(pattern);
            continue;
        }
        let Some(known) = known else {
            return Err(DsmError::InvalidInput(format!(
                "symbol pattern {pattern:?} needs the market's symbol listing, which this \
                 provider does not give; name the symbols instead (-s BTCUSDT,ETHUSDT)"
            )));
        };
        let before = out.len();
        out.extend(
            known
                .iter()
                .map(|s| s.to_ascii_uppercase())
                .filter(|s| pattern == "ALL" || glob(pattern.as_bytes(), s.as_bytes())),
        );
        if out.len() == before {
            return Err(DsmError::InvalidInput(format!(
                "symbol pattern {pattern:?} matches none of the {} listed symbols",
                known.len()
            )));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `*` matches any run of characters, `?` one; everything else itself.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

/// Every series of `spec`, sorted: per market its symbols (expanded over `known(market)`),
/// per kind its intervals (or none). A kind that needs an interval gets the spec's.
pub fn plan(spec: &SyncSpec, known: &dyn Fn(&str) -> Option<Vec<String>>) -> Result<Vec<SeriesId>> {
    spec.check()?;
    let mut kinds = Vec::new();
    for name in &spec.kinds {
        let kind = DataKind::parse(name).ok_or_else(|| {
            DsmError::InvalidInput(format!(
                "unknown kind {name:?}; use one of: {}",
                DataKind::names().join(", ")
            ))
        })?;
        if kind.has_interval() && spec.intervals.is_empty() {
            return Err(DsmError::InvalidInput(format!(
                "{kind} needs intervals: add -i, e.g. -i 1m,1h"
            )));
        }
        kinds.push(kind);
    }
    let mut out = Vec::new();
    for market in &spec.markets {
        let listed = spec
            .symbols
            .iter()
            .any(|p| needs_listing(p))
            .then(|| known(market))
            .flatten();
        for symbol in expand_symbols(&spec.symbols, listed.as_deref())? {
            for &kind in &kinds {
                let intervals = match kind.has_interval() {
                    true => spec.intervals.clone(),
                    false => vec![String::new()],
                };
                for interval in intervals {
                    out.push(SeriesId {
                        provider: spec.provider.trim().to_ascii_lowercase(),
                        market: market.trim().to_ascii_lowercase(),
                        kind,
                        symbol: symbol.clone(),
                        interval,
                    });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Shard `k` of `n` (1-based): `K/N` as `--shard` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1..=n.
    pub k: u32,
    /// How many shards.
    pub n: u32,
}

impl Shard {
    /// `3/8`; anything else is an error saying the form.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || {
            DsmError::InvalidInput(format!(
                "--shard {s:?}: expected K/N with 1 <= K <= N, e.g. 3/8"
            ))
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// Whether `id` is this shard's: a stable hash of the series' identity (never of its
    /// position in a list), so every machine agrees whatever else it was given.
    pub fn owns(&self, id: &SeriesId) -> bool {
        fnv1a(id.to_string().as_bytes()) % u64::from(self.n) == u64::from(self.k - 1)
    }
}

/// FNV-1a, 64 bits: stable across versions and platforms (std's hasher is not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_globs_and_all_over_the_listing() {
        let known = strings(&["BTCUSDT", "ETHUSDT", "ETHBTC", "LUNAUSDT", "BTCUSDC"]);
        let got = expand_symbols(&strings(&["*usdt", "ethbtc"]), Some(&known)).unwrap();
        assert_eq!(got, ["BTCUSDT", "ETHBTC", "ETHUSDT", "LUNAUSDT"]);
        let got = expand_symbols(&strings(&["BTCUSD?"]), Some(&known)).unwrap();
        assert_eq!(got, ["BTCUSDC", "BTCUSDT"]);
        let all = expand_symbols(&strings(&["all"]), Some(&known)).unwrap();
        assert_eq!(all.len(), 5);
        let none = expand_symbols(&strings(&["*XYZ"]), Some(&known)).unwrap_err();
        assert!(none.to_string().contains("matches none"), "{none}");
    }

    #[test]
    fn without_a_listing_names_work_and_globs_say_why_not() {
        let got = expand_symbols(&strings(&["ethusdt", "BTCUSDT", "ETHUSDT"]), None).unwrap();
        assert_eq!(got, ["BTCUSDT", "ETHUSDT"]);
        let e = expand_symbols(&strings(&["*USDT"]), None).unwrap_err();
        assert!(
            e.to_string().contains("which this provider does not give"),
            "{e}"
        );
    }

    fn spec() -> SyncSpec {
        SyncSpec {
            provider: "Binance".into(),
            markets: strings(&["um"]),
            symbols: strings(&["ETHUSDT", "BTCUSDT"]),
            intervals: strings(&["1h", "1m"]),
            kinds: strings(&["klines", "funding"]),
            start: "2024-01-01".into(),
            end: "2024-02-01".into(),
        }
    }

    #[test]
    fn kinds_cross_intervals_and_the_list_is_sorted() {
        let ids: Vec<String> = plan(&spec(), &|_| None)
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            ids,
            [
                "binance/um/klines/BTCUSDT/1h",
                "binance/um/klines/BTCUSDT/1m",
                "binance/um/funding/BTCUSDT",
                "binance/um/klines/ETHUSDT/1h",
                "binance/um/klines/ETHUSDT/1m",
                "binance/um/funding/ETHUSDT",
            ]
        );
        let no_iv = SyncSpec {
            intervals: vec![],
            ..spec()
        };
        assert!(plan(&no_iv, &|_| None)
            .unwrap_err()
            .to_string()
            .contains("-i"));
    }

    #[test]
    fn shards_are_disjoint_cover_everything_and_ignore_position() {
        let known: Vec<String> = (0..300).map(|i| format!("S{i:03}USDT")).collect();
        let spec = SyncSpec {
            symbols: strings(&["*"]),
            ..spec()
        };
        let all = plan(&spec, &|_| Some(known.clone())).unwrap();
        assert_eq!(all.len(), 900);
        let n = 7;
        let mut seen = std::collections::HashSet::new();
        for k in 1..=n {
            let shard = Shard { k, n };
            let mine: Vec<_> = all.iter().filter(|s| shard.owns(s)).collect();
            assert!(
                mine.len() > 900 / n as usize / 2,
                "shard {k} is far too small"
            );
            for s in mine {
                assert!(seen.insert(s.clone()), "{s} in two shards");
            }
        }
        assert_eq!(seen.len(), all.len(), "every series in some shard");
        // The shard of a series is fixed by its name: a pinned value, so a change of the
        // hash (which would reshuffle every fleet's split) fails here.
        let btc = SeriesId {
            provider: "binance".into(),
            market: "spot".into(),
            symbol: "BTCUSDT".into(),
            kind: DataKind::KLINES,
            interval: "1h".into(),
        };
        assert_eq!(
            fnv1a(btc.to_string().as_bytes()) % 8,
            fnv1a(b"binance/spot/klines/BTCUSDT/1h") % 8
        );
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 of \"a\"");
        assert_eq!(Shard::parse("3/8").unwrap(), Shard { k: 3, n: 8 });
        for bad in ["0/8", "9/8", "3", "a/b"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
