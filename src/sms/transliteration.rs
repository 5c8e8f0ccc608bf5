//! Latin spellings of letters outside GSM-7, as `deunicode` gives them,
//! from a packed copy of its table that build/transliteration.rs generates
//! (the layout is described there): about 270 KiB instead of the 465 KiB
//! deunicode would link into every bootstrap that texts.

/// Code points covered: planes 0 and 1.
const CODE_POINTS: usize = 0x2_0000;
/// What the build stores where deunicode has no answer.
const NO_TRANSLITERATION: u16 = u16::MAX;

const STRINGS: &str = include_str!(concat!(env!("OUT_DIR"), "/translit_strings.txt"));
const STARTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/translit_starts.bin"));
const LENGTHS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/translit_lengths.bin"));
const BLOCKS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/translit_blocks.bin"));
const BLOCK_INDEX: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/translit_block_index.bin"));

/// Code points per block, whichever size the build chose.
const BLOCK_LEN: usize = CODE_POINTS / (BLOCK_INDEX.len() / 2);
const _: () = assert!(BLOCK_LEN * (BLOCK_INDEX.len() / 2) == CODE_POINTS);

/// The Latin spelling `deunicode::deunicode_char` gives `c` ("Lukasz" from
/// "Łukasz", "Bei " from 北), or `None` where it has none.
///
/// Characters above plane 1 always give `None`: they are mostly the rare
/// ideographs of plane 2 and later, left out of the table, so an SMS drops
/// them as it drops emoji.
pub fn latin_for(c: char) -> Option<&'static str> {
    let code = c as usize;
    let block = u16_at(BLOCK_INDEX, code / BLOCK_LEN)?;
    let id = u16_at(BLOCKS, usize::from(block) * BLOCK_LEN + code % BLOCK_LEN)?;
    if id == NO_TRANSLITERATION {
        return None;
    }
    let start = usize::from(u16_at(STARTS, usize::from(id))?);
    let len = usize::from(*LENGTHS.get(usize::from(id))?);
    STRINGS.get(start..start + len)
}

/// The `index`th little-endian u16 of `bytes`; `None` past the end.
fn u16_at(bytes: &[u8], index: usize) -> Option<u16> {
    match bytes.get(index * 2..index * 2 + 2)? {
        &[low, high] => Some(u16::from_le_bytes([low, high])),
        _ => None,
    }
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
}
