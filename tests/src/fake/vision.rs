//! A fake Binance Vision (data.binance.vision) as docs/wire-formats.md section 1 describes
//! it, on the same base URL as the REST endpoints:
//!
//! ```text
//! GET /data/{spot|futures/um|futures/cm}/{daily|monthly}/klines/{SYMBOL}/{iv}/{file}
//!     {SYMBOL}-{iv}-{YYYY-MM-DD}.zip (daily), {SYMBOL}-{iv}-{YYYY-MM}.zip (monthly),
//!     and {zip}.CHECKSUM; `iv` is Vision's (`1mo` for 1M);
//! GET /data.binance.vision?prefix=...&delimiter=/&marker=... (S3 ListObjects V1).
//! ```
//!
//! Files are built on request from the same [`Generator`] as the REST answers, so Vision
//! and REST serve the very same candle for the same open time, and
//! [`super::expected_klines`] is what either source serves for a past range. A zip holds
//! one CSV named like it; spot rows print 8 decimals and have no header, futures files from
//! 2022-01-01 on start with the header row; spot files from 2025-01-01 on are stamped in
//! microseconds. Daily files exist for days before today (UTC), monthly files for months
//! before the current one, from the market's listing on; 3d, 1w and 1mo only as monthly
//! files; futures have no 1s. Anything else is S3's 404 NoSuchKey. CHECKSUM files end with
//! a newline on even days (daily) or months (monthly) and without one otherwise.
//!
//! Switches ([`FakeExchange::withhold_vision_file`], [`FakeExchange::corrupt_checksum`],
//! [`FakeExchange::truncate_vision`], [`FakeExchange::garble_vision_row`],
//! [`FakeExchange::mutate_vision_rows`], [`FakeExchange::set_vision_cell`]) apply to a zip file name on every market; faults
//! queued with `push_faults` on a Vision path, delays and the request log work as for REST.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{Cursor, Write};
use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::candles::{now_ms, Generator, Market};
use super::faults::RowFault;
use super::grid::{civil_from_days, days_from_civil, Step};
use super::http::{Request, Response};
use super::log::RequestRecord;
use super::state::Shared;
use super::FakeExchange;

pub(super) const DAY_MS: i64 = 86_400_000;
/// Built zips kept for the CHECKSUM request that follows (and repeated downloads): at most
/// this many files and bytes (a day of 1s is ~5.5 MB zipped; a year of 1m monthly files,
/// which the benchmark fetches again and again, ~52 MB).
const CACHE_FILES: usize = 64;
const CACHE_BYTES: usize = 64 << 20;
/// Futures files from this date on start with a header row.
pub(super) const FUTURES_HEADER_FROM: i64 = 1_640_995_200_000; // 2022-01-01
/// Spot files from this date on are stamped in microseconds.
const SPOT_MICROS_FROM: i64 = 1_735_689_600_000; // 2025-01-01
pub(super) const FUTURES_HEADER: &str =
    "open_time,open,high,low,close,volume,close_time,quote_volume,\
                              count,taker_buy_volume,taker_buy_quote_volume,ignore";
const LISTING_PATH: &str = "/data.binance.vision";

/// Switches and the built zips (in the fake's shared state).
#[derive(Default)]
pub(crate) struct VisionState {
    pub(super) withheld: HashSet<String>,
    corrupt: HashSet<String>,
    truncated: HashSet<String>,
    garbled: HashSet<String>,
    mutated: HashMap<String, RowFault>,
    /// zip name -> (data row, column, new text) edits.
    cells: HashMap<String, Vec<(usize, usize, String)>>,
    /// zip path -> file built on request; oldest first for eviction.
    cache: HashMap<String, Built>,
    order: VecDeque<String>,
    cached_bytes: usize,
    /// zip path -> file built ahead ([`FakeExchange::prebuild_vision`]), never evicted.
    pinned: HashMap<String, Built>,
}

/// A built zip and the SHA-256 its CHECKSUM file names, computed once.
#[derive(Clone)]
pub(super) struct Built {
    pub(super) zip: Arc<Vec<u8>>,
    pub(super) sha256: Arc<str>,
}

impl Built {
    pub(super) fn new(zip: Vec<u8>) -> Built {
        let sha256 = hex(&Sha256::digest(&zip)).into();
        Built {
            zip: Arc::new(zip),
            sha256,
        }
    }
}

