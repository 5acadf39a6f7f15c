//! The manifest reader (ELF dynamic symbols -> section -> JSON) fuzzed on the stable
//! toolchain with proptest: a real plugin file damaged in its headers, symbol tables and
//! manifest, cut short anywhere, and arbitrary files. Property: an error or a manifest,
//! never a panic, never a read past the file.
//!
//! The real file is target/<profile>/libdsm_binance.so when the workspace was built (else
//! this test binary, an ELF without a manifest). `PROPTEST_CASES` sets the count (256 by
//! default); a long run: `cargo build --release --workspace &&
//! PROPTEST_CASES=1000000 cargo test --release -p dsm-core --test fuzz_manifest`.

use std::cell::RefCell;
use std::path::PathBuf;

use proptest::prelude::*;

fn real_plugin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let plugin = dir.join("libdsm_binance.so");
    if plugin.is_file() {
        plugin
    } else {
        exe
    }
}

thread_local! {
    /// The real file's bytes, damaged and restored case by case.
    static ELF: RefCell<Vec<u8>> = RefCell::new(std::fs::read(real_plugin()).unwrap());
    /// Where the manifest's JSON starts in the real file (0 without one): found once, not
    /// for every edit (a byte-by-byte search of a 25 MB debug plugin, unoptimized, made
    /// most of this test's time).
    static MANIFEST_AT: usize = ELF.with(|elf| find(&elf.borrow(), b"{\"format\":").unwrap_or(0));
}

/// Where to damage: ELF and program headers, the symbol tables and strings (the start of a
/// shared library), the section headers (its end), the manifest's JSON, or anywhere.
#[derive(Debug, Clone, Copy)]
enum Region {
    Head,
    Tables,
    Tail,
    Manifest,
    Anywhere,
}

fn region() -> impl Strategy<Value = Region> {
    prop_oneof![
        Just(Region::Head),
        Just(Region::Tables),
        Just(Region::Tail),
        Just(Region::Manifest),
        Just(Region::Anywhere),
    ]
}

/// Values that tend to break offset arithmetic.
fn nasty() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 7),
        Just(u32::MAX as u64),
        Just(i64::MAX as u64),
        Just(256 * 1024),
        Just(256 * 1024 + 1),
        any::<u64>(),
        any::<u16>().prop_map(u64::from),
    ]
}

fn position(buf: &[u8], manifest: usize, region: Region, at: prop::sample::Index) -> usize {
    let len = buf.len();
    let (lo, hi) = match region {
        Region::Head => (0, 4096),
        Region::Tables => (0, 512 << 10),
        Region::Tail => (len.saturating_sub(16 << 10), len),
        Region::Manifest => (manifest.saturating_sub(64), manifest + 2048),
        Region::Anywhere => (0, len),
    };
    let (lo, hi) = (lo.min(len - 1), hi.min(len).max(lo.min(len - 1) + 1));
    lo + at.index(hi - lo)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Bytes, u32s and u64s overwritten in the real file; then, maybe, the file cut short.
    #[test]
    fn fuzz_manifest_damaged_elf(
        edits in prop::collection::vec((region(), any::<prop::sample::Index>(), nasty(), 0u8..3), 1..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let manifest = MANIFEST_AT.with(|at| *at);
        ELF.with(|elf| {
            let mut buf = elf.borrow_mut();
            let mut saved = Vec::new();
            for (region, at, value, width) in edits {
                let i = position(&buf, manifest, region, at);
                let bytes = value.to_le_bytes();
                let n = [1usize, 4, 8][width as usize].min(buf.len() - i);
                saved.push((i, buf[i..i + n].to_vec()));
                buf[i..i + n].copy_from_slice(&bytes[..n]);
            }
            let len = cut.map_or(buf.len(), |c| c.index(buf.len() + 1));
            let _ = dsm_core::manifest_from_bytes(&buf[..len]);
            for (i, old) in saved.into_iter().rev() {
                buf[i..i + old.len()].copy_from_slice(&old);
            }
        });
    }

    /// The real file cut short anywhere (a partial copy, a failed download).
    #[test]
    fn fuzz_manifest_truncated_elf(cut in any::<prop::sample::Index>()) {
        ELF.with(|elf| {
            let buf = elf.borrow();
            let _ = dsm_core::manifest_from_bytes(&buf[..cut.index(buf.len())]);
        });
    }

    /// Arbitrary small files through the file reader, often behind a real ELF header.
    #[test]
    fn fuzz_manifest_arbitrary_files(
        head in 0usize..4096,
        tail in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut bytes = ELF.with(|elf| elf.borrow()[..head.min(elf.borrow().len())].to_vec());
        bytes.extend_from_slice(&tail);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        let _ = dsm_core::read_manifest(file.path());
        let _ = dsm_core::manifest_from_bytes(&bytes);
    }
}

#[test]
fn the_undamaged_file_reads_the_same_from_memory_and_from_disk() {
    let path = real_plugin();
    let from_disk = dsm_core::read_manifest(&path);
    let from_memory = ELF.with(|elf| dsm_core::manifest_from_bytes(&elf.borrow()));
    assert_eq!(from_disk, from_memory);
    if path.file_name().is_some_and(|n| n == "libdsm_testplug.so") {
        assert_eq!(from_disk.unwrap().id(), "testplug");
    }
}
