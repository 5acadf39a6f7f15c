//! Fields of JSON objects (funding rows and the like), with `PARSE` errors naming the field.
//! Exchanges send these numbers as strings or as JSON numbers; both are taken.

use dsm_sdk::{ErrorKind, ProviderError};
use serde_json::Value;

use crate::parse::{decimal, integer};

fn parse_error(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::PARSE, message)
}

/// Field `name` of `row`, which must be an object holding it.
pub fn field<'a>(row: &'a Value, name: &str) -> Result<&'a Value, ProviderError> {
    let obj = row
        .as_object()
        .ok_or_else(|| parse_error(format!("not an object: {}", shorten(row))))?;
    obj.get(name)
        .ok_or_else(|| parse_error(format!("field {name} is missing")))
}

/// A text field (a JSON string; a number is taken as its text).
pub fn text(row: &Value, name: &str) -> Result<String, ProviderError> {
    match field(row, name)? {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(parse_error(format!(
            "field {name}: expected a string, got {}",
            shorten(other)
        ))),
    }
}

/// An integer field (a time): a JSON integer or a string of digits.
pub fn int_field(row: &Value, name: &str) -> Result<i64, ProviderError> {
    integer(&text(row, name)?, &format!("field {name}"))
}

/// A decimal field: a JSON number or a string holding one (finite).
pub fn decimal_field(row: &Value, name: &str) -> Result<f64, ProviderError> {
    decimal(&text(row, name)?, &format!("field {name}"))
}

fn shorten(v: &Value) -> String {
    let mut shown = v.to_string();
    if let Some((cut, _)) = shown.char_indices().nth(60) {
        shown.truncate(cut);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_name_what_is_wrong() {
        let row = json!({"t": "1672041600000", "n": 5, "r": "0.0001", "x": "", "o": {}});
        assert_eq!(int_field(&row, "t").unwrap(), 1_672_041_600_000);
        assert_eq!(int_field(&row, "n").unwrap(), 5);
        assert_eq!(decimal_field(&row, "r").unwrap(), 0.0001);
        assert_eq!(text(&row, "x").unwrap(), "");
        let e = decimal_field(&row, "x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert_eq!(&*e.message, "field x: \"\" is not a decimal number");
        assert_eq!(
            &*int_field(&row, "y").unwrap_err().message,
            "field y is missing"
        );
        assert!(text(&row, "o")
            .unwrap_err()
            .message
            .contains("expected a string"));
        assert!(field(&json!([1]), "t")
            .unwrap_err()
            .message
            .contains("not an object"));
    }
}
