//! Instrument listings and archive-only (delisted) symbols, wire-formats-datasets.md
//! section 5: Binance exchangeInfo for spot (`/api/v3/exchangeInfo`, weight 20), USD-M
//! (`/fapi/v1/exchangeInfo`) and COIN-M (`/dapi/v1/exchangeInfo`, `contractStatus`), shaped
//! like the real answers (perpetuals carry the far-future deliveryDate sentinel); a
//! geo-block switch answering every Binance REST path with HTTP 451 as Binance does; and
//! the symbols only the Vision archive still has ([`ARCHIVE_ONLY`]), served by vision.rs
//! and listed by bucket.rs between their first and last day.

use super::candles::Market;
use super::http::{Request, Response};
use super::state::{bucket, State};

/// Switches of the listings (in the fake's shared state).
#[derive(Default)]
pub(crate) struct ListingState {
    pub(crate) geo_blocked: bool,
    /// Entries per S3 listing page (None: 1000, as S3).
    pub(crate) page_size: Option<usize>,
    pub(crate) hostile: Option<HostileListing>,
}

/// What a hostile bucket listing does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileListing {
    /// Every page says there is more, each with a new entry and a later marker.
    Endless,
    /// One page far larger than any real one (several MB).
    Huge,
    /// Says there is more but names no later marker (NextMarker = the marker asked).
    Stuck,
}

/// A symbol delisted from the exchange whose archive files remain: daily files from
/// `first` to `last` (day starts, ms UTC), monthly files for the months they touch.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveOnly {
    pub market: Market,
    pub symbol: &'static str,
    pub first: i64,
    pub last: i64,
    /// Still in exchangeInfo with status BREAK (spot keeps some delisted pairs).
    pub break_listed: bool,
    /// Daily files only, no monthly ones (monthly uploads stopped for some series).
    pub daily_only: bool,
}

const DAY: i64 = 86_400_000;

/// The archive-only symbols, with mid-month first and last days.
pub const ARCHIVE_ONLY: &[ArchiveOnly] = &[
    ArchiveOnly {
        market: Market::Spot,
        symbol: "BCCUSDT",
        first: 1_510_531_200_000, // 2017-11-13
        last: 1_542_672_000_000,  // 2018-11-20
        break_listed: false,
        daily_only: false,
    },
    ArchiveOnly {
        market: Market::Spot,
        symbol: "LUNAUSDT",
        first: 1_597_968_000_000, // 2020-08-21
        last: 1_652_313_600_000,  // 2022-05-12
        break_listed: true,
        daily_only: false,
    },
    ArchiveOnly {
        market: Market::Um,
        symbol: "SRMUSDT",
        first: 1_599_696_000_000, // 2020-09-10
        last: 1_668_384_000_000,  // 2022-11-14
        break_listed: false,
        daily_only: false,
    },
    ArchiveOnly {
        market: Market::Cm,
        symbol: "BTCUSD_200925",
        first: 1_597_017_600_000, // 2020-08-10
        last: 1_601_078_400_000,  // 2020-09-26
        break_listed: false,
        daily_only: false,
    },
];

/// An archive-only USD-M symbol with daily files only (no monthly ones), from 40 days
/// before today to yesterday.
pub fn recent_archive_only(now_ms: i64) -> ArchiveOnly {
    let today = now_ms - now_ms.rem_euclid(DAY);
    ArchiveOnly {
        market: Market::Um,
        symbol: "NEWUSDT",
        first: today - 40 * DAY,
        last: today - DAY,
        break_listed: false,
        daily_only: true,
    }
}

/// Whether `symbol` has daily kline files only.
pub(crate) fn daily_only(market: Market, symbol: &str) -> bool {
    archive_only(market)
        .iter()
        .any(|a| a.symbol == symbol && a.daily_only)
}

/// The archive-only symbols of `market`, the recent one included.
fn archive_only(market: Market) -> Vec<ArchiveOnly> {
    let mut all: Vec<ArchiveOnly> = ARCHIVE_ONLY.to_vec();
    all.push(recent_archive_only(super::candles::now_ms()));
    all.retain(|a| a.market == market);
    all
}

