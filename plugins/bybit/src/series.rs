//! Bybit's candle series by data kind: the endpoint and its row layout. Everything else
//! about a candle fetch (windows, paging, limits) is shared (fetch.rs).
//!
//! | kind    | endpoint                              | categories             | row cells |
//! |---------|---------------------------------------|------------------------|-----------|
//! | klines  | /v5/market/kline                      | spot, linear, inverse  | 7         |
//! | mark    | /v5/market/mark-price-kline           | linear, inverse        | 5         |
//! | index   | /v5/market/index-price-kline          | linear, inverse        | 5         |
//! | premium | /v5/market/premium-index-price-kline  | linear                 | 5         |
//!
//! Mark, index and premium rows are `[startTime, open, high, low, close]`: no volume or
//! turnover (0 in dsm), and no confirm flag (the newest row may be forming; the host leaves
//! it out by its close time, as for klines).

use dsm_sdk::DataKind;

/// One candle endpoint.
pub struct Series {
    pub kind: DataKind,
    pub path: &'static str,
    /// Whether rows carry volume and turnover (the kline endpoint's 7-cell rows).
    pub volumes: bool,
}

pub static KLINES: Series = Series {
    kind: DataKind::KLINES,
    path: "/v5/market/kline",
    volumes: true,
};
pub static MARK: Series = Series {
    kind: DataKind::MARK,
    path: "/v5/market/mark-price-kline",
    volumes: false,
};
pub static INDEX: Series = Series {
    kind: DataKind::INDEX,
    path: "/v5/market/index-price-kline",
    volumes: false,
};
pub static PREMIUM: Series = Series {
    kind: DataKind::PREMIUM,
    path: "/v5/market/premium-index-price-kline",
    volumes: false,
};

impl Series {
    /// The series of a candle-shaped kind Bybit has.
    pub fn of(kind: DataKind) -> Option<&'static Series> {
        [&KLINES, &MARK, &INDEX, &PREMIUM]
            .into_iter()
            .find(|s| s.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_endpoints() {
        assert!(Series::of(DataKind::KLINES).unwrap().volumes);
        assert_eq!(
            Series::of(DataKind::PREMIUM).unwrap().path,
            "/v5/market/premium-index-price-kline"
        );
        assert!(!Series::of(DataKind::MARK).unwrap().volumes);
        assert!(Series::of(DataKind::FUNDING).is_none());
    }
}
