//! What a person types as a user code (RFC 8628 6.1) and what a device
//! sends as its device code (3.4): never panics, and whatever is accepted
//! is in the canonical form.
#![no_main]

use credlog_core::rfc8628::{parse_device_code, UserCode, USER_CODE_ALPHABET};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = UserCode::parse(text) {
        assert_eq!(code.as_str().len(), 8);
        assert!(code
            .as_str()
            .chars()
            .all(|c| USER_CODE_ALPHABET.contains(c)));
        assert_eq!(UserCode::parse(&code.display()), Ok(code.clone()));
    }
    if let Ok(code) = parse_device_code(text) {
        assert!(!code.is_empty() && code.len() <= 128);
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
});
