//! Reading a bearer token (RFC 6750 2.1, 2.2): never panics. What the
//! `Authorization` parser accepts is a `b64token`, and the request reader
//! answers exactly what the parser does for a request with that header;
//! from a form body it reads the `access_token` parameter.
#![no_main]

use credlog_core::request::FORM_CONTENT_TYPE;
use credlog_core::rfc6749::Params;
use credlog_core::rfc6750::{is_b64token, is_bearer, parse_authorization, token_of, BearerError};
use credlog_core::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut body = Request::new("POST", "http://rs.example/api/me")
        .with_header("Content-Type", FORM_CONTENT_TYPE);
    body.body = data.to_vec();
    if let Ok(token) = token_of(&body) {
        let params = Params::parse(data).expect("a token was read from the form");
        assert_eq!(params.get("access_token"), Some(token.as_str()));
    }

    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_authorization(value);
    let request =
        Request::new("GET", "http://rs.example/api/me").with_header("Authorization", value);
    assert_eq!(is_bearer(&request), parsed.is_some());
    let read = token_of(&request);
    match parsed {
        None => assert_eq!(read, Err(BearerError::Missing)),
        Some(Ok(token)) => {
            assert!(is_b64token(token), "{token:?}");
            assert_eq!(read, Ok(token.to_owned()));
        }
        Some(Err(error)) => assert_eq!(read, Err(error)),
    }
});
