//! Opening plugin libraries: once per file per process, serialized, never unloaded.
//!
//! Uses `lib_header_from_path` + `init_root_module` rather than
//! `RootModule::load_from_file`, which caches one module per type and would hand every
//! later plugin the first one (see shared/docs/plugin-loading.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dsm_sdk::{
    abi_stable::{
        abi_stability::abi_checking::check_layout_compatibility,
        library::{lib_header_from_path, LibraryError, RawLibrary, RootModuleError},
        type_layout::TypeLayout,
    },
    data_module::{self, DataModuleExport, DataModuleV1_Ref, DATA_MODULE_V1_SYMBOL},
    listing_module::{self, ListingModuleExport, ListingModuleV1_Ref, LISTING_MODULE_V1_SYMBOL},
    PluginModule_Ref, SDK_VERSION,
};
use once_cell::sync::{Lazy, OnceCell};

use crate::discovery::PluginFile;
use crate::error::{DsmError, Result};

/// A plugin library opened and checked, with how long that took.
#[derive(Clone, Copy)]
pub struct LoadedModule {
    pub module: PluginModule_Ref,
    /// The data-kinds module; None for a plugin built before data kinds.
    pub data: Option<DataModuleV1_Ref>,
    /// The symbol-listing module; None for a plugin built before listings.
    pub listing: Option<ListingModuleV1_Ref>,
    pub load_time: Duration,
}

type Cell = Arc<OnceCell<std::result::Result<LoadedModule, String>>>;

/// A plugin library this process has opened.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPlugin {
    /// Canonical path of the library.
    pub path: PathBuf,
    /// The provider it serves.
    pub provider: String,
    /// How long opening and initializing it took.
    pub load_time: Duration,
    /// How many times the library was opened: 1, however many threads raced for it.
    pub opens: u32,
}

/// Canonical plugin path -> its load result, for the life of the process.
static MODULES: Lazy<Mutex<HashMap<PathBuf, Cell>>> = Lazy::new(Default::default);
/// Canonical plugin path -> how many times it was opened (kept apart from the cells, so
/// that a broken once-only guarantee would show).
static OPENS: Lazy<Mutex<HashMap<PathBuf, u32>>> = Lazy::new(Default::default);
/// Loads are serialized: abi_stable's checks and the dynamic loader are not built for races.
static LOAD_LOCK: Mutex<()> = Mutex::new(());

/// The plugin's module, opening the library on the first call for this file. Concurrent
/// first calls open it exactly once; a failed load is remembered and reported again.
pub fn load(plugin: &PluginFile) -> Result<LoadedModule> {
    let key = plugin
        .path
        .canonicalize()
        .map_err(|e| DsmError::io(format!("plugin {}", plugin.path.display()), e))?;
    let cell = {
        let mut map = MODULES.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key.clone()).or_default().clone()
    };
    cell.get_or_init(|| {
        let _serial = LOAD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        *OPENS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default() += 1;
        let started = Instant::now();
        let module = open(&key, plugin.manifest.id())?;
        let (data, listing) = open_modules(&key)?;
        let load_time = started.elapsed();
        tracing::debug!("loaded plugin {} in {load_time:?}", key.display());
        Ok(LoadedModule {
            module,
            data,
            listing,
            load_time,
        })
    })
    .clone()
    .map_err(|message| DsmError::Plugin {
        path: plugin.path.clone(),
        message,
    })
}