/// The switches that change a zip's bytes.
pub(super) struct Edits {
    garbled: bool,
    mutated: Option<RowFault>,
    cells: Vec<(usize, usize, String)>,
}

impl VisionState {
    /// (withheld, checksum corrupted) for a zip name, for vision_kinds.rs.
    pub(super) fn switches(&self, zip_name: &str) -> (bool, bool) {
        (
            self.withheld.contains(zip_name),
            self.corrupt.contains(zip_name),
        )
    }

    pub(super) fn cached(&self, path: &str) -> Option<Built> {
        self.pinned
            .get(path)
            .or_else(|| self.cache.get(path))
            .cloned()
    }

    pub(super) fn edits(&self, zip_name: &str) -> Edits {
        Edits {
            garbled: self.garbled.contains(zip_name),
            mutated: self.mutated.get(zip_name).copied(),
            cells: self.cells.get(zip_name).cloned().unwrap_or_default(),
        }
    }

    #[cfg(test)]
    pub(super) fn pinned_count(&self) -> usize {
        self.pinned.len()
    }

    pub(super) fn pin(&mut self, path: &str, built: Built) {
        self.pinned.insert(path.to_string(), built);
    }

    fn remember(&mut self, path: &str, built: Built) {
        self.cached_bytes += built.zip.len();
        match self.cache.insert(path.to_string(), built) {
            Some(old) => self.cached_bytes -= old.zip.len(),
            None => self.order.push_back(path.to_string()),
        }
        while self.order.len() > CACHE_FILES || self.cached_bytes > CACHE_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.cache.remove(&old) {
                self.cached_bytes -= old.zip.len();
            }
        }
    }

    fn forget(&mut self, zip_name: &str) {
        let suffix = format!("/{zip_name}");
        self.pinned.retain(|p, _| !p.ends_with(&suffix));
        let gone: Vec<String> = self
            .order
            .iter()
            .filter(|p| p.ends_with(&suffix))
            .cloned()
            .collect();
        for path in gone {
            if let Some(old) = self.cache.remove(&path) {
                self.cached_bytes -= old.zip.len();
            }
            self.order.retain(|p| *p != path);
        }
    }
}

/// Binance Vision switches. Each takes a zip file name (`BTCUSDT-1m-2024-01-01.zip`) and
/// applies on every market, until the fake is dropped.
impl FakeExchange {
    /// The file and its CHECKSUM answer 404 NoSuchKey (not in the archive).
    pub fn withhold_vision_file(&self, zip_name: &str) {
        self.shared.lock().vision.withheld.insert(zip_name.into());
    }

    /// The file's CHECKSUM carries a wrong digest.
    pub fn corrupt_checksum(&self, zip_name: &str) {
        self.shared.lock().vision.corrupt.insert(zip_name.into());
    }

    /// The zip's CSV gets a malformed row (`1,2,3`) as its line 3; its CHECKSUM matches.
    pub fn garble_vision_row(&self, zip_name: &str) {
        let mut st = self.shared.lock();
        st.vision.garbled.insert(zip_name.into());
        // Drop the clean copies already built (on any market).
        st.vision.forget(zip_name);
    }

    /// The zip's CSV rows are damaged by `fault` (see [`RowFault`]); its CHECKSUM matches
    /// the damaged file, so only the rows themselves are wrong.
    pub fn mutate_vision_rows(&self, zip_name: &str, fault: RowFault) {
        let mut st = self.shared.lock();
        st.vision.mutated.insert(zip_name.into(), fault);
        st.vision.forget(zip_name);
    }

    /// The zip's CSV data row `row` (0-based, a header row not counted) gets `value` in
    /// column `column`: a well-formed file with one wrong value (a negative price, an
    /// unaligned time); its CHECKSUM matches the edited file.
    pub fn set_vision_cell(&self, zip_name: &str, row: usize, column: usize, value: &str) {
        let mut st = self.shared.lock();
        let edits = st.vision.cells.entry(zip_name.into()).or_default();
        edits.push((row, column, value.into()));
        st.vision.forget(zip_name);
    }

    /// Every download of the zip sends its headers (correct Content-Length) and half its
    /// body, then closes the connection. For one truncated download, queue
    /// `Fault::Truncated` on the file's path with `push_faults` instead.
    pub fn truncate_vision(&self, zip_name: &str) {
        self.shared.lock().vision.truncated.insert(zip_name.into());
    }
}

