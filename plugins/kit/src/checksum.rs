//! SHA-256 checksum files (`sha256sum` format) and their verification.
//!
//! A checksum file holds `<64 hex digits><two spaces><file name>`, with or without a
//! trailing newline (Binance Vision has both). It is split on whitespace, so either works;
//! `sha256sum`'s binary-mode marker (`*name`) and a leading directory are accepted too.

use dsm_sdk::{ErrorKind, ProviderError};
use sha2::{Digest, Sha256};

/// Largest checksum file accepted: one line of a digest and a file name.
pub const MAX_CHECKSUM_FILE: usize = 4096;

fn integrity(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::INTEGRITY, message)
}

/// The SHA-256 of `data` as 64 lowercase hex digits.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    out
}

/// The digest (lowercase hex) a checksum file gives for `file_name`. `INTEGRITY` when the
/// file is not in `sha256sum` format or names another file.
pub fn parse_sha256_file(content: &[u8], file_name: &str) -> Result<String, ProviderError> {
    let bad = |why: &str| {
        let text = String::from_utf8_lossy(&content[..content.len().min(120)]).into_owned();
        integrity(format!(
            "checksum file of {file_name} is not in sha256sum format ({why}): {text:?}"
        ))
    };
    if content.len() > MAX_CHECKSUM_FILE {
        return Err(bad("too long"));
    }
    let text = std::str::from_utf8(content).map_err(|_| bad("not UTF-8"))?;
    let mut words = text.split_whitespace();
    let digest = words.next().ok_or_else(|| bad("empty"))?;
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("no 64-digit hex digest"));
    }
    if let Some(name) = words.next() {
        let name = name.trim_start_matches('*');
        let bare = name.rsplit('/').next().unwrap_or(name);
        if bare != file_name {
            return Err(integrity(format!(
                "checksum file of {file_name} is for another file: {name}"
            )));
        }
    }
    if words.next().is_some() {
        return Err(bad("more than one entry"));
    }
    Ok(digest.to_ascii_lowercase())
}

/// `Ok` when `data` hashes to `expected_hex`; else `INTEGRITY` with the message
/// `checksum mismatch for <file>: expected <hex> got <hex>`.
pub fn verify_sha256(
    data: &[u8],
    expected_hex: &str,
    file_name: &str,
) -> Result<(), ProviderError> {
    let got = sha256_hex(data);
    if got.eq_ignore_ascii_case(expected_hex) {
        Ok(())
    } else {
        Err(integrity(format!(
            "checksum mismatch for {file_name}: expected {} got {got}",
            expected_hex.to_ascii_lowercase()
        )))
    }
}

/// Parse `checksum_file` and verify `data` against it.
pub fn verify_with_checksum_file(
    data: &[u8],
    checksum_file: &[u8],
    file_name: &str,
) -> Result<(), ProviderError> {
    let expected = parse_sha256_file(checksum_file, file_name)?;
    verify_sha256(data, &expected, file_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "BTCUSDT-1m-2024-01-01.zip";
    /// sha256("abc"), the FIPS 180-2 example.
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digest_is_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), ABC);
    }

    #[test]
    fn parses_with_and_without_trailing_newline() {
        let with = format!("{ABC}  {NAME}\n");
        let without = format!("{ABC}  {NAME}");
        assert_eq!(parse_sha256_file(with.as_bytes(), NAME).unwrap(), ABC);
        assert_eq!(parse_sha256_file(without.as_bytes(), NAME).unwrap(), ABC);
        let crlf = format!("{}  *{NAME}\r\n", ABC.to_uppercase());
        assert_eq!(parse_sha256_file(crlf.as_bytes(), NAME).unwrap(), ABC);
        let bare = format!("{ABC}\n");
        assert_eq!(parse_sha256_file(bare.as_bytes(), NAME).unwrap(), ABC);
        let dir = format!("{ABC}  data/spot/{NAME}");
        assert_eq!(parse_sha256_file(dir.as_bytes(), NAME).unwrap(), ABC);
    }

    #[test]
    fn rejects_malformed_files() {
        for bad in [
            "".to_string(),
            "\n".to_string(),
            format!("{}  {NAME}", &ABC[..63]),
            format!("{}x  {NAME}", &ABC[..63]),
            "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>".to_string(),
            format!("{ABC}  {NAME}\n{ABC}  other.zip\n"),
        ] {
            let e = parse_sha256_file(bad.as_bytes(), NAME).unwrap_err();
            assert_eq!(e.kind, ErrorKind::INTEGRITY, "{bad:?}");
        }
        let other = format!("{ABC}  ETHUSDT-1m-2024-01-01.zip");
        let e = parse_sha256_file(other.as_bytes(), NAME).unwrap_err();
        assert!(e.message.contains("for another file"), "{e}");
    }

    #[test]
    fn verification_names_file_and_both_digests() {
        let file = format!("{ABC}  {NAME}\n");
        verify_with_checksum_file(b"abc", file.as_bytes(), NAME).unwrap();
        let e = verify_with_checksum_file(b"abd", file.as_bytes(), NAME).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert_eq!(
            &*e.message,
            format!(
                "checksum mismatch for {NAME}: expected {ABC} got {}",
                sha256_hex(b"abd")
            )
        );
    }
}
