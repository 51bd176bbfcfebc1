//! The signature base string builder (RFC 5849 3.4.1). The input is three
//! lines: method, request URI, form-encoded parameters. Never panics; the
//! result is pure ASCII with exactly two `&` separators.
#![no_main]

use credlog_core::rfc5849::encoding::form_decode;
use credlog_core::rfc5849::signature_base_string;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let (method, uri) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    let Ok(parameters) = form_decode(lines.next().unwrap_or("")) else {
        return;
    };
    let parameters = parameters.iter().map(|(n, v)| (n.as_ref(), v.as_ref()));
    if let Ok(base_string) = signature_base_string(method, uri, parameters) {
        let separators = base_string.matches('&').count();
        let method_separators = method.matches('&').count();
        assert_eq!(separators, 2 + method_separators);
        assert!(base_string.is_ascii() || !method.is_ascii());
    }
});
