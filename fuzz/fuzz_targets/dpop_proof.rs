//! Checking a DPoP proof (RFC 9449 4.3) and normalising its `htu`: never
//! panics, whatever the bytes. The expected request is RFC 9449's own
//! (4.1's token request, 7.1's resource request), so the RFC's example
//! proofs make good seeds: they pass, and mutations of them reach every
//! check. No store: the `jti` use is only built, never appended.
#![no_main]

use credlog_core::rfc9449::{self, Expected, NonceSource, EXAMPLE_ACCESS_TOKEN};
use credlog_core::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let nonces = NonceSource::from_secret(b"fuzz");
    let token_endpoint = Expected {
        method: "POST",
        uri: "https://server.example.com/token",
        now: 1_562_262_616,
        window: 60,
        access_token: None,
        nonces: None,
    };
    let resource = Expected {
        method: "GET",
        uri: "https://resource.example.org/protectedresource",
        now: 1_562_262_618,
        access_token: Some(EXAMPLE_ACCESS_TOKEN),
        ..token_endpoint
    };
    let with_nonce = Expected {
        nonces: Some(&nonces),
        ..token_endpoint
    };
    for expected in [token_endpoint, resource, with_nonce] {
        if let Ok(proof) = rfc9449::check(text, &expected) {
            assert!(rfc9449::is_thumbprint(&proof.jkt), "{proof:?}");
            assert!(proof.jti.len() <= rfc9449::MAX_JTI_LEN);
            assert!(proof.iat.abs_diff(expected.now) <= expected.window);
            assert!(rfc9449::PROOF_ALGS.contains(&proof.alg.as_str()));
            let _ = proof.jti_use();
        }
    }
    // Normalising is idempotent: a normalised URI is its own normal form.
    if let Some(normal) = rfc9449::normalized_uri(text) {
        assert_eq!(
            rfc9449::normalized_uri(&normal).as_deref(),
            Some(normal.as_str())
        );
    }
    let request = Request::new("GET", "https://rs.example/r").with_header("DPoP", text);
    assert_eq!(rfc9449::proof_of(&request), Ok(Some(text.trim())));
    let _ = nonces.accepts(text, 1_562_262_616);
});
