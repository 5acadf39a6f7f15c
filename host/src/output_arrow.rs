//! Parquet and Arrow IPC file outputs, streaming: each batch of klines is appended as it
//! comes (memory stays bounded by a row group), into a temporary file beside the destination
//! that is renamed over it on `finish`, so a failed or interrupted run leaves no partial file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_ipc::writer::FileWriter;
use arrow_schema::SchemaRef;
use dsm_sdk::Kline;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tempfile::NamedTempFile;

use crate::columnar;
use crate::error::{DsmError, Result};
use crate::kinds::batch_slices;
#[cfg(test)]
use crate::kinds::SLICE_ROWS;

/// Rows per Parquet row group: bounds the writer's memory (it holds a group's encoded pages,
/// about 12 MB of klines) while keeping groups large enough for fast scans (DuckDB writes
/// 122,880). Half the former 262,144: the writer frees and refills those pages every group,
/// and a warm year of 1m to Parquet took 5,900 page faults against 3,450 now.
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Bytes of a Parquet data page, at most about. The writer builds each page in a vector
/// grown from empty, then its compressed copy: at the crate's 1 MiB default those grow
/// past glibc's mmap threshold, so every page came in freshly mapped memory (a warm year
/// to Parquet: ~13,000 of its 15,000 page faults). Pages below the threshold come from the
/// heap, reused page after page; 8,192 values of a float column a page is still a large
/// page for readers (a header of some tens of bytes each).
const PAGE_BYTES: usize = 64 * 1024;

/// A columnar file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Apache Parquet, snappy-compressed.
    Parquet,
    /// Arrow IPC file format (Feather v2), uncompressed.
    Arrow,
}

impl OutputKind {
    /// `parquet`, `arrow` (also `ipc`, `feather`).
    pub fn parse(s: &str) -> Option<OutputKind> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Some(OutputKind::Parquet),
            "arrow" | "ipc" | "feather" => Some(OutputKind::Arrow),
            _ => None,
        }
    }
}

enum Inner {
    Parquet(ArrowWriter<Writeback>),
    Arrow(FileWriter<BufWriter<Writeback>>),
}

/// Writes klines to a Parquet or Arrow file in batches; nothing appears at the destination
/// until `finish` succeeds.
pub struct BatchWriter {
    dest: PathBuf,
    schema: SchemaRef,
    inner: Inner,
    /// Removed when dropped without `finish` (after `inner`, which holds a handle to it).
    tmp: NamedTempFile,
    rows: u64,
}

impl BatchWriter {
    /// A writer to a temporary file beside `path`, renamed onto it by `finish`.
    pub fn create(path: &Path, kind: OutputKind) -> Result<BatchWriter> {
        Self::create_with_metadata(path, kind, HashMap::new())
    }

    /// As `create`, with schema metadata (e.g. provider, market, symbol, interval).
    pub fn create_with_metadata(
        path: &Path,
        kind: OutputKind,
        metadata: HashMap<String, String>,
    ) -> Result<BatchWriter> {
        Self::create_with_schema(path, kind, columnar::schema_with_metadata(metadata))
    }

