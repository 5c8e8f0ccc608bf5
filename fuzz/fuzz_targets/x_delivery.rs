//! X webhook bodies: Account Activity (v1.1) and X Activity API (v2).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let received_at = chrono::DateTime::UNIX_EPOCH;
    if let Ok(delivery) = earshot::platforms::x::parse_delivery(body, received_at) {
        for mention in &delivery.mentions {
            assert!(mention.id.as_str().starts_with("x:"));
        }
    }
});
