//! One Vision file: download the zip and its CHECKSUM (together), verify, unzip and parse.
//!
//! A file that cannot be used is a [`Problem`], not an error: the fetch goes on with the
//! other files and reports the file's range as missing, with the reason, so that the host
//! can fill it from REST and tell the user. Only cancellation, a rate limit the client gave
//! up on, and internal failures end the whole fetch.

use std::io::BufRead;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use dsm_plugin_kit::checksum::{verify_with_checksum_file, MAX_CHECKSUM_FILE};
use dsm_plugin_kit::http::Policy;
use dsm_plugin_kit::parse::{ascending, Reordered};
use dsm_plugin_kit::unzip::{read_entry, ZipLimits};
use dsm_plugin_kit::{Concurrency, HttpClient};
use dsm_sdk::{plugin::Host, ErrorKind, Kline, LogLevel, ProviderError};

use super::csv::parse_file;
use super::paths::{Names, VisionFile};
use crate::markets::Market;
use crate::series::Series;

/// Largest zip downloaded. The biggest kline files are days of 1s (a few MB); 64 MiB is
/// ten times that and keeps a bad answer from filling memory.
pub const MAX_ZIP_BYTES: u64 = 64 << 20;

/// What a fetch of Vision files shares.
pub struct Vision {
    pub http: Arc<HttpClient>,
    pub host: Host,
    /// Base URL without a trailing slash.
    pub base_url: String,
    pub market: Market,
    /// Which candle files (klines, mark, ...); funding files ignore it.
    pub series: Series,
    pub symbol: String,
    /// dsm interval name (`1M`, not Vision's `1mo`); empty for other datasets.
    pub interval: String,
    /// The dataset word of files without an interval (`fundingRate`, `aggTrades`, ...).
    pub dataset: &'static str,
    /// Largest zip downloaded (trade days are far larger than candle files).
    pub max_zip: u64,
    /// HTTP requests of this fetch, retries and failed attempts included.
    pub requests: AtomicU64,
    pub limits: ZipLimits,
    /// Requests in flight at most (the archive's own limit, see [`super::concurrency`]),
    /// and the slots that enforce it, shared by the provider's fetches.
    pub concurrency: usize,
    pub slots: Arc<Concurrency>,
}

/// Where a streaming parse sends its chunks of rows ([`Vision::streamed`]).
pub struct Chunks<R> {
    tx: tokio::sync::mpsc::Sender<Vec<R>>,
}

impl<R> Chunks<R> {
    /// Hand `rows` on, waiting while two chunks are still unread.
    pub fn send(&mut self, rows: Vec<R>) -> Result<(), ProviderError> {
        self.tx
            .blocking_send(rows)
            .map_err(|_| ProviderError::new(ErrorKind::CANCELLED, "the fetch stopped reading rows"))
    }
}

/// Why a file's data is not used.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// HTTP 404: the archive does not have it (not published, or no such symbol then).
    NotFound(String),
    /// Anything else: checksum mismatch, corrupt zip, bad rows, failed download.
    Unusable(String),
}

impl Problem {
    pub fn reason(&self) -> &str {
        match self {
            Problem::NotFound(r) | Problem::Unusable(r) => r,
        }
    }
}

/// Errors that end the whole fetch rather than one file.
fn fatal(e: &ProviderError) -> bool {
    matches!(
        e.kind,
        ErrorKind::CANCELLED | ErrorKind::RATE_LIMITED | ErrorKind::INTERNAL | ErrorKind::PANICKED
    )
}

