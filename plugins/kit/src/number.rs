//! Fast paths for the numbers archive CSVs are made of: plain decimals (`16541.77000000`)
//! and integers (`1672531200000`). Each gives exactly what `str::parse` gives, or `None`
//! for anything else (exponents, signs other than `-`, spaces, long digit strings), which
//! the caller then hands to `str::parse` for its answer or its error. They exist because a
//! year of 1m candles is 5 million decimals: `str::parse::<f64>` is general (any length,
//! exponents, infinities) and costs several times a loop over 10-15 digits.

/// Decimal digits exactly representable in an f64's 53-bit mantissa, with room to spare
/// (a longer cell may wrap while its digits are counted; it is then refused).
const MAX_DIGITS: usize = 15;

/// Powers of ten exactly representable as f64 (10^0 ..= 10^22).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `[-]digits[.digits]` with at most 15 digits in all, as the f64 `str::parse` returns.
///
/// Clinger's fast path: the digits as an integer below 10^15 and the power of ten are both
/// exact in f64, so the one division is correctly rounded, which is what `str::parse`
/// guarantees too: the same bits.
pub fn decimal(text: &[u8]) -> Option<f64> {
    whole(decimal_field(text)?, text)
}

/// `[-]digits` with at most 18 digits (no overflow of i64), as `str::parse::<i64>` returns.
pub fn integer(text: &[u8]) -> Option<i64> {
    whole(integer_field(text)?, text)
}

/// `digits` with at most 19 digits (no overflow of u64), as `str::parse::<u64>` returns.
pub fn unsigned(text: &[u8]) -> Option<u64> {
    whole(unsigned_field(text)?, text)
}

/// The value when it used all of `text` (no comma in it).
fn whole<T>((value, used): (T, usize), text: &[u8]) -> Option<T> {
    (used == text.len()).then_some(value)
}

/// [`decimal`] of the cell at the start of `text`, which ends at the first comma or at the
/// end: the value and the cell's length (the comma not included). A CSV row is then parsed
/// in one pass, without splitting it into fields first.
pub fn decimal_field(text: &[u8]) -> Option<(f64, usize)> {
    let (negative, start) = sign(text);
    let (mut mantissa, mut at) = digits_from(text, start, 0);
    let whole_digits = at - start;
    let mut fraction = 0;
    if text.get(at) == Some(&b'.') {
        at += 1;
        // Binance writes 8 decimals: taken together when they are there.
        if let Some(eight) = text.get(at..at + 8).and_then(eight_digits) {
            mantissa = mantissa.wrapping_mul(100_000_000).wrapping_add(eight);
            at += 8;
        }
        (mantissa, at) = digits_from(text, at, mantissa);
        fraction = at - start - whole_digits - 1;
    }
    let digits = whole_digits + fraction;
    if digits == 0 || digits > MAX_DIGITS || !ends_cell(text, at) {
        return None;
    }
    let value = mantissa as f64 / POW10[fraction];
    Some((if negative { -value } else { value }, at))
}

