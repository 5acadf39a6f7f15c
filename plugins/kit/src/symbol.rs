//! Symbol forms: splitting `BTCUSDT` into base and quote, so that a plugin can accept dsm's
//! usual concatenated form and write the exchange's own (`BTC-USDT` on OKX).

/// Quote assets recognized at the end of a concatenated symbol. Longest match wins
/// (`BTCUSDT` is BTC/USDT, not BTCU/SDT; `BTCTUSD` is BTC/TUSD).
pub const QUOTE_ASSETS: &[&str] = &[
    "USDT", "USDC", "FDUSD", "TUSD", "BUSD", "USDE", "DAI", "PYUSD", "USD", "EUR", "GBP", "TRY",
    "BRL", "JPY", "AUD", "AED", "BTC", "ETH", "BNB", "OKB", "SOL", "DOT",
];

/// `(base, quote)` of a concatenated symbol (`BTCUSDT` -> `("BTC", "USDT")`), by the longest
/// quote asset of `quotes` it ends with, leaving a base of at least two characters. `None`
/// when no quote fits or the symbol holds a separator.
pub fn split_concatenated<'a>(symbol: &'a str, quotes: &[&str]) -> Option<(&'a str, &'a str)> {
    if symbol.contains(['-', '_', '/']) {
        return None;
    }
    quotes
        .iter()
        .filter(|q| symbol.len() >= q.len() + 2 && symbol.ends_with(*q))
        .max_by_key(|q| q.len())
        .map(|q| symbol.split_at(symbol.len() - q.len()))
}

/// `(base, quote)` of a symbol written with one separator `-`, `_` or `/` between two
/// non-empty parts (`BTC-USDT`, `BTC_USDT`). `None` otherwise (`BTC-USDT-SWAP` included).
pub fn split_separated(symbol: &str) -> Option<(&str, &str)> {
    let mut parts = symbol.split(['-', '_', '/']);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(b), Some(q), None) if !b.is_empty() && !q.is_empty() => {
            Some((b, &symbol[b.len() + 1..]))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenated_symbols_split_at_the_longest_quote() {
        let q = QUOTE_ASSETS;
        assert_eq!(split_concatenated("BTCUSDT", q), Some(("BTC", "USDT")));
        assert_eq!(split_concatenated("BTCUSD", q), Some(("BTC", "USD")));
        assert_eq!(split_concatenated("ETHBTC", q), Some(("ETH", "BTC")));
        assert_eq!(split_concatenated("BTCTUSD", q), Some(("BTC", "TUSD")));
        assert_eq!(split_concatenated("USDCUSDT", q), Some(("USDC", "USDT")));
        assert_eq!(
            split_concatenated("1000PEPEUSDT", q),
            Some(("1000PEPE", "USDT"))
        );
        assert_eq!(split_concatenated("USDT", q), None);
        assert_eq!(split_concatenated("XUSDT", q), None, "base too short");
        assert_eq!(split_concatenated("BTCXYZ", q), None);
        assert_eq!(split_concatenated("BTC-USDT", q), None);
    }

    #[test]
    fn separated_symbols() {
        assert_eq!(split_separated("BTC-USDT"), Some(("BTC", "USDT")));
        assert_eq!(split_separated("BTC_USD"), Some(("BTC", "USD")));
        assert_eq!(split_separated("BTC-USDT-SWAP"), None);
        assert_eq!(split_separated("BTCUSDT"), None);
        assert_eq!(split_separated("-USDT"), None);
    }
}
