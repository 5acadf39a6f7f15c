//! The data kinds, one abstraction each: a kind says what its rows are, how a row is
//! checked, when it is final, which period a cache file holds, its Arrow schema, and whether
//! gaps are found on a grid. The failover, the cache and the outputs are written once over
//! [`Kind`]; adding a kind is adding an implementation here (see ARCHITECTURE.md).

mod candles;
mod funding;
mod metrics;
pub(crate) mod trades;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use dsm_sdk::{
    abi_stable, DataKind, FundingBatch, KlineBatch, MetricBatch, SourceKind, TradeBatch,
};

use crate::cache::Period;
use crate::interval::Interval;

pub use candles::Candles;
pub use funding::Funding;
pub use metrics::Metrics;
pub use trades::Trades;

/// Rows per record batch where a period's rows are handed on in slices (cache files, the
/// batches a fetch emits): a day of trades is over a million rows, and a slice of them
/// (about 8 MB of Arrow) is what is encoded at a time. Periods of candles fit in one (a
/// month of 1m is 44,640 rows, a day of 1s 86,400), so their files stay one batch.
pub const SLICE_ROWS: usize = 128 * 1024;

/// `rows` as record batches of at most [`SLICE_ROWS`] rows, made one at a time.
pub fn slices<'a, K: Kind>(
    kind: &'a K,
    schema: SchemaRef,
    rows: &'a [K::Row],
) -> impl Iterator<Item = RecordBatch> + 'a {
    rows.chunks(SLICE_ROWS)
        .map(move |slice| kind.to_batch(schema.clone(), slice))
}

/// `batch` as record batches of at most [`SLICE_ROWS`] rows (views of it, not copies):
/// how a period already in one batch is written, a slice at a time.
pub fn batch_slices(batch: &RecordBatch) -> impl Iterator<Item = RecordBatch> + '_ {
    let n = batch.num_rows();
    (0..n)
        .step_by(SLICE_ROWS)
        .map(move |at| batch.slice(at, SLICE_ROWS.min(n - at)))
}

/// What a plugin handed over, checked for shape only: rows, their source, and the range
/// the source covered in full.
pub struct Batch<R> {
    /// The rows as pushed.
    pub rows: Vec<R>,
    /// Archive or REST.
    pub source: SourceKind,
    /// Start of the range covered in full.
    pub covered_start_ms: i64,
    /// End of that range, exclusive.
    pub covered_end_ms: i64,
}

/// One kind of data, as the host handles it.
pub trait Kind: Sync {
    /// One row.
    type Row: Copy + Send + Sync + PartialEq + std::fmt::Debug + 'static;

    /// The kind's id (crosses the boundary in requests).
    fn id(&self) -> DataKind;
    /// The interval name of the series, `""` for kinds without one.
    fn interval_name(&self) -> &str;
    /// What one cache file (and one emitted batch) holds.
    fn period(&self) -> Period;
    /// The row's time (open time, settlement time): rows belong to the period it falls in.
    fn time(row: &Self::Row) -> i64;
    /// What rows are sorted and unique by: their time, or an id where many rows share a
    /// millisecond (trades).
    fn key(row: &Self::Row) -> i64 {
        Self::time(row)
    }
    /// At most this many periods per plugin call (bounded memory for large rows); None: the
    /// failover's usual chunks (a month of days, a year of months).
    fn periods_per_call(&self) -> Option<usize> {
        None
    }
    /// At most this many rows in one period, if known: the failover fetches chunks ahead
    /// only as far as their rows fit a bound (memory). None (the default): unknown and
    /// possibly huge (a day of trades is millions), so nothing is fetched ahead.
    fn rows_per_period(&self) -> Option<u64> {
        None
    }
    /// The grid rows are expected on: gaps are every grid point without a row. None: gaps
    /// are only ranges no source covered.
    fn grid(&self) -> Option<Interval>;
    /// Whether the row is final at `now` (a candle closed, a rate settled).
    fn is_final(&self, row: &Self::Row, now: i64) -> bool;
    /// Whether everything of a period ending at `end` is final at `now` (cacheable).
    fn closed_by(&self, end: i64, now: i64) -> bool;
    /// The checks a row passes before it is used: from the network and from the cache.
    fn check(&self, row: &Self::Row, start: i64, end: i64) -> Result<(), String>;
    /// [`Kind::check`] of every row, stopping at the first error (a kind may answer the
    /// same faster than row by row).
    fn check_all(&self, rows: &[Self::Row], start: i64, end: i64) -> Result<(), String> {
        rows.iter().try_for_each(|r| self.check(r, start, end))
    }
    /// Singular noun for messages (`candle`, `funding rate`).
    fn noun(&self) -> &'static str;
    /// The Arrow schema of the rows (no metadata).
    fn schema(&self) -> SchemaRef;
    /// Rows as one record batch with `schema` (this kind's schema plus metadata).
    fn to_batch(&self, schema: SchemaRef, rows: &[Self::Row]) -> RecordBatch;
    /// Rows from a record batch, its schema checked first.
    fn rows_of(&self, batch: &RecordBatch) -> Result<Vec<Self::Row>, String>;
    /// Whether a period of this kind read from the cache can stay the file's record batches
    /// until an output needs rows (the warm read's fast path). Such a kind's rows are
    /// sorted and unique by their time (`key` is `time`), and it answers
    /// [`Kind::times_of`] and [`Kind::check_batch`]; other kinds are read as rows.
    fn has_columns(&self) -> bool {
        false
    }
    /// The rows' times ([`Kind::time`]) of a batch of this kind, read from its column.
    fn times_of<'b>(&self, batch: &'b RecordBatch) -> Result<&'b [i64], String> {
        let _ = batch;
        Err(format!("{}s have no column form", self.noun()))
    }
    /// [`Kind::check_all`] of a batch's rows, read from its columns (the same verdicts and
    /// words).
    fn check_batch(&self, batch: &RecordBatch, start: i64, end: i64) -> Result<(), String> {
        self.check_all(&self.rows_of(batch)?, start, end)
    }
    /// Append a batch's rows to `out`.
    fn extend_rows(&self, batch: &RecordBatch, out: &mut Vec<Self::Row>) -> Result<(), String> {
        out.extend(self.rows_of(batch)?);
        Ok(())
    }
    /// Rows of this kind from a candle batch, or why a plugin may not push one here.
    fn take_klines(&self, batch: KlineBatch) -> Result<Batch<Self::Row>, String> {
        let _ = batch;
        Err(wrong(self.id(), "candles"))
    }
    /// Rows of this kind from a funding batch, or why not.
    fn take_funding(&self, batch: FundingBatch) -> Result<Batch<Self::Row>, String> {
        let _ = batch;
        Err(wrong(self.id(), "funding rates"))
    }
    /// Rows of this kind from a trade batch, or why not.
    fn take_trades(&self, batch: TradeBatch) -> Result<Batch<Self::Row>, String> {
        let _ = batch;
        Err(wrong(self.id(), "trades"))
    }
    /// Rows of this kind from a metrics batch, or why not.
    fn take_metrics(&self, batch: MetricBatch) -> Result<Batch<Self::Row>, String> {
        let _ = batch;
        Err(wrong(self.id(), "metrics"))
    }
}

