//! The form and query decoder (RFC 5849 3.4.1.3.1): never panics, and what
//! it decodes encodes back to the same pairs.
#![no_main]

use credlog_core::rfc5849::encoding::{form_decode, form_encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pairs) = form_decode(text) else {
        return;
    };
    let encoded = form_encode(pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
    assert_eq!(
        form_decode(&encoded).expect("an encoded form decodes"),
        pairs
    );
});
