//! Latin spellings of letters outside GSM-7, as `deunicode` gives them,
//! from a deflated copy of its table that build/transliteration.rs packs
//! (the layout is described there): about 128 KiB in every bootstrap that
//! texts instead of the 465 KiB deunicode would link. The table is inflated
//! the first time an SMS holds a letter outside GSM-7, once per process.

use std::ops::Range;
use std::sync::OnceLock;

/// Code points covered: planes 0 and 1.
const CODE_POINTS: usize = 0x2_0000;
/// What the build stores where deunicode has no answer.
const NO_TRANSLITERATION: u16 = u16::MAX;

const DEFLATED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/translit.deflate"));

/// The Latin spelling `deunicode::deunicode_char` gives `c` ("Lukasz" from
/// "Łukasz", "Bei " from 北), or `None` where it has none.
///
/// Characters above plane 1 always give `None`: they are mostly the rare
/// ideographs of plane 2 and later, left out of the table, so an SMS drops
/// them as it drops emoji.
pub fn latin_for(c: char) -> Option<&'static str> {
    TABLE.get_or_init(Table::inflate).as_ref()?.latin_for(c)
}

/// `None` only if the table the build wrote cannot be read, which the tests
/// rule out; letters outside GSM-7 are then dropped.
static TABLE: OnceLock<Option<Table>> = OnceLock::new();

/// The inflated table: its numbers, where each kind lies among them, and
/// the text of every spelling.
struct Table {
    numbers: Vec<u8>,
    /// Each code point's spelling id (u16 planes).
    ids: Range<usize>,
    /// Where each id's spelling starts in `text` (u16 planes).
    starts: Range<usize>,
    /// Each id's spelling length in bytes.
    lengths: Range<usize>,
    text: String,
}

impl Table {
    fn inflate() -> Option<Self> {
        let mut bytes = crate::packed::inflate(DEFLATED)?;
        let spellings = usize::from(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]));
        let ids = 2..2 + 2 * CODE_POINTS;
        let starts = ids.end..ids.end + 2 * spellings;
        let lengths = starts.end..starts.end + spellings;
        if bytes.len() < lengths.end {
            return None;
        }
        let text = String::from_utf8(bytes.split_off(lengths.end)).ok()?;
        Some(Self {
            numbers: bytes,
            ids,
            starts,
            lengths,
            text,
        })
    }

    fn latin_for(&self, c: char) -> Option<&str> {
        let id = u16_in(self.part(&self.ids)?, c as usize)?;
        if id == NO_TRANSLITERATION {
            return None;
        }
        let id = usize::from(id);
        let start = usize::from(u16_in(self.part(&self.starts)?, id)?);
        let len = usize::from(*self.part(&self.lengths)?.get(id)?);
        self.text.get(start..start + len)
    }

    fn part(&self, range: &Range<usize>) -> Option<&[u8]> {
        self.numbers.get(range.clone())
    }
}

/// The `index`th u16 of `planes` (all the low bytes, then all the high
/// bytes); `None` past the end.
fn u16_in(planes: &[u8], index: usize) -> Option<u16> {
    let count = planes.len() / 2;
    if index >= count {
        return None;
    }
    Some(u16::from_le_bytes([planes[index], planes[count + index]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_char_of_planes_0_and_1_reads_as_deunicode_spells_it() {
        for c in (0..CODE_POINTS as u32).filter_map(char::from_u32) {
            let expected = deunicode::deunicode_char(c);
            assert_eq!(latin_for(c), expected, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn plane_2_ideographs_have_no_spelling() {
        let rare_ideograph = '\u{20000}';
        assert!(deunicode::deunicode_char(rare_ideograph).is_some());
        assert_eq!(latin_for(rare_ideograph), None);
        assert_eq!(latin_for(char::MAX), None);
    }

    #[test]
    fn the_table_inflates_whole() {
        let table = Table::inflate().expect("the packed table reads back");
        assert_eq!(table.ids.len(), 2 * CODE_POINTS);
        assert!(!table.text.is_empty());
        assert_eq!(table.starts.len(), 2 * table.lengths.len());
    }
}
