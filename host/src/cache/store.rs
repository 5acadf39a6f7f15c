//! Reading and writing one cache file: Arrow IPC file format, checked on the way in and out,
//! written atomically so that a reader never sees half a file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;

use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::FileWriter;
use dsm_sdk::Kline;

use super::layout::{Period, SeriesKey, TEMP_PREFIX};
use super::CacheError;
use crate::columnar;
use crate::interval::Interval;
use crate::timeparse::format_time;

/// Footer metadata key holding the row count, so `cache ls` need not decode the data.
pub const ROWS_KEY: &str = "dsm.rows";

/// What a file must hold: the series and the period it is named for.
pub(crate) struct Expect<'a> {
    pub key: &'a SeriesKey,
    pub interval: Interval,
    pub period: Period,
    pub start: i64,
}

impl Expect<'_> {
    /// Sorted, unique open times aligned to the interval, all inside the period.
    pub fn check_rows(&self, rows: &[Kline]) -> Result<(), String> {
        let end = self.period.next(self.start);
        let mut prev: Option<i64> = None;
        for k in rows {
            // Formatted only on error: this loop runs over every cached candle.
            let at = || format_time(k.open_time);
            if !self.interval.is_aligned(k.open_time) {
                return Err(format!(
                    "candle at {} is not aligned to {}",
                    at(),
                    self.interval
                ));
            }
            if k.open_time < self.start || k.open_time >= end {
                return Err(format!(
                    "candle at {} lies outside the period {}",
                    at(),
                    self.period.stem(self.start)
                ));
            }
            if k.close_time < k.open_time {
                return Err(format!("candle at {} closes before it opens", at()));
            }
            match prev {
                Some(p) if p == k.open_time => return Err(format!("duplicate candle at {}", at())),
                Some(p) if p > k.open_time => {
                    return Err(format!("candle at {} is out of order", at()))
                }
                _ => prev = Some(k.open_time),
            }
        }
        Ok(())
    }

    /// Schema metadata naming the series, for readers outside dsm.
    fn metadata(&self) -> HashMap<String, String> {
        let k = self.key;
        [
            ("provider", &k.provider),
            ("market", &k.market),
            ("symbol", &k.symbol),
            ("interval", &k.interval),
        ]
        .into_iter()
        .map(|(name, v)| (name.to_string(), v.clone()))
        .chain([("period".to_string(), self.period.stem(self.start))])
        .collect()
    }

    /// A file copied into another series' directory is not that series' data.
    fn check_metadata(&self, found: &arrow_schema::Metadata) -> Result<(), String> {
        for (name, want) in self.metadata() {
            match found.get(&name) {
                Some(got) if *got != want => {
                    return Err(format!("file says {name} {got:?}, its path says {want:?}"))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn corrupt(path: &Path, message: impl Into<String>) -> CacheError {
    CacheError::Corrupt {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn io_err(path: &Path, source: io::Error) -> CacheError {
    CacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Read and check one file; `Ok(None)` when it does not exist.
pub(crate) fn read(path: &Path, expect: &Expect) -> Result<Option<Vec<Kline>>, CacheError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, e)),
    };
    let reader = FileReader::try_new(BufReader::new(file), None)
        .map_err(|e| corrupt(path, format!("not a readable Arrow IPC file: {e}")))?;
    let schema = reader.schema();
    columnar::check_schema(&schema).map_err(|e| corrupt(path, e))?;
    expect
        .check_metadata(schema.metadata())
        .map_err(|e| corrupt(path, e))?;
    let claimed = reader.custom_metadata().get(ROWS_KEY).cloned();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| corrupt(path, format!("unreadable record batch: {e}")))?;
        rows.extend(columnar::from_record_batch(&batch).map_err(|e| corrupt(path, e))?);
    }
    if rows.is_empty() {
        return Err(corrupt(path, "the file holds no candles"));
    }
    if let Some(n) = claimed.filter(|n| *n != rows.len().to_string()) {
        return Err(corrupt(
            path,
            format!("footer says {n} rows, found {}", rows.len()),
        ));
    }
    expect.check_rows(&rows).map_err(|e| corrupt(path, e))?;
    Ok(Some(rows))
}

/// The row count from the footer, without decoding the data (None for files without it).
pub(crate) fn footer_rows(path: &Path) -> Option<u64> {
    let file = File::open(path).ok()?;
    let reader = FileReader::try_new(BufReader::new(file), None).ok()?;
    reader.custom_metadata().get(ROWS_KEY)?.parse().ok()
}

/// Write `rows` to `path` atomically: a temporary file in the same directory, written and
/// fsynced, renamed over `path`, then the directory fsynced so the rename survives a crash.
pub(crate) fn write(path: &Path, expect: &Expect, rows: &[Kline]) -> Result<(), CacheError> {
    let refuse = |message: String| CacheError::Refused {
        path: path.to_path_buf(),
        message,
    };
    if rows.is_empty() {
        return Err(refuse("no candles: empty answers are never cached".into()));
    }
    expect.check_rows(rows).map_err(refuse)?;
    let dir = path.parent().expect("cache file paths have a directory");
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(
            "{TEMP_PREFIX}{}-",
            expect.period.stem(expect.start)
        ))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io_err(dir, e))?;
    write_ipc(tmp.as_file(), expect, rows).map_err(|e| io_err(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_err(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| io_err(path, e.error))?;
    sync_dir(dir)
}

fn write_ipc(file: &File, expect: &Expect, rows: &[Kline]) -> io::Result<()> {
    let schema = columnar::schema_with_metadata(expect.metadata());
    let batch = columnar::to_record_batch_with(schema.clone(), rows);
    let mut writer = FileWriter::try_new_buffered(file, &schema).map_err(io::Error::other)?;
    writer.write_metadata(ROWS_KEY, rows.len().to_string());
    writer.write(&batch).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), CacheError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, e))
}
