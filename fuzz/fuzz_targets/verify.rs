//! The whole verify path (RFC 5849 3.2): parsing, base string, signature
//! and the credential look-ups. The input is an HTTP/1-like request:
//! `METHOD URI`, header lines, a blank line, the body. The clients and
//! tokens of the RFC vectors are known, and the clock reads the request's
//! own timestamp so that good signatures reach the nonce check.
#![no_main]

use credlog_conformance::vectors::{self, Vector};
use credlog_core::rfc5849::{Endpoint, Oauth1Server, SignedRequest};
use credlog_core::Request;
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;

fn parse(text: &str) -> Option<Request> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let (method, uri) = lines.next()?.split_once(' ')?;
    let mut request = Request::new(method, uri);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        request = request.with_header(name.trim(), value.trim());
    }
    request.body = body.as_bytes().to_vec();
    Some(request)
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = std::str::from_utf8(data).ok().and_then(parse) else {
        return;
    };
    let endpoint = if request.uri.contains("initiate") || request.uri.contains("request_temp") {
        Endpoint::Initiate
    } else if request.uri.contains("/token") {
        Endpoint::Token
    } else {
        Endpoint::Resource
    };
    let now = SignedRequest::parse(&request)
        .ok()
        .and_then(|signed| signed.timestamp()?.parse().ok())
        .unwrap_or(0);
    let server = Oauth1Server::new(Vector::config());
    let credentials = vectors::all_credentials();
    if let Err(error) = block_on(server.verify(&request, endpoint, now, &credentials)) {
        assert!(matches!(error.status(), 400 | 401), "{error:?}");
        let _ = error.to_response("fuzz");
    }
});