/// The plugin libraries this process has opened successfully, by path.
pub fn loaded_plugins() -> Vec<LoadedPlugin> {
    let map = MODULES.lock().unwrap_or_else(|e| e.into_inner());
    let opens = OPENS.lock().unwrap_or_else(|e| e.into_inner());
    let mut out: Vec<LoadedPlugin> = map
        .iter()
        .filter_map(|(path, cell)| match cell.get() {
            Some(Ok(m)) => Some(LoadedPlugin {
                path: path.clone(),
                provider: m.module.plugin_id().to_string(),
                load_time: m.load_time,
                opens: opens.get(path).copied().unwrap_or(0),
            }),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn open(path: &Path, manifest_id: &str) -> std::result::Result<PluginModule_Ref, String> {
    let header = lib_header_from_path(path).map_err(describe)?;
    let module = header
        .init_root_module::<PluginModule_Ref>()
        .map_err(describe)?;
    let id = module.plugin_id();
    if id.as_str() != manifest_id {
        return Err(format!(
            "its manifest says provider {manifest_id:?} but its code says {:?}: the file was \
             altered or built wrongly; rebuild the plugin",
            id.as_str()
        ));
    }
    Ok(module)
}

/// The plugin's data-kinds and listing modules, each if it exports one, their layouts
/// checked against this host's. The library is already open (this only takes another
/// reference, never dropped).
#[allow(clippy::type_complexity)]
fn open_modules(
    path: &Path,
) -> std::result::Result<(Option<DataModuleV1_Ref>, Option<ListingModuleV1_Ref>), String> {
    let lib = RawLibrary::load_at(path).map_err(describe)?;
    let lib: &'static RawLibrary = Box::leak(Box::new(lib));
    // SAFETY: the symbol, when present, is the `DataModuleExport` static that
    // `export_provider!` writes; its layout is checked before anything in it is called.
    // A data symbol's value is its address: asked for as a pointer (libloading requires
    // pointer-sized symbol types).
    let data = match unsafe { lib.get::<*const DataModuleExport>(DATA_MODULE_V1_SYMBOL) } {
        Ok(sym) => {
            // SAFETY: a static of a library that is never unloaded.
            let export: &'static DataModuleExport = unsafe { &**sym };
            check_module(data_module::expected_layout(), export.layout, "data-kinds")?;
            Some((export.module)())
        }
        Err(_) => None,
    };
    // SAFETY: as above, for the `ListingModuleExport` static.
    let listing = match unsafe { lib.get::<*const ListingModuleExport>(LISTING_MODULE_V1_SYMBOL) } {
        Ok(sym) => {
            // SAFETY: a static of a library that is never unloaded.
            let export: &'static ListingModuleExport = unsafe { &**sym };
            check_module(listing_module::expected_layout(), export.layout, "listing")?;
            Some((export.module)())
        }
        Err(_) => None,
    };
    Ok((data, listing))
}

fn check_module(
    expected: &'static TypeLayout,
    found: &'static TypeLayout,
    what: &str,
) -> std::result::Result<(), String> {
    check_layout_compatibility(expected, found).map_err(|e| {
        format!(
            "its {what} module does not match this host's dsm-sdk {SDK_VERSION}; rebuild \
             the plugin. Details: {}",
            first_lines(&e.to_string(), 12)
        )
    })
}

/// A plain explanation of a load failure, with the remedy.
fn describe(err: LibraryError) -> String {
    match err {
        LibraryError::OpenError { err, .. } => {
            let text = err.to_string();
            if text.contains("too short") {
                format!("the file is truncated or not a library ({text}); reinstall the plugin")
            } else {
                format!("cannot be opened as a library ({text})")
            }
        }
        LibraryError::GetSymbolError { .. } => {
            "is a shared library but not a dsm plugin (it has no abi_stable root module); \
             build plugins with dsm_sdk::export_provider!"
                .to_string()
        }
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => format!(
            "was built with dsm-sdk {actual_version}, which this host (dsm-sdk {SDK_VERSION}, \
             accepts {expected_version} compatible) cannot use; rebuild the plugin against \
             dsm-sdk {SDK_VERSION}"
        ),
        LibraryError::AbiInstability(e) => format!(
            "its interface does not match this host's dsm-sdk {SDK_VERSION} although the \
             versions claim to be compatible; rebuild the plugin. Details: {}",
            first_lines(&e.to_string(), 12)
        ),
        LibraryError::RootModule { err, .. } => match err {
            RootModuleError::Unwound => "panicked while initializing its root module".to_string(),
            RootModuleError::Returned(e) => format!("failed to initialize: {e}"),
        },
        other => format!(
            "could not be loaded: {}",
            first_lines(&other.to_string(), 12)
        ),
    }
}

fn first_lines(s: &str, n: usize) -> String {
    let mut lines: Vec<&str> = s.lines().take(n + 1).collect();
    if lines.len() > n {
        lines.truncate(n);
        lines.push("...");
    }
    lines.join("\n")
}
