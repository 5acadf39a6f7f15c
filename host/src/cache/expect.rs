//! What one cache file must be: the series, period and kind it is named for, the checks its
//! rows pass (the same as rows from the network), the holes they leave, and the footer it
//! carries. `store.rs` reads and writes files against it.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use dsm_sdk::Kline;

use super::format::{self, HOLES_KEY, HOLES_SEEN_KEY, IDENTITY, ROWS_KEY};
use super::layout::{Period, SeriesKey};
use super::storage::ObjectWriter;
use crate::interval::Interval;
use crate::kinds::{self, Kind};
use crate::timeparse::format_time;

/// One cached period: its rows, and the times on the kind's grid the exchange had no row
/// for (candle kinds; other kinds have no holes).
#[derive(Debug, Clone, PartialEq)]
pub struct CachedPeriod<R = Kline> {
    /// The rows, ascending by time.
    pub rows: Vec<R>,
    /// Half-open ranges of open times without a candle at the source, sorted.
    pub holes: Vec<(i64, i64)>,
    /// When the source was asked and had no candle in `holes` (ms UTC).
    pub holes_seen_ms: i64,
}

/// What a file must hold: the series and the period it is named for, of rows of `kind`.
pub(crate) struct Expect<'a, K: Kind> {
    pub key: &'a SeriesKey,
    pub kind: &'a K,
    pub period: Period,
    pub start: i64,
}

