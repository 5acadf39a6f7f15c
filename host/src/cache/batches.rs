//! A cached period kept as its file's record batches (the warm read's fast path), and the
//! memory files are read into (arenas shared by consecutive files).

use std::collections::VecDeque;
use std::io::{self, SeekFrom};
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::alloc::Allocation;
use arrow_buffer::Buffer;

use super::expect::CachedPeriod;
use super::storage::ReadSeek;
use crate::kinds::Kind;
use crate::memory::{HugeMap, HUGE_PAGE};

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
    /// The file's bytes, which the batches point into (part of a [`ReadBuf`]'s arena).
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

/// The memory cache files are read into: arenas of a few MiB, backed by huge pages where
/// the kernel allows, each holding many consecutive files (a cached day of 1m is ~130 KB;
/// read into memory of its own, every 4 KiB of it was a first-touch page fault, and faults
/// are dear in a VM). A file's bytes are a [`Buffer`] over its part of an arena; the
/// batches decoded from it point there.
///
/// No byte a live batch points into is ever written again: a read only writes the part of
/// the current arena past every file read into it so far, and an arena is only started over
/// once no buffer of it is left anywhere (`Arc::get_mut`: the batches of all its files were
/// dropped, whatever thread dropped them). A walk whose output drops each period's batches
/// (rows, Parquet) so reads into the same warm memory over and over; one that keeps them
/// (`fetch_records`) fills arena after arena, which are then its result's memory.
///
/// An arena lives as long as any batch of it: a caller keeping one day in a hundred keeps
/// the arenas those days lie in (at most [`ARENA_MAX`] each).
#[derive(Debug, Default)]
pub struct ReadBuf {
    /// The arena being filled, and how much of it is taken.
    current: Option<(Arc<HugeMap>, usize)>,
    /// Full arenas, started over once nobody uses them any more (a few: a stream holds at
    /// most a few periods ahead of its reader).
    spare: VecDeque<Arc<HugeMap>>,
    /// The size of the next arena made (doubling from [`ARENA_MIN`]: one period read alone
    /// takes one huge page).
    next: usize,
    /// Bytes used of each arena at most (tests fill arenas with a few small files).
    limit: Option<usize>,
}

/// The first arena: one huge page.
const ARENA_MIN: usize = HUGE_PAGE;
/// The arenas of a long walk (a year of 1m is ~47 MB of files: three of these).
pub(crate) const ARENA_MAX: usize = 16 << 20;
/// Full arenas kept to be started over.
const SPARE: usize = 4;
/// Where each file starts in an arena: Arrow's buffers want 8 bytes at least, 64 is what
/// Arrow itself allocates with.
const ALIGN: usize = 64;

impl ReadBuf {
    /// The whole file `file` read into an arena: its bytes as they were read, `len` of
    /// them (its length when opened; one that ends earlier is an error).
    pub(super) fn read(&mut self, file: &mut dyn ReadSeek) -> io::Result<Buffer> {
        let len = file.seek(SeekFrom::End(0))?;
        file.seek(SeekFrom::Start(0))?;
        let len = usize::try_from(len).map_err(|_| io::Error::other("a file over memory"))?;
        let (arena, at) = self.room(len)?;
        // SAFETY: `at..at + len` lies inside the arena (`room`), and nothing points into it:
        // buffers are only made over parts taken before, and an arena is only started over
        // when no buffer of it is left.
        let part = unsafe { std::slice::from_raw_parts_mut(arena.as_mut_ptr().add(at), len) };
        file.read_exact(part)?; // a file cut short since it was opened: UnexpectedEof
        let ptr = NonNull::new(part.as_mut_ptr()).expect("inside a mapping");
        let owner: Arc<dyn Allocation> = arena;
        // SAFETY: `len` bytes at `ptr`, written above, inside memory `owner` keeps mapped
        // for as long as the buffer (and any slice of it) lives.
        Ok(unsafe { Buffer::from_custom_allocation(ptr, len, owner) })
    }

    /// Arenas of which at most `limit` bytes are used.
    #[cfg(test)]
    pub(super) fn with_limit(limit: usize) -> ReadBuf {
        ReadBuf {
            limit: Some(limit),
            ..ReadBuf::default()
        }
    }

    /// An arena with `len` bytes free at the returned offset, now taken.
    fn room(&mut self, len: usize) -> io::Result<(Arc<HugeMap>, usize)> {
        let limit = self.limit.unwrap_or(usize::MAX);
        let usable = |a: &HugeMap| a.len().min(limit);
        if let Some((arena, used)) = &mut self.current {
            if Arc::get_mut(arena).is_some() {
                // Nobody holds any of it: started over, its pages already in memory.
                *used = 0;
            }
            let at = used.next_multiple_of(ALIGN);
            if at + len <= usable(arena) {
                *used = at + len;
                return Ok((arena.clone(), at));
            }
        }
        if let Some((full, _)) = self.current.take() {
            self.spare.push_back(full);
            if self.spare.len() > SPARE {
                self.spare.pop_front();
            }
        }
        let free =
            (self.spare.iter_mut()).position(|a| usable(a) >= len && Arc::get_mut(a).is_some());
        let arena = match free.and_then(|i| self.spare.remove(i)) {
            Some(arena) => arena,
            None => {
                let size = self.next.clamp(ARENA_MIN, ARENA_MAX);
                self.next = (size * 2).min(ARENA_MAX);
                Arc::new(HugeMap::new(size.max(len))?)
            }
        };
        self.current = Some((arena.clone(), len));
        Ok((arena, 0))
    }
}
