//! Where `dsm fetch` writes: stdout, a FIFO or device, or a file (see [`Dest`]), as CSV,
//! JSON Lines, Parquet or Arrow, batch by batch. Files appear whole at the end (temporary
//! file, then rename) or not at all; nothing at all is written before the first period is
//! ready, so an early error leaves no header behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dsm_core::arrow_array::RecordBatch;
use dsm_core::arrow_schema::SchemaRef;
use dsm_core::output::{self, Format};
use dsm_core::output_arrow::{BatchWriter, OutputKind};
use dsm_core::DsmError;

use crate::dest::{final_mode, Dest};

pub enum OutputSink {
    Text(TextSink),
    Columnar(Box<ColumnarSink>),
}

impl OutputSink {
    /// Checks the format and destination and, for a file, creates its temporary file (so
    /// an unwritable directory is found before fetching). Writes nothing yet.
    pub fn open(
        format: &str,
        path: Option<&Path>,
        schema: SchemaRef,
    ) -> Result<OutputSink, DsmError> {
        let dest = path.map(Dest::classify).transpose()?;
        if let Some(kind) = OutputKind::parse(format) {
            let dest = dest.ok_or_else(|| {
                DsmError::InvalidInput(format!(
                    "--format {format} needs an output file (-o FILE, or -o - for stdout)"
                ))
            })?;
            return Ok(OutputSink::Columnar(Box::new(ColumnarSink::create(
                dest, kind, schema,
            )?)));
        }
        let format = Format::parse(format).ok_or_else(|| {
            DsmError::InvalidInput(format!(
                "unknown format {format:?}: use csv, jsonl, parquet or arrow"
            ))
        })?;
        Ok(OutputSink::Text(TextSink::create(
            dest.unwrap_or(Dest::Stdout),
            format,
            schema,
        )?))
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), DsmError> {
        match self {
            OutputSink::Text(t) => t.write(batch),
            OutputSink::Columnar(c) => c.writer.write_batch(batch),
        }
    }

    /// Completes the output. Dropping the sink instead leaves no temporary file.
    pub fn finish(self) -> Result<(), DsmError> {
        match self {
            OutputSink::Text(t) => t.finish(),
            OutputSink::Columnar(c) => c.finish(),
        }
    }
}

/// CSV or JSON Lines into stdout, a device or a temporary file.
pub struct TextSink {
    out: BufWriter<Box<dyn Write>>,
    format: Format,
    /// For the CSV header.
    schema: SchemaRef,
    /// The CSV header is written with the first rows (or at the end, if there are none).
    started: bool,
    what: String,
    /// For a file: the temporary file renamed over the destination at the end.
    file: Option<AtomicFile>,
}

struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
    mode: Option<u32>,
}

impl TextSink {
    fn create(dest: Dest, format: Format, schema: SchemaRef) -> Result<TextSink, DsmError> {
        let (out, what, file): (Box<dyn Write>, String, _) = match dest {
            Dest::Stdout => (Box::new(std::io::stdout()), "stdout".into(), None),
            Dest::Direct(path) => {
                let f = open_direct(&path)?;
                (Box::new(f), path.display().to_string(), None)
            }
            Dest::Atomic { path, mode } => {
                let tmp = temp_beside(&path)?;
                let f = tmp.reopen().map_err(|e| io_err(&path, e))?;
                let what = path.display().to_string();
                let file = AtomicFile {
                    tmp,
                    dest: path,
                    mode,
                };
                (Box::new(f), what, Some(file))
            }
        };
        Ok(TextSink {
            out: BufWriter::new(out),
            format,
            schema,
            started: false,
            what,
            file,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), DsmError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.start()?;
        let r =
            output::write_batch(&mut self.out, self.format, batch).and_then(|_| self.out.flush());
        self.check(r)
    }

    fn start(&mut self) -> Result<(), DsmError> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let r = output::write_header(&mut self.out, self.format, &self.schema);
        self.check(r)
    }

    fn finish(mut self) -> Result<(), DsmError> {
        self.start()?;
        let r = self.out.flush();
        self.check(r)?;
        let Some(file) = self.file else {
            return Ok(());
        };
        drop(self.out);
        let f = file.tmp.as_file();
        let io = |e| io_err(&file.dest, e);
        f.set_permissions(final_mode(file.mode)).map_err(io)?;
        f.sync_all().map_err(io)?;
        file.tmp.persist(&file.dest).map_err(|e| io(e.error))?;
        sync_dir(&file.dest);
        Ok(())
    }

    /// A closed pipe (`dsm fetch ... | head`) on stdout is not an error worth a message.
    fn check(&self, r: std::io::Result<()>) -> Result<(), DsmError> {
        match r {
            Err(e) if self.file.is_some() || e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(DsmError::io(format!("writing {}", self.what), e))
            }
            _ => Ok(()),
        }
    }
}

/// Parquet or Arrow. Written to a temporary file; for stdout, a FIFO or a device, that file
/// is in a temporary directory and copied out at the end (columnar files are complete only
/// when finished).
pub struct ColumnarSink {
    writer: BatchWriter,
    dest: Dest,
    /// For stdout, FIFOs and devices: where the file is built.
    staging: Option<(tempfile::TempDir, PathBuf)>,
}

impl ColumnarSink {
    fn create(dest: Dest, kind: OutputKind, schema: SchemaRef) -> Result<ColumnarSink, DsmError> {
        let create = |path: &Path| BatchWriter::create_with_schema(path, kind, schema.clone());
        let (writer, staging) = match &dest {
            Dest::Atomic { path, .. } => (create(path)?, None),
            Dest::Stdout | Dest::Direct(_) => {
                let dir = tempfile::tempdir()
                    .map_err(|e| DsmError::io("creating a temporary directory", e))?;
                let file = dir.path().join("output");
                (create(&file)?, Some((dir, file)))
            }
        };
        Ok(ColumnarSink {
            writer,
            dest,
            staging,
        })
    }

    fn finish(self) -> Result<(), DsmError> {
        self.writer.finish()?;
        match (self.dest, self.staging) {
            (Dest::Atomic { path, mode }, _) => {
                std::fs::set_permissions(&path, final_mode(mode)).map_err(|e| io_err(&path, e))
            }
            (dest, Some((_dir, file))) => {
                let (mut out, what): (Box<dyn Write>, String) = match dest {
                    Dest::Direct(path) => {
                        (Box::new(open_direct(&path)?), path.display().to_string())
                    }
                    _ => (Box::new(std::io::stdout().lock()), "stdout".into()),
                };
                let mut src = File::open(&file).map_err(|e| io_err(&file, e))?;
                std::io::copy(&mut src, &mut out)
                    .and_then(|_| out.flush())
                    .map_err(|e| DsmError::io(format!("writing {what}"), e))?;
                Ok(())
            }
            (_, None) => unreachable!("stdout and devices are staged"),
        }
    }
}

/// A FIFO or device, opened for writing as it is (no create, no truncate).
fn open_direct(path: &Path) -> Result<File, DsmError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_err(path, e))
}

/// `.NAME.XXXXXX.tmp` in the destination's directory, so the rename stays in one filesystem.
fn temp_beside(dest: &Path) -> Result<tempfile::NamedTempFile, DsmError> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dsm-output".into());
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            DsmError::io(
                format!("creating a temporary file beside {}", dest.display()),
                e,
            )
        })
}

/// Make the rename durable; not every filesystem lets a directory be fsynced.
fn sync_dir(dest: &Path) {
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
}

fn io_err(path: &Path, e: std::io::Error) -> DsmError {
    DsmError::io(format!("writing {}", path.display()), e)
}
