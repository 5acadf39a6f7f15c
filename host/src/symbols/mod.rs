//! Listing a market's symbols: the exchange's instruments and, where an archive exists, the
//! archive's own symbol directories (delisted symbols included) with each one's first and
//! last published day. The plugin lists (`DSM_LISTING_MODULE_V1`); the host merges the two
//! parts by symbol and keeps each on disk for a while ([`store`]).
//!
//! Semantics ([`SymbolQuery`]):
//! - the instruments are always listed (REST);
//! - the archive is listed when the market has one and `include_archive` is set or a kind
//!   or interval is given; first/last days are listed when the kind has no interval or an
//!   interval is given (kind defaults to klines);
//! - `include_archive` adds the symbols only the archive knows (delisted, renamed); without
//!   it the rows are the exchange's instruments (with archive days where asked for);
//! - when REST fails (e.g. HTTP 451 geo-block) but the archive answered, the archive's
//!   symbols are listed and the failure is a warning.

mod store;

use std::collections::BTreeMap;

use dsm_sdk::{
    abi_stable::std_types::{ROption, RResult, RString},
    listing_module::{ArchiveSpan, Instrument, Listing, ListingRequest},
    DataKind, ProviderError,
};

use crate::error::{DsmError, Result};
use crate::manager::Dsm;
use crate::request::interval_in;

pub use store::{ARCHIVE_MAX_AGE, INSTRUMENTS_MAX_AGE};

/// What to list (see the module docs for the semantics).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SymbolQuery {
    /// The kind whose archive directories and days are listed; `None` = klines.
    pub kind: Option<DataKind>,
    /// The interval of the archive days (candle kinds).
    pub interval: Option<String>,
    /// Include the symbols only the archive knows (delisted, renamed).
    pub include_archive: bool,
    /// Ignore what is on disk and list again.
    pub refresh: bool,
}

/// One symbol: what the exchange says of it and what the archive holds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SymbolRow {
    /// The exchange's symbol (or the archive directory's name).
    pub symbol: String,
    /// Listed by the exchange's instruments endpoint.
    pub on_exchange: bool,
    /// A directory of the asked kind (and interval) exists in the archive.
    pub in_archive: bool,
    /// The exchange's status word (TRADING, BREAK, live, ...); None for archive-only rows.
    pub status: Option<String>,
    /// Base asset.
    pub base: Option<String>,
    /// Quote asset.
    pub quote: Option<String>,
    /// PERPETUAL, CURRENT_QUARTER, SWAP, ...; None on spot.
    pub contract_type: Option<String>,
    /// Listing (onboard) time, ms UTC.
    pub listed_ms: Option<i64>,
    /// Delivery or delisting time, ms UTC (None for perpetuals without one).
    pub delivery_ms: Option<i64>,
    /// First and last published archive day (the day's start, ms UTC).
    pub first_day_ms: Option<i64>,
    /// Last published archive day (the day's start, ms UTC).
    pub last_day_ms: Option<i64>,
}

/// A market's symbols, sorted by symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolListing {
    /// The provider id.
    pub provider: String,
    /// The market id.
    pub market: String,
    /// The kind of the archive directories and days.
    pub kind: DataKind,
    /// The interval of the archive days, if any.
    pub interval: Option<String>,
    /// One row per symbol, sorted.
    pub rows: Vec<SymbolRow>,
    /// Whether the archive was listed (and so `in_archive` means something).
    pub archive_listed: bool,
    /// Whether first/last days were listed.
    pub dates_listed: bool,
    /// What failed without failing the listing, and where parts came from.
    pub warnings: Vec<String>,
    /// HTTP requests made for this listing (0 when all came from disk).
    pub requests: u64,
}

/// A checked query: what the plugin is asked.
struct Plan {
    kind: DataKind,
    interval: Option<String>,
    archive: bool,
    dates: bool,
}

