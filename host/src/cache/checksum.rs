//! A period file's own checksum, for records outside the cache (sync lockfiles).

use super::files;
use super::format::{Footer, CHECKSUM_KEY};
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
        let path = self.path(key, period_start)?;
        let corrupt = |message: String| CacheError::Corrupt {
            path: path.clone(),
            message,
        };
        let bytes = files::read_regular(&path).map_err(|source| CacheError::Io {
            path: path.clone(),
            source,
        })?;
        let Some(mut bytes) = bytes else {
            return Ok(None);
        };
        let footer = Footer::parse(&bytes).map_err(corrupt)?;
        let stored = footer
            .metadata
            .get(CHECKSUM_KEY)
            .cloned()
            .ok_or_else(|| corrupt("the file has no checksum".into()))?;
        footer.check_checksum(&mut bytes).map_err(corrupt)?;
        Ok(Some(stored))
    }
}
