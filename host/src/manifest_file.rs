//! Read a plugin's manifest straight from its ELF file, without loading it: find the
//! exported `DSM_PLUGIN_MANIFEST` symbol in the dynamic symbol table and read its bytes from
//! the section that holds it. No dlopen, no plugin code runs.

use std::fs::File;
use std::path::Path;

use dsm_sdk::{Manifest, MANIFEST_SYMBOL};
use object::{read::ReadCache, Object, ObjectSection, ObjectSymbol, ReadRef};

/// Largest manifest accepted; a bigger symbol means a corrupt or hostile file.
const MAX_MANIFEST: u64 = 256 * 1024;

/// The manifest of the plugin file at `path`, or why it cannot be read.
pub fn read_manifest(path: &Path) -> Result<Manifest, String> {
    let bytes = read_manifest_bytes(path)?;
    Manifest::parse(&bytes)
}

/// The manifest from a plugin file's bytes already in memory; the same checks as
/// [`read_manifest`] (which reads only the parts it needs). For tests and fuzzing.
#[doc(hidden)]
pub fn manifest_from_bytes(file: &[u8]) -> Result<Manifest, String> {
    let bytes = manifest_bytes(file, file.len() as u64, file.starts_with(b"\x7fELF"))?;
    Manifest::parse(&bytes)
}

fn read_manifest_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot be opened: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    // Read only the parts of the file the lookup needs.
    let mut magic = [0u8; 4];
    let is_elf = std::io::Read::read_exact(&mut &file, &mut magic).is_ok() && magic == *b"\x7fELF";
    let cache = ReadCache::new(file);
    manifest_bytes(&cache, len, is_elf)
}

/// The bytes of the manifest symbol in the object file `data` of `len` bytes. Every offset
/// and size comes from the file, so all arithmetic is checked: a hostile file gets an
/// error, never a panic or a read elsewhere.
fn manifest_bytes<'data, R: ReadRef<'data>>(
    data: R,
    len: u64,
    is_elf: bool,
) -> Result<Vec<u8>, String> {
    let obj = object::File::parse(data).map_err(|e| {
        if is_elf {
            format!("is a damaged ELF file, truncated or corrupt ({e}); reinstall the plugin")
        } else {
            "is not a shared library; a plugin is a libdsm_<id>.so built with dsm-sdk".to_string()
        }
    })?;
    let sym = obj
        .dynamic_symbols()
        .find(|s| s.name() == Ok(MANIFEST_SYMBOL))
        .ok_or_else(|| {
            format!("exports no {MANIFEST_SYMBOL}: it is not a dsm plugin (build it with dsm_sdk::export_provider!)")
        })?;
    if sym.size() == 0 || sym.size() > MAX_MANIFEST {
        return Err(format!("has a manifest of implausible size {}", sym.size()));
    }
    let index = sym
        .section_index()
        .ok_or("has a manifest symbol outside any section")?;
    let section = obj
        .section_by_index(index)
        .map_err(|e| format!("has a broken section table: {e}"))?;
    let (sec_offset, sec_size) = section
        .file_range()
        .ok_or("has a manifest in a section with no file data")?;
    let rel = sym
        .address()
        .checked_sub(section.address())
        .filter(|rel| {
            rel.checked_add(sym.size())
                .is_some_and(|end| end <= sec_size)
        })
        .ok_or("has a manifest symbol outside its section")?;
    let offset = sec_offset
        .checked_add(rel)
        .filter(|o| o.checked_add(sym.size()).is_some_and(|end| end <= len))
        .ok_or("is too short: the manifest lies past the end of the file (truncated?)")?;
    let bytes = data
        .read_bytes_at(offset, sym.size())
        .map_err(|_| "cannot be read at the manifest's offset (truncated?)".to_string())?;
    Ok(bytes.to_vec())
}
