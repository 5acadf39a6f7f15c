//! REST trade pages to [`Trade`]s (wire-formats-datasets.md 3.1, 3.2):
//!
//! ```text
//! aggTrades:        [{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}]
//! historicalTrades: [{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,"isBuyerMaker":true,"isBestMatch":true}]
//! ```
//!
//! Ids and times are numbers, prices and quantities strings; futures aggTrades have no
//! `M` (best match left unstated, 2). Spot aggTrades invalidated by the 2022 audit (first
//! and last id -1) are skipped, as in the archive.

use dsm_plugin_kit::parse::decimal;
use dsm_sdk::{ErrorKind, ProviderError, Trade};
use serde::Deserialize;

#[derive(Deserialize)]
struct RawAgg {
    a: i64,
    p: String,
    q: String,
    f: i64,
    l: i64,
    #[serde(rename = "T")]
    time: i64,
    m: bool,
    #[serde(rename = "M", default)]
    best: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTrade {
    id: i64,
    price: String,
    qty: String,
    quote_qty: String,
    time: i64,
    is_buyer_maker: bool,
    #[serde(default)]
    is_best_match: Option<bool>,
}

/// What a page held: its rows (invalidated ones left out) and how many it held in all.
#[derive(Debug, Default)]
pub struct PageRows {
    pub rows: Vec<Trade>,
    pub received: usize,
    /// The id of the last row received, invalidated ones included (the next `fromId` - 1).
    pub last_id: Option<i64>,
}

fn not_json(place: &str, what: &str, e: serde_json::Error) -> ProviderError {
    ProviderError::new(
        ErrorKind::PARSE,
        format!("{place}: not a JSON array of {what}: {e}"),
    )
}

fn flag(b: Option<bool>) -> u8 {
    b.map_or(2, u8::from)
}

/// An aggTrades page, in the order received. `place` names the request.
pub fn parse_agg_page(body: &[u8], place: &str) -> Result<PageRows, ProviderError> {
    let raw: Vec<RawAgg> =
        serde_json::from_slice(body).map_err(|e| not_json(place, "aggregated trades", e))?;
    let mut out = PageRows {
        received: raw.len(),
        last_id: raw.last().map(|r| r.a),
        rows: Vec::with_capacity(raw.len()),
    };
    for (i, r) in raw.iter().enumerate() {
        if r.f == -1 && r.l == -1 {
            continue;
        }
        let at = |what: &str| format!("{place}: row {i} (a {}): {what}", r.a);
        out.rows.push(Trade {
            id: r.a,
            time: r.time,
            price: decimal(&r.p, &at("p"))?,
            qty: decimal(&r.q, &at("q"))?,
            quote_qty: f64::NAN,
            first_id: r.f,
            last_id: r.l,
            buyer_maker: u8::from(r.m),
            best_match: flag(r.best),
        });
    }
    Ok(out)
}

/// A historicalTrades page, in the order received. `place` names the request.
pub fn parse_trades_page(body: &[u8], place: &str) -> Result<PageRows, ProviderError> {
    let raw: Vec<RawTrade> =
        serde_json::from_slice(body).map_err(|e| not_json(place, "trades", e))?;
    let rows = raw
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |what: &str| format!("{place}: row {i} (id {}): {what}", r.id);
            Ok(Trade {
                id: r.id,
                time: r.time,
                price: decimal(&r.price, &at("price"))?,
                qty: decimal(&r.qty, &at("qty"))?,
                quote_qty: decimal(&r.quote_qty, &at("quoteQty"))?,
                first_id: -1,
                last_id: -1,
                buyer_maker: u8::from(r.is_buyer_maker),
                best_match: flag(r.is_best_match),
            })
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;
    Ok(PageRows {
        received: raw.len(),
        last_id: raw.last().map(|r| r.id),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real recorded bytes (shared/real-wire), read where they are; skipped elsewhere.
    fn sample(name: &str) -> Option<Vec<u8>> {
        let dir = std::env::var("DSM_REAL_WIRE").unwrap_or("/work/shared/real-wire".into());
        let path = format!("{dir}/samples/datasets/{name}");
        let bytes = std::fs::read(&path).ok();
        if bytes.is_none() {
            eprintln!("skipped: {path} is not there");
        }
        bytes
    }

    #[test]
    fn reads_the_real_spot_agg_trades_page() {
        let Some(body) = sample("binance_spot_BTCUSDT_aggTrades_nautilus.json") else {
            return;
        };
        let page = parse_agg_page(&body, "sample").unwrap();
        assert_eq!(page.received, 10);
        let ids: Vec<i64> = page.rows.iter().map(|t| t.id).collect();
        assert_eq!(ids, (966492862..=966492871).collect::<Vec<_>>());
        assert_eq!(page.last_id, Some(966492871));
        let t = &page.rows[0];
        assert!(t.first_id >= 0 && t.first_id <= t.last_id && t.best_match < 2);
        assert!(t.price > 60_000.0 && t.qty > 0.0 && t.quote_qty.is_nan());
        assert!(page.rows.windows(2).all(|w| w[0].time <= w[1].time));
    }

    #[test]
    fn reads_the_real_spot_historical_trades_page() {
        let Some(body) = sample("binance_spot_BTCUSDT_historicalTrades_nautilus.json") else {
            return;
        };
        let page = parse_trades_page(&body, "sample").unwrap();
        let ids: Vec<i64> = page.rows.iter().map(|t| t.id).collect();
        assert_eq!(ids, (1111471896..=1111471905).collect::<Vec<_>>());
        let t = &page.rows[0];
        assert!(t.quote_qty > 0.0 && (t.first_id, t.last_id) == (-1, -1));
        assert!((t.price * t.qty - t.quote_qty).abs() < 0.01 * t.quote_qty);
    }

    #[test]
    fn futures_rows_and_invalidated_spot_rows() {
        let futures = br#"[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true}]"#;
        let page = parse_agg_page(futures, "um").unwrap();
        assert_eq!((page.rows[0].best_match, page.rows[0].buyer_maker), (2, 1));
        let audited = br#"[{"a":7,"p":"0","q":"0","f":-1,"l":-1,"T":5,"m":false,"M":true}]"#;
        let page = parse_agg_page(audited, "spot").unwrap();
        assert_eq!(
            (page.rows.len(), page.received, page.last_id),
            (0, 1, Some(7))
        );
        let e = parse_agg_page(br#"{"code":-1121}"#, "GET x").unwrap_err();
        assert!(
            e.message.contains("GET x: not a JSON array"),
            "{}",
            e.message
        );
    }
}
