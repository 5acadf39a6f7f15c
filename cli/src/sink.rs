//! Where `dsm fetch` writes: stdout or a file, as CSV, JSON Lines, Parquet or Arrow, batch by
//! batch. Files appear whole at the end (temporary file, then rename) or not at all.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dsm_core::output::{self, Format};
use dsm_core::output_arrow::{BatchWriter, OutputKind};
use dsm_core::{DsmError, Kline};

pub enum OutputSink {
    Stdout(BufWriter<std::io::Stdout>, Format),
    TextFile {
        out: BufWriter<std::fs::File>,
        tmp: tempfile::NamedTempFile,
        dest: PathBuf,
        format: Format,
    },
    Columnar(Box<BatchWriter>),
}

impl OutputSink {
    pub fn open(format: &str, path: Option<&Path>) -> Result<OutputSink, DsmError> {
        if let Some(kind) = OutputKind::parse(format) {
            let path = path.ok_or_else(|| {
                DsmError::InvalidInput(format!("--format {format} needs an output file (-o FILE)"))
            })?;
            return Ok(OutputSink::Columnar(Box::new(BatchWriter::create(
                path, kind,
            )?)));
        }
        let format = Format::parse(format).ok_or_else(|| {
            DsmError::InvalidInput(format!(
                "unknown format {format:?}: use csv, jsonl, parquet or arrow"
            ))
        })?;
        let mut sink = match path {
            None => OutputSink::Stdout(BufWriter::new(std::io::stdout()), format),
            Some(dest) => {
                let io = |e| DsmError::io(format!("writing {}", dest.display()), e);
                let dir = match dest.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
                let out = BufWriter::new(tmp.reopen().map_err(io)?);
                OutputSink::TextFile {
                    out,
                    tmp,
                    dest: dest.to_path_buf(),
                    format,
                }
            }
        };
        sink.text(|out, format| output::write_header(out, format))?;
        Ok(sink)
    }

    pub fn write(&mut self, rows: &[Kline]) -> Result<(), DsmError> {
        match self {
            OutputSink::Columnar(w) => Ok(w.write(rows)?),
            _ => self.text(|out, format| output::write_rows(out, format, rows)),
        }
    }

    pub fn finish(self) -> Result<(), DsmError> {
        match self {
            OutputSink::Columnar(w) => w.finish().map(|_| ()),
            OutputSink::Stdout(mut out, _) => ignore_broken_pipe(out.flush()),
            OutputSink::TextFile {
                mut out, tmp, dest, ..
            } => {
                let io = |e| DsmError::io(format!("writing {}", dest.display()), e);
                out.flush().map_err(io)?;
                out.get_ref().sync_all().map_err(io)?;
                tmp.persist(&dest).map_err(|e| io(e.error))?;
                Ok(())
            }
        }
    }

    fn text(
        &mut self,
        f: impl FnOnce(&mut dyn Write, Format) -> std::io::Result<()>,
    ) -> Result<(), DsmError> {
        match self {
            OutputSink::Stdout(out, format) => ignore_broken_pipe(f(out, *format)),
            OutputSink::TextFile {
                out, dest, format, ..
            } => {
                f(out, *format).map_err(|e| DsmError::io(format!("writing {}", dest.display()), e))
            }
            OutputSink::Columnar(_) => Ok(()),
        }
    }
}

/// A closed pipe (`dsm fetch ... | head`) is not an error worth a message.
fn ignore_broken_pipe(r: std::io::Result<()>) -> Result<(), DsmError> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(DsmError::io("writing to stdout", e))
        }
        _ => Ok(()),
    }
}
