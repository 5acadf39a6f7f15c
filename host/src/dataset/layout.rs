//! Where a period goes in a dataset, and what its file holds.
//!
//! `kind=K/provider=P/market=M/symbol=S[/interval=I]/date=YYYY-MM-DD/part-0.parquet`: one
//! file per cache period (a UTC day; a month for 1d and longer candles and for funding,
//! whose `date` is the month's first day), so a day of 1m is one file and a year of 1d is
//! twelve. Kinds without an interval have no `interval=` level. The partition values are
//! only in the path: the files hold the kind's own columns.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::cache::{Period, SeriesKey};
use crate::interval::DAY;
use crate::kinds::{batch_slices, schema_of};
use crate::output_arrow::ROW_GROUP_ROWS;
use crate::timeparse::format_date;

/// The one data file of a partition.
pub const FILE_NAME: &str = "part-0.parquet";

/// The partition directory names, outermost first, for a series (`interval` only when the
/// kind has one).
pub fn partition_columns(key: &SeriesKey) -> Vec<&'static str> {
    let mut cols = vec!["kind", "provider", "market", "symbol"];
    if !key.interval.is_empty() {
        cols.push("interval");
    }
    cols.push("date");
    cols
}

/// `YYYY-MM-DD` of a period's first day: the `date` partition value.
pub fn date_of(period_start: i64) -> String {
    format_date(period_start.div_euclid(DAY) * DAY)
}

/// The relative path of the file of the period starting at `start`.
pub fn file_path(key: &SeriesKey, start: i64) -> String {
    let mut p = format!(
        "kind={}/provider={}/market={}/symbol={}/",
        key.kind.name(),
        key.provider,
        key.market,
        key.symbol
    );
    if !key.interval.is_empty() {
        p.push_str(&format!("interval={}/", key.interval));
    }
    p.push_str(&format!("date={}/{FILE_NAME}", date_of(start)));
    p
}

/// `day` or `month`.
pub fn period_name(period: Period) -> &'static str {
    match period {
        Period::Day => "day",
        Period::Month => "month",
    }
}

/// The dataset schema of a kind: the cache's columns (timestamps already
/// timestamp[ms, UTC]) with unsigned counts as int64, which every engine reads (Spark and
/// Trino have no unsigned integers).
pub fn schema(kind: dsm_sdk::DataKind) -> SchemaRef {
    let fields: Vec<Field> = schema_of(kind)
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::UInt64 => f.as_ref().clone().with_data_type(DataType::Int64),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// A cache batch in the dataset schema.
pub fn to_dataset(batch: &RecordBatch, schema: SchemaRef) -> Result<RecordBatch, String> {
    let columns = batch
        .columns()
        .iter()
        .map(|c| match c.as_any().downcast_ref::<UInt64Array>() {
            Some(u) => {
                let signed: Int64Array = u
                    .try_unary(|v| i64::try_from(v).map_err(|_| ()))
                    .map_err(|_| "a count larger than int64".to_string())?;
                Ok(Arc::new(signed) as ArrayRef)
            }
            None => Ok(c.clone()),
        })
        .collect::<Result<Vec<_>, String>>()?;
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}

/// The bytes of one Parquet file (snappy; column statistics on, so engines skip by time
/// too). Row groups of at most the fetch outputs' `ROW_GROUP_ROWS`, written a slice at a
/// time as they are: a period of candles is one group (at most 86,400 rows of 1s), a day
/// of trades several, so the writer never buffers a whole day.
pub fn encode_parquet(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("dsm {}", env!("CARGO_PKG_VERSION")))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut w =
        ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props)).map_err(|e| e.to_string())?;
    for slice in batch_slices(batch) {
        w.write(&slice).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}