/// Whether `path` is Vision's (files or the S3 listing).
pub(crate) fn is_vision(path: &str) -> bool {
    path.starts_with("/data/") || path == LISTING_PATH
}

/// Like the REST dispatch (queued fault, normal answer, delay, request log), but the file
/// is built without holding the state lock, so downloads are served in parallel.
pub(crate) fn dispatch(shared: &Shared, req: &Request) -> Response {
    let (fault, delay) = {
        let mut st = shared.lock();
        (st.pop_fault(&req.path), st.delay(&req.path))
    };
    let mut resp = match fault.as_ref().and_then(|f| f.replacement(req)) {
        Some(r) => r,
        None => answer(shared, req),
    };
    if let Some(f) = &fault {
        f.alter(&mut resp);
    }
    resp.delay += delay;
    shared.lock().requests.push(RequestRecord {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status: resp.status,
        at: Instant::now(),
    });
    resp
}

fn answer(shared: &Shared, req: &Request) -> Response {
    if req.method != "GET" {
        return Response::empty(405);
    }
    if req.path == LISTING_PATH {
        return super::bucket::listing(shared, &req.query);
    }
    let key = &req.path[1..];
    if let Some(resp) = super::vision_kinds::answer(shared, key) {
        return resp; // fundingRate and mark / index / premium index kline files
    }
    let Some(file) = VisionFile::parse(key) else {
        return no_such_key(key);
    };
    if !file.exists(now_ms()) {
        return no_such_key(key);
    }
    let (withheld, corrupt, truncated, edits, cached) = {
        let st = shared.lock();
        let v = &st.vision;
        (
            v.withheld.contains(&file.zip_name),
            v.corrupt.contains(&file.zip_name),
            v.truncated.contains(&file.zip_name),
            v.edits(&file.zip_name),
            v.cached(&file.zip_path),
        )
    };
    if withheld {
        return no_such_key(key);
    }
    let built = cached.unwrap_or_else(|| {
        let built = file.build(&edits);
        shared.lock().vision.remember(&file.zip_path, built.clone());
        built
    });
    if file.checksum {
        let mut digest = built.sha256.to_string();
        if corrupt {
            digest = hex(&Sha256::digest(digest.as_bytes()));
        }
        let newline = if file.even { "\n" } else { "" };
        let body = format!("{digest}  {}{newline}", file.zip_name);
        return Response::bytes(200, "binary/octet-stream", body.into_bytes());
    }
    let mut resp = Response::bytes(200, "application/zip", built.zip.to_vec());
    resp.truncate = truncated;
    resp
}

/// S3's answer for a key it does not have.
pub(super) fn no_such_key(key: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The \
         specified key does not exist.</Message><Key>{key}</Key><RequestId>{:016X}</RequestId>\
         <HostId>fake-exchange</HostId></Error>",
        fnv(key.as_bytes())
    );
    Response::bytes(404, "application/xml", body.into_bytes())
}

/// A Vision kline file named by its key.
#[derive(Debug)]
pub(super) struct VisionFile {
    pub(super) market: Market,
    symbol: String,
    step: Step,
    monthly: bool,
    /// `[start, end)` of the day or month.
    pub(super) start: i64,
    end: i64,
    /// The .CHECKSUM rather than the zip.
    checksum: bool,
    pub(super) zip_name: String,
    pub(super) zip_path: String,
    /// Even day of month (daily) or even month (monthly): the CHECKSUM ends with a newline.
    even: bool,
}

