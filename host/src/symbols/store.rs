//! Listings kept on disk, apart from the candle cache: `{cache root}/listings/{provider}/
//! {market}/instruments.json` and `archive-{kind}[-{interval}][-days].json`, each written
//! atomically (a temporary file renamed over the old one) with the time it was fetched.
//! A part older than its expiry, stamped in the future, unreadable or of another format is
//! listed again, never trusted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dsm_sdk::{
    abi_stable::std_types::{ROption, RString},
    listing_module::{ArchiveSpan, Instrument},
    DataKind,
};
use serde::{Deserialize, Serialize};

/// Instruments change with listings and status switches: an hour.
pub const INSTRUMENTS_MAX_AGE: Duration = Duration::from_secs(3600);
/// The archive grows by one file per series a day: a day.
pub const ARCHIVE_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

const FORMAT: u32 = 1;

pub(super) struct Store {
    dir: PathBuf,
}

/// One instrument as stored.
#[derive(Serialize, Deserialize)]
struct Inst {
    symbol: String,
    status: Option<String>,
    base: Option<String>,
    quote: Option<String>,
    contract_type: Option<String>,
    listed_ms: Option<i64>,
    delivery_ms: Option<i64>,
}

/// One archive directory as stored.
#[derive(Serialize, Deserialize)]
struct Span {
    symbol: String,
    first_day_ms: Option<i64>,
    last_day_ms: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct File<T> {
    format: u32,
    fetched_at_ms: i64,
    rows: Vec<T>,
}

/// The file name of an archive listing of `kind` (at `interval`), with days or without.
pub(super) fn archive_key(kind: DataKind, interval: Option<&str>, days: bool) -> String {
    let mut key = format!("archive-{}", kind.name());
    if let Some(iv) = interval {
        key += &format!("-{iv}");
    }
    if days {
        key += "-days";
    }
    key + ".json"
}

impl Store {
    pub(super) fn new(root: &Path, provider: &str, market: &str) -> Store {
        Store {
            dir: root.join("listings").join(provider).join(market),
        }
    }

    pub(super) fn instruments(&self) -> Option<Vec<Instrument>> {
        let rows: Vec<Inst> = self.read("instruments.json", INSTRUMENTS_MAX_AGE)?;
        Some(rows.into_iter().map(Inst::into_abi).collect())
    }

    /// Saves `rows`; a warning when that failed (the listing itself is still good).
    pub(super) fn save_instruments(&self, rows: &[Instrument]) -> Option<String> {
        let rows: Vec<Inst> = rows.iter().map(Inst::from_abi).collect();
        self.write("instruments.json", rows)
    }

    /// The archive spans stored under `key` (kind and interval as named by the key).
    pub(super) fn archive(
        &self,
        key: &str,
        kind: DataKind,
        interval: &str,
    ) -> Option<Vec<ArchiveSpan>> {
        let rows: Vec<Span> = self.read(key, ARCHIVE_MAX_AGE)?;
        Some(
            rows.into_iter()
                .map(|s| ArchiveSpan {
                    symbol: s.symbol.into(),
                    kind,
                    interval: interval.into(),
                    first_day_ms: s.first_day_ms.into(),
                    last_day_ms: s.last_day_ms.into(),
                })
                .collect(),
        )
    }

    pub(super) fn save_archive(&self, key: &str, rows: &[ArchiveSpan]) -> Option<String> {
        let rows: Vec<Span> = rows
            .iter()
            .map(|a| Span {
                symbol: a.symbol.to_string(),
                first_day_ms: a.first_day_ms.into_option(),
                last_day_ms: a.last_day_ms.into_option(),
            })
            .collect();
        self.write(key, rows)
    }

    fn read<T: for<'de> Deserialize<'de>>(&self, name: &str, max_age: Duration) -> Option<Vec<T>> {
        let path = self.dir.join(name);
        // Only a regular file: never follow a symlink planted in the cache.
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > 64 << 20 {
            return None;
        }
        let file: File<T> = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        let age = dsm_sdk::time::now_ms() - file.fetched_at_ms;
        let fresh = file.format == FORMAT && (0..max_age.as_millis() as i64).contains(&age);
        fresh.then_some(file.rows)
    }

    fn write<T: Serialize>(&self, name: &str, rows: Vec<T>) -> Option<String> {
        let file = File {
            format: FORMAT,
            fetched_at_ms: dsm_sdk::time::now_ms(),
            rows,
        };
        let result = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".tmp-listing-")
                .tempfile_in(&self.dir)?;
            serde_json::to_writer(&mut tmp, &file)?;
            tmp.as_file().sync_all()?;
            tmp.persist(self.dir.join(name)).map_err(|e| e.error)?;
            Ok(())
        })();
        result.err().map(|e| {
            format!(
                "the listing could not be kept in {}: {e} (it is listed again next time)",
                self.dir.display()
            )
        })
    }
}

impl Inst {
    fn from_abi(i: &Instrument) -> Inst {
        let text = |o: &ROption<RString>| o.as_ref().into_option().map(|s| s.to_string());
        Inst {
            symbol: i.symbol.to_string(),
            status: text(&i.status),
            base: text(&i.base),
            quote: text(&i.quote),
            contract_type: text(&i.contract_type),
            listed_ms: i.listed_ms.into_option(),
            delivery_ms: i.delivery_ms.into_option(),
        }
    }

    fn into_abi(self) -> Instrument {
        let text = |o: Option<String>| o.map(RString::from).into();
        Instrument {
            symbol: self.symbol.into(),
            status: text(self.status),
            base: text(self.base),
            quote: text(self.quote),
            contract_type: text(self.contract_type),
            listed_ms: self.listed_ms.into(),
            delivery_ms: self.delivery_ms.into(),
        }
    }
}
