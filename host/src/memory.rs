//! The process's allocator, set for periods of millions of rows.

/// Keeps large blocks out of the heap. glibc raises its mmap threshold (up to 32 MiB)
/// each time a mapped block is freed; after a day of trades the next day's batches (a few
/// MB each) then come from the heap, which keeps what it once held: the peak of a trades
/// fetch grew with its days (500,000 trades a day: 112 MiB for one day, 144 MiB for six).
/// With the threshold fixed at glibc's own default (which also ends its adjusting) six days
/// peak as one (103 MiB against 98). Process-wide, so programs call it (the CLI does), the
/// library never on its own; nothing on other allocators.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// Above this a block is mapped on its own, and unmapped when freed.
        const MMAP_THRESHOLD: i32 = 128 * 1024;
        // SAFETY: a plain setting of the allocator, valid at any time.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}

/// Keeps freed blocks in the heap for reuse: blocks under 4 MiB come from the heap, and up
/// to 64 MiB may stay free at its top. glibc by default maps larger blocks on their own and
/// trims the heap's top as soon as a little is free, so work that frees and allocates the
/// same few MB over and over faults them in afresh each time, and in a threaded process each
/// unmap also interrupts the other cores to flush their TLBs: a warm year of 1m to Parquet
/// (whose writer buffers each row group's pages, then frees them) took 10,200 page faults,
/// 6,000 with this, and 5-10% less time (BENCHMARKS.md, seventh round). For work whose periods are small (candles of a minute and up, funding,
/// metrics); the other rule, [`return_large_blocks`], is for periods of millions of rows.
/// Process-wide, so programs call it (the CLI does), the library never on its own.
pub fn reuse_freed_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: i32 = 4 << 20;
        const TRIM_THRESHOLD: i32 = 64 << 20;
        // SAFETY: plain settings of the allocator, valid at any time.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

/// Whether series of these kinds and intervals may move periods of millions of rows (a day
/// of trades or aggregated trades, a day of 1s candles), the work for which a program calls
/// [`return_large_blocks`]: a month of 1s peaked at 53 MiB with it against 86 without, a
/// month of trades at 164 MiB. Other candles keep glibc's own threshold (fixed for them, a
/// cold year of 1m took a fifth longer, measured). `kinds` are names as
/// [`DataKind::parse`](crate::DataKind::parse) takes them, `intervals` as typed ("" for
/// none); each may be a comma-separated list. The CLI's and Python's one rule.
pub fn moves_large_periods<'a>(
    kinds: impl IntoIterator<Item = &'a str>,
    intervals: impl IntoIterator<Item = &'a str>,
) -> bool {
    use crate::DataKind;
    let trades = |name: &str| {
        DataKind::parse(name).is_some_and(|k| k == DataKind::TRADES || k == DataKind::AGG_TRADES)
    };
    // A day of 1s is 86,400 candles (7.6 MB of rows); the next interval offered, 1m, is
    // 1,440 a day.
    let seconds = |interval: &str| {
        use crate::interval::{Interval, SECOND};
        matches!(Interval::parse(interval), Ok(Interval::Fixed(SECOND)))
    };
    kinds.into_iter().flat_map(|k| k.split(',')).any(trades)
        || intervals
            .into_iter()
            .flat_map(|i| i.split(','))
            .any(seconds)
}

