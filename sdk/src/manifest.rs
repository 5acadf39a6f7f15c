//! The plugin manifest: what a plugin offers, readable from its file without loading it.
//!
//! A plugin exports the manifest as JSON bytes in a `#[no_mangle]` static named
//! [`MANIFEST_SYMBOL`]; the host reads that symbol's bytes from the ELF file.

use serde::{Deserialize, Serialize};

use crate::kind::DataKind;

/// Name of the exported static that holds the manifest JSON.
pub const MANIFEST_SYMBOL: &str = "DSM_PLUGIN_MANIFEST";

/// Manifest format version; bumped only for incompatible changes of this schema.
pub const MANIFEST_FORMAT: u32 = 1;

/// The exported manifest. `export_provider!` writes `format`, `sdk_version` and `version`
/// (the plugin crate's version); the plugin author writes only `plugin` (a JSON file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// Version of dsm-sdk the plugin was built with.
    pub sdk_version: String,
    /// Version of the plugin crate.
    pub version: String,
    pub plugin: PluginInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginInfo {
    /// Lowercase provider id; the file is `libdsm_<id>.so`.
    pub id: String,
    /// Name for people (`Binance`).
    pub name: String,
    pub markets: Vec<MarketInfo>,
    /// Endpoint keys the plugin accepts overrides for (`DSM_<ID>_<KEY>_URL`).
    #[serde(default)]
    pub endpoints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketInfo {
    /// Lowercase market id (`spot`, `um`, `cm`).
    pub id: String,
    /// Other names users may type for this market (`usdm`, `futures_usdt`).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub description: String,
    /// What a symbol looks like on this market, for users (`BTCUSDT`).
    pub symbol_example: String,
    /// dsm interval names (`1s`, `1m`, ..., `1d`, `3d`, `1w`, `1M`).
    pub intervals: Vec<String>,
    /// Whether the market has a bulk archive source.
    pub archive: bool,
    /// Largest page the REST source returns.
    pub max_page: u32,
    /// The data kinds the market serves. Absent (a plugin built before kinds existed):
    /// klines only, with `intervals` and `archive` above.
    #[serde(default)]
    pub kinds: Vec<KindInfo>,
}

/// One data kind a market serves, and from which sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindInfo {
    /// A [`DataKind`] name (`klines`, `funding`, `mark`, ...). Names this host does not know
    /// (a newer plugin's) are skipped.
    pub kind: String,
    /// Whether the bulk archive has it.
    #[serde(default)]
    pub archive: bool,
    /// Whether REST has it.
    #[serde(default = "yes")]
    pub rest: bool,
    /// Intervals of a candle-shaped kind; empty: the market's `intervals`.
    #[serde(default)]
    pub intervals: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A kind a market serves, with its defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct KindOffer {
    pub kind: DataKind,
    pub archive: bool,
    pub rest: bool,
    /// Empty for kinds without an interval.
    pub intervals: Vec<String>,
}

impl MarketInfo {
    /// Every kind this market serves that this SDK knows, klines first.
    pub fn offers(&self) -> Vec<KindOffer> {
        let klines = KindOffer {
            kind: DataKind::KLINES,
            archive: self.archive,
            rest: true,
            intervals: self.intervals.clone(),
        };
        if self.kinds.is_empty() {
            return vec![klines];
        }
        let mut out: Vec<KindOffer> = self
            .kinds
            .iter()
            .filter_map(|k| {
                let kind = DataKind::parse(&k.kind)?;
                let intervals = match (kind.has_interval(), k.intervals.is_empty()) {
                    (false, _) => Vec::new(),
                    (true, true) => self.intervals.clone(),
                    (true, false) => k.intervals.clone(),
                };
                Some(KindOffer {
                    kind,
                    archive: k.archive,
                    rest: k.rest,
                    intervals,
                })
            })
            .collect();
        out.sort_by_key(|o| o.kind);
        out.dedup_by_key(|o| o.kind);
        out
    }

    /// What the market offers of `kind`, if it serves it.
    pub fn offer(&self, kind: DataKind) -> Option<KindOffer> {
        self.offers().into_iter().find(|o| o.kind == kind)
    }

    /// Whether the plugin was built before data kinds (it lists none).
    pub fn klines_only(&self) -> bool {
        self.kinds.is_empty()
    }
}

impl Manifest {
    /// Parse and check a manifest's JSON bytes.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| format!("manifest is not valid: {e}"))?;
        if m.format != MANIFEST_FORMAT {
            return Err(format!(
                "manifest format {} is not supported (this host reads format {MANIFEST_FORMAT})",
                m.format
            ));
        }
        let id = &m.plugin.id;
        let id_ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok {
            return Err(format!(
                "manifest id {id:?} must be lowercase letters, digits or _"
            ));
        }
        if m.plugin.markets.is_empty() {
            return Err("manifest lists no markets".into());
        }
        Ok(m)
    }

    pub fn id(&self) -> &str {
        &self.plugin.id
    }

    /// The market whose id or alias is `name` (case-insensitive).
    pub fn market(&self, name: &str) -> Option<&MarketInfo> {
        let name = name.to_ascii_lowercase();
        self.plugin
            .markets
            .iter()
            .find(|m| m.id == name || m.aliases.contains(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(kinds: &str) -> MarketInfo {
        serde_json::from_str(&format!(
            r#"{{"id":"um","description":"d","symbol_example":"BTCUSDT","intervals":["1m","1h"],
               "archive":true,"max_page":1500{kinds}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn no_kinds_means_klines_only() {
        let m = market("");
        assert!(m.klines_only());
        let offers = m.offers();
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].kind, DataKind::KLINES);
        assert_eq!(offers[0].intervals, ["1m", "1h"]);
        assert!(offers[0].archive);
        assert!(m.offer(DataKind::FUNDING).is_none());
    }

    #[test]
    fn kinds_fill_defaults_and_skip_unknown_names() {
        let m = market(
            r#","kinds":[{"kind":"funding","archive":true},{"kind":"klines","archive":true},
               {"kind":"mark","intervals":["1h"]},{"kind":"from-the-future"}]"#,
        );
        let kinds: Vec<DataKind> = m.offers().iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [DataKind::KLINES, DataKind::FUNDING, DataKind::MARK]);
        let funding = m.offer(DataKind::FUNDING).unwrap();
        assert!(funding.archive && funding.rest && funding.intervals.is_empty());
        assert_eq!(m.offer(DataKind::KLINES).unwrap().intervals, ["1m", "1h"]);
        let mark = m.offer(DataKind::MARK).unwrap();
        assert_eq!(mark.intervals, ["1h"]);
        assert!(!mark.archive);
    }
}