    /// A writer of record batches with `schema` (any data kind's).
    pub fn create_with_schema(
        path: &Path,
        kind: OutputKind,
        schema: SchemaRef,
    ) -> Result<BatchWriter> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let ctx = |what: &str| format!("{what} {}", path.display());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", file_name(path)))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| DsmError::io(ctx("creating a temporary file for"), e))?;
        let file = tmp
            .reopen()
            .map_err(|e| DsmError::io(ctx("opening a temporary file for"), e))?;
        let inner = open(kind, file, &schema).map_err(|e| DsmError::io(ctx("writing"), e))?;
        Ok(BatchWriter {
            dest: path.to_path_buf(),
            schema,
            inner,
            tmp,
            rows: 0,
        })
    }

    /// Append klines (an empty slice is a no-op).
    pub fn write(&mut self, rows: &[Kline]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch = columnar::to_record_batch_with(self.schema.clone(), rows);
        self.write_batch(&batch)
    }

    /// Append a record batch of the writer's schema (its metadata may differ).
    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = batch
            .clone()
            .with_schema(self.schema.clone())
            .map_err(|e| {
                DsmError::io(
                    format!("writing {}", self.dest.display()),
                    io::Error::other(e),
                )
            })?;
        // A slice at a time: the Arrow IPC writer encodes a whole batch in memory before
        // writing it, and the Parquet writer's row groups stay bounded anyway.
        for slice in batch_slices(&batch) {
            let res = match &mut self.inner {
                Inner::Parquet(w) => w.write(&slice).map_err(io::Error::other),
                Inner::Arrow(w) => w.write(&slice).map_err(io::Error::other),
            };
            res.map_err(|e| DsmError::io(format!("writing {}", self.dest.display()), e))?;
            self.rows += slice.num_rows() as u64;
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Complete the file, fsync it and move it to the destination. Returns the row count.
    pub fn finish(self) -> Result<u64> {
        let ctx = |what: &str| format!("{what} {}", self.dest.display());
        let file = match self.inner {
            Inner::Parquet(w) => w.into_inner().map_err(io::Error::other),
            Inner::Arrow(w) => w
                .into_inner()
                .map_err(io::Error::other)
                .and_then(|b| b.into_inner().map_err(|e| e.into_error())),
        }
        .map_err(|e| DsmError::io(ctx("finishing"), e))?
        .file;
        file.sync_all()
            .map_err(|e| DsmError::io(ctx("syncing"), e))?;
        self.tmp
            .persist(&self.dest)
            .map_err(|e| DsmError::io(ctx("renaming the temporary file to"), e.error))?;
        // Make the rename durable; not every filesystem lets a directory be fsynced.
        if let Some(dir) = self.dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(self.rows)
    }
}

/// Bytes written between two requests to the kernel to start writing them to the disk.
const WRITEBACK_BYTES: u64 = 8 << 20;

/// The output file, its written bytes sent on to the disk as they come (every
/// [`WRITEBACK_BYTES`]) rather than all at the final fsync: the disk then writes while the
/// rest is encoded, and the fsync waits only for the tail (a warm year to Parquet is a
/// 41 MB file, whose fsync alone took 75 ms at the end). The fsync stays what makes the file
/// durable; this only starts the writing early.
struct Writeback {
    file: File,
    written: u64,
    /// Where the bytes not yet sent on begin.
    sent: u64,
}

impl Writeback {
    fn new(file: File) -> Self {
        Writeback {
            file,
            written: 0,
            sent: 0,
        }
    }

