//! Build script shared by the functions, for release bootstraps on Linux.
//! Only the function binaries get these flags: tests, build scripts and
//! proc-macros link as before.
//!
//! - Linked at a fixed address (not position independent). A PIE carries a
//!   dynamic relocation for every pointer in its read-only data (vtables,
//!   string tables), over a megabyte here, and the loader applies them all
//!   at each cold start; a fixed-address executable has them resolved by
//!   the linker.
//! - With rustc's own linker (LLD, the default for x86_64 Linux), identical
//!   functions are folded into one: generic code instantiated for several
//!   types often compiles to the same machine code. Earshot never compares
//!   function addresses. A build that names its own linker (cargo-lambda's
//!   cross-compiling one, say) is left as it is, since that linker may not
//!   take the flag.

fn main() {
    println!("cargo::rerun-if-changed=../bootstrap_link.rs");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    let release = std::env::var("PROFILE").is_ok_and(|profile| profile == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if !(release && linux) {
        return;
    }
    println!("cargo::rustc-link-arg-bins=-no-pie");
    let x86_64 = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "x86_64");
    let default_linker = std::env::var_os("RUSTC_LINKER").is_none();
    if x86_64 && default_linker {
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
    }
}
