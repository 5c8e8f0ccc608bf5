//! Meta webhook bodies: Facebook Page and Instagram changes.
#![no_main]

use earshot::domain::Platform;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let brand_of = |platform: Platform, account: &str| format!("{platform}:{account}");
    let _ = earshot::platforms::meta::parse_delivery(body, chrono::DateTime::UNIX_EPOCH, &brand_of);
});
