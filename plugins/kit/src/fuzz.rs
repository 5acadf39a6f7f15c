//! Input strategies for the plugins' parser fuzz tests (feature `fuzz`), so that every
//! plugin fuzzes with the same hostile cells.

use proptest::prelude::*;
use serde_json::Value;

/// Text that looks like a number (often) or not.
pub fn numberish() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,20}(\\.[0-9]{0,12})?([eE][-+]?[0-9]{1,4})?",
        "[ 0-9.eE+-]{0,12}",
        "(NaN|inf|-inf|infinity|1e400|-0|0x10|\u{feff}1| 7 )",
        ".{0,16}",
    ]
}

/// One JSON cell of a kline row: any scalar, a number-like string, or a small array.
pub fn json_cell() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        numberish().prop_map(Value::String),
        prop::collection::vec(numberish().prop_map(Value::String), 0..3).prop_map(Value::Array),
    ]
}

/// A kline row: an array of up to `max_cells` cells, or a lone cell.
pub fn json_row(max_cells: usize) -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(json_cell(), 0..max_cells).prop_map(Value::Array),
        json_cell(),
    ]
}

/// An object row: up to five fields named from `names`, with any cells, or a lone cell.
pub fn json_object(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let field = (prop::sample::select(names), json_cell());
    prop_oneof![
        prop::collection::vec(field, 0..6).prop_map(|fields| {
            Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            )
        }),
        json_cell(),
    ]
}
