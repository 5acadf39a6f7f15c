//! Reading one entry of a downloaded zip archive, with bounds against zip bombs.
//!
//! Exchange archives (Binance Vision and the like) hold one CSV per zip. An entry is refused
//! when it is (or claims to be) larger than [`ZipLimits::max_uncompressed`]: kline CSVs
//! compress 3-20x, a zip bomb 1000x and more. Errors are `INTEGRITY` and name the archive.
//!
//! Two ways in, the same bytes out:
//! - an entry that declares at most [`WHOLE_MAX`] bytes (a month of 1m, a day of 1h .. 1m)
//!   is inflated whole by libdeflate into a buffer of exactly its declared size, straight
//!   from the archive's bytes, and its CRC-32 checked; it must inflate to exactly that size
//!   (more or fewer bytes than declared: refused), so a lying size cannot make it larger;
//! - anything larger (days of trades, of 1s) is streamed through the zip crate's inflater
//!   (zlib-rs), never held inflated as a whole, with the bytes actually inflated counted.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use dsm_sdk::{ErrorKind, ProviderError};
use zip::{CompressionMethod, ZipArchive};

/// Largest declared size inflated whole (see the module's doc). A month of 1m klines is ~7
/// MB of CSV; a day of 1s (~13 MB) and trade days stay streamed, so peak memory is as it was.
pub const WHOLE_MAX: u64 = 12 << 20;

/// How large an entry may be once inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// Largest ratio of inflated size to the archive's size.
    pub max_ratio: u64,
    /// Entries up to this size pass whatever their ratio (tiny archives compress oddly).
    pub ratio_floor: u64,
    /// Absolute cap on one entry, whatever the archive's size.
    pub max_bytes: u64,
}

impl ZipLimits {
    /// 100x the archive's size (at least 1 MiB), and never more than 512 MiB. A day of 1s
    /// klines is ~15 MB of CSV in a ~4 MB zip; a month of 1m ~7 MB in ~2 MB.
    pub const DEFAULT: ZipLimits = ZipLimits {
        max_ratio: 100,
        ratio_floor: 1 << 20,
        max_bytes: 512 << 20,
    };

    /// The largest inflated size accepted for an archive of `archive_len` bytes.
    pub fn max_uncompressed(&self, archive_len: u64) -> u64 {
        archive_len
            .saturating_mul(self.max_ratio)
            .max(self.ratio_floor)
            .min(self.max_bytes)
    }
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits::DEFAULT
    }
}

fn integrity(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::INTEGRITY, message)
}

/// Counts bytes read and fails once more than `max` came out.
struct Bounded<R> {
    inner: R,
    read: u64,
    max: u64,
    exceeded: bool,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            self.exceeded = true;
            return Err(io::Error::other(format!(
                "inflated entry exceeds {} bytes",
                self.max
            )));
        }
        Ok(n)
    }
}

/// Open entry `entry` of the zip archive `zip` (named `zip_name` in messages) and hand a
/// reader of its inflated bytes to `read`. When the archive has no entry of that name but
/// exactly one file, that file is read. The entry is refused (`INTEGRITY`) when its declared
/// size, or the bytes actually inflated, exceed `limits`; a corrupt stream or CRC mismatch
/// surfaces as a read error inside `read` (mapped to `INTEGRITY` by [`crate::csv`]).
pub fn read_entry<T>(
    zip: &[u8],
    zip_name: &str,
    entry: &str,
    limits: &ZipLimits,
    read: impl FnOnce(&mut dyn BufRead) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    read_entry_by(zip, zip_name, entry, limits, true, read)
}

/// [`read_entry`] as it was before the whole path: always streamed. For benchmarks and
/// tests that compare the two paths (`examples/inflate.rs`); plugins use [`read_entry`].
#[doc(hidden)]
pub fn read_entry_streamed<T>(
    zip: &[u8],
    zip_name: &str,
    entry: &str,
    limits: &ZipLimits,
    read: impl FnOnce(&mut dyn BufRead) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    read_entry_by(zip, zip_name, entry, limits, false, read)
}

