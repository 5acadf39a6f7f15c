//! Results as Arrow through the Arrow PyCapsule interface (`__arrow_c_stream__`,
//! `__arrow_c_array__`): pyarrow, polars and pandas take the columns without a copy per
//! row, and none of them is needed to call dsm.

use std::ffi::CString;
use std::sync::Arc;

use arrow_array::ffi::to_ffi;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, RecordBatchIterator, StructArray,
    TimestampMillisecondArray, UInt64Array,
};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{Field, Schema, SchemaRef};
use dsm_core::columnar;
use dsm_core::memory::HugeMap;
use dsm_core::request::KlineRequest;
use dsm_core::{DataKind, FetchSummary, KindRequest, Kline, PeriodBatch};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

/// dsm's column names -> the names the reference Python system used (open_time is the
/// same); a column not listed keeps its name.
const REFERENCE_NAMES: &[(&str, &str)] = &[
    ("quote_volume", "quote_asset_volume"),
    ("trades", "count"),
    ("taker_buy_base_volume", "taker_buy_volume"),
];

/// The kline schema with the reference column names and the series' names as metadata.
fn schema(names: &Names) -> SchemaRef {
    let fields: Vec<Field> = columnar::schema()
        .fields()
        .iter()
        .map(|f| {
            let name = REFERENCE_NAMES
                .iter()
                .find(|(dsm, _)| dsm == f.name())
                .map_or(f.name().as_str(), |(_, reference)| reference);
            f.as_ref().clone().with_name(name)
        })
        .collect();
    let metadata: std::collections::HashMap<String, String> = [
        ("provider", &names.provider),
        ("market", &names.market),
        ("symbol", &names.symbol),
        ("interval", &names.interval),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect();
    Arc::new(Schema::new(fields).with_metadata(metadata))
}

/// What a result is of: provider, market, symbol and interval ids.
#[derive(Clone)]
pub struct Names {
    pub provider: String,
    pub market: String,
    pub symbol: String,
    pub interval: String,
}

/// Most rows reserved up front (a year of 1m is 525,600): beyond that the columns grow.
const MAX_RESERVE: usize = 8 << 20;

/// The kline columns: 11, each of 8-byte values (i64 times, f64, u64 trades).
const COLUMNS: usize = 11;

/// A whole fetch's candles gathered into columns, period by period as the fetch hands them
/// over (never as one vector of rows first). The 11 columns are regions of one allocation
/// whose start is aligned to a huge page and which is advised as huge pages: 11 vectors of
/// 4.2 MB each (a year of 1m) could be on huge pages only where a whole aligned 2 MiB page
/// fell inside each, about half of them, and the rest cost ~5,700 page faults of 4 KiB per
/// warm year (perf stat); one aligned block costs 31.
pub struct Gather {
    /// `cap` rows a column, column after column, zero where not written yet.
    block: HugeMap,
    cap: usize,
    len: usize,
}

impl Gather {
    /// Room for every candle of `req` (at most [`MAX_RESERVE`]).
    pub fn for_request(req: &KlineRequest) -> Gather {
        let step = req.interval.min_step_ms().max(1);
        let expected = (req.end_ms.saturating_sub(req.start_ms) / step).max(0) as usize + 1;
        Gather::with_capacity(expected.min(MAX_RESERVE))
    }

    fn with_capacity(cap: usize) -> Gather {
        // A fresh mapping: zero and not yet touched, so only the rows written cost pages.
        let block = HugeMap::new(COLUMNS * cap.max(1) * 8).expect("memory for the columns");
        Gather { block, cap, len: 0 }
    }

    /// Column `i`'s region, `cap` rows of 8 bytes.
    fn column_mut(&mut self, i: usize) -> &mut [u8] {
        let from = i * self.cap * 8;
        &mut self.block.as_mut_slice()[from..from + self.cap * 8]
    }

    /// One period's record batch, column by column (a period from the cache is the cache
    /// file's columns, copied once, never made rows).
    pub fn add_batch(&mut self, batch: &RecordBatch) -> Result<(), String> {
        columnar::check_schema(&batch.schema())?;
        let n = batch.num_rows();
        if self.len + n > self.cap {
            self.grow((self.len + n).max(self.cap * 2));
        }
        let at = self.len * 8;
        for i in 0..COLUMNS {
            // Every kline column is 8-byte values without nulls (the schema says so).
            let data = batch.column(i).to_data();
            let values = &data.buffers()[0].as_slice()[data.offset() * 8..][..n * 8];
            self.column_mut(i)[at..at + n * 8].copy_from_slice(values);
        }
        self.len += n;
        Ok(())
    }

    /// Room for `cap` rows a column, what is gathered kept.
    fn grow(&mut self, cap: usize) {
        let mut bigger = Gather::with_capacity(cap);
        let used = self.len * 8;
        for i in 0..COLUMNS {
            bigger.column_mut(i)[..used].copy_from_slice(&self.column_mut(i)[..used]);
        }
        bigger.len = self.len;
        *self = bigger;
    }

    /// One record batch with `schema` (the kline schema's types, in its order), the columns
    /// sharing the one allocation, not copied.
    fn finish(self, schema: SchemaRef) -> RecordBatch {
        let (cap, len) = (self.cap, self.len);
        let buffer = self.block.into_buffer();
        let column = |i: usize| i * cap;
        let times = |i: usize| -> ArrayRef {
            let values = ScalarBuffer::<i64>::new(buffer.clone(), column(i), len);
            Arc::new(TimestampMillisecondArray::new(values, None).with_timezone(columnar::TIMEZONE))
        };
        let floats = |i: usize| -> ArrayRef {
            Arc::new(Float64Array::new(
                ScalarBuffer::new(buffer.clone(), column(i), len),
                None,
            ))
        };
        let columns = vec![
            times(0),
            floats(1),
            floats(2),
            floats(3),
            floats(4),
            floats(5),
            times(6),
            floats(7),
            Arc::new(UInt64Array::new(
                ScalarBuffer::new(buffer.clone(), column(8), len),
                None,
            )),
            floats(9),
            floats(10),
        ];
        RecordBatch::try_new(schema, columns).expect("kline columns match the kline schema")
    }
}

/// `rows` as one record batch of the Python schema.
fn batch_of(rows: &[Kline], names: &Names) -> RecordBatch {
    columnar::to_record_batch_with(schema(names), rows)
}

/// `batch` as an Arrow C stream of one batch (the columns are shared, not copied).
fn stream_capsule<'py>(py: Python<'py>, batch: &RecordBatch) -> PyResult<Bound<'py, PyCapsule>> {
    batches_capsule(py, vec![batch.clone()], batch.schema())
}

