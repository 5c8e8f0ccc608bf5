//! Inbound SMS: the reply command and the sender's number.
#![no_main]

use earshot::domain::PhoneNumber;
use earshot::domain::reply::parse_reply;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parse_reply(text);
    let _ = PhoneNumber::parse(text);
});