/// The digits from `at` on, appended to `value` (wrapping: the caller counts them); the
/// value and where they end.
#[inline]
fn digits_from(text: &[u8], mut at: usize, mut value: u64) -> (u64, usize) {
    while let Some(&b) = text.get(at) {
        if !b.is_ascii_digit() {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        at += 1;
    }
    (value, at)
}

/// Whether a cell ends at `at`: the end of the text or a comma.
#[inline]
fn ends_cell(text: &[u8], at: usize) -> bool {
    matches!(text.get(at), None | Some(b','))
}

/// Eight ASCII digits as their value, in a few word operations (the digits read as one
/// little-endian u64, pairs, then fours, then the eight combined); None if any is not a
/// digit.
#[inline]
fn eight_digits(bytes: &[u8]) -> Option<u64> {
    let v = u64::from_le_bytes(bytes.try_into().ok()?);
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // Every byte 0x30..=0x3F, and adding 6 keeps it there: 0x30..=0x39.
    if v & HIGH != ZEROS || v.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    let v = v - ZEROS;
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const LOW: u64 = 0x0000_00FF_0000_00FF;
    let a = (v & LOW).wrapping_mul(100 + (1_000_000 << 32));
    let b = ((v >> 16) & LOW).wrapping_mul(1 + (10_000 << 32));
    Some(a.wrapping_add(b) >> 32)
}

/// [`integer`] of the cell at the start of `text` (see [`decimal_field`]).
pub fn integer_field(text: &[u8]) -> Option<(i64, usize)> {
    let (negative, start) = sign(text);
    let (value, end) = digits_field(text, start, 18)?;
    let value = value as i64;
    Some((if negative { -value } else { value }, end))
}

/// [`unsigned`] of the cell at the start of `text` (see [`decimal_field`]).
pub fn unsigned_field(text: &[u8]) -> Option<(u64, usize)> {
    digits_field(text, 0, 19)
}

fn sign(text: &[u8]) -> (bool, usize) {
    match text.first() {
        Some(b'-') => (true, 1),
        _ => (false, 0),
    }
}

/// 1 to `max` digits from `start` up to a comma or the end (19 digits always fit in u64).
fn digits_field(text: &[u8], start: usize, max: usize) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    let mut end = text.len();
    for (i, &b) in text.iter().enumerate().skip(start) {
        match b {
            b'0'..=b'9' => value = value.wrapping_mul(10).wrapping_add(u64::from(b - b'0')),
            b',' => {
                end = i;
                break;
            }
            _ => return None,
        }
    }
    let digits = end - start;
    if digits == 0 || digits > max {
        return None;
    }
    Some((value, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the fast path answers is what `str::parse` answers, bit for bit.
    fn same_as_std(s: &str) -> bool {
        let got = decimal(s.as_bytes());
        if let Some(v) = got {
            let want: f64 = s.parse().expect("std parses what the fast path does");
            assert_eq!(v.to_bits(), want.to_bits(), "{s}");
        }
        got.is_some()
    }

    #[test]
    fn decimals_are_bit_for_bit_those_of_str_parse() {
        for s in [
            "16541.77000000",
            "0.00000000",
            "0.31600000",
            "-0.00042931",
            "27",
            "123456789012345",
            "1234567.89012345",
            "0.1",
            "0.3",
            "9999999.99999999",
            "-0",
            "5.",
            ".5",
            "0.00000000000001",
        ] {
            assert!(same_as_std(s), "{s} takes the fast path");
        }
        // A pseudo-random sweep of prices with 8 decimals, as Binance writes them.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let cents = x % 10_000_000_000_000;
            let s = format!("{}.{:08}", cents / 100_000_000, cents % 100_000_000);
            assert!(same_as_std(&s), "{s}");
        }
    }

    #[test]
    fn anything_else_is_left_to_str_parse() {
        for s in [
            "",
            "-",
            ".",
            "1e5",
            "+1",
            " 1",
            "1 ",
            "1.2.3",
            "NaN",
            "inf",
            "x",
            "1,5",
            // 16 digits: beyond the exact range, std decides.
            "1234567890123456",
            "0.1234567890123456",
        ] {
            assert_eq!(decimal(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn eight_digits_at_once() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x % 100_000_000;
            let s = format!("{n:08}");
            assert_eq!(eight_digits(s.as_bytes()), Some(n), "{s}");
        }
        for bad in [
            "1234567/",
            "1234567:",
            "a2345678",
            "1234 678",
            "\u{0}2345678",
        ] {
            assert_eq!(eight_digits(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn fields_end_at_a_comma() {
        assert_eq!(decimal_field(b"16541.77,1"), Some((16541.77, 8)));
        assert_eq!(decimal_field(b"-0.5"), Some((-0.5, 4)));
        assert_eq!(decimal_field(b",1"), None);
        assert_eq!(decimal_field(b"1 ,2"), None);
        assert_eq!(
            integer_field(b"1672531200000,x"),
            Some((1_672_531_200_000, 13))
        );
        assert_eq!(integer_field(b"-7"), Some((-7, 2)));
        assert_eq!(unsigned_field(b"4521,0"), Some((4521, 4)));
        assert_eq!(unsigned_field(b"-1,0"), None);
        // A comma inside is not a whole number.
        assert_eq!(decimal(b"1,5"), None);
        assert_eq!(integer(b"1,5"), None);
    }

    #[test]
    fn integers_match_str_parse() {
        for s in [
            "0",
            "1672531200000",
            "1735689600000000",
            "-42",
            "999999999999999999",
        ] {
            assert_eq!(integer(s.as_bytes()), Some(s.parse().unwrap()), "{s}");
        }
        for s in ["", "-", "+1", "1.5", " 1", "9999999999999999999"] {
            assert_eq!(integer(s.as_bytes()), None, "{s:?}");
        }
        assert_eq!(unsigned(b"4521"), Some(4521));
        assert_eq!(unsigned(b"18446744073709551614"), None);
        assert_eq!(unsigned(b"18446744073709551615"), None);
        for s in ["", "-1", "1x"] {
            assert_eq!(unsigned(s.as_bytes()), None, "{s:?}");
        }
    }
}
