//! Reading one entry of a downloaded zip archive, with bounds against zip bombs.
//!
//! Exchange archives (Binance Vision and the like) hold one CSV per zip. The entry is
//! streamed to the caller, never inflated into memory as a whole, and refused when it is
//! (or claims to be) larger than [`ZipLimits::max_uncompressed`]: kline CSVs compress 3-20x,
//! a zip bomb 1000x and more. Errors are `INTEGRITY` and name the archive.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use dsm_sdk::{ErrorKind, ProviderError};
use zip::ZipArchive;

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
    let mut archive = ZipArchive::new(Cursor::new(zip))
        .map_err(|e| integrity(format!("{zip_name} is not a readable zip archive: {e}")))?;
    let index = find_entry(&mut archive, zip_name, entry)?;
    let file = archive
        .by_index(index)
        .map_err(|e| integrity(format!("{zip_name}: cannot open entry {entry}: {e}")))?;
    let max = limits.max_uncompressed(zip.len() as u64);
    if file.size() > max {
        return Err(bomb(
            zip_name,
            entry,
            zip.len(),
            max,
            "declares",
            file.size(),
        ));
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
        return Err(bomb(zip_name, entry, zip.len(), max, "inflates to", b.read));
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
