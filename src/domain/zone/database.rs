//! The IANA zone database as build/time_zones.rs packs it: one deflated
//! archive of TZif files, inflated the first time a zone is asked for and
//! kept for the life of the process, each zone parsed once on first use.

use std::ops::Range;
use std::sync::OnceLock;

use jiff::tz::TimeZone;

const DEFLATED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/zones.deflate"));

/// The zone called `name`, matched in any letter case.
pub(super) fn zone_named(name: &str) -> Option<TimeZone> {
    let database = DATABASE.get_or_init(Database::inflate).as_ref()?;
    let zone = database
        .zones
        .iter()
        .find(|zone| database.text(&zone.name).eq_ignore_ascii_case(name))?;
    zone.parsed
        .get_or_init(|| {
            let name = database.text(&zone.name);
            let tzif = database.bytes.get(database.files.get(zone.file)?.clone())?;
            TimeZone::tzif(name, tzif).ok()
        })
        .clone()
}

/// Every zone name the database holds, as it spells them.
#[cfg(test)]
pub(super) fn names() -> Vec<String> {
    let database = DATABASE.get_or_init(Database::inflate).as_ref();
    database.map_or_else(Vec::new, |database| {
        let names = database.zones.iter();
        names
            .map(|zone| database.text(&zone.name).to_owned())
            .collect()
    })
}

/// `None` only if the archive the build wrote cannot be read, which the
/// tests rule out; every zone then reads as unknown.
static DATABASE: OnceLock<Option<Database>> = OnceLock::new();

struct Database {
    bytes: Vec<u8>,
    zones: Vec<ZoneEntry>,
    /// Where each TZif file lies in `bytes`.
    files: Vec<Range<usize>>,
}

struct ZoneEntry {
    name: Range<usize>,
    file: usize,
    parsed: OnceLock<Option<TimeZone>>,
}

impl Database {
    fn inflate() -> Option<Self> {
        let bytes = crate::packed::inflate(DEFLATED)?;
        let mut reader = Reader {
            bytes: &bytes,
            at: 0,
        };
        let zones = (0..reader.u16()?)
            .map(|_| {
                let len = usize::from(reader.u8()?);
                let name = reader.take(len)?;
                let file = usize::from(reader.u16()?);
                let parsed = OnceLock::new();
                Some(ZoneEntry { name, file, parsed })
            })
            .collect::<Option<Vec<_>>>()?;
        let files = (0..reader.u16()?)
            .map(|_| {
                let len = usize::try_from(reader.u32()?).ok()?;
                reader.take(len)
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            bytes,
            zones,
            files,
        })
    }

    fn text(&self, range: &Range<usize>) -> &str {
        self.bytes
            .get(range.clone())
            .and_then(|name| std::str::from_utf8(name).ok())
            .unwrap_or_default()
    }
}

/// Reads the archive front to back; `None` past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Option<Range<usize>> {
        let range = self.at..self.at.checked_add(len)?;
        self.bytes.get(range.clone())?;
        self.at = range.end;
        Some(range)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let range = self.take(N)?;
        self.bytes.get(range)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[byte]| byte)
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
}
