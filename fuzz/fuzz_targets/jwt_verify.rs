//! Checking a JWT (RFC 7515 5.2) and a JWT client assertion (RFC 7523 3):
//! never panics, whatever the bytes. The keys are RFC 7515's published
//! examples (A.2's RSA key, A.3's P-256 key), so the A.2 and A.3 tokens
//! make good seeds: they verify, and mutations of them reach every check.
#![no_main]

use credlog_core::jose::{self, examples, JwkSet};
use credlog_core::rfc7523::{self, AssertionRules};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static JwkSet {
    static KEYS: OnceLock<JwkSet> = OnceLock::new();
    KEYS.get_or_init(examples::all_keys)
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