/// The two above: inflated whole where the entry allows it and `whole` is set, else streamed.
fn read_entry_by<T>(
    zip: &[u8],
    zip_name: &str,
    entry: &str,
    limits: &ZipLimits,
    whole: bool,
    read: impl FnOnce(&mut dyn BufRead) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    let mut archive = ZipArchive::new(Cursor::new(zip))
        .map_err(|e| integrity(format!("{zip_name} is not a readable zip archive: {e}")))?;
    let index = find_entry(&mut archive, zip_name, entry)?;
    let max = limits.max_uncompressed(zip.len() as u64);
    if whole {
        if let Some(raw) = whole_candidate(&mut archive, index, zip, max) {
            let csv = inflate_whole(raw, zip_name, entry, zip.len(), max)?;
            return read(&mut csv.as_slice());
        }
    }
    streamed(archive, index, zip_name, entry, zip.len(), max, read)
}

/// The deflated bytes and what the central directory says of them, for an entry the whole
/// path takes: deflated, not encrypted, declaring at most [`WHOLE_MAX`] and `max` bytes,
/// its data lying inside `zip`. `None` sends the entry down the streamed path (which also
/// reports whatever is wrong with it).
struct Raw<'a> {
    deflated: &'a [u8],
    size: u64,
    crc32: u32,
}

fn whole_candidate<'a>(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    index: usize,
    zip: &'a [u8],
    max: u64,
) -> Option<Raw<'a>> {
    let file = archive.by_index_raw(index).ok()?;
    if file.compression() != CompressionMethod::Deflated
        || file.encrypted()
        || file.size() > WHOLE_MAX.min(max)
    {
        return None;
    }
    let start = usize::try_from(file.data_start()?).ok()?;
    let len = usize::try_from(file.compressed_size()).ok()?;
    let deflated = zip.get(start..start.checked_add(len)?)?;
    Some(Raw {
        deflated,
        size: file.size(),
        crc32: file.crc32(),
    })
}

/// `raw` inflated into exactly its declared size, its CRC-32 checked.
fn inflate_whole(
    raw: Raw<'_>,
    zip_name: &str,
    entry: &str,
    zip_len: usize,
    max: u64,
) -> Result<Vec<u8>, ProviderError> {
    // At most WHOLE_MAX (checked by the caller): the buffer is bounded whatever is declared.
    let mut out = vec![0u8; raw.size as usize];
    let mut inflater = libdeflater::Decompressor::new();
    let n = match inflater.deflate_decompress(raw.deflated, &mut out) {
        Ok(n) => n as u64,
        Err(libdeflater::DecompressionError::InsufficientSpace) => {
            return Err(integrity(format!(
                "{zip_name}: refusing entry {entry}: it inflates to more than the {} bytes it \
                 declares (from a {zip_len}-byte archive, limit {max} bytes; a zip bomb or a \
                 corrupt archive)",
                raw.size
            )));
        }
        Err(libdeflater::DecompressionError::BadData) => {
            return Err(integrity(format!(
                "{zip_name}: entry {entry} is corrupt (invalid deflate stream)"
            )));
        }
    };
    if n != raw.size {
        return Err(integrity(format!(
            "{zip_name}: refusing entry {entry}: it declares {} bytes but inflates to {n} \
             (a corrupt archive)",
            raw.size
        )));
    }
    let crc = libdeflater::crc32(&out);
    if crc != raw.crc32 {
        return Err(integrity(format!(
            "{zip_name}: entry {entry} is corrupt (CRC-32 {crc:08x}, the archive says {:08x})",
            raw.crc32
        )));
    }
    Ok(out)
}

