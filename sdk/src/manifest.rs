//! The plugin manifest: what a plugin offers, readable from its file without loading it.
//!
//! A plugin exports the manifest as JSON bytes in a `#[no_mangle]` static named
//! [`MANIFEST_SYMBOL`]; the host reads that symbol's bytes from the ELF file.

use serde::{Deserialize, Serialize};

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
