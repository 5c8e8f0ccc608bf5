//! Data that build/ packs into the binary deflated (the SMS transliteration
//! table, the zone database), inflated by its reader when first needed.

use std::io::Read;

/// `deflated` inflated; `None` if it is not one whole deflate stream.
pub(crate) fn inflate(deflated: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    flate2::read::DeflateDecoder::new(deflated)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_stream_does_not_inflate() {
        let deflated = include_bytes!(concat!(env!("OUT_DIR"), "/zones.deflate"));
        assert!(inflate(deflated).is_some_and(|bytes| bytes.len() > deflated.len()));
        assert_eq!(inflate(&deflated[..deflated.len() / 2]), None);
    }
}
