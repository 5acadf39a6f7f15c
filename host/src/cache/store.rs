//! Reading and writing one cache file, checked on the way in and out, published atomically
//! by the storage so that a reader never sees half a file. What the file must hold is
//! `expect.rs`; its byte layout, `format.rs`; where the bytes live, `storage/`. Every check
//! here runs the same on every backend.

use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_ipc::reader::FileReader;
use dsm_sdk::DataKind;

use super::batches::{CachedBatches, ReadBuf};
use super::expect::{CachedPeriod, Expect};
use super::format::{self, Footer, HOLES_KEY, HOLES_SEEN_KEY, ROWS_KEY};
use super::storage::{ReadSeek, Storage};
use super::CacheError;
use crate::kinds::{self, check_schema, Kind};

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
    let (max, (head, tail)) = (Bounds::of(kind).file, format::FOOTER_ENDS);
    // Only the ends of the file (on object storage: two small GETs, not the object).
    let mut file = at.storage.open_ends(&at.key, max, head, tail).ok()??;
    let mut footer = match Footer::read(&mut *file) {
        Ok((footer, _)) => footer,
        // The ends were not enough (a footer larger than dsm writes): the whole file.
        Err(_) => {
            Footer::read(&mut *at.storage.open(&at.key, max).ok()??)
                .ok()?
                .0
        }
    };
    footer.metadata.remove(key)
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
