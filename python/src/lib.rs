//! `dsm._native`: the Rust half of the `dsm` Python package. The pure-Python package
//! (`python/dsm/`) owns the user-facing API and loads this module on first use, so that
//! `import dsm` stays instant; this module owns everything that touches dsm_core.

mod errors;
mod logs;
mod manager;
mod settings;
mod sync;
mod table;
mod wait;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Every provider found along the search path (`extra_dirs` first), from manifests alone:
/// a list of dicts {id, name, path, markets: [{id, aliases, intervals, symbol_example}]}.
#[pyfunction]
fn list_providers(py: Python<'_>, extra_dirs: Vec<std::path::PathBuf>) -> PyResult<Py<PyList>> {
    let listing = py.detach(|| dsm_core::list_providers(&extra_dirs));
    let out = PyList::empty(py);
    for (id, plugin) in &listing.plugins {
        let markets = PyList::empty(py);
        for m in &plugin.manifest.plugin.markets {
            let d = PyDict::new(py);
            d.set_item("id", &m.id)?;
            d.set_item("aliases", &m.aliases)?;
            d.set_item("intervals", &m.intervals)?;
            d.set_item("symbol_example", &m.symbol_example)?;
            markets.append(d)?;
        }
        let d = PyDict::new(py);
        d.set_item("id", id)?;
        d.set_item("name", &plugin.manifest.plugin.name)?;
        d.set_item("path", &plugin.path)?;
        d.set_item("markets", markets)?;
        out.append(d)?;
    }
    Ok(out.unbind())
}

/// The plugin libraries this process has opened: a list of (provider, path, opens).
#[pyfunction]
fn loaded_plugins() -> Vec<(String, std::path::PathBuf, u32)> {
    dsm_core::loaded_plugins()
        .into_iter()
        .map(|p| (p.provider, p.path, p.opens))
        .collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(list_providers, m)?)?;
    m.add_function(wrap_pyfunction!(loaded_plugins, m)?)?;
    m.add_class::<manager::Manager>()?;
    m.add_class::<table::Table>()?;
    m.add_class::<table::Batch>()?;
    m.add_class::<manager::Stream>()?;
    Ok(())
}
