//! Checking a JWT (RFC 7515 5.2) and a JWT client assertion (RFC 7523 3):
//! never panics, whatever the bytes. The keys are RFC 7515's published
//! examples (A.2's RSA key, A.3's P-256 key), so the A.2 and A.3 tokens
//! make good seeds: they verify, and mutations of them reach every check.
#![no_main]

use credlog_core::jose::{self, JwkSet};
use credlog_core::rfc7523::{self, AssertionRules};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

fn keys() -> &'static JwkSet {
    static KEYS: OnceLock<JwkSet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let set = format!(
            r#"{{"keys": [
                {{"kty": "RSA", "n": "{A2_N}", "e": "AQAB"}},
                {{"kty": "EC", "crv": "P-256",
                  "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                  "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}
            ]}}"#
        );
        JwkSet::parse_str(&set).expect("RFC 7515's example keys form a valid set")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(jwt) = std::str::from_utf8(data) else {
        return;
    };
    let verified = jose::verify(jwt, keys());
    let rules = AssertionRules::new(vec!["https://as.example.com/token.oauth2".into()]);
    let checked = rfc7523::check_client_assertion(jwt, "joe", keys(), &rules, 1_300_819_000);
    // No claim rule can rescue a JWT whose signature failed.
    if checked.is_ok() {
        assert!(verified.is_ok());
    }
    let _ = rfc7523::check_grant_assertion(jwt, keys(), &rules, 1_300_819_000);
    if let Ok(issuer) = rfc7523::peek_issuer(jwt) {
        assert!(jose::peek_claims(jwt).is_ok(), "{issuer}");
    }
});
