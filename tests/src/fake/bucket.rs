//! The Vision bucket's S3 ListObjects V1 (`GET /data.binance.vision?delimiter=/&prefix=P
//! &marker=M`), paged exactly like S3: keys and common prefixes in one sorted sequence, at
//! most 1000 entries a page (or [`FakeExchange::set_listing_page_size`], or `max-keys`),
//! `IsTruncated`, and `NextMarker` when a delimiter is sent. Two kinds of prefix answer:
//!
//! - `data/{market}/{daily|monthly}/{dataset}/`: one CommonPrefix per symbol directory,
//!   the archive-only (delisted) symbols of listing.rs included for klines;
//! - `data/{market}/{daily|monthly}/klines/{SYMBOL}/{iv}/`: every published zip and its
//!   CHECKSUM, exactly the files vision.rs serves (from the same notion of which days exist).
//!
//! Other prefixes list nothing. File switches are not applied to the listing.
//! [`FakeExchange::set_hostile_listing`] makes it misbehave ([`HostileListing`]).
//!
//! [`FakeExchange::set_listing_page_size`]: super::FakeExchange::set_listing_page_size
//! [`FakeExchange::set_hostile_listing`]: super::FakeExchange::set_hostile_listing

use super::candles::{now_ms, Market};
use super::http::Response;
use super::listing::{archive_days, archive_symbols, HostileListing};
use super::log::query_param;
use super::state::Shared;
use super::vision::{month_start, next_month, ListDir, VisionFile, DAY_MS};

/// S3 ListObjects pages hold at most this many entries.
const LIST_PAGE: usize = 1000;

/// One entry of a listing, in S3's order (by its text).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    Key(String),
    Dir(String),
}

impl Entry {
    fn text(&self) -> &str {
        match self {
            Entry::Key(k) | Entry::Dir(k) => k,
        }
    }
}

/// The answer to one listing request.
pub(crate) fn listing(shared: &Shared, query: &str) -> Response {
    let prefix = query_param(query, "prefix").unwrap_or_default();
    let marker = query_param(query, "marker").unwrap_or_default();
    let delimiter = query_param(query, "delimiter");
    let (page_size, hostile) = {
        let st = shared.lock();
        (
            st.listing.page_size.unwrap_or(LIST_PAGE),
            st.listing.hostile,
        )
    };
    let max_keys = query_param(query, "max-keys")
        .and_then(|m| m.parse::<usize>().ok())
        .map_or(page_size, |m| m.clamp(1, page_size));
    if let Some(mode) = hostile {
        return hostile_page(mode, &prefix, &marker);
    }
    let mut entries = entries(&prefix);
    entries.sort_by(|a, b| a.text().cmp(b.text()));
    let after: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.text() > marker.as_str())
        .collect();
    let page = &after[..after.len().min(max_keys)];
    let truncated = after.len() > max_keys;
    let next = (truncated && delimiter.is_some())
        .then(|| page.last().map(|e| e.text().to_string()))
        .flatten();
    xml(
        &prefix,
        &marker,
        next.as_deref(),
        max_keys,
        delimiter.as_deref(),
        truncated,
        page,
    )
}

fn xml(
    prefix: &str,
    marker: &str,
    next: Option<&str>,
    max_keys: usize,
    delimiter: Option<&str>,
    truncated: bool,
    page: &[&Entry],
) -> Response {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>data.binance.vision</Name>",
    );
    xml += &format!("<Prefix>{prefix}</Prefix><Marker>{marker}</Marker>");
    if let Some(next) = next {
        xml += &format!("<NextMarker>{next}</NextMarker>");
    }
    xml += &format!("<MaxKeys>{max_keys}</MaxKeys>");
    if let Some(d) = delimiter {
        xml += &format!("<Delimiter>{d}</Delimiter>");
    }
    xml += &format!("<IsTruncated>{truncated}</IsTruncated>");
    for entry in page.iter().filter(|e| matches!(e, Entry::Key(_))) {
        let key = entry.text();
        xml += &format!(
            "<Contents><Key>{key}</Key><LastModified>2024-01-02T00:00:00.000Z</LastModified>\
             <ETag>&quot;{:032x}&quot;</ETag><Size>{}</Size><StorageClass>STANDARD\
             </StorageClass></Contents>",
            key.len(),
            if key.ends_with(".CHECKSUM") {
                98
            } else {
                60_000
            }
        );
    }
    for entry in page.iter().filter(|e| matches!(e, Entry::Dir(_))) {
        xml += &format!(
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            entry.text()
        );
    }
    xml += "</ListBucketResult>";
    Response::bytes(200, "application/xml", xml.into_bytes())
}

