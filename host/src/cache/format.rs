//! The bytes of a cache file (format 2): an Arrow IPC file whose footer metadata names the
//! series and period, counts the rows, lists the candles the exchange did not have (and
//! when that was seen), and holds an xxh3-64 checksum of the whole file.
//!
//! The checksum is computed over the file with its own 16 hex digits read as `0`s, so every
//! byte is covered, the footer included, and the file stays a plain Arrow IPC file that
//! pyarrow or polars read as any other.
//!
//! The rows are record batches of at most `kinds::SLICE_ROWS` (a day of trades is several;
//! a period of candles one, as every file of an older dsm): encoded and hashed as they go
//! out, the digits written into the footer's slot last; read back a chunk at a time.

use std::collections::HashMap;
use std::hash::Hasher;
use std::io::{self, SeekFrom, Write};
use std::ops::Range;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::convert::try_fb_to_schema;
use arrow_ipc::reader::{read_footer_length, FileDecoder};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{Schema, SchemaRef};
use twox_hash::XxHash3_64;

use super::storage::{ObjectWriter, ReadSeek};

/// The version written; files without it, or with another, are not used (fetched again).
pub const FORMAT_VERSION: &str = "2";

pub const FORMAT_KEY: &str = "dsm.format";
pub const CHECKSUM_KEY: &str = "dsm.xxh3";
/// The row count, so `cache ls` need not decode the data.
pub const ROWS_KEY: &str = "dsm.rows";
/// Ranges of open times `start-end` (ms, half-open, comma separated) the exchange had no
/// candle for when the period was fetched.
pub const HOLES_KEY: &str = "dsm.holes";
/// When the holes were seen (ms since the epoch; 0 when there are none, so that the same
/// candles always make the same bytes).
pub const HOLES_SEEN_KEY: &str = "dsm.holes_seen";
/// The identity keys every file must carry (prefixed `dsm.` in the footer).
pub const IDENTITY: [&str; 6] = ["provider", "market", "kind", "symbol", "interval", "period"];

const PLACEHOLDER: &[u8; 16] = b"0000000000000000";

/// Bytes read at a time while a file's checksum is checked.
const READ_CHUNK: usize = 1 << 20;

/// Encode `batches` (of `schema`, which carries the identity as metadata) into `out` with
/// footer `metadata` (identity, rows, holes), then fill in the checksum. One pass over the
/// batches, holding one at a time: the checksum is hashed as the bytes go out and written
/// into the footer's slot last.
pub fn encode_into(
    out: &mut dyn ObjectWriter,
    schema: &Schema,
    batches: impl Iterator<Item = RecordBatch>,
    footer: &[(String, String)],
) -> Result<(), String> {
    let mut hashed = Hashed {
        out,
        hasher: XxHash3_64::new(),
        written: 0,
        tail: None,
    };
    let mut w = FileWriter::try_new(&mut hashed, schema).map_err(|e| e.to_string())?;
    w.write_metadata(FORMAT_KEY, FORMAT_VERSION);
    for (k, v) in footer {
        w.write_metadata(k.clone(), v.clone());
    }
    w.write_metadata(
        CHECKSUM_KEY,
        std::str::from_utf8(PLACEHOLDER).expect("ascii"),
    );
    for batch in batches {
        w.write(&batch).map_err(|e| e.to_string())?;
    }
    // What `finish` writes is the footer: kept, to find the checksum's slot in it.
    let at = w.get_ref().written;
    w.get_mut().tail = Some(Vec::new());
    w.finish().map_err(|e| e.to_string())?;
    drop(w);
    let tail = hashed.tail.take().expect("set above");
    let span = Footer::parse_end(&tail, at)?
        .checksum_span
        .ok_or("no checksum slot written")?;
    let sum = format!("{:016x}", hashed.hasher.finish());
    hashed
        .out
        .overwrite(span.start as u64, sum.as_bytes())
        .map_err(|e| e.to_string())
}

/// [`encode_into`] a buffer in memory (tests build files, good and bad, with it).
#[cfg(test)]
pub fn encode(
    schema: &Schema,
    batches: impl Iterator<Item = RecordBatch>,
    footer: &[(String, String)],
) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    encode_into(&mut bytes, schema, batches, footer)?;
    Ok(bytes)
}

