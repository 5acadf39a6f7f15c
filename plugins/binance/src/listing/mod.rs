//! Listing a market's symbols: the instruments of exchangeInfo ([`instruments`]) and the
//! Vision archive's symbol directories with their first and last days ([`archive`], over
//! the bucket's S3 listing, [`s3`]). When the archive is asked for too, a REST failure (an
//! HTTP 451 geo-block) is a warning: the archive's symbols are still listed.

pub mod archive;
pub mod instruments;
pub mod s3;

use std::sync::Arc;

use dsm_plugin_kit::{Policy, Weighted};
use dsm_sdk::{
    abi_stable::std_types::RString,
    listing_module::{ArchiveSpan, Instrument, Listing, ListingRequest},
    DataKind, ErrorKind, ProviderError,
};
use tokio::task::JoinSet;

use crate::errors::{from_response, Asked};
use crate::markets::Market;
use crate::series::Series;
use crate::vision::{dataset_word, paths::monthly_only};
use crate::BinanceProvider;
use archive::Archive;

/// The largest exchangeInfo answer read (spot's, with every filter, is several MB).
const MAX_EXCHANGE_INFO_BYTES: u64 = 64 << 20;

impl BinanceProvider {
    /// The listing `req` asks for.
    pub fn list_symbols(&self, req: &ListingRequest) -> Result<Listing, ProviderError> {
        let market = Market::from_name(&req.market).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::UNSUPPORTED_MARKET,
                format!("Binance has no market {:?}: spot, um, cm", req.market),
            )
        })?;
        let mut listing = Listing::default();
        if req.instruments {
            match self.core.block_on(self.instruments(market))? {
                Ok((rows, attempts)) => {
                    listing.instruments = rows.into();
                    listing.requests += attempts;
                }
                Err(e) if req.archive => listing.warnings.push(RString::from(format!(
                    "Binance {} instruments not listed ({e}); the archive's symbols are \
                     listed without them",
                    market.id()
                ))),
                Err(e) => return Err(e),
            }
        }
        if req.archive {
            let archive = Arc::new(self.archive(market, req)?);
            let spans = self
                .core
                .block_on(archive_spans(archive.clone(), req.dates))?;
            listing.requests += archive.requests();
            listing.archive = spans?.into();
        }
        Ok(listing)
    }

    async fn instruments(&self, market: Market) -> Result<(Vec<Instrument>, u64), ProviderError> {
        let (path, weight) = instruments::endpoint(market);
        let url = format!("{}{path}", self.base_url(market));
        let gate = self.gate(market);
        let policy = Policy {
            weight: Some(Weighted {
                gate: &gate,
                weight,
            }),
            max_body: Some(MAX_EXCHANGE_INFO_BYTES),
            ..Policy::default()
        };
        let resp = self.core.http()?.get_with(&url, &policy).await?;
        if !resp.is_success() {
            let asked = Asked {
                market,
                symbol: "",
                interval: "",
            };
            return Err(from_response(&asked, &resp));
        }
        let place = format!("Binance {}: GET {url}", market.id());
        let rows = instruments::parse(&resp.body, &place)?;
        Ok((rows, u64::from(resp.attempts)))
    }

    fn archive(&self, market: Market, req: &ListingRequest) -> Result<Archive, ProviderError> {
        let kind = req.kind;
        let dataset = match Series::of(kind) {
            Some(series) => series.vision_dir(),
            None => dataset_word(kind),
        };
        if dataset.is_empty() {
            return Err(ProviderError::new(
                ErrorKind::UNSUPPORTED_SOURCE,
                format!("Binance Vision has no archive of {kind}"),
            ));
        }
        if req.dates && kind.has_interval() && req.interval.is_empty() {
            return Err(ProviderError::new(
                ErrorKind::INVALID_INTERVAL,
                format!("archive days of {kind} need an interval"),
            ));
        }
        let host_url = self
            .core
            .config
            .endpoint("vision_listing")
            .unwrap_or(s3::DEFAULT_LISTING_URL)
            .trim_end_matches('/')
            .to_string();
        Ok(Archive {
            http: self.core.http()?,
            host_url,
            market,
            kind,
            dataset,
            interval: req.interval.to_string(),
            monthly_only: kind == DataKind::FUNDING || monthly_only(&req.interval),
            requests: Default::default(),
            slots: self.archive_slots.clone(),
        })
    }
}

/// The archive's symbols, each with its days when `dates`.
async fn archive_spans(
    archive: Arc<Archive>,
    dates: bool,
) -> Result<Vec<ArchiveSpan>, ProviderError> {
    let symbols = archive.symbols().await?;
    let mut days = vec![None; symbols.len()];
    if dates {
        let mut tasks = JoinSet::new();
        for (i, symbol) in symbols.iter().enumerate() {
            let (archive, symbol) = (archive.clone(), symbol.clone());
            tasks.spawn(async move { (i, archive.days(&symbol).await) });
        }
        while let Some(done) = tasks.join_next().await {
            let (i, found) = done.map_err(|e| {
                ProviderError::new(ErrorKind::INTERNAL, format!("a listing task failed: {e}"))
            })?;
            days[i] = found?;
        }
    }
    Ok(symbols
        .into_iter()
        .zip(days)
        .map(|(symbol, days)| ArchiveSpan {
            symbol: symbol.into(),
            kind: archive.kind,
            interval: archive.interval.as_str().into(),
            first_day_ms: days.map(|d| d.0).into(),
            last_day_ms: days.map(|d| d.1).into(),
        })
        .collect())
}
