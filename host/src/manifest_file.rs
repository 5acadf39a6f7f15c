//! Read a plugin's manifest straight from its ELF file, without loading it: find the
//! exported `DSM_PLUGIN_MANIFEST` symbol in the dynamic symbol table and read its bytes from
//! the section that holds it. No dlopen, no plugin code runs. A file that is not a regular
//! file (a FIFO would block the read) or is built for another machine is refused first.

use std::fs::File;
use std::path::Path;

use dsm_sdk::{Manifest, MANIFEST_SYMBOL};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, SectionTable, Sym};
use object::read::{ReadCache, ReadRef, SectionIndex};

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
    let is_elf = check_target(&file[..file.len().min(ELF_HEAD)])?;
    let bytes = manifest_bytes(file, file.len() as u64, is_elf)?;
    Manifest::parse(&bytes)
}

fn read_manifest_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let file = open_regular(path)?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    // Read only the parts of the file the lookup needs.
    let mut head = Vec::with_capacity(ELF_HEAD);
    std::io::Read::read_to_end(&mut std::io::Read::take(&file, ELF_HEAD as u64), &mut head)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let is_elf = check_target(&head)?;
    let cache = ReadCache::new(file);
    manifest_bytes(&cache, len, is_elf)
}

/// Opens `path` for reading only if it is a regular file: opened without blocking (a FIFO
/// would wait for a writer forever), then checked on the open descriptor.
fn open_regular(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot be opened: {e}"))?;
    let kind = file
        .metadata()
        .map_err(|e| format!("cannot be inspected: {e}"))?
        .file_type();
    let what = if kind.is_file() {
        return Ok(file);
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(format!(
        "is {what}, not a plugin file: a plugin is a regular libdsm_<id>.so file; remove or rename it"
    ))
}

/// ELF identification and header up to e_machine.
const ELF_HEAD: usize = 20;

/// ELF e_machine values and the names Rust gives those architectures
/// (`std::env::consts::ARCH`).
const MACHINES: &[(u16, &str)] = &[
    (3, "x86"),
    (8, "mips"),
    (20, "powerpc"),
    (21, "powerpc64"),
    (22, "s390x"),
    (40, "arm"),
    (43, "sparc64"),
    (62, "x86_64"),
    (183, "aarch64"),
    (243, "riscv64"),
    (258, "loongarch64"),
];

/// Whether the file starting with `head` is an ELF file (true) or something else (false);
/// an error if it is an ELF file this process cannot load: built for another machine, word
/// size or byte order (dlopen would only say "No such file or directory").
fn check_target(head: &[u8]) -> Result<bool, String> {
    if !head.starts_with(b"\x7fELF") {
        return Ok(false);
    }
    if head.len() < ELF_HEAD {
        // Too short to say: the parser reports it as damaged.
        return Ok(true);
    }
    let bits = |class: u8| match class {
        1 => "32-bit",
        2 => "64-bit",
        _ => "unknown-class",
    };
    let (class, big_endian) = (head[4], head[5] == 2);
    let raw = [head[18], head[19]];
    let machine = if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    };
    let host = std::env::consts::ARCH;
    let host_class = if cfg!(target_pointer_width = "64") {
        2
    } else {
        1
    };
    let host_machine = MACHINES.iter().find(|(_, n)| *n == host).map(|(m, _)| *m);
    let name = MACHINES
        .iter()
        .find(|(m, _)| *m == machine)
        .map_or_else(|| format!("ELF machine {machine}"), |(_, n)| n.to_string());
    let remedy = format!("install the plugin built for {host}");
    if host_machine.is_some_and(|m| m != machine) {
        let size = if class != host_class {
            format!(" ({})", bits(class))
        } else {
            String::new()
        };
        return Err(format!(
            "is built for {name}{size}, this host is {host}: {remedy}"
        ));
    }
    if class != host_class {
        return Err(format!(
            "is a {} ELF file, this host is {} {host}: {remedy}",
            bits(class),
            bits(host_class)
        ));
    }
    if big_endian != cfg!(target_endian = "big") {
        let order = |big| if big { "big-endian" } else { "little-endian" };
        return Err(format!(
            "is a {} build, this host is {} {host}: {remedy}",
            order(big_endian),
            order(!big_endian)
        ));
    }
    Ok(true)
}

/// The ELF header type of this host's word size (other sizes are refused before).
#[cfg(target_pointer_width = "64")]
type Header = object::elf::FileHeader64<object::Endianness>;
#[cfg(not(target_pointer_width = "64"))]
type Header = object::elf::FileHeader32<object::Endianness>;
type Section = <Header as FileHeader>::SectionHeader;

/// An ELF word as u64 (a u32 on 32-bit hosts, where the conversion is not the identity).
#[allow(clippy::useless_conversion)]
fn word(w: <Header as FileHeader>::Word) -> u64 {
    w.into()
}

/// Largest symbol or string table read: real plugins export a few hundred symbols (a few
/// KB); a larger table means a corrupt or hostile file, refused before any allocation.
const MAX_TABLE: u64 = 16 << 20;

