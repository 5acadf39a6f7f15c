use dsm_sdk::abi_stable::std_types::ROption;

use super::*;

fn inst(symbol: &str, status: &str) -> Instrument {
    Instrument {
        symbol: symbol.into(),
        status: ROption::RSome(status.into()),
        ..Instrument::default()
    }
}

fn span(symbol: &str, first: i64, last: i64) -> ArchiveSpan {
    ArchiveSpan {
        symbol: symbol.into(),
        kind: DataKind::KLINES,
        interval: "1d".into(),
        first_day_ms: ROption::RSome(first),
        last_day_ms: ROption::RSome(last),
    }
}

#[test]
fn merge_joins_by_symbol_and_keeps_archive_only_symbols_only_when_asked() {
    let instruments = || vec![inst("BTCUSDT", "TRADING"), inst("ETHUSDT", "BREAK")];
    let archive = || vec![span("BTCUSDT", 1, 2), span("LUNAUSDT", 3, 4)];
    let rows = merge(instruments(), archive(), false);
    let names: Vec<&str> = rows.iter().map(|r| r.symbol.as_str()).collect();
    assert_eq!(names, ["BTCUSDT", "ETHUSDT"]);
    assert!(rows[0].on_exchange && rows[0].in_archive);
    assert_eq!(
        (rows[0].first_day_ms, rows[0].last_day_ms),
        (Some(1), Some(2))
    );
    assert!(!rows[1].in_archive && rows[1].first_day_ms.is_none());

    let rows = merge(instruments(), archive(), true);
    let luna = rows.iter().find(|r| r.symbol == "LUNAUSDT").unwrap();
    assert!(!luna.on_exchange && luna.in_archive && luna.status.is_none());
    assert_eq!((luna.first_day_ms, luna.last_day_ms), (Some(3), Some(4)));
    assert_eq!(rows.len(), 3);
}

#[test]
fn store_keeps_parts_until_they_expire_and_never_trusts_a_bad_file() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store::Store::new(tmp.path(), "binance", "spot");
    assert!(store.instruments().is_none());
    assert!(store
        .save_instruments(&[inst("BTCUSDT", "TRADING")])
        .is_none());
    let back = store.instruments().unwrap();
    assert_eq!(back, vec![inst("BTCUSDT", "TRADING")]);
    let key = store::archive_key(DataKind::KLINES, Some("1d"), true);
    assert_eq!(key, "archive-klines-1d-days.json");
    assert!(store
        .save_archive(&key, &[span("LUNAUSDT", 3, 4)])
        .is_none());
    assert_eq!(
        store.archive(&key, DataKind::KLINES, "1d").unwrap(),
        vec![span("LUNAUSDT", 3, 4)]
    );

    let path = tmp.path().join("listings/binance/spot/instruments.json");
    let restamp = |at: i64| {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["fetched_at_ms"] = at.into();
        std::fs::write(&path, v.to_string()).unwrap();
    };
    let now = dsm_sdk::time::now_ms();
    restamp(now - 59 * 60_000);
    assert!(store.instruments().is_some(), "59 minutes old is fresh");
    restamp(now - 61 * 60_000);
    assert!(store.instruments().is_none(), "61 minutes old is stale");
    restamp(now + 3_600_000);
    assert!(store.instruments().is_none(), "stamped in the future");
    std::fs::write(&path, b"{not json").unwrap();
    assert!(store.instruments().is_none());
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".tmp")), "{names:?}");
}
