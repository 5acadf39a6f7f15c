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