/// The entry streamed through the zip crate's reader, counted against `max`.
fn streamed<T>(
    mut archive: ZipArchive<Cursor<&[u8]>>,
    index: usize,
    zip_name: &str,
    entry: &str,
    zip_len: usize,
    max: u64,
    read: impl FnOnce(&mut dyn BufRead) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    let file = archive
        .by_index(index)
        .map_err(|e| integrity(format!("{zip_name}: cannot open entry {entry}: {e}")))?;
    if file.size() > max {
        return Err(bomb(zip_name, entry, zip_len, max, "declares", file.size()));
    }
    let bounded = Bounded {
        inner: file,
        read: 0,
        max,
        exceeded: false,
    };
    let mut reader = BufReader::with_capacity(64 * 1024, bounded);
    let out = read(&mut reader);
    let b = reader.get_ref();
    if b.exceeded {
        return Err(bomb(zip_name, entry, zip_len, max, "inflates to", b.read));
    }
    out
}

fn bomb(zip: &str, entry: &str, len: usize, max: u64, verb: &str, size: u64) -> ProviderError {
    integrity(format!(
        "{zip}: refusing entry {entry}: it {verb} {size}+ bytes from a {len}-byte archive \
         (limit {max} bytes; a zip bomb or a corrupt archive)"
    ))
}

/// Index of the entry named `entry`, or of the only file.
fn find_entry(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    zip_name: &str,
    entry: &str,
) -> Result<usize, ProviderError> {
    if let Some(i) = archive.index_for_name(entry) {
        return Ok(i);
    }
    let mut names = Vec::new();
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let Ok(f) = archive.by_index_raw(i) else {
            continue;
        };
        let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
        if !f.is_dir() {
            files.push(i);
        }
        names.push(name);
    }
    match files.as_slice() {
        [only] => Ok(*only),
        _ => Err(integrity(format!(
            "{zip_name} has no entry {entry} (entries: {})",
            names.join(", ")
        ))),
    }
}

