//! The block-style fast path against saphyr-parser on arbitrary text: it must read a text to the same
//! events and spans as saphyr-parser, or leave it to saphyr-parser.
#![no_main]
use gitlab_ci::yaml::{FastPath, fast_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let FastPath::Differs(why) = fast_path(text) {
        panic!("{why}");
    }
});
