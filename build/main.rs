//! Packs the data tables every bootstrap carries into compact forms, from
//! the crates that stay their one source: the SMS transliterations
//! (deunicode) and the time-zone rules (jiff's bundled zone database).

mod time_zones;
mod transliteration;

use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=build");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let out = Path::new(&out_dir);
    transliteration::pack(out);
    time_zones::pack(out);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
