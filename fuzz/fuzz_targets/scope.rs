//! Scope strings (RFC 6749 3.3, CONTRACT.md "Users and sessions"): never
//! panics; what parses holds at most 64 distinct tokens of at most 128
//! `NQCHAR`s, prints as text that parses to the same scope in the same
//! order, and reads back the same through `Scope::stored`; what is refused
//! is `invalid_scope`.
#![no_main]

use credlog_core::rfc6749::params::{ScopeError, MAX_SCOPE_TOKENS, MAX_SCOPE_TOKEN_CHARS};
use credlog_core::rfc6749::{Oauth2Error, Scope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Scope>() {
        Ok(scope) => {
            assert!(!scope.is_empty() && scope.len() <= MAX_SCOPE_TOKENS);
            assert!(scope.tokens().all(|token| {
                !token.is_empty()
                    && token.len() <= MAX_SCOPE_TOKEN_CHARS
                    && token
                        .chars()
                        .all(|c| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
            }));
            let printed = scope.to_string();
            let again: Scope = printed.parse().expect("a printed scope parses");
            assert_eq!(again, scope);
            assert_eq!(again.to_string(), printed);
            assert_eq!(Scope::stored(&printed).to_string(), printed);
            assert_eq!(Scope::parse(text), Ok(scope));
        }
        Err(error) => {
            match error {
                ScopeError::TokenTooLong { length } => assert!(length > MAX_SCOPE_TOKEN_CHARS),
                ScopeError::TooManyTokens => {
                    assert!(Scope::stored(text).len() > MAX_SCOPE_TOKENS)
                }
                _ => {}
            }
            assert!(matches!(
                Scope::parse(text),
                Err(Oauth2Error::InvalidScope(_))
            ));
        }
    }
    // A stored scope reads whatever was stored, in the order given.
    let stored = Scope::stored(text);
    assert!(stored.tokens().all(|token| !token.is_empty()));
    assert_eq!(Scope::stored(&stored.to_string()), stored);
});
