//! Reading and writing one cache file, checked on the way in and out, published atomically
//! by the storage so that a reader never sees half a file. What a file holds is described
//! in `format.rs`; where its bytes live, in `storage/`. Every check here runs the same on
//! every backend.

use std::collections::HashMap;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ipc::reader::FileReader;
use arrow_schema::SchemaRef;
use dsm_sdk::{DataKind, Kline};

use super::batches::{CachedBatches, ReadBuf};
use super::format::{self, Footer, HOLES_KEY, HOLES_SEEN_KEY, IDENTITY, ROWS_KEY};
use super::layout::{Period, SeriesKey};
use super::storage::{ObjectWriter, ReadSeek, Storage};
use super::CacheError;
use crate::interval::Interval;
use crate::kinds::{self, check_schema, Kind};
use crate::timeparse::format_time;

/// One cached period: its rows, and the times on the kind's grid the exchange had no row
/// for (candle kinds; other kinds have no holes).
#[derive(Debug, Clone, PartialEq)]
pub struct CachedPeriod<R = Kline> {
    /// The rows, ascending by time.
    pub rows: Vec<R>,
    /// Half-open ranges of open times without a candle at the source, sorted.
    pub holes: Vec<(i64, i64)>,
    /// When the source was asked and had no candle in `holes` (ms UTC).
    pub holes_seen_ms: i64,
}

/// What a file must hold: the series and the period it is named for, of rows of `kind`.
pub(crate) struct Expect<'a, K: Kind> {
    pub key: &'a SeriesKey,
    pub kind: &'a K,
    pub period: Period,
    pub start: i64,
}

