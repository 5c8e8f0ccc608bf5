//! Packs deunicode's transliterations of planes 0 and 1 into a table for
//! `sms::transliteration`. deunicode stays the one source of the spellings,
//! but its runtime table holds three bytes for every code point up to
//! U+22000 (about 465 KiB), the largest item in every Lambda bootstrap that
//! texts. Here a code point costs two bytes, and none at all when its whole
//! block repeats another one (unassigned ranges, runs of the same answer).
//!
//! Output, in OUT_DIR (u16 values little-endian):
//! - `translit_strings.txt`: every distinct transliteration, overlapping
//!   where one is found inside another.
//! - `translit_starts.bin` (u16) and `translit_lengths.bin` (u8): where each
//!   string id's spelling lies in that text.
//! - `translit_blocks.bin`: blocks of `BLOCK_LEN` string ids, each distinct
//!   block once; `NO_TRANSLITERATION` where deunicode has no answer.
//! - `translit_block_index.bin`: for each run of `BLOCK_LEN` code points,
//!   the number of its block.

use std::collections::HashMap;
use std::path::Path;

use crate::write;

/// Planes 0 and 1: every alphabet, kana, Hangul, the common CJK ideographs
/// and the "mathematical" letters used as fancy fonts. The rarer ideographs
/// of plane 2 are left out.
const CODE_POINTS: u32 = 0x2_0000;
/// Code points per block: 32 and 64 tie for the smallest total of the sizes
/// tried (16 to 256); 64 keeps the block index shorter.
const BLOCK_LEN: usize = 64;
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

    let mut blocks: Vec<u16> = Vec::new();
    let mut block_of: HashMap<&[u16], u16> = HashMap::new();
    let mut block_index: Vec<u16> = Vec::new();
    for block in ids.chunks(BLOCK_LEN) {
        let number = *block_of.entry(block).or_insert_with(|| {
            blocks.extend_from_slice(block);
            fits_u16(
                blocks.len() / BLOCK_LEN - 1,
                "the number of distinct blocks",
            )
        });
        block_index.push(number);
    }

    write(out, "translit_strings.txt", strings.as_bytes());
    write(out, "translit_starts.bin", &little_endian(&starts));
    write(out, "translit_lengths.bin", &lengths);
    write(out, "translit_blocks.bin", &little_endian(&blocks));
    write(
        out,
        "translit_block_index.bin",
        &little_endian(&block_index),
    );
}

/// The table stores everything as u16; a deunicode release that outgrows
/// that must stop the build, not wrap around into wrong spellings.
fn fits_u16(value: usize, what: &str) -> u16 {
    u16::try_from(value).unwrap_or_else(|_| panic!("{what} ({value}) no longer fits in a u16"))
}

fn little_endian(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
