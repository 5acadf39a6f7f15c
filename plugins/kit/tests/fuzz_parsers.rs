//! The kit's parsers fuzzed on the stable toolchain with proptest: CSV lines and fields,
//! text and JSON cells, JSON pages, CHECKSUM files, zip archives (arbitrary bytes and
//! damaged real archives), the row-order policy. Property: no panic, whatever the input;
//! results that succeed are sane.
//!
//! `cargo test` runs 256 cases per target; for a long run:
//! `PROPTEST_CASES=1000000 cargo test --release -p dsm-plugin-kit --test fuzz_parsers`

use std::io::Cursor;

use dsm_plugin_kit::checksum::{parse_sha256_file, verify_with_checksum_file};
use dsm_plugin_kit::csv::{for_each_line, is_header, leading_fields};
use dsm_plugin_kit::fuzz::numberish;
use dsm_plugin_kit::parse::{
    ascending, decimal, decimal_at, epoch_to_ms, int_at, integer, rows, uint_at, unsigned,
};
use dsm_plugin_kit::unzip::{build_zip, read_entry, ZipLimits};
use dsm_sdk::{ErrorKind, Kline};
use proptest::prelude::*;
use serde_json::Value;

/// Any JSON value, a few levels deep, with number-like strings.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        numberish().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 48, 12, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..13).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{0,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// CSV text built from lines of 0..14 number-like fields, sometimes with a header.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::collection::vec(numberish(), 0..14).prop_map(|f| f.join(","));
    (
        any::<bool>(),
        prop::collection::vec(line, 0..20),
        prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
    )
        .prop_map(|(header, lines, end)| {
            let mut out = String::new();
            if header {
                out.push_str("open_time,open,high,low,close,volume");
                out.push_str(end);
            }
            for l in lines {
                out.push_str(&l);
                out.push_str(end);
            }
            out.into_bytes()
        })
}

/// Every line of `input`, through the field and header helpers; errors are fine.
fn walk_csv(input: &[u8]) {
    let _ = for_each_line(&mut Cursor::new(input), "f.csv", |n, line| {
        assert!(n >= 1);
        let _ = is_header(line);
        if let Ok(fields) = leading_fields::<11>(line) {
            for f in fields {
                let _ = decimal(f, "x");
                let _ = integer(f, "x").map(epoch_to_ms);
                let _ = unsigned(f, "x");
            }
        }
        Ok(())
    });
}

/// Read entry `a.csv` of `zip` to its end, as the Vision reader does.
fn unzip(zip: &[u8], limits: &ZipLimits) -> Result<Vec<u8>, dsm_sdk::ProviderError> {
    read_entry(zip, "a.zip", "a.csv", limits, |r| {
        let mut out = Vec::new();
        r.read_to_end(&mut out)
            .map_err(|e| dsm_sdk::ProviderError::new(ErrorKind::INTEGRITY, e.to_string()))?;
        walk_csv(&out);
        Ok(out)
    })
}

/// Limits small enough that fuzzed archives hit them too.
const SMALL: ZipLimits = ZipLimits {
    max_ratio: 20,
    ratio_floor: 2048,
    max_bytes: 64 << 10,
};

proptest! {
    // Case count: PROPTEST_CASES (default 256). No regression files in the source tree.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_csv_arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..2048)) {
        walk_csv(&input);
    }

    #[test]
    fn fuzz_csv_number_like_lines(input in csv_text()) {
        walk_csv(&input);
    }

    #[test]
    fn fuzz_text_cells(s in numberish(), t in any::<i64>()) {
        if let Ok(v) = decimal(&s, "x") {
            prop_assert!(v.is_finite());
        }
        let _ = integer(&s, "x");
        let _ = unsigned(&s, "x");
        let ms = epoch_to_ms(t);
        prop_assert!(ms <= t.max(0) || t < 0);
    }

    #[test]
    fn fuzz_json_cells_and_pages(row in prop::collection::vec(json(), 0..13), i in 0usize..14) {
        if let Ok(v) = decimal_at(&row, i, "c") {
            prop_assert!(v.is_finite());
        }
        let _ = int_at(&row, i, "c");
        let _ = uint_at(&row, i, "c");
        let body = serde_json::to_vec(&Value::Array(vec![Value::Array(row)])).unwrap();
        let _ = rows(&body, "GET u");
    }

    #[test]
    fn fuzz_json_page_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = rows(&body, "GET u");
    }

    #[test]
    fn fuzz_checksum_files(
        data in prop::collection::vec(any::<u8>(), 0..64),
        sum in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            "[0-9a-fA-F]{60,68}[ \t]{0,3}[*]?[a-z.]{0,12}\n?".prop_map(String::into_bytes),
        ],
    ) {
        let _ = parse_sha256_file(&sum, "a.zip");
        let _ = verify_with_checksum_file(&data, &sum, "a.zip");
    }

    #[test]
    fn fuzz_zip_arbitrary_bytes(
        prefix in prop_oneof![Just(&b""[..]), Just(&b"PK\x03\x04"[..]), Just(&b"PK\x05\x06"[..])],
        input in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut zip = prefix.to_vec();
        zip.extend_from_slice(&input);
        let _ = unzip(&zip, &ZipLimits::DEFAULT);
        let _ = unzip(&zip, &SMALL);
    }

    /// A real archive, then damaged: bytes overwritten, cut short, or both.
    #[test]
    fn fuzz_zip_damaged_archives(
        csv in csv_text(),
        repeat in 1usize..200,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let csv = csv.repeat(repeat);
        let good = build_zip(&[("a.csv", &csv)]);
        if flips.is_empty() && cut.is_none() {
            let limits = ZipLimits { max_ratio: u64::MAX, ..ZipLimits::DEFAULT };
            prop_assert_eq!(unzip(&good, &limits).unwrap(), csv);
        }
        let mut bad = good;
        for (at, byte) in flips {
            let i = at.index(bad.len());
            bad[i] = byte;
        }
        if let Some(cut) = cut {
            bad.truncate(cut.index(bad.len()));
        }
        let _ = unzip(&bad, &ZipLimits::DEFAULT);
        let _ = unzip(&bad, &SMALL);
    }

    #[test]
    fn fuzz_row_order_policy(times in prop::collection::vec((0i64..40, 0u8..3), 0..60)) {
        let mut klines: Vec<Kline> = times
            .iter()
            .map(|&(t, v)| Kline { open_time: t, volume: f64::from(v), ..Kline::default() })
            .collect();
        if ascending(&mut klines, "p").is_ok() {
            prop_assert!(klines.windows(2).all(|w| w[0].open_time < w[1].open_time));
        }
    }
}
