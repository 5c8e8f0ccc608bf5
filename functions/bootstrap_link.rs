//! Build script shared by the functions: on Linux, a release bootstrap is
//! linked at a fixed address (not position independent). A PIE carries a
//! dynamic relocation for every pointer in its read-only data (vtables,
//! string tables), over a megabyte here, and the loader applies them all at
//! each cold start; a fixed-address executable has them resolved by the
//! linker. Only the function binaries get the flag: tests, build scripts and
//! proc-macros link as before.

fn main() {
    println!("cargo::rerun-if-changed=../bootstrap_link.rs");
    let release = std::env::var("PROFILE").is_ok_and(|profile| profile == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
