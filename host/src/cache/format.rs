//! The bytes of a cache file (format 2): an Arrow IPC file whose footer metadata names the
//! series and period, counts the rows, lists the candles the exchange did not have (and
//! when that was seen), and holds an xxh3-64 checksum of the whole file.
//!
//! The checksum is computed over the file with its own 16 hex digits read as `0`s, so every
//! byte is covered, the footer included, and the file stays a plain Arrow IPC file that
//! pyarrow or polars read as any other.

use std::collections::HashMap;
use std::ops::Range;

use arrow_array::RecordBatch;
use arrow_ipc::writer::FileWriter;

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

/// Encode `batch` (its schema carrying the identity as metadata) with footer `metadata`
/// (identity, rows, holes), then fill in the checksum.
pub fn encode(batch: &RecordBatch, footer: &[(String, String)]) -> Result<Vec<u8>, String> {
    let mut w = FileWriter::try_new(Vec::new(), &batch.schema()).map_err(|e| e.to_string())?;
    w.write_metadata(FORMAT_KEY, FORMAT_VERSION);
    for (k, v) in footer {
        w.write_metadata(k.clone(), v.clone());
    }
    w.write_metadata(
        CHECKSUM_KEY,
        std::str::from_utf8(PLACEHOLDER).expect("ascii"),
    );
    w.write(batch).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    let mut bytes = w.into_inner().map_err(|e| e.to_string())?;
    let footer = Footer::parse(&bytes)?;
    let span = footer.checksum_span.ok_or("no checksum slot written")?;
    let sum = format!("{:016x}", checksum_of(&bytes));
    bytes[span].copy_from_slice(sum.as_bytes());
    Ok(bytes)
}

/// xxh3-64 of `bytes`, whose checksum digits already read as the placeholder.
fn checksum_of(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// The footer's metadata, parsed from the raw bytes before anything else is trusted.
pub struct Footer {
    pub metadata: HashMap<String, String>,
    /// Where the checksum's 16 hex digits are in the file.
    checksum_span: Option<Range<usize>>,
}

impl Footer {
    /// Arrow IPC files end with the footer, its length (i32 LE) and `ARROW1`.
    pub fn parse(bytes: &[u8]) -> Result<Footer, String> {
        const MAGIC: &[u8] = b"ARROW1";
        let not_ipc = || "not an Arrow IPC file (no footer)".to_string();
        if bytes.len() < 8 + 10 || !bytes.starts_with(MAGIC) || !bytes.ends_with(MAGIC) {
            return Err(not_ipc());
        }
        let len_at = bytes.len() - 10;
        let len = i32::from_le_bytes(bytes[len_at..len_at + 4].try_into().expect("4 bytes"));
        let start = usize::try_from(len)
            .ok()
            .and_then(|l| len_at.checked_sub(l))
            .filter(|s| *s >= 8)
            .ok_or_else(not_ipc)?;
        let footer = arrow_ipc::root_as_footer(&bytes[start..len_at])
            .map_err(|e| format!("unreadable Arrow IPC footer: {e}"))?;
        let mut metadata = HashMap::new();
        let mut checksum_span = None;
        for kv in footer.custom_metadata().into_iter().flatten() {
            let (Some(k), Some(v)) = (kv.key(), kv.value()) else {
                continue;
            };
            if k == CHECKSUM_KEY && v.len() == PLACEHOLDER.len() {
                // The value borrows from `bytes`: its offset is where the digits are.
                let at = v.as_ptr() as usize - bytes.as_ptr() as usize;
                checksum_span = Some(at..at + v.len());
            }
            metadata.insert(k.to_string(), v.to_string());
        }
        Ok(Footer {
            metadata,
            checksum_span,
        })
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

    /// Check the checksum; on success the digits in `bytes` read as the placeholder again.
    pub fn check_checksum(&self, bytes: &mut [u8]) -> Result<(), String> {
        let span = self
            .checksum_span
            .clone()
            .ok_or("the file has no checksum")?;
        let stored = std::str::from_utf8(&bytes[span.clone()])
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or("the checksum is not 16 hex digits")?;
        bytes[span].copy_from_slice(PLACEHOLDER);
        let actual = checksum_of(bytes);
        if stored != actual {
            return Err(format!(
                "checksum mismatch (stored {stored:016x}, content {actual:016x}): the file was damaged"
            ));
        }
        Ok(())
    }
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
mod tests {
    use super::*;

    #[test]
    fn holes_round_trip() {
        let h = vec![(0, 60_000), (120_000, 600_000)];
        assert_eq!(decode_holes(&encode_holes(&h)).unwrap(), h);
        assert_eq!(decode_holes("").unwrap(), vec![]);
        for bad in ["5", "5-3", "a-b", "-5-9", "1-2,"] {
            assert!(decode_holes(bad).is_err(), "{bad}");
        }
    }
}