/// `batches` (all of `schema`) as one Arrow C stream, not copied.
fn batches_capsule<'py>(
    py: Python<'py>,
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
) -> PyResult<Bound<'py, PyCapsule>> {
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    // The consumer moves the stream out (leaving a released one); dropping the capsule
    // releases whatever is still there.
    PyCapsule::new(
        py,
        stream,
        Some(CString::new("arrow_array_stream").unwrap()),
    )
}

/// The whole result of a fetch: its record batches (one for candles; one per period for
/// other kinds) and the fetch's report.
#[pyclass(frozen, module = "dsm._native")]
pub struct Table {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    /// `klines`, `funding`, ...
    #[pyo3(get)]
    kind: &'static str,
    summary: FetchSummary,
    #[pyo3(get)]
    provider: String,
    #[pyo3(get)]
    market: String,
    #[pyo3(get)]
    symbol: String,
    #[pyo3(get)]
    interval: String,
    /// The range served, `[start_ms, end_ms)`, the end clipped to the time of the fetch.
    #[pyo3(get)]
    start_ms: i64,
    #[pyo3(get)]
    end_ms: i64,
}

impl Table {
    /// The table of a fetch of `req` whose candles are in `gathered`.
    pub fn new(names: Names, req: &KlineRequest, gathered: Gather, summary: FetchSummary) -> Table {
        let schema = schema(&names);
        Table {
            batches: vec![gathered.finish(schema.clone())],
            schema,
            kind: DataKind::KLINES.name(),
            provider: names.provider,
            market: names.market,
            symbol: names.symbol,
            interval: names.interval,
            start_ms: req.start_ms,
            end_ms: req.end_ms,
            summary,
        }
    }
}