/// A writer that hashes what passes through it, counts it, and keeps the tail once asked.
struct Hashed<'a> {
    out: &'a mut dyn ObjectWriter,
    hasher: XxHash3_64,
    written: u64,
    tail: Option<Vec<u8>>,
}

impl Write for Hashed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.write(&buf[..n]);
        self.written += n as u64;
        if let Some(tail) = &mut self.tail {
            tail.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The footer's metadata, parsed from the raw bytes before anything else is trusted.
pub struct Footer {
    pub metadata: HashMap<String, String>,
    /// Where the checksum's 16 hex digits are in the file.
    checksum_span: Option<Range<usize>>,
    /// The record batches (and dictionaries) as the footer places them: offset, metadata
    /// and body lengths, not yet checked.
    blocks: Vec<(i64, i32, i64)>,
    /// Where the footer starts: every block lies before it.
    data_end: u64,
}

const MAGIC: &[u8; 6] = b"ARROW1";

/// What [`Footer::read`] touches of a file: its first bytes (the magic) and its last (the
/// footer: a few KiB in dsm's files), so that object storage fetches only those two parts.
pub(super) const FOOTER_ENDS: (u64, u64) = (MAGIC.len() as u64, 16 << 10);

fn not_ipc() -> String {
    "not an Arrow IPC file (no footer)".to_string()
}

impl Footer {
    /// The footer of the file `file` (Arrow IPC files start with `ARROW1` and end with the
    /// footer, its length (i32 LE) and `ARROW1`), read from its end; the file's length.
    pub fn read(file: &mut dyn ReadSeek) -> Result<(Footer, u64), String> {
        let io = |e: io::Error| format!("reading the file: {e}");
        let len = file.seek(SeekFrom::End(0)).map_err(io)?;
        if len < 8 + 10 {
            return Err(not_ipc());
        }
        let mut magic = [0u8; 6];
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.read_exact(&mut magic).map_err(io)?;
        let mut end = [0u8; 10];
        file.seek(SeekFrom::Start(len - 10)).map_err(io)?;
        file.read_exact(&mut end).map_err(io)?;
        let footer_len = i32::from_le_bytes(end[..4].try_into().expect("4 bytes"));
        let start = u64::try_from(footer_len)
            .ok()
            .and_then(|l| (len - 10).checked_sub(l))
            .filter(|s| *s >= 8 && magic == *MAGIC)
            .ok_or_else(not_ipc)?;
        let mut tail = vec![0u8; (len - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(&mut tail).map_err(io)?;
        Ok((Footer::parse_end(&tail, start)?, len))
    }

    /// The footer of a file held in memory (see [`Footer::read`]).
    pub fn of_bytes(bytes: &[u8]) -> Result<Footer, String> {
        let len = bytes.len();
        if len < 8 + 10 || !bytes.starts_with(MAGIC) {
            return Err(not_ipc());
        }
        let footer_len = i32::from_le_bytes(bytes[len - 10..len - 6].try_into().expect("4 bytes"));
        let start = usize::try_from(footer_len)
            .ok()
            .and_then(|l| (len - 10).checked_sub(l))
            .filter(|s| *s >= 8)
            .ok_or_else(not_ipc)?;
        Footer::parse_end(&bytes[start..], start as u64)
    }

    /// Check the checksum of a file held in memory: the same sum as
    /// [`Footer::check_checksum_of`], hashed around the digits instead of over a copy.
    pub fn check_checksum_in(&self, bytes: &[u8]) -> Result<(), String> {
        let span = self.span()?;
        let stored = bytes
            .get(span.clone())
            .ok_or("the checksum lies outside the file")?;
        let stored = parse_sum(stored)?;
        let mut hasher = XxHash3_64::new();
        hasher.write(&bytes[..span.start]);
        hasher.write(PLACEHOLDER);
        hasher.write(&bytes[span.end..]);
        compare(stored, hasher.finish())
    }

    /// The footer in `end`, the last bytes of a file that start at `offset` in it.
    fn parse_end(end: &[u8], offset: u64) -> Result<Footer, String> {
        if end.len() < 10 || !end.ends_with(MAGIC) {
            return Err(not_ipc());
        }
        let len_at = end.len() - 10;
        let len = i32::from_le_bytes(end[len_at..len_at + 4].try_into().expect("4 bytes"));
        let start = usize::try_from(len)
            .ok()
            .and_then(|l| len_at.checked_sub(l))
            .ok_or_else(not_ipc)?;
        let footer = arrow_ipc::root_as_footer(&end[start..len_at])
            .map_err(|e| format!("unreadable Arrow IPC footer: {e}"))?;
        let blocks = (footer.recordBatches().into_iter().flatten())
            .chain(footer.dictionaries().into_iter().flatten())
            .map(|b| (b.offset(), b.metaDataLength(), b.bodyLength()))
            .collect();
        let mut metadata = HashMap::new();
        let mut checksum_span = None;
        for kv in footer.custom_metadata().into_iter().flatten() {
            let (Some(k), Some(v)) = (kv.key(), kv.value()) else {
                continue;
            };
            if k == CHECKSUM_KEY && v.len() == PLACEHOLDER.len() {
                // The value borrows from `end`: its offset is where the digits are.
                let at = offset as usize + (v.as_ptr() as usize - end.as_ptr() as usize);
                checksum_span = Some(at..at + v.len());
            }
            metadata.insert(k.to_string(), v.to_string());
        }
        Ok(Footer {
            metadata,
            checksum_span,
            blocks,
            data_end: offset + start as u64,
        })
    }

    /// Refuse a record batch the footer sizes over `max` bytes or places outside the file's
    /// data, before any is read: a reader allocates a batch's size as the footer states it.
    pub fn check_batches(&self, max: u64) -> Result<(), String> {
        for &(offset, meta, body) in &self.blocks {
            let (Ok(offset), Ok(meta), Ok(body)) = (
                u64::try_from(offset),
                u64::try_from(meta),
                u64::try_from(body),
            ) else {
                return Err(
                    "the footer places a record batch at a negative offset or length".into(),
                );
            };
            let size = meta.saturating_add(body);
            if size > max {
                return Err(format!(
                    "a record batch of {size} bytes, more than any cache file holds in one ({max})"
                ));
            }
            if offset < 8 || offset.saturating_add(size) > self.data_end {
                return Err(format!(
                    "the footer places a record batch of {size} bytes at {offset}, outside the \
                     file's {} bytes of data",
                    self.data_end
                ));
            }
        }
        Ok(())
    }

    /// Whether the file carries this format's version (None: it does), or what it carries.
    pub fn outdated(&self) -> Option<String> {
        match self.metadata.get(FORMAT_KEY) {
            Some(v) if v == FORMAT_VERSION => None,
            Some(v) => Some(format!(
                "cache format {v:?}, this dsm reads {FORMAT_VERSION}"
            )),
            None => Some(format!(
                "no cache format version (an older dsm's file), this dsm reads {FORMAT_VERSION}"
            )),
        }
    }

    /// Check the checksum of the file `file` (`len` bytes), read a chunk at a time.
    pub fn check_checksum_of(&self, file: &mut dyn ReadSeek, len: u64) -> Result<(), String> {
        self.check_in_chunks(file, len, READ_CHUNK)
    }

    fn check_in_chunks(
        &self,
        file: &mut dyn ReadSeek,
        len: u64,
        size: usize,
    ) -> Result<(), String> {
        let span = self.span()?;
        let io = |e: io::Error| format!("reading the file: {e}");
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut hasher = XxHash3_64::new();
        let mut chunk = vec![0u8; size];
        let (mut at, mut stored) = (0usize, None);
        while (at as u64) < len {
            let n = size.min((len - at as u64) as usize);
            let buf = &mut chunk[..n];
            file.read_exact(buf).map_err(io)?;
            // The digits lie in one chunk or across two: replaced where they overlap.
            let (lo, hi) = (span.start.max(at), span.end.min(at + n));
            if lo < hi {
                let digits = stored.get_or_insert_with(Vec::new);
                digits.extend_from_slice(&buf[lo - at..hi - at]);
                buf[lo - at..hi - at]
                    .copy_from_slice(&PLACEHOLDER[lo - span.start..hi - span.start]);
            }
            hasher.write(buf);
            at += n;
        }
        let stored = parse_sum(&stored.unwrap_or_default())?;
        compare(stored, hasher.finish())
    }

    fn span(&self) -> Result<Range<usize>, String> {
        self.checksum_span
            .clone()
            .ok_or_else(|| "the file has no checksum".to_string())
    }
}

fn parse_sum(digits: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(digits)
        .ok()
        .filter(|s| s.len() == PLACEHOLDER.len())
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .ok_or_else(|| "the checksum is not 16 hex digits".to_string())
}

fn compare(stored: u64, actual: u64) -> Result<(), String> {
    if stored != actual {
        return Err(format!(
            "checksum mismatch (stored {stored:016x}, content {actual:016x}): the file was damaged"
        ));
    }
    Ok(())
}

/// The schema and record batches of an Arrow IPC file held in `bytes` (its footer already
/// read and its checksum checked), decoded where they lie: the batches' columns point into
/// `bytes`, nothing is copied. Every offset the footer gives is checked against the file.
pub fn decode_batches(bytes: &Buffer) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    let ipc = |e: String| format!("not a readable Arrow IPC file: {e}");
    let len = bytes.len();
    let trailer: [u8; 10] = bytes
        .get(len.saturating_sub(10)..)
        .and_then(|t| t.try_into().ok())
        .ok_or_else(not_ipc)?;
    let footer_len = read_footer_length(trailer).map_err(|e| ipc(e.to_string()))?;
    let start = (len - 10).checked_sub(footer_len).ok_or_else(not_ipc)?;
    let footer = arrow_ipc::root_as_footer(&bytes[start..len - 10])
        .map_err(|e| ipc(format!("unreadable footer: {e}")))?;
    let fb_schema = footer.schema().ok_or_else(|| ipc("no schema".into()))?;
    let schema = try_fb_to_schema(fb_schema).map_err(|e| ipc(format!("its schema: {e}")))?;
    let schema = Arc::new(schema);
    if footer.dictionaries().is_some_and(|d| !d.is_empty()) {
        return Err(ipc("dictionary batches, which no dsm file has".into()));
    }
    let decoder = FileDecoder::new(schema.clone(), footer.version());
    let mut batches = Vec::new();
    for block in footer.recordBatches().into_iter().flatten() {
        let (offset, meta, body) = (block.offset(), block.metaDataLength(), block.bodyLength());
        // The message's header needs 8 bytes at least (its marker and length).
        let span = usize::try_from(offset).ok().zip(
            usize::try_from(meta)
                .ok()
                .filter(|m| *m >= 8)
                .zip(usize::try_from(body).ok()),
        );
        let Some((at, n)) = span.and_then(|(at, (m, b))| Some((at, m.checked_add(b)?))) else {
            return Err("unreadable record batch: a block with a negative length".into());
        };
        if at.checked_add(n).is_none_or(|end| end > start) {
            return Err("unreadable record batch: a block past the end of the data".into());
        }
        let batch = decoder
            .read_record_batch(block, &bytes.slice_with_length(at, n))
            .map_err(|e| format!("unreadable record batch: {e}"))?
            .ok_or("unreadable record batch: an empty message")?;
        batches.push(batch);
    }
    Ok((schema, batches))
}

/// `start-end,start-end` of hole ranges.
pub fn encode_holes(holes: &[(i64, i64)]) -> String {
    let parts: Vec<String> = holes.iter().map(|(s, e)| format!("{s}-{e}")).collect();
    parts.join(",")
}

pub fn decode_holes(s: &str) -> Result<Vec<(i64, i64)>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|part| {
            let (a, b) = part
                .split_once('-')
                .filter(|(a, _)| !a.is_empty())
                .ok_or_else(|| format!("hole {part:?} is not start-end"))?;
            let (a, b) = (a.parse::<i64>(), b.parse::<i64>());
            match (a, b) {
                (Ok(a), Ok(b)) if a < b => Ok((a, b)),
                _ => Err(format!("hole {part:?} is not start-end")),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "tests_format.rs"]
mod tests;
