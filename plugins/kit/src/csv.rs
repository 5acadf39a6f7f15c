//! Streaming CSV as exchange archives write it: one record a line, comma-separated, no
//! quoting, an optional header row, `\n` or `\r\n` line ends, trailing newline optional.
//!
//! Lines are read one at a time, so a large file never sits in memory as text. Errors say
//! where: read failures (a corrupt or truncated stream, a zip bomb cut off) are `INTEGRITY`,
//! malformed content is `PARSE` naming the line.

use std::io::BufRead;

use dsm_sdk::{ErrorKind, ProviderError};

/// Largest line accepted; a kline row is ~150 bytes.
pub const MAX_LINE: usize = 64 * 1024;

fn parse_error(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::PARSE, message)
}

/// Call `f(line_number, line)` for every non-blank line (numbers start at 1 and count blank
/// lines too), without its line end. `place` names the file in errors. `f`'s errors pass
/// through unchanged. A line that lies whole in the reader's buffer (nearly all of them) is
/// handed over from there; only one split across two fills is copied.
pub fn for_each_line(
    reader: &mut dyn BufRead,
    place: &str,
    mut f: impl FnMut(usize, &str) -> Result<(), ProviderError>,
) -> Result<(), ProviderError> {
    let mut buf = Vec::with_capacity(256);
    let mut number = 0;
    let read_error = |number: usize, e: std::io::Error| {
        ProviderError::new(
            ErrorKind::INTEGRITY,
            format!("{place}: cannot read line {}: {e}", number + 1),
        )
    };
    loop {
        let available = reader.fill_buf().map_err(|e| read_error(number, e))?;
        if let Some(i) = memchr::memchr(b'\n', available) {
            if i < MAX_LINE {
                let used = i + 1;
                number += 1;
                one_line(&available[..used], place, number, &mut f)?;
                reader.consume(used);
                continue;
            }
        }
        buf.clear();
        let n = read_line(reader, &mut buf).map_err(|e| read_error(number, e))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        one_line(&buf, place, number, &mut f)?;
    }
}

/// One raw line (line end included) checked and handed to `f` unless blank.
fn one_line(
    raw: &[u8],
    place: &str,
    number: usize,
    f: &mut impl FnMut(usize, &str) -> Result<(), ProviderError>,
) -> Result<(), ProviderError> {
    if raw.len() > MAX_LINE {
        return Err(parse_error(format!(
            "{place} line {number}: longer than {MAX_LINE} bytes"
        )));
    }
    let line = std::str::from_utf8(raw)
        .map_err(|_| parse_error(format!("{place} line {number}: not UTF-8 text")))?;
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() {
        return Ok(());
    }
    f(number, line)
}

/// One line into `buf` (line end included), reading at most a little past [`MAX_LINE`].
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(total);
        }
        let (used, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        buf.extend_from_slice(&available[..used]);
        reader.consume(used);
        total += used;
        if done || buf.len() > MAX_LINE {
            return Ok(total);
        }
    }
}

/// The first `N` comma-separated fields of `line` (more are allowed and ignored); `PARSE`
/// naming the count when there are fewer. One pass over the bytes: fields are a few bytes
/// long, shorter than what a vectorised search pays to start.
pub fn leading_fields<const N: usize>(line: &str) -> Result<[&str; N], ProviderError> {
    let mut out = [""; N];
    if N == 0 {
        return Ok(out);
    }
    let bytes = line.as_bytes();
    let (mut start, mut found) = (0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b',' {
            // A comma is ASCII: both ends are character boundaries.
            out[found] = &line[start..i];
            found += 1;
            start = i + 1;
            if found == N {
                return Ok(out);
            }
        }
    }
    out[found] = &line[start..];
    found += 1;
    if found < N {
        return Err(parse_error(format!(
            "{found} fields where at least {N} are expected"
        )));
    }
    Ok(out)
}

/// Whether `line` is a header row: its first field is not a number. Decided by content,
/// not by file date (some exchanges add headers from some date on, per file).
pub fn is_header(line: &str) -> bool {
    let first = line.split(',').next().unwrap_or("");
    let first = first.trim().trim_start_matches('\u{feff}');
    first.parse::<f64>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines(text: &[u8]) -> Result<Vec<(usize, String)>, ProviderError> {
        let mut out = Vec::new();
        for_each_line(&mut Cursor::new(text), "f.csv", |n, l| {
            out.push((n, l.to_string()));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn line_ends_and_blank_lines() {
        let got = lines(b"a,b\r\n\n1,2\n3,4").unwrap();
        assert_eq!(
            got,
            [(1, "a,b".into()), (3, "1,2".into()), (4, "3,4".into())]
        );
        assert!(lines(b"").unwrap().is_empty());
        assert_eq!(lines(b"1,2\n").unwrap(), [(1, "1,2".into())]);
    }

    #[test]
    fn bad_text_names_the_line() {
        let e = lines(b"1,2\n\xff\xfe\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert_eq!(&*e.message, "f.csv line 2: not UTF-8 text");
        let long = vec![b'1'; MAX_LINE + 10];
        let e = lines(&long).unwrap_err();
        assert!(e.message.contains("line 1: longer than"), "{e}");
    }

    #[test]
    fn fields() {
        let [a, b, c] = leading_fields::<3>("1,x,3,4").unwrap();
        assert_eq!((a, b, c), ("1", "x", "3"));
        let e = leading_fields::<12>("1,2").unwrap_err();
        assert_eq!(&*e.message, "2 fields where at least 12 are expected");
    }

    #[test]
    fn header_detection_by_content() {
        assert!(is_header(
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,\
             taker_buy_volume,taker_buy_quote_volume,ignore"
        ));
        assert!(is_header("\u{feff}open_time,open"));
        assert!(!is_header("1735689600000000,0.31600000,0.31600000"));
        assert!(!is_header("1698364800000,34150.0"));
        assert!(!is_header(" 17,1"));
    }
}
