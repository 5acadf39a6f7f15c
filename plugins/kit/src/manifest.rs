//! A plugin's own manifest.json, embedded and parsed once: the one source of its markets'
//! ids, aliases, intervals, page sizes and symbol examples, so the code never keeps a copy.

use std::sync::OnceLock;

use dsm_sdk::{MarketInfo, PluginInfo};

/// The embedded manifest:
/// `static MANIFEST: EmbeddedManifest = EmbeddedManifest::new(include_str!("../manifest.json"));`
pub struct EmbeddedManifest {
    json: &'static str,
    info: OnceLock<PluginInfo>,
}

impl EmbeddedManifest {
    /// The manifest from its JSON (the plugin part, as in manifest.json).
    pub const fn new(json: &'static str) -> EmbeddedManifest {
        EmbeddedManifest {
            json,
            info: OnceLock::new(),
        }
    }

    /// The parsed manifest. The host refuses a plugin whose manifest does not parse before
    /// it loads it, and each plugin's tests parse theirs, so this never fails in use.
    pub fn info(&self) -> &PluginInfo {
        self.info.get_or_init(|| {
            serde_json::from_str(self.json).expect("the plugin's manifest.json parses")
        })
    }

    /// The market with this id (case-insensitive) or alias.
    pub fn find(&self, name: &str) -> Option<&MarketInfo> {
        let name = name.to_ascii_lowercase();
        self.info()
            .markets
            .iter()
            .find(|m| m.id == name || m.aliases.contains(&name))
    }

    /// The market with this id, which the plugin's code knows is listed.
    pub fn market(&self, id: &str) -> &MarketInfo {
        self.info()
            .markets
            .iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("market {id:?} is not in the manifest"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static M: EmbeddedManifest = EmbeddedManifest::new(
        r#"{"id":"x","name":"X","endpoints":["rest"],"markets":[
            {"id":"spot","aliases":[],"description":"d","symbol_example":"BTCUSDT",
             "intervals":["1m","1M"],"archive":false,"max_page":100},
            {"id":"swap","aliases":["perp"],"description":"d","symbol_example":"BTC-SWAP",
             "intervals":["1h"],"archive":true,"max_page":300}]}"#,
    );

    #[test]
    fn finds_markets_by_id_or_alias() {
        assert_eq!(M.info().id, "x");
        assert_eq!(M.find("SPOT").unwrap().intervals, ["1m", "1M"]);
        assert_eq!(M.find("perp").unwrap().id, "swap");
        assert!(M.find("options").is_none());
        assert_eq!(M.market("swap").max_page, 300);
    }
}
