//! Packs deunicode's transliterations of planes 0 and 1 into a deflated
//! table for `sms::transliteration`. deunicode stays the one source of the
//! spellings, but its runtime table holds three bytes for every code point
//! up to U+22000 (about 465 KiB), the largest item in every Lambda
//! bootstrap that texts. Here the whole table deflates to about 128 KiB.
//!
//! Inflated layout of `translit.deflate` in OUT_DIR (u16 values split into
//! a plane of low bytes followed by a plane of high bytes, which deflate
//! compresses far better than interleaved pairs):
//! - u16 little-endian: the number of distinct spellings, `n`;
//! - the spelling id of each of the `CODE_POINTS` code points (u16 planes),
//!   `NO_TRANSLITERATION` where deunicode has no answer;
//! - where each id's spelling starts in the text below (u16 planes, `n`
//!   each) and its length in bytes (`n` bytes);
//! - the text: every distinct spelling, overlapping where one is found
//!   inside another.

use std::collections::HashMap;
use std::path::Path;

use crate::write_deflated;

/// Planes 0 and 1: every alphabet, kana, Hangul, the common CJK ideographs
/// and the "mathematical" letters used as fancy fonts. The rarer ideographs
/// of plane 2 are left out.
const CODE_POINTS: u32 = 0x2_0000;
/// The id of "deunicode has no answer" (surrogates, unassigned code points).
const NO_TRANSLITERATION: u16 = u16::MAX;

pub fn pack(out: &Path) {
    let mut distinct: Vec<&'static str> = Vec::new();
    let mut id_of: HashMap<&'static str, u16> = HashMap::new();
    let mut ids = Vec::with_capacity(CODE_POINTS as usize);
    for code in 0..CODE_POINTS {
        let id = match char::from_u32(code).and_then(deunicode::deunicode_char) {
            Some(latin) => *id_of.entry(latin).or_insert_with(|| {
                distinct.push(latin);
                fits_u16(
                    distinct.len() - 1,
                    "the number of distinct transliterations",
                )
            }),
            None => NO_TRANSLITERATION,
        };
        ids.push(id);
    }
    assert!(
        distinct.len() <= usize::from(NO_TRANSLITERATION),
        "a string id collides with NO_TRANSLITERATION"
    );

    // Placed longest first, most short spellings ("a", "Ji") are found
    // inside longer ones and cost no bytes: a third less text, and offsets
    // that fit in a u16.
    let mut longest_first: Vec<usize> = (0..distinct.len()).collect();
    longest_first.sort_by_key(|&id| std::cmp::Reverse(distinct[id].len()));
    let mut strings = String::new();
    let mut starts = vec![0u16; distinct.len()];
    let mut lengths = vec![0u8; distinct.len()];
    for id in longest_first {
        let latin = distinct[id];
        let start = strings.find(latin).unwrap_or_else(|| {
            strings.push_str(latin);
            strings.len() - latin.len()
        });
        starts[id] = fits_u16(start, "the packed transliterations' length");
        lengths[id] = u8::try_from(latin.len()).expect("a transliteration longer than 255 bytes");
    }

    let mut table = Vec::new();
    table.extend(fits_u16(distinct.len(), "the number of distinct transliterations").to_le_bytes());
    table.extend(planes(&ids));
    table.extend(planes(&starts));
    table.extend(&lengths);
    table.extend(strings.as_bytes());

    write_deflated(out, "translit.deflate", &table);
}

/// The table stores everything as u16; a deunicode release that outgrows
/// that must stop the build, not wrap around into wrong spellings.
fn fits_u16(value: usize, what: &str) -> u16 {
    u16::try_from(value).unwrap_or_else(|_| panic!("{what} ({value}) no longer fits in a u16"))
}

/// Every value's low byte, then every value's high byte.
fn planes(values: &[u16]) -> Vec<u8> {
    let low = values.iter().map(|v| v.to_le_bytes()[0]);
    let high = values.iter().map(|v| v.to_le_bytes()[1]);
    low.chain(high).collect()
}
