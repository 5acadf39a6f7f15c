//! OKX and Bybit instrument listings (wire-formats-datasets.md sections 5.3, 5.4), for the
//! symbols the fake serves: OKX GET /api/v5/public/instruments?instType=SPOT|SWAP (one
//! answer, all strings, 20 requests per 2 s), Bybit GET /v5/market/instruments-info
//! ?category=spot|linear|inverse (linear and inverse paged by `limit` and `cursor`, at most
//! [`FakeExchange::set_listing_page_size`] a page; spot never paged).
//!
//! [`FakeExchange::set_listing_page_size`]: super::FakeExchange::set_listing_page_size

use super::http::{Request, Response};
use super::log::query_param;
use super::state::State;

pub(crate) const OKX_PATH: &str = "/api/v5/public/instruments";
pub(crate) const BYBIT_PATH: &str = "/v5/market/instruments-info";

/// (instId, uly, ctType, baseCcy, quoteCcy, listTime) per OKX instType.
fn okx_rows(inst_type: &str) -> Option<Vec<[&'static str; 6]>> {
    Some(match inst_type {
        "SPOT" => vec![
            ["BTC-USDT", "", "", "BTC", "USDT", "1548133413000"],
            ["ETH-USDT", "", "", "ETH", "USDT", "1548133413000"],
        ],
        "SWAP" => vec![
            [
                "BTC-USD-SWAP",
                "BTC-USD",
                "inverse",
                "",
                "",
                "1535424203000",
            ],
            [
                "BTC-USDT-SWAP",
                "BTC-USDT",
                "linear",
                "",
                "",
                "1573557408000",
            ],
        ],
        _ => return None,
    })
}

pub(crate) fn okx(st: &mut State, req: &Request, now_ms: i64) -> Response {
    if st.v5.admit("okx-instruments", 20, 2_000, now_ms).is_err() {
        return super::okx::rate_limited();
    }
    let inst_type = query_param(&req.query, "instType").unwrap_or_default();
    if inst_type.is_empty() {
        return super::okx::error(400, "50014", "Parameter instType can not be empty.");
    }
    let Some(rows) = okx_rows(&inst_type) else {
        return super::okx::error(400, "51000", "Parameter instType error");
    };
    let data: Vec<String> = rows
        .iter()
        .map(|[id, uly, ct, base, quote, list]| {
            let family = if uly.is_empty() { "" } else { uly };
            format!(
                "{{\"alias\":\"\",\"baseCcy\":\"{base}\",\"category\":\"1\",\"ctMult\":\"1\",\
                 \"ctType\":\"{ct}\",\"ctVal\":\"{}\",\"expTime\":\"\",\"instFamily\":\"{family}\",\
                 \"instId\":\"{id}\",\"instType\":\"{inst_type}\",\"listTime\":\"{list}\",\
                 \"lotSz\":\"1\",\"minSz\":\"1\",\"quoteCcy\":\"{quote}\",\"settleCcy\":\"\",\
                 \"state\":\"live\",\"tickSz\":\"0.1\",\"uly\":\"{uly}\"}}",
                if ct.is_empty() { "" } else { "0.01" }
            )
        })
        .collect();
    Response::json(
        200,
        format!(
            "{{\"code\":\"0\",\"data\":[{}],\"msg\":\"\"}}",
            data.join(",")
        ),
    )
}

/// (symbol, contractType, baseCoin, quoteCoin, launchTime) per Bybit category.
fn bybit_rows(category: &str) -> Option<Vec<[&'static str; 5]>> {
    Some(match category {
        "spot" => vec![
            ["BTCUSDT", "", "BTC", "USDT", "0"],
            ["ETHUSDT", "", "ETH", "USDT", "0"],
        ],
        "linear" => vec![
            ["BTCUSDT", "LinearPerpetual", "BTC", "USDT", "1585526400000"],
            ["ETHUSDT", "LinearPerpetual", "ETH", "USDT", "1615766400000"],
        ],
        "inverse" => vec![["BTCUSD", "InversePerpetual", "BTC", "USD", "1542211200000"]],
        _ => return None,
    })
}

pub(crate) fn bybit(st: &mut State, req: &Request, now_ms: i64) -> Response {
    let category = query_param(&req.query, "category").unwrap_or_default();
    let Some(rows) = bybit_rows(&category) else {
        return super::bybit::ret(10001, "params error: category is invalid", now_ms);
    };
    let limit = query_param(&req.query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(500)
        .clamp(1, 1000);
    let page = if category == "spot" {
        rows.len()
    } else {
        limit.min(st.listing.page_size.unwrap_or(1000))
    };
    // Cursors are opaque to clients: "ix=N" with '=' as Bybit's cursors carry.
    let from = query_param(&req.query, "cursor")
        .and_then(|c| c.strip_prefix("ix=")?.parse::<usize>().ok())
        .unwrap_or(0);
    let end = (from + page).min(rows.len());
    let next = if end < rows.len() {
        format!("ix={end}")
    } else {
        String::new()
    };
    let list: Vec<String> = rows[from.min(end)..end]
        .iter()
        .map(|[symbol, contract, base, quote, launch]| {
            let delivery = if category == "spot" {
                ""
            } else {
                "\"deliveryTime\":\"0\","
            };
            format!(
                "{{\"symbol\":\"{symbol}\",\"contractType\":\"{contract}\",\"status\":\"Trading\",\
                 \"baseCoin\":\"{base}\",\"quoteCoin\":\"{quote}\",\"launchTime\":\"{launch}\",\
                 {delivery}\"priceScale\":\"2\",\"settleCoin\":\"{quote}\"}}"
            )
        })
        .collect();
    Response::json(
        200,
        format!(
            "{{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{{\"category\":\"{category}\",\
             \"list\":[{}],\"nextPageCursor\":\"{next}\"}},\"retExtInfo\":{{}},\"time\":{now_ms}}}",
            list.join(",")
        ),
    )
}