/// The entries under `prefix` (unsorted).
fn entries(prefix: &str) -> Vec<Entry> {
    let Some(dir) = prefix.strip_suffix('/') else {
        return Vec::new();
    };
    let (market, rest) = if let Some(r) = dir.strip_prefix("data/spot/") {
        (Market::Spot, r)
    } else if let Some(r) = dir.strip_prefix("data/futures/um/") {
        (Market::Um, r)
    } else if let Some(r) = dir.strip_prefix("data/futures/cm/") {
        (Market::Cm, r)
    } else {
        return Vec::new();
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["daily" | "monthly", dataset] => symbol_dirs(market, dataset)
            .into_iter()
            .map(|s| Entry::Dir(format!("{prefix}{s}/")))
            .collect(),
        [period @ ("daily" | "monthly"), "klines", symbol, iv] => {
            kline_files(prefix, symbol, iv, *period == "monthly")
        }
        _ => Vec::new(),
    }
}

/// Symbol directories of a dataset: klines have every symbol the archive ever had.
fn symbol_dirs(market: Market, dataset: &str) -> Vec<&'static str> {
    let mut all = archive_symbols(market);
    if dataset != "klines" {
        all.retain(|s| market.knows_symbol(s));
    }
    all
}

/// Every published zip of a kline series and its CHECKSUM.
fn kline_files(prefix: &str, symbol: &str, iv: &str, monthly: bool) -> Vec<Entry> {
    let mut keys = Vec::new();
    let now = now_ms();
    let Some(market) = VisionFile::parse(&format!("{prefix}{symbol}-{iv}-2000-01-01.zip"))
        .or_else(|| VisionFile::parse(&format!("{prefix}{symbol}-{iv}-2000-01.zip")))
        .map(|f| f.market)
    else {
        return keys;
    };
    let Some((first, _)) = archive_days(market, symbol) else {
        return keys;
    };
    let names = ListDir {
        symbol: symbol.to_string(),
        iv: iv.to_string(),
        monthly,
    };
    let mut t = if monthly { month_start(first) } else { first };
    loop {
        let zip = names.name_at(t);
        match VisionFile::parse(&format!("{prefix}{zip}")) {
            Some(f) if f.exists(now) => {}
            _ => break,
        }
        keys.push(Entry::Key(format!("{prefix}{zip}")));
        keys.push(Entry::Key(format!("{prefix}{zip}.CHECKSUM")));
        t = if monthly { next_month(t) } else { t + DAY_MS };
    }
    keys
}

/// A misbehaving page (see [`HostileListing`]).
fn hostile_page(mode: HostileListing, prefix: &str, marker: &str) -> Response {
    let delimiter = Some("/");
    match mode {
        HostileListing::Endless => {
            // Each page one directory past the marker, forever.
            let n = marker
                .strip_prefix(prefix)
                .and_then(|m| m.strip_prefix('Z'))
                .and_then(|m| m.trim_end_matches('/').parse::<u64>().ok())
                .map_or(0, |n| n + 1);
            let dir = Entry::Dir(format!("{prefix}Z{n:09}/"));
            let next = dir.text().to_string();
            xml(prefix, marker, Some(&next), 1000, delimiter, true, &[&dir])
        }
        HostileListing::Stuck => {
            let dir = Entry::Dir(format!("{prefix}A/"));
            let next = dir.text().to_string();
            xml(prefix, marker, Some(&next), 1000, delimiter, true, &[&dir])
        }
        HostileListing::Huge => {
            let entries: Vec<Entry> = (0..40_000)
                .map(|i| Entry::Key(format!("{prefix}{i:0>120}.zip")))
                .collect();
            let page: Vec<&Entry> = entries.iter().collect();
            xml(prefix, marker, None, 1000, delimiter, false, &page)
        }
    }
}
