//! Fast paths for the numbers archive CSVs are made of: plain decimals (`16541.77000000`)
//! and integers (`1672531200000`). Each gives exactly what `str::parse` gives, or `None`
//! for anything else (exponents, signs other than `-`, spaces, long digit strings), which
//! the caller then hands to `str::parse` for its answer or its error. They exist because a
//! year of 1m candles is 5 million decimals: `str::parse::<f64>` is general (any length,
//! exponents, infinities) and costs several times a loop over 10-15 digits.

/// Decimal digits exactly representable in an f64's 53-bit mantissa, with room to spare.
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
    let (negative, body) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let (mut digits, mut fraction) = (0usize, None::<usize>);
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if fraction.is_none() => fraction = Some(body.len() - i - 1),
            _ => return None,
        }
        if digits > MAX_DIGITS {
            return None;
        }
    }
    if digits == 0 {
        return None;
    }
    let value = mantissa as f64 / POW10[fraction.unwrap_or(0)];
    Some(if negative { -value } else { value })
}

/// `[-]digits` with at most 18 digits (no overflow of i64), as `str::parse::<i64>` returns.
pub fn integer(text: &[u8]) -> Option<i64> {
    let (negative, body) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if body.is_empty() || body.len() > 18 {
        return None;
    }
    let mut value: i64 = 0;
    for &b in body {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(b - b'0');
    }
    Some(if negative { -value } else { value })
}

/// `digits` with at most 19 digits (no overflow of u64), as `str::parse::<u64>` returns.
pub fn unsigned(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 {
        return None;
    }
    let mut value: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    Some(value)
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
        assert_eq!(unsigned(b"18446744073709551615"), None);
        for s in ["", "-1", "1x"] {
            assert_eq!(unsigned(s.as_bytes()), None, "{s:?}");
        }
    }
}