impl VisionFile {
    /// `data/{market}/{daily|monthly}/klines/{SYMBOL}/{iv}/{SYMBOL}-{iv}-{date}.zip[.CHECKSUM]`
    pub(super) fn parse(key: &str) -> Option<VisionFile> {
        let rest = key.strip_prefix("data/")?;
        let (market, rest) = if let Some(r) = rest.strip_prefix("spot/") {
            (Market::Spot, r)
        } else if let Some(r) = rest.strip_prefix("futures/um/") {
            (Market::Um, r)
        } else {
            (Market::Cm, rest.strip_prefix("futures/cm/")?)
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let [period, "klines", symbol, iv, file] = parts.as_slice() else {
            return None;
        };
        let monthly = match *period {
            "daily" => false,
            "monthly" => true,
            _ => return None,
        };
        let interval = match *iv {
            "1mo" => "1M",
            "1M" => return None,
            other => other,
        };
        let step = market.step(interval)?;
        if !monthly && matches!(interval, "3d" | "1w" | "1M") {
            return None;
        }
        let (zip_name, checksum) = match file.strip_suffix(".CHECKSUM") {
            Some(z) => (z, true),
            None => (*file, false),
        };
        let date = zip_name
            .strip_suffix(".zip")?
            .strip_prefix(&format!("{symbol}-{iv}-"))?;
        let (start, end, even) = parse_date(date, monthly)?;
        let zip_path = format!("/{}", key.trim_end_matches(".CHECKSUM"));
        Some(VisionFile {
            market,
            symbol: symbol.to_string(),
            step,
            monthly,
            start,
            end,
            checksum,
            zip_name: zip_name.to_string(),
            zip_path,
            even,
        })
    }

    /// Published and listed: a known symbol, from its listing day, before today (daily) or
    /// the current month (monthly).
    pub(super) fn exists(&self, now: i64) -> bool {
        let published_before = if self.monthly {
            month_start(now)
        } else {
            now - now.rem_euclid(DAY_MS)
        };
        let Some((first, end)) = super::listing::archive_days(self.market, &self.symbol) else {
            return false;
        };
        if self.monthly && super::listing::daily_only(self.market, &self.symbol) {
            return false;
        }
        let from = if self.monthly {
            month_start(first)
        } else {
            first
        };
        self.start >= from && self.start < end && self.end <= published_before
    }

    fn csv(&self) -> String {
        let gen = Generator::new(self.market, &self.symbol, self.step);
        // Delisted symbols' files hold only their trading days.
        let (first, end) = super::listing::archive_days(self.market, &self.symbol)
            .unwrap_or((self.market.listing_ms(), i64::MAX));
        let span = self
            .step
            .span(self.start, self.end.min(end) - 1, first, now_ms());
        let opens = span.map_or_else(Vec::new, |(a, b)| self.step.oldest(a, b, usize::MAX));
        let mut out = String::with_capacity(opens.len() * 140 + 160);
        if self.market != Market::Spot && self.start >= FUTURES_HEADER_FROM {
            out.push_str(FUTURES_HEADER);
            out.push('\n');
        }
        let micros = self.market == Market::Spot && self.start >= SPOT_MICROS_FROM;
        for t in opens {
            gen.row(t).write_csv(&mut out, micros);
            out.push('\n');
        }
        out
    }

    /// The zip with `edits` made, and its digest.
    pub(super) fn build(&self, edits: &Edits) -> Built {
        let mut csv = edit_cells(&self.csv(), &edits.cells);
        if let Some(fault) = edits.mutated {
            csv = fault.apply_csv(&csv);
        }
        if edits.garbled {
            let at = csv
                .match_indices('\n')
                .nth(1)
                .map_or(csv.len(), |(i, _)| i + 1);
            csv.insert_str(at, "1,2,3\n");
        }
        let entry = format!("{}.csv", self.zip_name.trim_end_matches(".zip"));
        Built::new(zip_one(&entry, &csv))
    }
}

/// A zip holding one CSV entry, as Vision's files (also for vision_kinds.rs).
pub(super) fn zip_one(entry: &str, csv: &str) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(csv.len() / 3 + 256)));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(zip::DateTime::default());
    w.start_file(entry, options).expect("in-memory zip");
    w.write_all(csv.as_bytes()).expect("in-memory zip");
    w.finish().expect("in-memory zip").into_inner()
}