/// The bytes of the manifest symbol in the ELF file `data` of `len` bytes, reading only the
/// header, the section table, the dynamic symbol and string tables and the manifest (a few
/// reads; the static symbol table, often megabytes, is never read). Every offset and size
/// comes from the file, so all arithmetic is checked: a hostile file gets an error, never a
/// panic or a read elsewhere.
// ELF words are u32 on 32-bit targets: `.into()` widens them there.
#[allow(clippy::useless_conversion)]
fn manifest_bytes<'data, R: ReadRef<'data>>(
    data: R,
    len: u64,
    is_elf: bool,
) -> Result<Vec<u8>, String> {
    let damaged = |e: object::read::Error| {
        if is_elf {
            format!("is a damaged ELF file, truncated or corrupt ({e}); reinstall the plugin")
        } else {
            "is not a shared library; a plugin is a libdsm_<id>.so built with dsm-sdk".to_string()
        }
    };
    let header = Header::parse(data).map_err(damaged)?;
    let endian = header.endian().map_err(damaged)?;
    let sections = header.sections(endian, data).map_err(damaged)?;
    let (value, size, shndx) = manifest_symbol(&sections, endian, data, len)?;
    if size == 0 || size > MAX_MANIFEST {
        return Err(format!("has a manifest of implausible size {size}"));
    }
    if shndx == elf::SHN_UNDEF || shndx >= elf::SHN_LORESERVE {
        return Err("has a manifest symbol outside any section".into());
    }
    let section = sections
        .section(SectionIndex(shndx.into()))
        .map_err(|e| format!("has a broken section table: {e}"))?;
    let (sec_offset, sec_size) = section
        .file_range(endian)
        .ok_or("has a manifest in a section with no file data")?;
    let rel = value
        .checked_sub(word(section.sh_addr(endian)))
        .filter(|rel| rel.checked_add(size).is_some_and(|end| end <= sec_size))
        .ok_or("has a manifest symbol outside its section")?;
    let offset = sec_offset
        .checked_add(rel)
        .filter(|o| o.checked_add(size).is_some_and(|end| end <= len))
        .ok_or("is too short: the manifest lies past the end of the file (truncated?)")?;
    let bytes = data
        .read_bytes_at(offset, size)
        .map_err(|_| "cannot be read at the manifest's offset (truncated?)".to_string())?;
    Ok(bytes.to_vec())
}

/// (value, size, section index) of the exported manifest symbol, from the dynamic symbol
/// table and its string table, each read whole in one go.
// ELF words are u32 on 32-bit targets: `.into()` widens them there.
#[allow(clippy::useless_conversion)]
fn manifest_symbol<'data, R: ReadRef<'data>>(
    sections: &SectionTable<'data, Header, R>,
    endian: object::Endianness,
    data: R,
    len: u64,
) -> Result<(u64, u64, u16), String> {
    let missing = || {
        format!(
            "exports no {MANIFEST_SYMBOL}: it is not a dsm plugin (build it with dsm_sdk::export_provider!)"
        )
    };
    let dynsym = sections
        .iter()
        .find(|s| s.sh_type(endian) == elf::SHT_DYNSYM)
        .ok_or_else(missing)?;
    let strtab = sections
        .section(SectionIndex(dynsym.sh_link(endian) as usize))
        .map_err(|e| format!("has a broken section table: {e}"))?;
    let table = |s: &Section| -> Result<&'data [u8], String> {
        let fits = s
            .file_range(endian)
            .is_none_or(|(o, n)| n <= MAX_TABLE && o.checked_add(n).is_some_and(|e| e <= len));
        if !fits {
            return Err(
                "is a damaged ELF file, truncated or corrupt (a symbol table lies \
                        past its end or is implausibly large); reinstall the plugin"
                    .into(),
            );
        }
        s.data(endian, data).map_err(|e| {
            format!("is a damaged ELF file, truncated or corrupt ({e}); reinstall the plugin")
        })
    };
    let syms: &[<Header as FileHeader>::Sym] = object::pod::slice_from_all_bytes(table(dynsym)?)
        .map_err(|()| {
            "is a damaged ELF file, truncated or corrupt (a broken dynamic symbol table); \
             reinstall the plugin"
                .to_string()
        })?;
    let strings = table(strtab)?;
    let want = MANIFEST_SYMBOL.as_bytes();
    let named = |sym: &&<Header as FileHeader>::Sym| {
        let name = strings
            .get(sym.st_name(endian) as usize..)
            .unwrap_or_default();
        name.starts_with(want) && name.get(want.len()) == Some(&0)
    };
    let sym = syms.iter().find(named).ok_or_else(missing)?;
    Ok((
        word(sym.st_value(endian)),
        word(sym.st_size(endian)),
        sym.st_shndx(endian),
    ))
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// An ELF header up to e_machine: class, byte order, machine (written in that order).
    fn head(class: u8, big_endian: bool, machine: u16) -> Vec<u8> {
        let mut h = b"\x7fELF".to_vec();
        h.extend([class, if big_endian { 2 } else { 1 }, 1]);
        h.resize(18, 0);
        h.extend(if big_endian {
            machine.to_be_bytes()
        } else {
            machine.to_le_bytes()
        });
        h
    }

    #[test]
    fn elf_files_for_another_target_are_named() {
        assert_eq!(check_target(&head(2, false, 62)), Ok(true));
        assert_eq!(check_target(b"not elf"), Ok(false));
        let cases = [
            (
                head(2, false, 183),
                "is built for aarch64, this host is x86_64",
            ),
            (
                head(1, false, 40),
                "is built for arm (32-bit), this host is x86_64",
            ),
            (
                head(1, false, 62),
                "is a 32-bit ELF file, this host is 64-bit x86_64",
            ),
            (
                head(2, true, 62),
                "is a big-endian build, this host is little-endian x86_64",
            ),
            (
                head(2, false, 9999),
                "is built for ELF machine 9999, this host is x86_64",
            ),
        ];
        for (h, want) in cases {
            let err = check_target(&h).unwrap_err();
            assert!(err.starts_with(want), "{err} should start with {want}");
        }
    }
}