impl<K: Kind> Expect<'_, K> {
    pub fn end(&self) -> i64 {
        self.period.next(self.start)
    }

    /// Sorted, unique times, all inside the period, and every row passing the checks rows
    /// from the network pass.
    pub fn check_rows(&self, rows: &[K::Row]) -> Result<(), String> {
        let end = self.end();
        // The same verdict as the loop below, in tight passes; the loop says why.
        let inside = rows.iter().all(|r| (self.start..end).contains(&K::time(r)));
        let ascending = rows.windows(2).all(|w| K::key(&w[0]) < K::key(&w[1]));
        if inside && ascending {
            return self.kind.check_all(rows, self.start, end);
        }
        let noun = self.kind.noun();
        let mut prev: Option<i64> = None;
        for r in rows {
            let (t, key) = (K::time(r), K::key(r));
            // Formatted only on error: this loop runs over every cached row.
            let at = || format_time(t);
            if t < self.start || t >= end {
                return Err(format!(
                    "{noun} at {} lies outside the period {}",
                    at(),
                    self.period.stem(self.start)
                ));
            }
            self.kind.check(r, self.start, end)?;
            match prev {
                Some(p) if p == key => return Err(format!("duplicate {noun} at {}", at())),
                Some(p) if p > key => return Err(format!("{noun} at {} is out of order", at())),
                _ => prev = Some(key),
            }
        }
        Ok(())
    }

    /// [`Expect::check_rows`] of the rows of `batches` (a kind with a column form), read
    /// from their columns: the same verdict; where a row fails the sorting or the period,
    /// the rows are made to say why in the same words.
    pub fn check_batches(&self, batches: &[RecordBatch]) -> Result<(), String> {
        let end = self.end();
        let (mut inside, mut ascending, mut prev) = (true, true, None::<i64>);
        for b in batches {
            let times = self.kind.times_of(b)?;
            inside &= times.iter().all(|t| (self.start..end).contains(t));
            ascending &= times.windows(2).all(|w| w[0] < w[1])
                && prev.zip(times.first()).is_none_or(|(p, f)| p < *f);
            prev = times.last().copied().or(prev);
        }
        if !(inside && ascending) {
            let mut rows = Vec::new();
            for b in batches {
                self.kind.extend_rows(b, &mut rows)?;
            }
            return self.check_rows(&rows);
        }
        batches
            .iter()
            .try_for_each(|b| self.kind.check_batch(b, self.start, end))
    }

    /// The grid times of the period without a row, as ranges (`rows` checked and sorted);
    /// none for kinds without a grid.
    pub fn holes_of(&self, rows: &[K::Row]) -> Vec<(i64, i64)> {
        self.holes_at(rows.iter().map(K::time))
    }

    /// [`Expect::holes_at`] of the rows at the times of `slices` (in order, ascending,
    /// inside the period): none at once when they are every grid time of the period, one
    /// after the other (a complete day: a tight pass, where the walk over the grid costs a
    /// few dozen instructions a row); else the walk.
    pub(super) fn holes_in(&self, slices: &[&[i64]]) -> Vec<(i64, i64)> {
        if let Some(iv @ Interval::Fixed(ms)) = self.kind.grid() {
            let mut next = iv.ceil(self.start);
            let complete = slices.iter().all(|s| {
                let from = next;
                // Wrapping: a bad file must not overflow before it is found bad.
                let on_grid = (s.iter().zip(0i64..))
                    .all(|(t, i)| *t == from.wrapping_add(i.wrapping_mul(ms)));
                next = from.wrapping_add((s.len() as i64).wrapping_mul(ms));
                on_grid
            });
            // Every time is inside the period: all its grid times are there.
            if complete && next >= self.end() {
                return Vec::new();
            }
        }
        self.holes_at(slices.iter().flat_map(|t| t.iter().copied()))
    }

    /// [`Expect::holes_of`] of the rows at `times` (ascending).
    pub(super) fn holes_at(&self, times: impl Iterator<Item = i64>) -> Vec<(i64, i64)> {
        let Some(iv) = self.kind.grid() else {
            return Vec::new();
        };
        let end = self.end();
        let mut holes: Vec<(i64, i64)> = Vec::new();
        let mut next_row = times.peekable();
        let mut t = iv.ceil(self.start);
        while t < end {
            if next_row.next_if_eq(&t).is_none() {
                match holes.last_mut() {
                    Some(h) if h.1 == t => h.1 = iv.next(t),
                    _ => holes.push((t, iv.next(t))),
                }
            }
            t = iv.next(t);
        }
        holes
    }

    /// The identity every file carries: `(name, value)` for the names in `IDENTITY`.
    fn identity(&self) -> [(&'static str, String); 6] {
        let k = self.key;
        [
            ("provider", k.provider.clone()),
            ("market", k.market.clone()),
            ("kind", k.kind.name().to_string()),
            ("symbol", k.symbol.clone()),
            ("interval", k.interval.clone()),
            ("period", self.period.stem(self.start)),
        ]
    }

    /// The identity without the `dsm.` prefix as schema metadata, for readers outside dsm.
    pub(super) fn schema_metadata(&self) -> HashMap<String, String> {
        self.identity()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    pub(super) fn footer(
        &self,
        rows: usize,
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Vec<(String, String)> {
        debug_assert_eq!(IDENTITY.len(), self.identity().len());
        self.identity()
            .into_iter()
            .map(|(k, v)| (format!("dsm.{k}"), v))
            .chain([
                (ROWS_KEY.to_string(), rows.to_string()),
                (HOLES_KEY.to_string(), format::encode_holes(holes)),
                // Only a period with holes says when it was asked: a complete one is then
                // the same bytes whenever it is written (sync lockfiles compare checksums).
                (
                    HOLES_SEEN_KEY.to_string(),
                    seen_of(holes, seen_ms).to_string(),
                ),
            ])
            .collect()
    }

    /// A file copied into another series' directory is not that series' data; a file that
    /// does not say what it is is not used either.
    pub(super) fn check_identity(&self, footer: &HashMap<String, String>) -> Result<(), String> {
        for (name, want) in self.identity() {
            match footer.get(&format!("dsm.{name}")) {
                None => return Err(format!("the file does not say its {name}")),
                Some(got) if *got != want => {
                    return Err(format!("file says {name} {got:?}, its path says {want:?}"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The schema of the file: the kind's, with the identity as metadata.
    fn file_schema(&self) -> SchemaRef {
        Arc::new(
            self.kind
                .schema()
                .as_ref()
                .clone()
                .with_metadata(self.schema_metadata()),
        )
    }

    /// Encode `rows` into `out` in record batches of [`kinds::SLICE_ROWS`], one at a time.
    pub(super) fn encode_into(
        &self,
        out: &mut dyn ObjectWriter,
        rows: &[K::Row],
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Result<(), String> {
        let schema = self.file_schema();
        let batches = kinds::slices(self.kind, schema.clone(), rows);
        format::encode_into(
            out,
            &schema,
            batches,
            &self.footer(rows.len(), holes, seen_ms),
        )
    }

    /// The file's bytes, not checked (tests use it to write files with bad candles).
    #[cfg(test)]
    pub fn encode(
        &self,
        rows: &[K::Row],
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        self.encode_into(&mut bytes, rows, holes, seen_ms)?;
        Ok(bytes)
    }

    /// The file as dsm wrote it before slices: all rows in one record batch.
    #[cfg(test)]
    pub fn encode_whole(
        &self,
        rows: &[K::Row],
        holes: &[(i64, i64)],
        seen_ms: i64,
    ) -> Result<Vec<u8>, String> {
        let schema = self.file_schema();
        let batch = self.kind.to_batch(schema.clone(), rows);
        format::encode(
            &schema,
            std::iter::once(batch),
            &self.footer(rows.len(), holes, seen_ms),
        )
    }
}

fn seen_of(holes: &[(i64, i64)], seen_ms: i64) -> i64 {
    if holes.is_empty() {
        0
    } else {
        seen_ms
    }
}