impl Table {
    /// The table of a fetch of any kind: its periods' batches, in the kind's schema with
    /// the series' names as metadata.
    pub fn of_records(
        names: Names,
        req: &KindRequest,
        batches: Vec<RecordBatch>,
        summary: FetchSummary,
    ) -> Table {
        let metadata: std::collections::HashMap<String, String> = [
            ("provider", &names.provider),
            ("market", &names.market),
            ("kind", &req.kind.name().to_string()),
            ("symbol", &names.symbol),
            ("interval", &names.interval),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        let schema = Arc::new(
            dsm_core::kinds::schema_of(req.kind)
                .as_ref()
                .clone()
                .with_metadata(metadata),
        );
        let batches = batches
            .into_iter()
            .map(|b| {
                b.with_schema(schema.clone())
                    .expect("the kind's own schema")
            })
            .collect();
        Table {
            batches,
            schema,
            kind: req.kind.name(),
            provider: names.provider,
            market: names.market,
            symbol: names.symbol,
            interval: names.interval,
            start_ms: req.series.start_ms,
            end_ms: req.series.end_ms,
            summary,
        }
    }
}

#[pymethods]
impl Table {
    /// The candles as an Arrow C stream (one batch), for pyarrow, polars or any consumer.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // the schema is fixed; consumers cast if they want another
        batches_capsule(py, self.batches.clone(), self.schema.clone())
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    /// Missing candles: a list of (start_ms, end_ms, reason), never filled.
    #[getter]
    fn gaps(&self) -> Vec<(i64, i64, String)> {
        gaps(&self.summary)
    }

    /// (period start ms, "cache" | "archive" | "rest") for every period that served candles.
    #[getter]
    fn sources(&self) -> Vec<(i64, &'static str)> {
        sources(&self.summary)
    }

    /// HTTP requests the plugin made, retries included.
    #[getter]
    fn requests(&self) -> u64 {
        self.summary.requests
    }

    /// Periods this fetch wrote to the cache.
    #[getter]
    fn cached_periods(&self) -> u32 {
        self.summary.cached_periods
    }

    /// Things worth knowing that did not stop the fetch.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.summary.notes.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "<dsm Table {} {} {} {} {}: {} rows, {} gaps>",
            self.provider,
            self.market,
            self.kind,
            self.symbol,
            self.interval,
            self.num_rows(),
            self.summary.gaps.len()
        )
    }
}

pub fn gaps(s: &FetchSummary) -> Vec<(i64, i64, String)> {
    s.gaps
        .iter()
        .map(|g| (g.start_ms, g.end_ms, g.reason.clone()))
        .collect()
}

pub fn sources(s: &FetchSummary) -> Vec<(i64, &'static str)> {
    s.sources.iter().map(|(t, src)| (*t, src.name())).collect()
}

/// One period's candles (a UTC day; a month for intervals of a day or more) of a stream.
#[pyclass(frozen, module = "dsm._native")]
pub struct Batch {
    batch: RecordBatch,
    /// Start of the period, ms UTC.
    #[pyo3(get)]
    period_start: i64,
    /// "cache", "archive" or "rest".
    #[pyo3(get)]
    source: &'static str,
    /// Whether this fetch wrote the period to the cache.
    #[pyo3(get)]
    cached: bool,
}

impl Batch {
    pub fn new(p: PeriodBatch, names: &Names) -> Batch {
        Batch {
            batch: batch_of(&p.rows, names),
            period_start: p.period_start,
            source: p.source.name(),
            cached: p.cached,
        }
    }
}

#[pymethods]
impl Batch {
    /// The period's candles as an Arrow C array (a struct array) with its schema.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        let data = StructArray::from(self.batch.clone()).into_data();
        let (array, _) =
            to_ffi(&data).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        // The struct's own schema, with the batch's metadata (to_ffi's has none).
        let schema = arrow_schema::ffi::FFI_ArrowSchema::try_from(self.batch.schema().as_ref())
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        let schema = PyCapsule::new(py, schema, Some(CString::new("arrow_schema").unwrap()))?;
        let array = PyCapsule::new(py, array, Some(CString::new("arrow_array").unwrap()))?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    /// The same candles as an Arrow C stream of one batch.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        stream_capsule(py, &self.batch)
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "<dsm Batch period_start={} source={} rows={}>",
            self.period_start,
            self.source,
            self.batch.num_rows()
        )
    }
}
