//! A period file's own checksum, for records outside the cache (sync lockfiles, the
//! dataset manifest).

use super::format::{Footer, CHECKSUM_KEY};
use super::store::{self, At, Bounds};
use super::{Cache, CacheError, SeriesKey};

impl Cache {
    /// The xxh3 checksum (16 hex digits) a period's file carries, checked against its
    /// content first; `Ok(None)` when there is no file. A file whose checksum does not match
    /// its content is `Corrupt`.
    pub fn stored_checksum(
        &self,
        key: &SeriesKey,
        period_start: i64,
    ) -> Result<Option<String>, CacheError> {
        let at = At::new(&*self.storage, self.key_of(key, period_start)?);
        let corrupt = |message: String| CacheError::Corrupt {
            path: at.path.clone(),
            message,
        };
        let file = at.storage.open(&at.key, Bounds::of(key.kind).file);
        let file = file.map_err(|source| CacheError::Io {
            path: at.path.clone(),
            source,
        })?;
        let Some(mut file) = file else {
            return Ok(None);
        };
        let (footer, len) = Footer::read(&mut *file).map_err(corrupt)?;
        let stated = footer
            .metadata
            .get(CHECKSUM_KEY)
            .cloned()
            .ok_or_else(|| corrupt("the file has no checksum".into()))?;
        footer.check_checksum_of(&mut *file, len).map_err(corrupt)?;
        Ok(Some(stated))
    }

    /// The checksum the period's file states, from its footer alone: not verified here
    /// ([`Cache::read_period_of`] verifies it). None when there is no readable file.
    pub fn stated_checksum(&self, key: &SeriesKey, period_start: i64) -> Option<String> {
        let at = At::new(&*self.storage, self.key_of(key, period_start).ok()?);
        store::footer_value(&at, key.kind, CHECKSUM_KEY)
    }
}