    fn send_on(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let (from, len) = (self.sent as i64, (self.written - self.sent) as i64);
            // SAFETY: a plain system call on a file descriptor this writer owns. Only a
            // request: whether it is taken changes nothing but when the disk writes.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    from,
                    len,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.sent = self.written;
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.sent >= WRITEBACK_BYTES {
            self.send_on();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn open(kind: OutputKind, file: File, schema: &SchemaRef) -> io::Result<Inner> {
    let file = Writeback::new(file);
    Ok(match kind {
        OutputKind::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                // Kline columns are floats and timestamps that rarely repeat: dictionary
                // encoding costs most of the write time and then falls back to plain.
                .set_dictionary_enabled(false)
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .set_data_page_size_limit(PAGE_BYTES)
                .build();
            let w = ArrowWriter::try_new(file, schema.clone(), Some(props))
                .map_err(io::Error::other)?;
            Inner::Parquet(w)
        }
        OutputKind::Arrow => {
            let w = FileWriter::try_new_buffered(file, schema).map_err(io::Error::other)?;
            Inner::Arrow(w)
        }
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dsm-output".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columnar::tests::sample;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn batches() -> Vec<Vec<Kline>> {
        (0..3)
            .map(|d| sample(1_704_067_200_000 + d * 86_400_000, 60_000, 1440))
            .collect()
    }

    #[test]
    fn parquet_reads_back_with_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        let mut w = BatchWriter::create(&path, OutputKind::Parquet).unwrap();
        for b in batches() {
            w.write(&b).unwrap();
        }
        assert!(!path.exists(), "nothing at the destination before finish");
        assert_eq!(w.finish().unwrap(), 3 * 1440);
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut rows = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            columnar::check_schema(&batch.schema()).unwrap();
            rows.extend(columnar::from_record_batch(&batch).unwrap());
        }
        assert_eq!(rows, batches().concat());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn arrow_reads_back_with_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.arrow");
        let meta = HashMap::from([("symbol".to_string(), "BTCUSDT".to_string())]);
        let mut w = BatchWriter::create_with_metadata(&path, OutputKind::Arrow, meta).unwrap();
        for b in batches() {
            w.write(&b).unwrap();
        }
        w.finish().unwrap();
        let reader =
            arrow_ipc::reader::FileReader::try_new(File::open(&path).unwrap(), None).unwrap();
        assert_eq!(reader.schema().metadata()["symbol"], "BTCUSDT");
        assert_eq!(reader.num_batches(), 3);
        let rows: Vec<Kline> = reader
            .flat_map(|b| columnar::from_record_batch(&b.unwrap()).unwrap())
            .collect();
        assert_eq!(rows, batches().concat());
    }

    /// `n` aggregated trades (two to a millisecond).
    fn trades(n: i64) -> Vec<dsm_sdk::Trade> {
        (0..n)
            .map(|i| dsm_sdk::Trade {
                id: i,
                time: 1_704_067_200_000 + i / 2,
                price: 100.0 + (i % 100) as f64,
                qty: 1.0 + (i % 7) as f64,
                quote_qty: 0.5 * i as f64,
                first_id: 3 * i,
                last_id: 3 * i + 2,
                buyer_maker: (i % 2) as u8,
                best_match: 1,
            })
            .collect()
    }

    /// A day of trades handed over as one batch is written in bounded pieces: Parquet row
    /// groups of at most ROW_GROUP_ROWS, Arrow record batches of at most SLICE_ROWS.
    #[test]
    fn a_large_batch_is_written_in_bounded_row_groups_and_batches() {
        use crate::kinds::{Kind, Trades};
        let kind = Trades::new(dsm_sdk::DataKind::AGG_TRADES);
        let rows = trades(2 * ROW_GROUP_ROWS as i64 + 777);
        let batch = kind.to_batch(kind.schema(), &rows);
        let dir = tempfile::tempdir().unwrap();
        let pq = dir.path().join("out.parquet");
        let mut w =
            BatchWriter::create_with_schema(&pq, OutputKind::Parquet, kind.schema()).unwrap();
        w.write_batch(&batch).unwrap();
        assert_eq!(w.finish().unwrap(), rows.len() as u64);
        let b = ParquetRecordBatchReaderBuilder::try_new(File::open(&pq).unwrap()).unwrap();
        let groups: Vec<i64> = b
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, [ROW_GROUP_ROWS as i64, ROW_GROUP_ROWS as i64, 777]);
        let back: Vec<_> = b
            .build()
            .unwrap()
            .flat_map(|b| kind.rows_of(&b.unwrap()).unwrap())
            .collect();
        assert!(back == rows, "the same trades, in order");

        let ipc = dir.path().join("out.arrow");
        let mut w =
            BatchWriter::create_with_schema(&ipc, OutputKind::Arrow, kind.schema()).unwrap();
        w.write_batch(&batch).unwrap();
        w.finish().unwrap();
        let r = arrow_ipc::reader::FileReader::try_new(File::open(&ipc).unwrap(), None).unwrap();
        assert_eq!(r.num_batches(), rows.len().div_ceil(SLICE_ROWS));
        let mut back = Vec::new();
        for b in r {
            let b = b.unwrap();
            assert!(b.num_rows() <= SLICE_ROWS);
            back.extend(kind.rows_of(&b).unwrap());
        }
        assert!(back == rows);
    }

    #[test]
    fn dropped_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        let mut w = BatchWriter::create(&path, OutputKind::Parquet).unwrap();
        w.write(&batches()[0]).unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn parses_kinds() {
        assert_eq!(OutputKind::parse("Parquet"), Some(OutputKind::Parquet));
        assert_eq!(OutputKind::parse("arrow"), Some(OutputKind::Arrow));
        assert_eq!(OutputKind::parse("csv"), None);
    }
}
