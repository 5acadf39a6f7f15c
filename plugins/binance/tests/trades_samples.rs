//! The trade parsers against real Vision rows recorded in /work/shared/real-wire (read from
//! there, never copied; see its SOURCES.md), and the streaming in chunks.

use std::io::Cursor;

use dsm_binance::trades::rows::{parse_file, parse_row, Layout, Parsed, CHUNK};
use dsm_binance::Market;
use dsm_sdk::Trade;

/// The recorded Vision rows (`DSM_REAL_WIRE` moves the real-wire folder).
fn sample(name: &str) -> String {
    let dir = std::env::var("DSM_REAL_WIRE").unwrap_or("/work/shared/real-wire".into());
    let path = format!("{dir}/samples/datasets/vision/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("the recorded sample {path}: {e}"))
}

fn all(text: &str, layout: Layout) -> (Vec<Trade>, Parsed) {
    let mut rows = Vec::new();
    let parsed = parse_file(
        &mut Cursor::new(text),
        "sample.csv",
        layout,
        (0, i64::MAX),
        &mut |chunk| {
            rows.extend(chunk);
            Ok(())
        },
    )
    .unwrap();
    (rows, parsed)
}

#[test]
fn real_spot_aggtrades_no_header_capitalised_booleans() {
    let text = sample("spot-aggTrades-PEPEUSDT-2024-10-27-head20.csv");
    let layout = Layout {
        aggregated: true,
        market: Market::Spot,
    };
    let (rows, parsed) = all(&text, layout);
    assert_eq!(parsed.rows, 20);
    assert_eq!(rows.len(), 20);
    // 60953854,0.00000908,3591711.00,209942017,209942017,1729987202368,False,True
    let t = rows[0];
    assert_eq!(
        (t.id, t.first_id, t.last_id, t.time),
        (60953854, 209942017, 209942017, 1729987202368)
    );
    assert_eq!((t.price, t.qty), (0.00000908, 3591711.0));
    assert_eq!((t.buyer_maker, t.best_match), (0, 1));
    assert!(t.quote_qty.is_nan());
    assert_eq!(rows[1].buyer_maker, 1);
}

#[test]
fn real_um_aggtrades_with_header_lowercase_booleans() {
    let text = sample("um-aggTrades-APEUSDT-2024-10-18-head21.csv");
    let layout = Layout {
        aggregated: true,
        market: Market::Um,
    };
    let (rows, _) = all(&text, layout);
    assert_eq!(rows.len(), 20);
    // 171927518,0.7096,2254.0,551530708,551530712,1729209604056,true
    let t = rows[1];
    assert_eq!(
        (t.id, t.first_id, t.last_id),
        (171927518, 551530708, 551530712)
    );
    assert_eq!((t.price, t.qty, t.time), (0.7096, 2254.0, 1729209604056));
    assert_eq!((t.buyer_maker, t.best_match), (1, 2));
}

#[test]
fn real_interleaved_monthly_ids_are_refused() {
    // Issue #339: two id streams interleaved in a monthly file; the ids do not ascend.
    let text = sample("um-aggTrades-BTCUSDT-2023-05-monthly-issue339-interleaved.csv");
    let layout = Layout {
        aggregated: true,
        market: Market::Um,
    };
    let e = parse_file(
        &mut Cursor::new(text),
        "m.csv",
        layout,
        (0, i64::MAX),
        &mut |_| Ok(()),
    )
    .unwrap_err();
    assert!(e.message.contains("ids must ascend"), "{e}");
    assert!(e.message.starts_with("m.csv line 4:"), "{e}");
}

#[test]
fn invalidated_microsecond_and_coin_m_rows() {
    let spot = Layout {
        aggregated: true,
        market: Market::Spot,
    };
    assert_eq!(
        parse_row("5,0,0,-1,-1,1735689600010866,True,True", spot).unwrap(),
        None
    );
    let t = parse_row("6,1.5,2,7,8,1735689600010866,true,false", spot)
        .unwrap()
        .unwrap();
    assert_eq!((t.time, t.best_match), (1_735_689_600_010, 0));
    let cm = Layout {
        aggregated: false,
        market: Market::Cm,
    };
    let t = parse_row("9,60000.1,12,0.01999996,1704067200000,false", cm)
        .unwrap()
        .unwrap();
    assert!(t.quote_qty.is_nan());
    assert_eq!((t.qty, t.first_id, t.best_match), (12.0, -1, 2));
    let um = Layout {
        aggregated: false,
        market: Market::Um,
    };
    let t = parse_row("9,60000.1,0.5,30000.05,1704067200000,true", um)
        .unwrap()
        .unwrap();
    assert_eq!((t.quote_qty, t.buyer_maker), (30000.05, 1));
    let spot_trades = Layout {
        aggregated: false,
        market: Market::Spot,
    };
    let e = parse_row("9,1,1,1,1704067200000,True", spot_trades).unwrap_err();
    assert!(
        e.message.contains("is_best_match") || e.message.contains("fields"),
        "{e}"
    );
    let e = parse_row("9,1,1,1,1704067200000,yes,True", spot_trades).unwrap_err();
    assert!(e.message.contains("is_buyer_maker"), "{e}");
}

#[test]
fn large_files_stream_in_chunks() {
    let n = 2 * CHUNK + 5;
    let mut text = String::from("id,price,qty,quote_qty,time,is_buyer_maker\n");
    for i in 0..n {
        text.push_str(&format!(
            "{i},1.5,2,3,{},false\n",
            1_704_067_200_000 + i as i64
        ));
    }
    let layout = Layout {
        aggregated: false,
        market: Market::Um,
    };
    let mut sizes = Vec::new();
    // Keep the part [+10, +CHUNK+20) only.
    let lo = 1_704_067_200_010;
    let parsed = parse_file(
        &mut Cursor::new(text.clone()),
        "big.csv",
        layout,
        (lo, lo + CHUNK as i64 + 10),
        &mut |c| {
            sizes.push(c.len());
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(sizes, [CHUNK, 10]);
    assert_eq!(parsed.outside as usize, n - CHUNK - 10);
    let mut sizes = Vec::new();
    parse_file(
        &mut Cursor::new(text),
        "big.csv",
        layout,
        (0, i64::MAX),
        &mut |c| {
            sizes.push(c.len());
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(sizes, [CHUNK, CHUNK, 5]);
}