/// `csv` with each (data row, column, text) edit made; a header row is not counted.
fn edit_cells(csv: &str, cells: &[(usize, usize, String)]) -> String {
    if cells.is_empty() {
        return csv.to_string();
    }
    let header = usize::from(csv.starts_with("open_time"));
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    for (row, column, text) in cells {
        if let Some(line) = lines.get_mut(row + header) {
            let mut fields: Vec<&str> = line.split(',').collect();
            if let Some(f) = fields.get_mut(*column) {
                *f = text;
            }
            *line = fields.join(",");
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `YYYY-MM-DD` (daily) or `YYYY-MM` (monthly): (start, end, even) of the period.
pub(super) fn parse_date(date: &str, monthly: bool) -> Option<(i64, i64, bool)> {
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let parts: Vec<&str> = date.split('-').collect();
    match (monthly, parts.as_slice()) {
        (true, [y, m]) if y.len() == 4 && m.len() == 2 => {
            let (y, m) = (num(y)?, num(m)?);
            if !(1..=12).contains(&m) {
                return None;
            }
            let start = days_from_civil(y, m, 1) * DAY_MS;
            Some((start, next_month(start), m % 2 == 0))
        }
        (false, [y, m, d]) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let (y, m, d) = (num(y)?, num(m)?, num(d)?);
            let start = days_from_civil(y, m, d) * DAY_MS;
            // Reject 2024-02-30 and the like: the date must round-trip.
            (civil_from_days(start / DAY_MS) == (y, m, d)).then_some((
                start,
                start + DAY_MS,
                d % 2 == 0,
            ))
        }
        _ => None,
    }
}

pub(super) fn month_start(t: i64) -> i64 {
    Step::Month.floor(t)
}

pub(super) fn next_month(t: i64) -> i64 {
    Step::Month.next(month_start(t))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// For a directory prefix, how its files are named, and the first file's period.
pub(super) struct ListDir {
    pub(super) symbol: String,
    pub(super) iv: String,
    pub(super) monthly: bool,
}

impl ListDir {
    pub(super) fn name_at(&self, t: i64) -> String {
        let (y, m, d) = civil_from_days(t.div_euclid(DAY_MS));
        if self.monthly {
            format!("{}-{}-{y:04}-{m:02}.zip", self.symbol, self.iv)
        } else {
            format!("{}-{}-{y:04}-{m:02}-{d:02}.zip", self.symbol, self.iv)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2024: i64 = 1_704_067_200_000;

    #[test]
    fn keys_parse_like_vision_names_them() {
        let f = VisionFile::parse("data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip")
            .unwrap();
        assert_eq!(
            (f.market, f.monthly, f.checksum),
            (Market::Spot, false, false)
        );
        assert_eq!(
            (f.start, f.end, f.even),
            (JAN_2024 + DAY_MS, JAN_2024 + 2 * DAY_MS, true)
        );
        let f = VisionFile::parse(
            "data/futures/cm/monthly/klines/BTCUSD_PERP/1mo/BTCUSD_PERP-1mo-2024-01.zip.CHECKSUM",
        )
        .unwrap();
        assert_eq!((f.market, f.monthly, f.checksum), (Market::Cm, true, true));
        assert_eq!(f.step, Step::Month);
        assert_eq!(f.zip_name, "BTCUSD_PERP-1mo-2024-01.zip");
        assert_eq!((f.start, f.end), (JAN_2024, JAN_2024 + 31 * DAY_MS));
        for bad in [
            "data/spot/daily/klines/BTCUSDT/1w/BTCUSDT-1w-2024-01-01.zip",
            "data/spot/daily/klines/BTCUSDT/1M/BTCUSDT-1M-2024-01.zip",
            "data/futures/um/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2024-01-01.zip",
            "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02-30.zip",
            "data/spot/daily/klines/BTCUSDT/1m/ETHUSDT-1m-2024-01-01.zip",
            "data/spot/daily/trades/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip",
            "data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-13.zip",
        ] {
            assert!(VisionFile::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn csv_headers_and_microseconds_follow_the_dates() {
        let csv = |key: &str| VisionFile::parse(key).unwrap().csv();
        let spot = csv("data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-12-31.zip");
        assert_eq!(spot.lines().count(), 24);
        assert!(spot.starts_with("1735603200000,"), "{spot}");
        let spot = csv("data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-01-01.zip");
        let first: Vec<&str> = spot.lines().next().unwrap().split(',').collect();
        assert_eq!(first.len(), 12);
        assert_eq!(
            (first[0], first[6]),
            ("1735689600000000", "1735693199999999")
        );
        assert_eq!(first[1].split('.').nth(1).unwrap().len(), 8);
        let um = csv("data/futures/um/daily/klines/BTCUSDT/1d/BTCUSDT-1d-2022-01-01.zip");
        assert_eq!(um.lines().count(), 2);
        assert!(um.starts_with("open_time,open,"));
        let um = csv("data/futures/um/daily/klines/BTCUSDT/1d/BTCUSDT-1d-2021-12-31.zip");
        assert_eq!(um.lines().count(), 1);
        let w = csv("data/futures/um/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-01.zip");
        // Mondays in January 2024: 1, 8, 15, 22, 29.
        assert_eq!(w.lines().count(), 1 + 5);
    }

    fn fetch(fx: &FakeExchange, path: &str) -> (u16, Vec<u8>) {
        let resp = reqwest::blocking::get(format!("{}{path}", fx.url())).unwrap();
        (resp.status().as_u16(), resp.bytes().unwrap().to_vec())
    }

    #[test]
    fn served_over_http_with_checksums_404s_listing_and_switches() {
        let fx = FakeExchange::start();
        let dir = "/data/spot/daily/klines/BTCUSDT/1m";
        for (day, newline) in [("01", ""), ("02", "\n")] {
            let name = format!("BTCUSDT-1m-2024-01-{day}.zip");
            let (status, zip) = fetch(&fx, &format!("{dir}/{name}"));
            assert_eq!(status, 200);
            assert_eq!(&zip[..4], b"PK\x03\x04");
            let (status, sum) = fetch(&fx, &format!("{dir}/{name}.CHECKSUM"));
            assert_eq!(status, 200);
            let want = format!("{}  {name}{newline}", hex(&Sha256::digest(&zip)));
            assert_eq!(String::from_utf8(sum).unwrap(), want);
        }
        let (status, body) = fetch(&fx, &format!("{dir}/BTCUSDT-1m-2099-01-01.zip"));
        assert_eq!(status, 404);
        let body = String::from_utf8(body).unwrap();
        assert!(body.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
        ));
        assert!(
            body.contains("<Key>data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2099-01-01.zip</Key>")
        );

        fx.withhold_vision_file("BTCUSDT-1m-2024-01-01.zip");
        assert_eq!(
            fetch(&fx, &format!("{dir}/BTCUSDT-1m-2024-01-01.zip")).0,
            404
        );
        assert_eq!(
            fetch(&fx, &format!("{dir}/BTCUSDT-1m-2024-01-01.zip.CHECKSUM")).0,
            404
        );
        fx.corrupt_checksum("BTCUSDT-1m-2024-01-02.zip");
        let (_, zip) = fetch(&fx, &format!("{dir}/BTCUSDT-1m-2024-01-02.zip"));
        let (_, sum) = fetch(&fx, &format!("{dir}/BTCUSDT-1m-2024-01-02.zip.CHECKSUM"));
        assert!(!String::from_utf8(sum)
            .unwrap()
            .starts_with(&hex(&Sha256::digest(&zip))));
        let log = fx.requests();
        assert_eq!(log.len(), 9);
        assert!(log.iter().all(|r| r.path.starts_with("/data/")));

        // S3 listing: 2017-01-01 .. yesterday, zip and CHECKSUM each, 1000 keys a page.
        let q = "/data.binance.vision?delimiter=/&prefix=data/spot/daily/klines/BTCUSDT/1d/";
        let (status, xml) = fetch(&fx, q);
        let xml = String::from_utf8(xml).unwrap();
        assert_eq!(status, 200);
        assert!(xml.contains("<IsTruncated>true</IsTruncated>"));
        assert_eq!(xml.matches("<Contents>").count(), 1000);
        assert!(
            xml.contains("<Key>data/spot/daily/klines/BTCUSDT/1d/BTCUSDT-1d-2017-01-01.zip</Key>")
        );
        let next = xml
            .split("<NextMarker>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap();
        let (_, page2) = fetch(&fx, &format!("{q}&marker={next}"));
        let page2 = String::from_utf8(page2).unwrap();
        assert!(!page2.contains(&format!("<Key>{next}</Key>")));
        assert!(page2.contains("<Contents>"));
    }

    #[test]
    fn existence_follows_listing_and_publication() {
        let now = JAN_2024 + 10 * DAY_MS + 5;
        let f = |k: &str| VisionFile::parse(k).unwrap().exists(now);
        assert!(f(
            "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-10.zip"
        ));
        assert!(!f(
            "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-11.zip"
        ));
        assert!(f(
            "data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2023-12.zip"
        ));
        assert!(!f(
            "data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip"
        ));
        assert!(!f(
            "data/spot/daily/klines/XYZUSDT/1m/XYZUSDT-1m-2023-01-10.zip"
        ));
        assert!(!f(
            "data/futures/cm/daily/klines/BTCUSD_PERP/1m/BTCUSD_PERP-1m-2020-07-31.zip"
        ));
        assert!(f(
            "data/futures/cm/daily/klines/BTCUSD_PERP/1m/BTCUSD_PERP-1m-2020-08-01.zip"
        ));
    }
}