fn wrong(kind: DataKind, what: &str) -> String {
    format!("the plugin pushed {what} for a {kind} request")
}

impl<R> Batch<R> {
    /// A batch as it crossed the boundary.
    pub fn new(
        rows: abi_stable::std_types::RVec<R>,
        source: SourceKind,
        covered: (i64, i64),
    ) -> Self {
        Batch {
            rows: rows.into_vec(),
            source,
            covered_start_ms: covered.0,
            covered_end_ms: covered.1,
        }
    }
}

/// Whether `schema` has `expected`'s columns (names, types, nullability; not metadata).
pub fn check_schema(
    expected: &arrow_schema::Schema,
    schema: &arrow_schema::Schema,
) -> Result<(), String> {
    if schema.fields().len() != expected.fields().len() {
        return Err(format!(
            "expected {} columns, found {}",
            expected.fields().len(),
            schema.fields().len()
        ));
    }
    for (want, got) in expected.fields().iter().zip(schema.fields().iter()) {
        if want.name() != got.name()
            || want.data_type() != got.data_type()
            || want.is_nullable() != got.is_nullable()
        {
            return Err(format!(
                "column {:?} {} (nullable: {}) where {:?} {} (nullable: {}) was expected",
                got.name(),
                got.data_type(),
                got.is_nullable(),
                want.name(),
                want.data_type(),
                want.is_nullable()
            ));
        }
    }
    Ok(())
}

/// The period of a series of `kind` (`interval` for candle kinds), as its `Kind` says.
pub fn period_of(kind: DataKind, interval: Option<Interval>) -> Period {
    match (kind.shape(), interval) {
        (dsm_sdk::kind::Shape::Candles, Some(iv)) => Period::for_interval(iv),
        (dsm_sdk::kind::Shape::Trades, _) => trades::PERIOD,
        (dsm_sdk::kind::Shape::Metrics, _) => metrics::PERIOD,
        _ => funding::PERIOD,
    }
}

/// The largest cache file of every kind but trades: a day of 1s candles is ~8 MB, a
/// month of 1m ~4 MB.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The largest cache file of `kind` read: sized from its largest plausible period.
pub fn max_file_bytes(kind: DataKind) -> u64 {
    match kind.shape() {
        dsm_sdk::kind::Shape::Trades => trades::MAX_FILE_BYTES,
        _ => MAX_FILE_BYTES,
    }
}

/// The Arrow schema of `kind`'s rows (no metadata).
pub fn schema_of(kind: DataKind) -> SchemaRef {
    match kind.shape() {
        dsm_sdk::kind::Shape::Candles => crate::columnar::schema(),
        dsm_sdk::kind::Shape::Funding => Funding.schema(),
        dsm_sdk::kind::Shape::Trades => Trades::new(kind).schema(),
        dsm_sdk::kind::Shape::Metrics => Metrics.schema(),
    }
}
