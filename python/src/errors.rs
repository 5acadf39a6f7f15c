//! dsm_core errors as the Python exceptions that `dsm._errors` defines (pure Python, so
//! that `except dsm.DSMError` needs no native code).

use dsm_core::DsmError;
use pyo3::prelude::*;
use pyo3::types::PyType;

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    Ok(py
        .import("dsm._errors")?
        .getattr(name)?
        .cast_into::<PyType>()?)
}

/// An exception of class `name` (from `dsm._errors`) with `message`.
pub fn raise(py: Python<'_>, name: &str, message: String) -> PyErr {
    match class(py, name) {
        Ok(cls) => PyErr::from_type(cls, message),
        Err(e) => e,
    }
}

/// Usage errors (bad names, symbols, times) are `InvalidInputError` (a `ValueError`);
/// cancellation is `CancelledError`; the rest (network, exchange, plugin) `FetchError`.
pub fn to_py(py: Python<'_>, e: DsmError) -> PyErr {
    let name = if e.is_usage() {
        "InvalidInputError"
    } else if e.provider_kind() == Some(dsm_sdk::ErrorKind::CANCELLED) {
        "CancelledError"
    } else {
        "FetchError"
    };
    raise(py, name, e.to_string())
}

pub fn invalid(py: Python<'_>, message: String) -> PyErr {
    raise(py, "InvalidInputError", message)
}