impl Dsm {
    /// The market's symbols as [`SymbolQuery`] asks; parts younger than their expiry
    /// ([`INSTRUMENTS_MAX_AGE`], [`ARCHIVE_MAX_AGE`]) come from the cache directory's
    /// `listings/` (unless `refresh`, or the cache is disabled).
    pub fn symbols(&self, query: &SymbolQuery) -> Result<SymbolListing> {
        let plan = self.plan(query)?;
        let store = self.listing_store();
        let mut warnings = Vec::new();
        let cached_instruments = match (&store, query.refresh) {
            (Some(s), false) => s.instruments(),
            _ => None,
        };
        let archive_key = store::archive_key(plan.kind, plan.interval.as_deref(), plan.dates);
        let cached_archive = match (&store, query.refresh, plan.archive) {
            (Some(s), false, true) => s.archive(
                &archive_key,
                plan.kind,
                plan.interval.as_deref().unwrap_or_default(),
            ),
            _ => None,
        };
        let request = ListingRequest {
            market: self.market().id.as_str().into(),
            instruments: cached_instruments.is_none(),
            archive: plan.archive && cached_archive.is_none(),
            dates: plan.dates,
            kind: plan.kind,
            interval: plan.interval.clone().unwrap_or_default().into(),
        };
        let fetched = match (request.instruments || request.archive, &cached_archive) {
            (false, _) => Listing::default(),
            // Only REST is asked and the archive part is on disk: a REST failure (a
            // geo-block) leaves the archive's symbols listed, as when both are asked.
            (true, Some(_)) if !request.archive => match self.list_from_plugin(&request) {
                Ok(l) => l,
                Err(e) => Listing {
                    warnings: vec![RString::from(format!("instruments not listed: {e}"))].into(),
                    ..Listing::default()
                },
            },
            (true, _) => self.list_from_plugin(&request)?,
        };
        warnings.extend(fetched.warnings.iter().map(|w| w.to_string()));
        let instruments = match cached_instruments {
            Some(i) => i,
            None => {
                // None at all means REST failed (a warning says why): nothing to keep.
                if let (Some(s), false) = (&store, fetched.instruments.is_empty()) {
                    warnings.extend(s.save_instruments(&fetched.instruments));
                }
                fetched.instruments.into_iter().collect()
            }
        };
        let archive: Vec<ArchiveSpan> = match cached_archive {
            Some(a) => a,
            None if request.archive => {
                if let Some(s) = &store {
                    warnings.extend(s.save_archive(&archive_key, &fetched.archive));
                }
                fetched.archive.into_iter().collect()
            }
            None => Vec::new(),
        };
        let rows = merge(instruments, archive, query.include_archive);
        Ok(SymbolListing {
            provider: self.provider().to_string(),
            market: self.market().id.clone(),
            kind: plan.kind,
            interval: plan.interval,
            rows,
            archive_listed: plan.archive,
            dates_listed: plan.dates,
            warnings,
            requests: fetched.requests,
        })
    }

    fn plan(&self, query: &SymbolQuery) -> Result<Plan> {
        let market = self.market();
        let kind = query.kind.unwrap_or(DataKind::KLINES);
        let offer = market.offer(kind).ok_or_else(|| {
            DsmError::InvalidInput(format!(
                "market {} of {} has no {kind}; it has: {}",
                market.id,
                self.provider(),
                market
                    .offers()
                    .iter()
                    .map(|o| o.kind.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let interval = match (&query.interval, kind.has_interval()) {
            (Some(iv), true) => Some(interval_in(&offer.intervals, kind, &market.id, iv)?.0),
            (Some(_), false) => {
                return Err(DsmError::InvalidInput(format!(
                    "{kind} has no interval: leave --interval out"
                )))
            }
            (None, _) => None,
        };
        let wants_archive = query.include_archive || query.kind.is_some() || interval.is_some();
        if wants_archive && !offer.archive && (query.kind.is_some() || interval.is_some()) {
            return Err(DsmError::InvalidInput(format!(
                "{} {} has no archive of {kind}, so there are no archive days to list; leave \
                 --kind/--interval out to list its instruments",
                self.provider(),
                market.id
            )));
        }
        let archive = wants_archive && offer.archive;
        Ok(Plan {
            kind,
            dates: archive && (interval.is_some() || !kind.has_interval()),
            interval,
            archive,
        })
    }

    fn listing_store(&self) -> Option<store::Store> {
        let config = self.config();
        config.cache_enabled.then(|| {
            let root = config
                .cache_dir
                .clone()
                .unwrap_or_else(crate::cache::Cache::default_dir);
            store::Store::new(&root, self.provider(), &self.market().id)
        })
    }

    fn list_from_plugin(&self, request: &ListingRequest) -> Result<Listing> {
        let lister = self.lister_instance()?;
        match lister.list(request) {
            RResult::ROk(l) => Ok(l),
            RResult::RErr(error) => Err(provider_error(self, error)),
        }
    }
}

fn provider_error(dsm: &Dsm, error: ProviderError) -> DsmError {
    DsmError::Provider {
        provider: dsm.provider().to_string(),
        error,
    }
}

/// Instruments and archive spans as rows by symbol; archive-only symbols when `all`.
fn merge(instruments: Vec<Instrument>, archive: Vec<ArchiveSpan>, all: bool) -> Vec<SymbolRow> {
    let text = |o: ROption<RString>| o.into_option().map(|s| s.into_string());
    let mut rows: BTreeMap<String, SymbolRow> = BTreeMap::new();
    for i in instruments {
        let symbol = i.symbol.to_string();
        rows.insert(
            symbol.clone(),
            SymbolRow {
                symbol,
                on_exchange: true,
                status: text(i.status),
                base: text(i.base),
                quote: text(i.quote),
                contract_type: text(i.contract_type),
                listed_ms: i.listed_ms.into_option(),
                delivery_ms: i.delivery_ms.into_option(),
                ..SymbolRow::default()
            },
        );
    }
    for a in archive {
        let symbol = a.symbol.to_string();
        if !all && !rows.contains_key(&symbol) {
            continue;
        }
        let row = rows.entry(symbol.clone()).or_insert_with(|| SymbolRow {
            symbol,
            ..SymbolRow::default()
        });
        row.in_archive = true;
        row.first_day_ms = a.first_day_ms.into_option();
        row.last_day_ms = a.last_day_ms.into_option();
    }
    rows.into_values().collect()
}

#[cfg(test)]
mod tests;