/// The days Vision has kline files for: `[first day, end)` (end exclusive; `i64::MAX` for a
/// symbol still trading), or `None` for a symbol the archive does not know.
pub(crate) fn archive_days(market: Market, symbol: &str) -> Option<(i64, i64)> {
    if market.knows_symbol(symbol) {
        let listing = market.listing_ms();
        return Some((listing - listing.rem_euclid(DAY), i64::MAX));
    }
    archive_only(market)
        .iter()
        .find(|a| a.symbol == symbol)
        .map(|a| (a.first, a.last + DAY))
}

/// Symbols with kline directories in the archive of `market`, sorted.
pub(crate) fn archive_symbols(market: Market) -> Vec<&'static str> {
    let mut out: Vec<&str> = match market {
        Market::Spot | Market::Um => vec!["BTCUSDT", "ETHUSDT", "BNBUSDT", "DOGEUSDT"],
        Market::Cm => vec!["BTCUSD_PERP", "ETHUSD_PERP", "BTCUSD_250328"],
    };
    out.extend(archive_only(market).iter().map(|a| a.symbol));
    out.sort();
    out
}

/// The answer for exchangeInfo and, when geo-blocked, for every Binance REST path; `None`
/// for the other paths.
pub(crate) fn answer(st: &mut State, req: &Request, now_ms: i64) -> Option<Response> {
    let b = bucket(&req.path)?;
    if st.listing.geo_blocked {
        return Some(geo_blocked());
    }
    let (market, weight) = match req.path.as_str() {
        "/api/v3/exchangeInfo" => (Market::Spot, 20),
        "/fapi/v1/exchangeInfo" => (Market::Um, 1),
        "/dapi/v1/exchangeInfo" => (Market::Cm, 1),
        _ => return None,
    };
    let resp = match st.charge(&req.path, b, weight, now_ms) {
        Err(secs) => super::faults::too_many_requests(429, st.limit(&req.path, b))
            .header("Retry-After", secs.to_string()),
        Ok(()) => Response::json(200, exchange_info(market, now_ms)),
    };
    Some(super::binance_rest::with_weight(
        st, &req.path, resp, now_ms,
    ))
}

/// Binance's answer from a restricted location (HTTP 451).
fn geo_blocked() -> Response {
    Response::json(
        451,
        "{\n  \"code\": 0,\n  \"msg\": \"Service unavailable from a restricted location \
         according to 'b. Eligibility' in https://www.binance.com/en/terms. Please contact \
         customer service if you believe you received this message in error.\"\n}"
            .into(),
    )
}

/// One symbol of an answer: (symbol, status, base, quote, contract type, onboard, delivery).
type Entry = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
);

/// The instruments of `market`, in the exchange's order.
pub fn instruments(market: Market) -> Vec<(String, String)> {
    entries(market)
        .into_iter()
        .map(|e| (e.0.to_string(), e.1.to_string()))
        .collect()
}

fn entries(market: Market) -> Vec<Entry> {
    let on = market.listing_ms();
    match market {
        Market::Spot => vec![
            ("BTCUSDT", "TRADING", "BTC", "USDT", "", 0, 0),
            ("ETHUSDT", "TRADING", "ETH", "USDT", "", 0, 0),
            ("BNBUSDT", "TRADING", "BNB", "USDT", "", 0, 0),
            ("DOGEUSDT", "TRADING", "DOGE", "USDT", "", 0, 0),
            ("LUNAUSDT", "BREAK", "LUNA", "USDT", "", 0, 0),
        ],
        // Perpetual sentinels as recorded: not one exact value.
        Market::Um => vec![
            (
                "BTCUSDT",
                "TRADING",
                "BTC",
                "USDT",
                "PERPETUAL",
                on,
                4_133_404_802_000,
            ),
            (
                "ETHUSDT",
                "TRADING",
                "ETH",
                "USDT",
                "PERPETUAL",
                on,
                4_133_404_800_000,
            ),
            (
                "BNBUSDT",
                "TRADING",
                "BNB",
                "USDT",
                "PERPETUAL",
                on,
                4_133_404_800_000,
            ),
            (
                "DOGEUSDT",
                "TRADING",
                "DOGE",
                "USDT",
                "PERPETUAL",
                on,
                4_133_404_800_000,
            ),
        ],
        Market::Cm => vec![
            (
                "BTCUSD_PERP",
                "TRADING",
                "BTC",
                "USD",
                "PERPETUAL",
                on,
                4_133_404_800_000,
            ),
            (
                "ETHUSD_PERP",
                "TRADING",
                "ETH",
                "USD",
                "PERPETUAL",
                on,
                4_133_404_800_000,
            ),
            // 2025-03-28T08:00:00Z
            (
                "BTCUSD_250328",
                "TRADING",
                "BTC",
                "USD",
                "CURRENT_QUARTER",
                1_727_337_600_000,
                1_743_148_800_000,
            ),
        ],
    }
}