/// Builds a zip with the given entries, deflated; for tests of readers of archives.
pub fn build_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, data) in entries {
        w.start_file(*name, options).expect("in-memory zip");
        w.write_all(data).expect("in-memory zip");
    }
    w.finish().expect("in-memory zip").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_streamed<T>(
        zip: &[u8],
        entry: &str,
        read: impl FnOnce(&mut dyn BufRead) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        read_entry_streamed(zip, "z.zip", entry, &ZipLimits::DEFAULT, read)
    }

    /// `zip` with entry sizes (local header and central directory) replaced by `size`.
    fn with_declared_size(zip: &[u8], size: u32) -> Vec<u8> {
        let mut z = zip.to_vec();
        let mut patched = 0;
        for i in 0..z.len().saturating_sub(4) {
            let at = match &z[i..i + 4] {
                [0x50, 0x4b, 0x03, 0x04] => i + 22,
                [0x50, 0x4b, 0x01, 0x02] => i + 24,
                _ => continue,
            };
            z[at..at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        assert_eq!(patched, 2, "one entry: local header and central directory");
        z
    }

    fn real_wire() -> std::path::PathBuf {
        let root =
            std::env::var("DSM_REAL_WIRE").unwrap_or_else(|_| "/work/shared/real-wire".into());
        std::path::Path::new(&root).join("samples/vision")
    }

    #[test]
    fn the_whole_path_gives_the_streamed_bytes_on_real_vision_zips() {
        let dir = real_wire();
        let mut seen = 0;
        for name in [
            "spot-klines-BTCUSDT-1h-2024-10-28.zip",
            "futures-um-klines-BTCUSDT-1h-2024-10-28.zip",
        ] {
            let Ok(zip) = std::fs::read(dir.join(name)) else {
                eprintln!(
                    "skipped: {} not found (DSM_REAL_WIRE)",
                    dir.join(name).display()
                );
                continue;
            };
            let entry = name.replace(".zip", ".csv");
            let mut archive = ZipArchive::new(Cursor::new(zip.as_slice())).unwrap();
            let index = find_entry(&mut archive, name, &entry).unwrap();
            assert!(
                whole_candidate(&mut archive, index, &zip, u64::MAX).is_some(),
                "{name} takes the whole path"
            );
            let whole = read_entry(&zip, name, &entry, &ZipLimits::DEFAULT, all).unwrap();
            let streamed = read_streamed(&zip, &entry, all).unwrap();
            assert_eq!(whole, streamed, "{name}");
            assert!(whole.len() > 1000 && whole.ends_with(b"\n"), "{name}");
            seen += 1;
        }
        // The samples are part of the workplace; say so loudly if they went missing.
        assert!(seen > 0 || std::env::var_os("DSM_REAL_WIRE_OPTIONAL").is_some());
    }

    #[test]
    fn the_whole_path_gives_the_streamed_bytes_on_a_month_sized_csv() {
        let mut csv = Vec::new();
        for i in 0..44_640u64 {
            let t = 1_672_531_200_000 + i * 60_000;
            csv.extend_from_slice(
                format!(
                    "{t},{}.77000000,16545.70000000,16508.39000000,16529.67000000,\
                     4364.38196000,{},72188837.91939860,9361,2056.00456000,34002700.9457,0\n",
                    16_000 + i % 977,
                    t + 59_999
                )
                .as_bytes(),
            );
        }
        assert!(csv.len() as u64 <= WHOLE_MAX);
        let z = build_zip(&[("m.csv", &csv)]);
        let whole = read_entry(&z, "m.zip", "m.csv", &ZipLimits::DEFAULT, all).unwrap();
        assert_eq!(whole, csv);
        assert_eq!(read_streamed(&z, "m.csv", all).unwrap(), csv);
    }

    #[test]
    fn a_declared_size_that_lies_is_refused() {
        let csv = b"1,2,3,4,5\n".repeat(2000);
        let z = build_zip(&[("a.csv", &csv)]);
        // Fewer bytes declared than the stream holds: libdeflate stops at the declared size.
        let small = with_declared_size(&z, 1000);
        let e = read_entry(&small, "a.zip", "a.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(
            e.message.contains(
                "refusing entry a.csv: it inflates to more than the 1000 bytes it declares"
            ),
            "{e}"
        );
        // More declared than there is.
        let large = with_declared_size(&z, csv.len() as u32 + 1);
        let e = read_entry(&large, "a.zip", "a.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(
            e.message.contains(&format!(
                "declares {} bytes but inflates to {}",
                csv.len() + 1,
                csv.len()
            )),
            "{e}"
        );
        // A bomb declaring a small size: stopped at that size, never inflated further.
        let zeros = vec![0u8; 64 << 20];
        let bomb = with_declared_size(&build_zip(&[("b.csv", &zeros)]), 4096);
        let e = read_entry(&bomb, "b.zip", "b.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert!(
            e.message.contains("inflates to more than the 4096 bytes"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_crc_is_refused_on_the_whole_path() {
        let csv = b"1,2,3\n".repeat(1000);
        let mut z = build_zip(&[("a.csv", &csv)]);
        // The CRC-32 sits at offset 14 of the local header and 16 of the central one.
        for i in 0..z.len() - 4 {
            match &z[i..i + 4] {
                [0x50, 0x4b, 0x03, 0x04] => z[i + 14] ^= 1,
                [0x50, 0x4b, 0x01, 0x02] => z[i + 16] ^= 1,
                _ => {}
            }
        }
        let e = read_entry(&z, "a.zip", "a.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(e.message.contains("is corrupt (CRC-32"), "{e}");
    }

    #[test]
    fn large_entries_are_streamed_and_still_bounded() {
        // Over WHOLE_MAX: the streamed path, counting what it inflates.
        let csv = b"1700000000000,1.5,2.5\n".repeat((WHOLE_MAX as usize / 22) + 1000);
        let z = build_zip(&[("big.csv", &csv)]);
        let mut archive = ZipArchive::new(Cursor::new(z.as_slice())).unwrap();
        assert!(whole_candidate(&mut archive, 0, &z, u64::MAX).is_none());
        let loose = ZipLimits {
            max_ratio: 10_000,
            ..ZipLimits::DEFAULT
        };
        let got = read_entry(&z, "big.zip", "big.csv", &loose, all).unwrap();
        assert!(got == csv);
        // Past the ratio it is refused as before.
        let e = read_entry(&z, "big.zip", "big.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert!(
            e.message.contains("refusing entry big.csv: it declares"),
            "{e}"
        );
    }

    fn all(r: &mut dyn BufRead) -> Result<Vec<u8>, ProviderError> {
        let mut v = Vec::new();
        r.read_to_end(&mut v)
            .map_err(|e| integrity(format!("read: {e}")))?;
        Ok(v)
    }

    #[test]
    fn reads_the_named_or_only_entry() {
        let z = build_zip(&[("a.csv", b"1,2,3\n")]);
        let got = read_entry(&z, "a.zip", "a.csv", &ZipLimits::DEFAULT, all).unwrap();
        assert_eq!(got, b"1,2,3\n");
        let got = read_entry(&z, "a.zip", "other.csv", &ZipLimits::DEFAULT, all).unwrap();
        assert_eq!(got, b"1,2,3\n");
        let two = build_zip(&[("a.csv", b"1"), ("b.csv", b"2")]);
        let got = read_entry(&two, "t.zip", "b.csv", &ZipLimits::DEFAULT, all).unwrap();
        assert_eq!(got, b"2");
        let e = read_entry(&two, "t.zip", "c.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(
            e.message.contains("no entry c.csv (entries: a.csv, b.csv)"),
            "{e}"
        );
    }

    #[test]
    fn refuses_zip_bombs() {
        // 4 MiB of zeros deflate to a few KiB: far past 100x and past the 1 MiB floor.
        let zeros = vec![0u8; 4 << 20];
        let z = build_zip(&[("bomb.csv", &zeros)]);
        assert!(z.len() < 40 << 10, "{}", z.len());
        let e = read_entry(&z, "bomb.zip", "bomb.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(
            e.message.contains("refusing entry bomb.csv: it declares"),
            "{e}"
        );
        // The declared size can lie: the bytes actually inflated are counted as well.
        let lying = ZipLimits {
            max_ratio: 1,
            ratio_floor: 0,
            max_bytes: u64::MAX,
        };
        let small = build_zip(&[("s.csv", &[b'7'; 10_000])]);
        let e = read_entry(&small, "s.zip", "s.csv", &lying, |r| {
            let mut buf = [0u8; 100];
            let mut total = 0;
            loop {
                match r.read(&mut buf) {
                    Ok(0) => return Ok(total),
                    Ok(n) => total += n,
                    Err(e) => return Err(integrity(e.to_string())),
                }
            }
        })
        .unwrap_err();
        assert!(e.message.contains("refusing entry s.csv"), "{e}");
        // Within bounds it passes.
        let limits = ZipLimits::DEFAULT;
        assert_eq!(limits.max_uncompressed(10), 1 << 20);
        assert_eq!(limits.max_uncompressed(4 << 20), 400 << 20);
        assert_eq!(limits.max_uncompressed(100 << 20), 512 << 20);
    }

    #[test]
    fn corrupt_archives_are_integrity_errors() {
        let z = build_zip(&[("a.csv", &b"1,2,3\n".repeat(1000))]);
        let e = read_entry(
            &z[..z.len() / 2],
            "a.zip",
            "a.csv",
            &ZipLimits::DEFAULT,
            all,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(
            e.message.starts_with("a.zip is not a readable zip archive"),
            "{e}"
        );
        let e = read_entry(b"<Error/>", "x.zip", "x.csv", &ZipLimits::DEFAULT, all).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        // A flipped byte inside the deflated data: the stream or its CRC fails on reading.
        let mut bad = z.clone();
        bad[40] ^= 0xff;
        assert!(read_entry(&bad, "a.zip", "a.csv", &ZipLimits::DEFAULT, all).is_err());
    }
}