impl Vision {
    fn names(&self) -> Names<'_> {
        Names {
            series: self.series,
            symbol: &self.symbol,
            interval: &self.interval,
        }
    }

    pub fn daily(&self, day_ms: i64) -> VisionFile {
        VisionFile::daily(&self.base_url, self.market, &self.names(), day_ms)
    }

    pub fn monthly(&self, month_ms: i64) -> VisionFile {
        VisionFile::monthly(&self.base_url, self.market, &self.names(), month_ms)
    }

    /// GET `url`: the body of a 2xx, a [`Problem`] for anything else that concerns this
    /// file only, or the error that ends the fetch.
    async fn get(
        &self,
        url: &str,
        file: &str,
        max_body: u64,
    ) -> Result<Result<Vec<u8>, Problem>, ProviderError> {
        let policy = Policy {
            max_body: Some(max_body),
            counter: Some(&self.requests),
            slots: Some(&self.slots),
            ..Policy::default()
        };
        let resp = match self.http.get_with(url, &policy).await {
            Ok(resp) => resp,
            Err(e) if fatal(&e) => return Err(e),
            Err(e) => {
                let why = format!("download of {file} failed: {}", e.message);
                return Ok(Err(Problem::Unusable(why)));
            }
        };
        if resp.is_success() {
            return Ok(Ok(resp.body));
        }
        if resp.status == 404 {
            let s3 = String::from_utf8_lossy(&resp.body).contains("<Code>NoSuchKey</Code>");
            let why = if s3 {
                format!("not in the Binance Vision archive ({file} 404)")
            } else {
                format!(
                    "not in the Binance Vision archive ({file} 404, without S3's NoSuchKey \
                     answer: check DSM_BINANCE_VISION_URL, now {})",
                    self.base_url
                )
            };
            return Ok(Err(Problem::NotFound(why)));
        }
        let why = format!(
            "GET {url} answered HTTP {}: {}",
            resp.status,
            resp.snippet(200)
        );
        Ok(Err(Problem::Unusable(why)))
    }

    /// The candles of `file`, verified against its CHECKSUM, sorted and unique.
    /// `capacity`: the rows expected, to size the vector.
    pub async fn file(
        self: &Arc<Self>,
        file: &VisionFile,
        capacity: usize,
    ) -> Result<Result<Vec<Kline>, Problem>, ProviderError> {
        let (me, name) = (self.clone(), file.name.clone());
        let ohlc_only = self.series.ohlc_only();
        self.decoded(file, move |r, entry| {
            let mut klines = parse_file(r, entry, capacity, ohlc_only)?;
            // Out of order or repeated rows: sorted, exact repeats dropped, conflicts
            // make the file unusable (see `ascending`).
            let fixed = ascending(&mut klines, &format!("{name} ({entry})"))?;
            if fixed != Reordered::default() {
                me.host.log(
                    LogLevel::WARN,
                    &format!(
                        "Binance Vision {name}: rows out of order: {}, exact repeats dropped: {}",
                        fixed.sorted, fixed.duplicates
                    ),
                );
            }
            Ok(klines)
        })
        .await
    }

    /// `file` downloaded, verified against its CHECKSUM, unzipped and read by `decode`
    /// (given the CSV and its entry name), off the runtime's workers.
    pub async fn decoded<T: Send + 'static>(
        self: &Arc<Self>,
        file: &VisionFile,
        decode: impl FnOnce(&mut dyn BufRead, &str) -> Result<T, ProviderError> + Send + 'static,
    ) -> Result<Result<T, Problem>, ProviderError> {
        dsm_plugin_kit::cancel::check(&self.host)?;
        let checksum_name = format!("{}.CHECKSUM", file.name);
        let checksum_url = file.checksum_url();
        // Both at once: one round trip per file instead of two (a missing zip then costs
        // a CHECKSUM request for nothing, which is rare).
        let (zip, sum) = tokio::join!(
            self.get(&file.url, &file.name, self.max_zip),
            self.get(&checksum_url, &checksum_name, MAX_CHECKSUM_FILE as u64)
        );
        let (zip, sum) = (zip?, sum?);
        let zip = match zip {
            Ok(zip) => zip,
            Err(p) => return Ok(Err(self.logged(p))),
        };
        let sum = match sum {
            Ok(sum) => sum,
            Err(Problem::NotFound(_)) => {
                let why = format!(
                    "cannot verify {}: {checksum_name} is not in the archive (404)",
                    file.name
                );
                return Ok(Err(self.logged(Problem::Unusable(why))));
            }
            Err(p) => return Ok(Err(self.logged(p))),
        };
        // Unzipping and parsing is CPU work: off the runtime's workers.
        let me = self.clone();
        let file = file.clone();
        let decoded = tokio::task::spawn_blocking(move || {
            verify_with_checksum_file(&zip, &sum, &file.name)?;
            let entry = file.entry();
            read_entry(&zip, &file.name, &entry, &me.limits, |r| decode(r, &entry))
        })
        .await
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::PANICKED,
                format!("decoding a Binance Vision file panicked: {e}"),
            )
        })?;
        match decoded {
            Ok(rows) => Ok(Ok(rows)),
            Err(e) if fatal(&e) => Err(e),
            Err(e) => Ok(Err(self.logged(Problem::Unusable(e.message.into())))),
        }
    }

    /// `file` read by `parse` off the runtime's workers, streaming: `parse` hands chunks
    /// of rows to its sender as it reads, and each chunk reaches `push` here (on the calling
    /// thread) while the next is parsed, so a large file never sits in memory as rows. At
    /// most two chunks wait. An error of `push` stops the parse and is returned.
    pub async fn streamed<R: Send + 'static, T: Send + 'static>(
        self: &Arc<Self>,
        file: &VisionFile,
        parse: impl FnOnce(&mut dyn BufRead, &str, &mut Chunks<R>) -> Result<T, ProviderError>
            + Send
            + 'static,
        mut push: impl FnMut(Vec<R>) -> Result<(), ProviderError>,
    ) -> Result<Result<T, Problem>, ProviderError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<R>>(2);
        let work = self.decoded(file, move |r, entry| {
            let mut chunks = Chunks { tx };
            parse(r, entry, &mut chunks)
        });
        tokio::pin!(work);
        let (mut open, mut failed) = (true, None);
        let result = loop {
            tokio::select! {
                got = rx.recv(), if open => match got {
                    Some(rows) => {
                        if let Err(e) = push(rows) {
                            rx.close();
                            (open, failed) = (false, Some(e));
                        }
                    }
                    None => open = false,
                },
                res = &mut work => break res,
            }
        };
        while let Ok(rows) = rx.try_recv() {
            if failed.is_none() {
                push(rows)?;
            }
        }
        match failed {
            Some(e) => Err(e),
            None => result,
        }
    }

    /// What the files hold, for log lines: `1h`, `markPriceKlines 1h`, `fundingRate`.
    fn what(&self) -> String {
        match (self.interval.is_empty(), self.series) {
            (true, _) => self.dataset.into(),
            (false, Series::Klines) => self.interval.clone(),
            (false, s) => format!("{} {}", s.vision_dir(), self.interval),
        }
    }

    fn logged(&self, p: Problem) -> Problem {
        let level = match p {
            Problem::NotFound(_) => LogLevel::DEBUG,
            Problem::Unusable(_) => LogLevel::WARN,
        };
        self.host.log(
            level,
            &format!(
                "Binance Vision {} {} {}: {}",
                self.market.id(),
                self.symbol,
                self.what(),
                p.reason()
            ),
        );
        p
    }
}