impl<K: Kind> Expect<'_, K> {
    pub fn end(&self) -> i64 {
        self.period.next(self.start)
    }

    /// Sorted, unique times, all inside the period, and every row passing the checks rows
    /// from the network pass.
    pub fn check_rows(&self, rows: &[K::Row]) -> Result<(), String> {
        let end = self.end();
        // The same verdict as the loop below, in tight passes; the loop says why.
        let inside = rows.iter().all(|r| (self.start..end).contains(&K::time(r)));
        let ascending = rows.windows(2).all(|w| K::key(&w[0]) < K::key(&w[1]));
        if inside && ascending {
            return self.kind.check_all(rows, self.start, end);
        }
        let noun = self.kind.noun();
        let mut prev: Option<i64> = None;
        for r in rows {
            let (t, key) = (K::time(r), K::key(r));
            // Formatted only on error: this loop runs over every cached row.
            let at = || format_time(t);
            if t < self.start || t >= end {
                return Err(format!(
                    "{noun} at {} lies outside the period {}",
                    at(),
                    self.period.stem(self.start)
                ));
            }
            self.kind.check(r, self.start, end)?;
            match prev {
                Some(p) if p == key => return Err(format!("duplicate {noun} at {}", at())),
                Some(p) if p > key => return Err(format!("{noun} at {} is out of order", at())),
                _ => prev = Some(key),
            }
        }
        Ok(())
    }

    /// [`Expect::check_rows`] of the rows of `batches` (a kind with a column form), read
    /// from their columns: the same verdict; where a row fails the sorting or the period,
    /// the rows are made to say why in the same words.
    pub fn check_batches(&self, batches: &[RecordBatch]) -> Result<(), String> {
        let end = self.end();
        let (mut inside, mut ascending, mut prev) = (true, true, None::<i64>);
        for b in batches {
            let times = self.kind.times_of(b)?;
            inside &= times.iter().all(|t| (self.start..end).contains(t));
            ascending &= times.windows(2).all(|w| w[0] < w[1])
                && prev.zip(times.first()).is_none_or(|(p, f)| p < *f);
            prev = times.last().copied().or(prev);
        }
        if !(inside && ascending) {
            let mut rows = Vec::new();
            for b in batches {
                self.kind.extend_rows(b, &mut rows)?;
            }
            return self.check_rows(&rows);
        }
        batches
            .iter()
            .try_for_each(|b| self.kind.check_batch(b, self.start, end))
    }

    /// The grid times of the period without a row, as ranges (`rows` checked and sorted);
    /// none for kinds without a grid.
    pub fn holes_of(&self, rows: &[K::Row]) -> Vec<(i64, i64)> {
        self.holes_at(rows.iter().map(K::time))
    }

    /// [`Expect::holes_at`] of the rows at the times of `slices` (in order, ascending,
    /// inside the period): none at once when they are every grid time of the period, one
    /// after the other (a complete day: a tight pass, where the walk over the grid costs a
    /// few dozen instructions a row); else the walk.
    pub(super) fn holes_in(&self, slices: &[&[i64]]) -> Vec<(i64, i64)> {
        if let Some(iv @ Interval::Fixed(ms)) = self.kind.grid() {
            let mut next = iv.ceil(self.start);
            let complete = slices.iter().all(|s| {
                let from = next;
                // Wrapping: a bad file must not overflow before it is found bad.
                let on_grid = (s.iter().zip(0i64..))
                    .all(|(t, i)| *t == from.wrapping_add(i.wrapping_mul(ms)));
                next = from.wrapping_add((s.len() as i64).wrapping_mul(ms));
                on_grid
            });
            // Every time is inside the period: all its grid times are there.
            if complete && next >= self.end() {
                return Vec::new();
            }
        }
        self.holes_at(slices.iter().flat_map(|t| t.iter().copied()))
    }

    /// [`Expect::holes_of`] of the rows at `times` (ascending).
    pub(super) fn holes_at(&self, times: impl Iterator<Item = i64>) -> Vec<(i64, i64)> {
        let Some(iv) = self.kind.grid() else {
            return Vec::new();
        };
        let end = self.end();
        let mut holes: Vec<(i64, i64)> = Vec::new();
        let mut next_row = times.peekable();
        let mut t = iv.ceil(self.start);
        while t < end {
            if next_row.next_if_eq(&t).is_none() {
                match holes.last_mut() {
                    Some(h) if h.1 == t => h.1 = iv.next(t),
                    _ => holes.push((t, iv.next(t))),
                }
            }
            t = iv.next(t);
        }
        holes
    }

    /// The identity every file carries: `(name, value)` for the names in `IDENTITY`.
    fn identity(&self) -> [(&'static str, String); 6] {
        let k = self.key;
        [
            ("provider", k.provider.clone()),
            ("market", k.market.clone()),
            ("kind", k.kind.name().to_string()),
            ("symbol", k.symbol.clone()),
            ("interval", k.interval.clone()),
            ("period", self.period.stem(self.start)),
        ]
    }

    /// The identity without the `dsm.` prefix as schema metadata, for readers outside dsm.
    pub(super) fn schema_metadata(&self) -> HashMap<String, String> {
        self.identity()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    pub(super) fn footer(
        &self,
        rows: usize,
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Vec<(String, String)> {
        debug_assert_eq!(IDENTITY.len(), self.identity().len());
        self.identity()
            .into_iter()
            .map(|(k, v)| (format!("dsm.{k}"), v))
            .chain([
                (ROWS_KEY.to_string(), rows.to_string()),
                (HOLES_KEY.to_string(), format::encode_holes(holes)),
                // Only a period with holes says when it was asked: a complete one is then
                // the same bytes whenever it is written (sync lockfiles compare checksums).
                (
                    HOLES_SEEN_KEY.to_string(),
                    seen_of(holes, seen_ms).to_string(),
                ),
            ])
            .collect()
    }

    /// A file copied into another series' directory is not that series' data; a file that
    /// does not say what it is is not used either.
    fn check_identity(&self, footer: &HashMap<String, String>) -> Result<(), String> {
        for (name, want) in self.identity() {
            match footer.get(&format!("dsm.{name}")) {
                None => return Err(format!("the file does not say its {name}")),
                Some(got) if *got != want => {
                    return Err(format!("file says {name} {got:?}, its path says {want:?}"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The schema of the file: the kind's, with the identity as metadata.
    fn file_schema(&self) -> SchemaRef {
        Arc::new(
            self.kind
                .schema()
                .as_ref()
                .clone()
                .with_metadata(self.schema_metadata()),
        )
    }

    /// Encode `rows` into `out` in record batches of [`kinds::SLICE_ROWS`], one at a time.
    fn encode_into(
        &self,
        out: &mut dyn ObjectWriter,
        rows: &[K::Row],
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Result<(), String> {
        let schema = self.file_schema();
        let batches = kinds::slices(self.kind, schema.clone(), rows);
        format::encode_into(
            out,
            &schema,
            batches,
            &self.footer(rows.len(), holes, seen_ms),
        )
    }

    /// The file's bytes, not checked (tests use it to write files with bad candles).
    #[cfg(test)]
    pub fn encode(
        &self,
        rows: &[K::Row],
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        self.encode_into(&mut bytes, rows, holes, seen_ms)?;
        Ok(bytes)
    }

    /// The file as dsm wrote it before slices: all rows in one record batch.
    #[cfg(test)]
    pub fn encode_whole(
        &self,
        rows: &[K::Row],
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Result<Vec<u8>, String> {
        let schema = self.file_schema();
        let batch = self.kind.to_batch(schema.clone(), rows);
        format::encode(
            &schema,
            std::iter::once(batch),
            &self.footer(rows.len(), holes, seen_ms),
        )
    }
}

fn seen_of(holes: &[(i64, i64)], seen_ms: i64) -> i64 {
    if holes.is_empty() {
        0
    } else {
        seen_ms
    }
}

/// The largest record batch read (what a reader allocates at once): dsm writes batches of
/// at most `kinds::SLICE_ROWS` rows (~8 MB of trades); an older dsm wrote a period in one
/// batch, and read no file over this.
pub(crate) const MAX_BATCH_BYTES: u64 = 256 << 20;

/// What a read accepts: files (streamed from disk, whole from object storage) and record
/// batches up to these sizes; anything larger is a bad file, refused before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub file: u64,
    pub batch: u64,
}

impl Bounds {
    /// The bounds for files of `kind` (its largest plausible period, `kinds::max_file_bytes`).
    pub fn of(kind: DataKind) -> Bounds {
        Bounds {
            file: kinds::max_file_bytes(kind),
            batch: MAX_BATCH_BYTES,
        }
    }
}

/// One cache file: its key in a storage, and where that is (for messages).
pub(crate) struct At<'a> {
    pub storage: &'a dyn Storage,
    pub key: String,
    pub path: PathBuf,
}

impl<'a> At<'a> {
    pub fn new(storage: &'a dyn Storage, key: String) -> At<'a> {
        At {
            path: storage.location(&key),
            storage,
            key,
        }
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

/// What is not a regular file (a FIFO, a device) or is too large is a bad file.
fn read_err(at: &At, e: io::Error) -> CacheError {
    match e.kind() {
        io::ErrorKind::InvalidData => corrupt(&at.path, e.to_string()),
        _ => io_err(&at.path, e),
    }
}

/// Rows reserved up front from the footer's count (which is checked only after decoding).
const MAX_ROWS_RESERVED: usize = 8 << 20;

/// Read and check one file; `Ok(None)` when it does not exist. Kinds with a column form
/// (small files: a day of 1s candles is ~8 MB) are read whole ([`read_batches`]); the
/// others are read twice through one open handle, a chunk at a time: hashed against the
/// checksum, then decoded a record batch at a time; never held whole (a day of trades is
/// ~90 MB).
pub(crate) fn read<K: Kind>(
    at: &At,
    expect: &Expect<K>,
) -> Result<Option<CachedPeriod<K::Row>>, CacheError> {
    read_bounded(at, expect, Bounds::of(expect.kind.id()))
}

/// [`read`] within `bounds` (tests scale them down rather than write gigabytes).
pub(crate) fn read_bounded<K: Kind>(
    at: &At,
    expect: &Expect<K>,
    bounds: Bounds,
) -> Result<Option<CachedPeriod<K::Row>>, CacheError> {
    if expect.kind.has_columns() {
        let Some(cached) = read_batches_bounded(at, expect, &mut ReadBuf::default(), bounds)?
        else {
            return Ok(None);
        };
        let rows = cached.into_rows(expect.kind);
        return rows.map(Some).map_err(|e| corrupt(&at.path, e));
    }
    read_streamed(at, expect, bounds)
}

/// What the footer says besides the identity, checked against the file's rows.
struct Claims {
    rows: String,
    holes: Vec<(i64, i64)>,
    holes_seen_ms: i64,
}

/// The checks of a footer, in order: the format, the checksum (`checksum` checks it;
/// nothing of the file is trusted before), the identity, and what it claims.
fn check_footer<K: Kind>(
    path: &Path,
    expect: &Expect<K>,
    footer: &Footer,
    bounds: Bounds,
    checksum: impl FnOnce() -> Result<(), String>,
) -> Result<Claims, CacheError> {
    let bad = |e: String| corrupt(path, e);
    footer.check_batches(bounds.batch).map_err(bad)?;
    if let Some(why) = footer.outdated() {
        return Err(CacheError::Outdated {
            path: path.to_path_buf(),
            message: why,
        });
    }
    checksum().map_err(bad)?;
    expect.check_identity(&footer.metadata).map_err(bad)?;
    let meta = |key: &str| {
        footer
            .metadata
            .get(key)
            .ok_or_else(|| bad(format!("the file has no {key}")))
    };
    Ok(Claims {
        rows: meta(ROWS_KEY)?.clone(),
        holes: format::decode_holes(meta(HOLES_KEY)?).map_err(bad)?,
        holes_seen_ms: meta(HOLES_SEEN_KEY)?
            .parse()
            .map_err(|_| bad(format!("{HOLES_SEEN_KEY} is not a time")))?,
    })
}

/// The last check: the rows leave the holes recorded (`holes`: those the rows leave, once
/// checked).
fn check_holes(claims: &Claims, holes: Vec<(i64, i64)>) -> Result<(), String> {
    if holes != claims.holes {
        return Err(
            "its rows and its record of what the exchange lacked disagree (the file lost or \
             gained rows)"
                .into(),
        );
    }
    Ok(())
}

/// Read one file of a kind with a column form whole into `buf`, check it (the checks of
/// [`read`], in the same order and words), and keep its record batches as decoded, where
/// the bytes lie: one read of the file, no copy of its rows. `Ok(None)` when there is no
/// file.
pub(crate) fn read_batches<K: Kind>(
    at: &At,
    expect: &Expect<K>,
    buf: &mut ReadBuf,
) -> Result<Option<CachedBatches>, CacheError> {
    read_batches_bounded(at, expect, buf, Bounds::of(expect.kind.id()))
}

/// [`read_batches`] within `bounds`.
fn read_batches_bounded<K: Kind>(
    at: &At,
    expect: &Expect<K>,
    buf: &mut ReadBuf,
    bounds: Bounds,
) -> Result<Option<CachedBatches>, CacheError> {
    let Some(mut file) = open(at, bounds)? else {
        return Ok(None);
    };
    let path = at.path.as_path();
    let bad = |e: String| corrupt(path, e);
    let bytes = buf
        .read(&mut *file)
        .map_err(|e| bad(format!("reading the file: {e}")))?;
    let footer = Footer::of_bytes(&bytes).map_err(bad)?;
    let claims = check_footer(path, expect, &footer, bounds, || {
        footer.check_checksum_in(&bytes)
    })?;
    let (schema, batches) = format::decode_batches(&bytes).map_err(bad)?;
    check_schema(&expect.kind.schema(), &schema).map_err(bad)?;
    // In the kind's own schema, as every batch of the kind is handed on.
    let own = expect.kind.schema();
    let batches = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(own.clone(), b.columns().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("unreadable record batch: {e}")))?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows == 0 {
        return Err(bad(format!("the file holds no {}s", expect.kind.noun())));
    }
    if claims.rows != rows.to_string() {
        return Err(bad(format!(
            "footer says {} rows, found {rows}",
            claims.rows
        )));
    }
    expect.check_batches(&batches).map_err(bad)?;
    let mut times = Vec::with_capacity(batches.len());
    for b in &batches {
        times.push(expect.kind.times_of(b).map_err(bad)?);
    }
    check_holes(&claims, expect.holes_in(&times)).map_err(bad)?;
    Ok(Some(CachedBatches {
        holes: claims.holes,
        holes_seen_ms: claims.holes_seen_ms,
        batches,
        bytes,
    }))
}

/// The file of `at` opened for reading, if there is one (over `bounds.file`: corrupt).
fn open(at: &At, bounds: Bounds) -> Result<Option<Box<dyn ReadSeek>>, CacheError> {
    at.storage
        .open(&at.key, bounds.file)
        .map_err(|e| read_err(at, e))
}

/// [`read`] of a kind without a column form, a chunk at a time.
fn read_streamed<K: Kind>(
    at: &At,
    expect: &Expect<K>,
    bounds: Bounds,
) -> Result<Option<CachedPeriod<K::Row>>, CacheError> {
    let Some(mut file) = open(at, bounds)? else {
        return Ok(None);
    };
    let path = at.path.as_path();
    let bad = |e: String| corrupt(path, e);
    let (footer, len) = Footer::read(&mut *file).map_err(bad)?;
    let claims = check_footer(path, expect, &footer, bounds, || {
        footer.check_checksum_of(&mut *file, len)
    })?;
    let capacity = claims
        .rows
        .parse::<usize>()
        .unwrap_or(0)
        .min(MAX_ROWS_RESERVED);
    file.seek(SeekFrom::Start(0))
        .map_err(|e| bad(format!("reading the file: {e}")))?;
    let reader = FileReader::try_new(BufReader::new(file), None)
        .map_err(|e| bad(format!("not a readable Arrow IPC file: {e}")))?;
    check_schema(&expect.kind.schema(), &reader.schema()).map_err(bad)?;
    let mut rows = Vec::with_capacity(capacity);
    for batch in reader {
        let batch = batch.map_err(|e| bad(format!("unreadable record batch: {e}")))?;
        rows.extend(expect.kind.rows_of(&batch).map_err(bad)?);
    }
    if rows.is_empty() {
        return Err(bad(format!("the file holds no {}s", expect.kind.noun())));
    }
    if claims.rows != rows.len().to_string() {
        return Err(bad(format!(
            "footer says {} rows, found {}",
            claims.rows,
            rows.len()
        )));
    }
    expect.check_rows(&rows).map_err(bad)?;
    let holes = expect.holes_at(rows.iter().map(K::time));
    check_holes(&claims, holes).map_err(bad)?;
    Ok(Some(CachedPeriod {
        rows,
        holes: claims.holes,
        holes_seen_ms: claims.holes_seen_ms,
    }))
}

/// The row count from the footer, without decoding the data (None for unreadable files).
pub(crate) fn footer_rows(at: &At, kind: DataKind) -> Option<u64> {
    footer_value(at, kind, ROWS_KEY)?.parse().ok()
}

/// One value of the footer's metadata of a file of `kind`, not verified (None for
/// unreadable files).
pub(crate) fn footer_value(at: &At, kind: DataKind, key: &str) -> Option<String> {
    let mut file = at.storage.open(&at.key, Bounds::of(kind).file).ok()??;
    Footer::read(&mut *file).ok()?.0.metadata.remove(key)
}

/// Write `rows` as one file, published atomically by the storage (on disk: a temporary file
/// in the same directory, fsynced, renamed over the file, the directory fsynced; on object
/// storage: one PUT). The open times without a row are recorded as holes seen at `seen_ms`.
pub(crate) fn write<K: Kind>(
    at: &At,
    expect: &Expect<K>,
    rows: &[K::Row],
    seen_ms: i64,
) -> Result<(), CacheError> {
    let path = at.path.as_path();
    let refuse = |message: String| CacheError::Refused {
        path: path.to_path_buf(),
        message,
    };
    if rows.is_empty() {
        return Err(refuse(format!(
            "no {}s: empty answers are never cached",
            expect.kind.noun()
        )));
    }
    expect.check_rows(rows).map_err(refuse)?;
    let holes = expect.holes_of(rows);
    // Without holes the time means nothing: 0 keeps a file a function of its candles.
    let seen_ms = if holes.is_empty() { 0 } else { seen_ms };
    // Encoded straight into the storage's writer, a slice of rows at a time.
    let put = at.storage.put_with(&at.key, &mut |out| {
        expect
            .encode_into(out, rows, &holes, seen_ms)
            .map_err(io::Error::other)
    });
    put.map_err(|e| io_err(path, e))
}
