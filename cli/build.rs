//! Link flags for the `dsm` binary only (not RUSTFLAGS, which would rebuild every crate).

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    // Packed relative relocations (DT_RELR): the dynamic loader applies the binary's ~34,000
    // relative relocations from a few KB of bitmaps instead of 800 KB of RELA entries, a
    // third of `dsm providers`' instructions before. GNU ld >= 2.38 and lld >= 15 know the
    // flag; ld emits it only when the C library supports it (glibc >= 2.36), else keeps RELA.
    if target.ends_with("linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
