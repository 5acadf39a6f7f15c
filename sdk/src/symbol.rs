//! The symbol rule, `^[A-Z0-9_-]{1,30}$`: what the host accepts from users, the cache puts
//! in paths and the plugins put in URLs (so no symbol can inject a path or a query).

/// The longest symbol, in bytes.
pub const SYMBOL_MAX_LEN: usize = 30;

/// Whether `b` may appear in a symbol: `A-Z`, `0-9`, `_` or `-`.
pub fn is_symbol_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

/// Whether `symbol` (already uppercased) matches `^[A-Z0-9_-]{1,30}$`.
pub fn is_valid_symbol(symbol: &str) -> bool {
    (1..=SYMBOL_MAX_LEN).contains(&symbol.len()) && symbol.bytes().all(is_symbol_byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_symbol_rule() {
        for ok in [
            "BTCUSDT",
            "BTC-USDT-SWAP",
            "BTCUSD_PERP",
            "1000SHIBUSDT",
            "A",
            &"X".repeat(30),
        ] {
            assert!(is_valid_symbol(ok), "{ok}");
        }
        for bad in [
            "",
            "btcusdt",
            "BTC/USDT",
            "BTC.USDT",
            "../X",
            "BTC USDT",
            "BTCÜSDT",
            &"X".repeat(31),
        ] {
            assert!(!is_valid_symbol(bad), "{bad}");
        }
    }
}
