//! Build script shared by the functions, for release bootstraps on Linux.
//! Only the function binaries get these flags: tests, build scripts and
//! proc-macros link as before.
//!
//! - Linked at a fixed address (not position independent). A PIE carries a
//!   dynamic relocation for every pointer in its read-only data (vtables,
//!   string tables), over a megabyte here, and the loader applies them all
//!   at each cold start; a fixed-address executable has them resolved by
//!   the linker.
//! - With rustc's own linker (the LLD it ships, its default for x86_64
//!   Linux), identical functions are folded into one: generic code
//!   instantiated for several types often compiles to the same machine
//!   code. Earshot never compares function addresses. A build that names
//!   its own linker (cargo-lambda's cross-compiling one, say), or a
//!   toolchain without LLD, is left as it is, since its linker may not take
//!   the flag.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=../bootstrap_link.rs");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    let release = std::env::var("PROFILE").is_ok_and(|profile| profile == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if !(release && linux) {
        return;
    }
    println!("cargo::rustc-link-arg-bins=-no-pie");
    if links_with_rustc_lld() {
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
    }
}

/// Whether the bootstrap is linked by the LLD rustc ships: an x86_64 Linux
/// target, no linker named by the build (cargo configuration or
/// RUSTFLAGS), and a toolchain that has LLD.
fn links_with_rustc_lld() -> bool {
    let x86_64 = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "x86_64");
    let linker_named = std::env::var_os("RUSTC_LINKER").is_some()
        || std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| flags.contains("linker"));
    x86_64 && !linker_named && toolchain_has_lld()
}

fn toolchain_has_lld() -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let (Ok(target), Ok(output)) = (
        std::env::var("TARGET"),
        Command::new(rustc).args(["--print", "sysroot"]).output(),
    ) else {
        return false;
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    sysroot
        .join("lib/rustlib")
        .join(target)
        .join("bin/gcc-ld/ld.lld")
        .is_file()
}
