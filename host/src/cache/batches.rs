//! A cached period kept as its file's record batches (the warm read's fast path), and the
//! memory files are read into.

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;

use super::store::CachedPeriod;
use crate::kinds::Kind;

/// One cached period of a kind with a column form, as the file's record batches: decoded
/// where the file's bytes lie and checked as [`CachedPeriod`]'s rows are, never made rows.
#[derive(Debug, Clone)]
pub struct CachedBatches {
    /// The rows, ascending by time, in the kind's schema (the file's metadata dropped).
    pub batches: Vec<RecordBatch>,
    /// As [`CachedPeriod::holes`].
    pub holes: Vec<(i64, i64)>,
    /// As [`CachedPeriod::holes_seen_ms`].
    pub holes_seen_ms: i64,
    /// The file's bytes, which the batches point into (see [`ReadBuf::give_back`]).
    pub bytes: Buffer,
}

impl CachedBatches {
    /// The rows, for callers that want rows.
    pub fn into_rows<K: Kind>(self, kind: &K) -> Result<CachedPeriod<K::Row>, String> {
        let mut rows = Vec::with_capacity(self.batches.iter().map(RecordBatch::num_rows).sum());
        for b in &self.batches {
            kind.extend_rows(b, &mut rows)?;
        }
        Ok(CachedPeriod {
            rows,
            holes: self.holes,
            holes_seen_ms: self.holes_seen_ms,
        })
    }
}

/// The memory cache files are read into. A walk over many periods gives each file's bytes
/// back, and the next file is read into memory nothing points into any more (fresh memory
/// for every file costs a page fault per 4 KiB: glibc maps blocks of this size anew and
/// returns them to the system when freed). Bytes still in use (a stream a few periods
/// ahead of its reader) are looked at again on later reads, a few at a time.
#[derive(Debug, Default)]
pub struct ReadBuf {
    free: Vec<u8>,
    lent: std::collections::VecDeque<Buffer>,
}

/// Bytes still in use that are kept to be reused: a stream holds at most a few periods.
const LENT: usize = 4;

impl ReadBuf {
    /// Keep `bytes` for a later read: at once if nothing else holds them (the batches read
    /// into them were dropped), else once their holder drops them.
    pub fn give_back(&mut self, bytes: Buffer) {
        match bytes.into_vec::<u8>() {
            Ok(v) => self.free = v,
            Err(bytes) => {
                self.lent.push_back(bytes);
                if self.lent.len() > LENT {
                    self.lent.pop_front();
                }
            }
        }
    }

    /// Memory to read the next file into: given back and free, or fresh.
    pub(super) fn take(&mut self) -> Vec<u8> {
        if self.free.capacity() > 0 {
            return std::mem::take(&mut self.free);
        }
        for _ in 0..self.lent.len() {
            let bytes = self.lent.pop_front().expect("counted");
            match bytes.into_vec::<u8>() {
                Ok(v) => return v,
                Err(bytes) => self.lent.push_back(bytes),
            }
        }
        Vec::new()
    }
}
