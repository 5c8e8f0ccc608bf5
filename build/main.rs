//! Packs the data tables every bootstrap carries into compact forms, from
//! the crates that stay their one source: the SMS transliterations
//! (deunicode) and the time-zone rules (jiff's bundled zone database).

mod time_zones;
mod transliteration;

use std::io::Write;
use std::path::Path;
use std::{env, fs};

use flate2::Compression;
use flate2::write::DeflateEncoder;

fn main() {
    println!("cargo:rerun-if-changed=build");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let out = Path::new(&out_dir);
    transliteration::pack(out);
    time_zones::pack(out);
}

/// Writes `bytes` deflated at the best level, as `packed::inflate` reads
/// them back.
fn write_deflated(dir: &Path, name: &str, bytes: &[u8]) {
    let mut deflated = DeflateEncoder::new(Vec::new(), Compression::best());
    deflated.write_all(bytes).expect("deflating in memory");
    let deflated = deflated.finish().expect("deflating in memory");
    let path = dir.join(name);
    fs::write(&path, deflated).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
