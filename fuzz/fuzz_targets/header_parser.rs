//! The `Authorization: OAuth` header parser (RFC 5849 3.5.1): never panics,
//! and what it parses encodes back to the same parameters.
#![no_main]

use credlog_core::rfc5849::encoding::percent_encode;
use credlog_core::rfc5849::parse_authorization_header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Some(header)) = parse_authorization_header(text) else {
        return;
    };
    let encoded = header
        .parameters
        .iter()
        .map(|(name, value)| format!("{}=\"{}\"", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join(", ");
    let encoded = format!("OAuth {encoded}");
    let again = parse_authorization_header(&encoded)
        .expect("an encoded header parses")
        .expect("an encoded header is OAuth");
    assert_eq!(again.parameters, header.parameters);
});