/// A vector of room for `n` values, its memory backed by huge pages where the kernel allows
/// (transparent huge pages in `madvise` mode, the common default). A warm year of 1m is a
/// 46 MB result: its ~11,000 first-touch page faults were a third of the read's wall time
/// on the bench machine (a VM, where a fault is dear), against ~25 with 2 MiB pages. Advice
/// only: the contents and the allocator's ownership are untouched; small vectors skip it.
pub fn huge_vec<T>(n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = HUGE_PAGE;
        let start = v.as_mut_ptr() as usize;
        let bytes = v.capacity() * std::mem::size_of::<T>();
        // Only the whole huge pages inside the allocation.
        let (from, to) = (start.next_multiple_of(HUGE), (start + bytes) & !(HUGE - 1));
        if to > from {
            // SAFETY: advice on pages of an allocation this vector owns; it reads and
            // writes nothing, and a refusal (no THP) leaves normal pages.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    v
}

/// Zeroed memory of its own mapping, its start on a huge page and, when at least one huge
/// page is asked for, its pages backed by huge pages where the kernel allows (as
/// [`huge_vec`]); unmapped when dropped. For memory that is written once and then shared
/// read-only: the cache's read arenas (`cache/batches.rs`), Python's gathered columns.
pub struct HugeMap {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

/// A huge page (x86-64 and aarch64 with 4 KiB pages).
pub const HUGE_PAGE: usize = 2 << 20;

// SAFETY: the map owns its memory outright; what is shared across threads is only ever
// read through `&self` (writers go through `as_mut_ptr` under their own rules).
unsafe impl Send for HugeMap {}
unsafe impl Sync for HugeMap {}

impl HugeMap {
    /// `len` bytes (rounded up to whole huge pages), all zero. Less than a huge page asked
    /// for stays on normal pages: its first write would otherwise fault in (and zero) 2 MiB.
    pub fn new(len: usize) -> std::io::Result<HugeMap> {
        let huge = len >= HUGE_PAGE;
        let len = len.max(1).next_multiple_of(HUGE_PAGE);
        #[cfg(unix)]
        {
            // Mapped one huge page longer, then trimmed at both ends to start on one.
            let span = len + HUGE_PAGE;
            // SAFETY: a new private anonymous mapping; nothing else refers to it.
            let at = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    span,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if at == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
            let base = at as usize;
            let start = base.next_multiple_of(HUGE_PAGE);
            // SAFETY: the head and tail cut lie inside the mapping just made, and neither
            // overlaps `start..start + len`, which is kept.
            unsafe {
                if start > base {
                    libc::munmap(at, start - base);
                }
                let tail = base + span - (start + len);
                if tail > 0 {
                    libc::munmap((start + len) as *mut libc::c_void, tail);
                }
                #[cfg(target_os = "linux")]
                if huge {
                    libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
                }
            }
            let ptr = std::ptr::NonNull::new(start as *mut u8).expect("mmap is never null");
            Ok(HugeMap { ptr, len })
        }
        #[cfg(not(unix))]
        {
            let bytes: Box<[u8]> = vec![0u8; len].into_boxed_slice();
            let ptr = std::ptr::NonNull::new(Box::into_raw(bytes) as *mut u8).expect("boxed");
            Ok(HugeMap { ptr, len })
        }
    }

    /// Bytes mapped: whole huge pages, never none.
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.len
    }

    /// The start of the memory, for writes the caller keeps clear of bytes shared out.
    pub(crate) fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The memory, while nobody else can see it.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes of the map's own memory; `&mut self` excludes other users.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The whole memory as an Arrow buffer, which keeps the map until its last user drops.
    pub fn into_buffer(self) -> arrow_buffer::Buffer {
        let (ptr, len) = (self.ptr, self.len);
        let owner: std::sync::Arc<dyn arrow_buffer::alloc::Allocation> = std::sync::Arc::new(self);
        // SAFETY: `len` initialised (zeroed or written) bytes at `ptr`, inside memory `owner`
        // keeps mapped for as long as the buffer and its slices live.
        unsafe { arrow_buffer::Buffer::from_custom_allocation(ptr, len, owner) }
    }
}

impl Drop for HugeMap {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: the mapping made in `new`, unmapped once, when its last user is gone.
        unsafe {
            libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len);
        }
        #[cfg(not(unix))]
        // SAFETY: the box made in `new`, of this length.
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.ptr.as_ptr(),
                self.len,
            )));
        }
    }
}

impl std::fmt::Debug for HugeMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HugeMap({} bytes)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::moves_large_periods as large;

    #[test]
    fn trades_and_days_of_seconds_move_large_periods_other_series_not() {
        assert!(large(["trades"], [""]));
        assert!(large(["AGG-TRADES"], [""]));
        assert!(large(["klines"], ["1s"]));
        assert!(large(["klines,agg-trades"], ["1h"]));
        assert!(large(["klines"], ["1m", " 1s"]));
        assert!(!large(["klines"], ["1m"]));
        assert!(!large(["funding", "metrics", "mark"], ["", "1h,1d"]));
        assert!(!large(["no-such-kind"], ["1S", "30s", "60s", "bad"]));
        assert!(!large([], []));
    }

    #[test]
    fn a_huge_vec_has_its_room_and_holds_what_is_put_in() {
        for n in [0, 1, 1000, 3 << 20] {
            let mut v: Vec<u64> = super::huge_vec(n);
            assert!(v.capacity() >= n);
            v.extend(0..n as u64);
            assert!(v.iter().enumerate().all(|(i, x)| *x == i as u64));
        }
    }

    #[test]
    fn a_huge_map_is_zeroed_aligned_and_writable() {
        for n in [1, super::HUGE_PAGE, super::HUGE_PAGE + 1] {
            let m = super::HugeMap::new(n).unwrap();
            assert!(m.len() >= n && m.len().is_multiple_of(super::HUGE_PAGE));
            assert!((m.as_mut_ptr() as usize).is_multiple_of(super::HUGE_PAGE));
            // SAFETY: the map's own memory, nothing else refers to it.
            let bytes = unsafe { std::slice::from_raw_parts_mut(m.as_mut_ptr(), m.len()) };
            assert!(bytes.iter().all(|b| *b == 0));
            bytes.fill(7);
            assert!(bytes.iter().all(|b| *b == 7));
        }
    }

    #[test]
    fn a_huge_map_made_a_buffer_keeps_what_was_written() {
        let mut m = super::HugeMap::new(100).unwrap();
        m.as_mut_slice()[..3].copy_from_slice(b"dsm");
        let len = m.len();
        let buffer = m.into_buffer();
        let part = buffer.slice_with_length(1, 2);
        drop(buffer);
        assert_eq!(part.as_slice(), b"sm");
        assert_eq!(part.capacity(), len);
    }
}