fn exchange_info(market: Market, now_ms: i64) -> String {
    let mut symbols = Vec::new();
    for (symbol, status, base, quote, contract, onboard, delivery) in entries(market) {
        symbols.push(match market {
            Market::Spot => format!(
                "{{\"symbol\":\"{symbol}\",\"status\":\"{status}\",\"baseAsset\":\"{base}\",\
                 \"baseAssetPrecision\":8,\"quoteAsset\":\"{quote}\",\"quotePrecision\":8,\
                 \"quoteAssetPrecision\":8,\"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\"],\
                 \"icebergAllowed\":true,\"ocoAllowed\":true,\"isSpotTradingAllowed\":true,\
                 \"isMarginTradingAllowed\":true,\"filters\":[{{\"filterType\":\"PRICE_FILTER\",\
                 \"minPrice\":\"{tick}\",\"maxPrice\":\"1000000.00000000\",\
                 \"tickSize\":\"{tick}\"}}],\"permissions\":[\"SPOT\",\"MARGIN\"]}}",
                tick = super::candles::spot_tick_size(symbol)
            ),
            Market::Um => format!(
                "{{\"symbol\":\"{symbol}\",\"pair\":\"{symbol}\",\"contractType\":\"{contract}\",\
                 \"deliveryDate\":{delivery},\"onboardDate\":{onboard},\"status\":\"{status}\",\
                 \"maintMarginPercent\":\"2.5000\",\"requiredMarginPercent\":\"5.0000\",\
                 \"baseAsset\":\"{base}\",\"quoteAsset\":\"{quote}\",\"marginAsset\":\"{quote}\",\
                 \"pricePrecision\":2,\"quantityPrecision\":3,\"underlyingType\":\"COIN\",\
                 \"underlyingSubType\":[],\"filters\":[]}}"
            ),
            Market::Cm => format!(
                "{{\"symbol\":\"{symbol}\",\"pair\":\"{}\",\"contractType\":\"{contract}\",\
                 \"deliveryDate\":{delivery},\"onboardDate\":{onboard},\
                 \"contractStatus\":\"{status}\",\"contractSize\":{},\"marginAsset\":\"{base}\",\
                 \"baseAsset\":\"{base}\",\"quoteAsset\":\"{quote}\",\"pricePrecision\":1,\
                 \"filters\":[]}}",
                symbol.split('_').next().unwrap_or(symbol),
                if base == "BTC" { 100 } else { 10 }
            ),
        });
    }
    let futures_type = match market {
        Market::Spot => "",
        Market::Um => "\"futuresType\":\"U_MARGINED\",",
        Market::Cm => "\"futuresType\":\"COIN_MARGINED\",",
    };
    format!(
        "{{\"timezone\":\"UTC\",\"serverTime\":{now_ms},{futures_type}\"rateLimits\":[{{\
         \"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\
         \"limit\":{}}}],\"exchangeFilters\":[],\"symbols\":[{}]}}",
        if market == Market::Spot { 6000 } else { 2400 },
        symbols.join(",")
    )
}

impl super::FakeExchange {
    /// Every Binance REST path answers HTTP 451 (a geo-block), as from a restricted
    /// country; Vision and the bucket listing still answer.
    pub fn geo_block_rest(&self, on: bool) {
        self.shared.lock().listing.geo_blocked = on;
    }

    /// S3 listing pages hold at most `n` entries (S3: 1000), so that tests page.
    pub fn set_listing_page_size(&self, n: usize) {
        self.shared.lock().listing.page_size = Some(n.max(1));
    }

    /// The bucket listing misbehaves as `mode` says (None: normal).
    pub fn set_hostile_listing(&self, mode: Option<HostileListing>) {
        self.shared.lock().listing.hostile = mode;
    }
}
