//! OAuth 2.0 Device Authorization Grant (RFC 8628).
//!
//! This module holds the pure parts: the user code a person types, the
//! device code the device polls with, the polling rate rule, and the
//! device authorization response. No storage and no clock: the caller
//! keeps the codes and the poll times, and passes `now` in. Around them:
//!
//! - [`endpoint`]: the device authorization endpoint (3.1, 3.2);
//! - [`grant`]: the device polling the token endpoint (3.4, 3.5);
//! - [`verification`]: the person at the verification URI, who types the
//!   user code and approves or denies (3.3).

pub mod endpoint;
pub mod grant;
pub mod verification;

use serde::Serialize;

use crate::random::random_token;
use crate::store::token_id;

pub use grant::DeviceCodeGrant;
pub use verification::{approve, deny, pending, pending_for, PendingDevice, VerificationError};

/// `grant_type` for polling the token endpoint (RFC 8628 3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The user code's letters (RFC 8628 6.1): 20 consonants, no vowels so no
/// words, no digits or look-alikes such as `Y`.
pub const USER_CODE_ALPHABET: &str = "BCDFGHJKLMNPQRSTVWXZ";

/// Letters in a user code: 20^8, about 2^34.6 codes (RFC 8628 5.1).
pub const USER_CODE_LEN: usize = 8;

/// The longest text accepted as a typed user code, in bytes.
pub const MAX_TYPED_USER_CODE_LEN: usize = 64;

/// The longest device code accepted, in bytes.
pub const MAX_DEVICE_CODE_LEN: usize = 128;

/// The polling interval when the server names none (RFC 8628 3.2).
pub const DEFAULT_INTERVAL: u64 = 5;

/// How much `slow_down` adds to the interval (RFC 8628 3.5).
pub const SLOW_DOWN_STEP: u64 = 5;

/// Where the person goes to type the user code (RFC 8628 3.2
/// `verification_uri`), relative to the issuer.
pub const VERIFICATION_PATH: &str = "/device";

/// A user code (RFC 8628 3.2, 6.1): 8 letters of [`USER_CODE_ALPHABET`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserCode(String);

/// Why typed text is not a user code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserCodeError {
    /// Longer than [`MAX_TYPED_USER_CODE_LEN`] bytes.
    #[error("the code is longer than {limit} characters")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// A letter or digit that no user code contains (vowels, `Y`, digits...).
    #[error("'{0}' does not occur in codes: they use only the letters {USER_CODE_ALPHABET}")]
    NotInAlphabet(char),
    /// Not 8 letters once separators are dropped.
    #[error("the code has {0} letters; it has 8")]
    WrongLength(usize),
}

impl UserCode {
    /// A new code of 8 letters drawn without bias from the operating
    /// system's random source.
    pub fn generate() -> UserCode {
        let alphabet = USER_CODE_ALPHABET.as_bytes();
        let mut code = String::with_capacity(USER_CODE_LEN);
        let mut bytes = [0u8; 16];
        while code.len() < USER_CODE_LEN {
            // As in `random_token`: a server that cannot make secrets must
            // not make guessable ones.
            getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
            // 240 = 12 * 20: a byte below it maps to a letter without bias.
            for &byte in bytes.iter().filter(|&&b| b < 240) {
                if code.len() == USER_CODE_LEN {
                    break;
                }
                code.push(char::from(alphabet[usize::from(byte % 20)]));
            }
        }
        UserCode(code)
    }

    /// Reads what a person typed (RFC 8628 6.1): case does not matter, and
    /// anything that is not a letter or digit (dashes, spaces, dots) is
    /// ignored. Any other letter or digit is refused, so a typo is not
    /// silently dropped.
    pub fn parse(typed: &str) -> Result<UserCode, UserCodeError> {
        if typed.len() > MAX_TYPED_USER_CODE_LEN {
            return Err(UserCodeError::TooLong {
                limit: MAX_TYPED_USER_CODE_LEN,
            });
        }
        let mut code = String::with_capacity(USER_CODE_LEN);
        for c in typed.chars().filter(|c| c.is_alphanumeric()) {
            let upper = c.to_ascii_uppercase();
            if !USER_CODE_ALPHABET.contains(upper) {
                return Err(UserCodeError::NotInAlphabet(c));
            }
            code.push(upper);
        }
        if code.len() != USER_CODE_LEN {
            return Err(UserCodeError::WrongLength(code.len()));
        }
        Ok(UserCode(code))
    }

    /// The 8 bare letters, e.g. `WDJBMJHT`: the form to store and compare.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form to show, e.g. `WDJB-MJHT` (RFC 8628 6.1).
    pub fn display(&self) -> String {
        let (left, right) = self.0.split_at(USER_CODE_LEN / 2);
        format!("{left}-{right}")
    }
}

/// The store id of a user code's credential: the hex SHA-256 of its bare
/// letters under a prefix, so it cannot be mistaken for a token's id.
pub fn user_code_id(code: &UserCode) -> String {
    token_id(&format!("user-code:{}", code.as_str()))
}

/// A new device code (RFC 8628 3.2): a [`random_token`].
pub fn new_device_code() -> String {
    random_token()
}

/// Why a presented `device_code` was refused before any look-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceCodeError {
    /// The parameter is empty.
    #[error("the device_code is empty")]
    Empty,
    /// Longer than [`MAX_DEVICE_CODE_LEN`] bytes.
    #[error("the device_code is longer than {limit} characters")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// Not letters and digits only, which every code this server issues is.
    #[error("the device_code is not letters and digits")]
    NotAlphanumeric,
}

/// Checks the shape of a presented `device_code` (RFC 8628 3.4) before it
/// reaches the store.
pub fn parse_device_code(code: &str) -> Result<&str, DeviceCodeError> {
    if code.is_empty() {
        return Err(DeviceCodeError::Empty);
    }
    if code.len() > MAX_DEVICE_CODE_LEN {
        return Err(DeviceCodeError::TooLong {
            limit: MAX_DEVICE_CODE_LEN,
        });
    }
    if !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DeviceCodeError::NotAlphanumeric);
    }
    Ok(code)
}

/// What to answer a poll of the token endpoint, as far as its timing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollVerdict {
    /// Soon enough after the last poll: answer as the grant's state says.
    Go,
    /// Too soon: answer `slow_down` and use `new_interval` for this and
    /// every later poll (RFC 8628 3.5).
    SlowDown {
        /// The interval grown by [`SLOW_DOWN_STEP`].
        new_interval: u64,
    },
}

/// RFC 8628 3.5: a poll less than `interval` seconds after the `last` one
/// (or earlier than it, if clocks disagree) is too soon. The caller stores
/// `now` as the new last poll time, and the new interval on a slow-down.
pub fn poll(last: Option<u64>, now: u64, interval: u64) -> PollVerdict {
    match last {
        Some(last) if now < last.saturating_add(interval) => PollVerdict::SlowDown {
            new_interval: interval.saturating_add(SLOW_DOWN_STEP),
        },
        _ => PollVerdict::Go,
    }
}

/// The device authorization response (RFC 8628 3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAuthorizationResponse {
    /// The code the device polls with.
    pub device_code: String,
    /// The code the person types, in its displayed form.
    pub user_code: String,
    /// Where the person goes: `{base_url}/device`.
    pub verification_uri: String,
    /// The same with the user code filled in.
    pub verification_uri_complete: String,
    /// Seconds until both codes expire.
    pub expires_in: u64,
    /// Seconds the device waits between polls.
    pub interval: u64,
}

impl DeviceAuthorizationResponse {
    /// The response for these codes, with the verification URIs under
    /// `base_url` (the server's public origin and path prefix).
    pub fn new(
        device_code: String,
        user_code: &UserCode,
        base_url: &str,
        expires_in: u64,
        interval: u64,
    ) -> DeviceAuthorizationResponse {
        let verification_uri = format!("{}{VERIFICATION_PATH}", base_url.trim_end_matches('/'));
        // The displayed code is letters and one '-': nothing to escape.
        let verification_uri_complete =
            format!("{verification_uri}?user_code={}", user_code.display());
        DeviceAuthorizationResponse {
            device_code,
            user_code: user_code.display(),
            verification_uri,
            verification_uri_complete,
            expires_in,
            interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 8628 3.2's example response.
    #[test]
    fn the_rfc_example_response() {
        let user_code = UserCode::parse("WDJB-MJHT").unwrap();
        let response = DeviceAuthorizationResponse::new(
            "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS".into(),
            &user_code,
            "https://example.com/",
            1800,
            5,
        );
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({
                "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
                "user_code": "WDJB-MJHT",
                "verification_uri": "https://example.com/device",
                "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
                "expires_in": 1800,
                "interval": 5
            })
        );
    }

    /// RFC 8628 6.1: `WDJB-MJHT`, however it is typed.
    #[test]
    fn the_rfc_example_code_parses_however_typed() {
        let code = UserCode::parse("WDJB-MJHT").unwrap();
        assert_eq!(code.as_str(), "WDJBMJHT");
        assert_eq!(code.display(), "WDJB-MJHT");
        for typed in [
            "wdjbmjht",
            "WDJB MJHT",
            " wdjb-mjht ",
            "WDJB.MJHT",
            "w-d-j-b-m-j-h-t",
        ] {
            assert_eq!(UserCode::parse(typed), Ok(code.clone()), "{typed}");
        }
    }

    #[test]
    fn wrong_codes_are_refused_with_the_reason() {
        assert_eq!(
            UserCode::parse("WDJB-MJH"),
            Err(UserCodeError::WrongLength(7))
        );
        assert_eq!(
            UserCode::parse("WDJB-MJHTB"),
            Err(UserCodeError::WrongLength(9))
        );
        assert_eq!(UserCode::parse(""), Err(UserCodeError::WrongLength(0)));
        assert_eq!(
            UserCode::parse("WDJB-MJHA"),
            Err(UserCodeError::NotInAlphabet('A'))
        );
        assert_eq!(
            UserCode::parse("wdjb-mjhe"),
            Err(UserCodeError::NotInAlphabet('e'))
        );
        assert_eq!(
            UserCode::parse("WDJB-MJH7"),
            Err(UserCodeError::NotInAlphabet('7'))
        );
        assert_eq!(
            UserCode::parse("WDJB-MJHY"),
            Err(UserCodeError::NotInAlphabet('Y'))
        );
        assert_eq!(
            UserCode::parse("WDJB-MJHÉ"),
            Err(UserCodeError::NotInAlphabet('É'))
        );
        assert_eq!(
            UserCode::parse(&"-".repeat(65)),
            Err(UserCodeError::TooLong { limit: 64 })
        );
    }

    #[test]
    fn device_codes_are_checked_before_look_up() {
        let code = new_device_code();
        assert_eq!(parse_device_code(&code), Ok(code.as_str()));
        assert_eq!(parse_device_code(""), Err(DeviceCodeError::Empty));
        assert_eq!(
            parse_device_code(&"a".repeat(129)),
            Err(DeviceCodeError::TooLong { limit: 128 })
        );
        assert!(parse_device_code(&"a".repeat(128)).is_ok());
        assert_eq!(
            parse_device_code("abc def"),
            Err(DeviceCodeError::NotAlphanumeric)
        );
        assert_eq!(
            parse_device_code("abc'--"),
            Err(DeviceCodeError::NotAlphanumeric)
        );
    }

    /// RFC 8628 3.5.
    #[test]
    fn polling_too_soon_slows_down_by_five_seconds() {
        assert_eq!(poll(None, 100, 5), PollVerdict::Go);
        assert_eq!(poll(Some(100), 105, 5), PollVerdict::Go);
        assert_eq!(
            poll(Some(100), 104, 5),
            PollVerdict::SlowDown { new_interval: 10 }
        );
        assert_eq!(
            poll(Some(100), 109, 10),
            PollVerdict::SlowDown { new_interval: 15 }
        );
        assert_eq!(
            poll(Some(100), 90, 5),
            PollVerdict::SlowDown { new_interval: 10 }
        );
        assert_eq!(
            poll(Some(u64::MAX), 0, u64::MAX),
            PollVerdict::SlowDown {
                new_interval: u64::MAX
            }
        );
    }

    #[test]
    fn the_grant_type_is_the_registered_urn() {
        assert_eq!(
            DEVICE_CODE_GRANT,
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        assert_eq!(USER_CODE_ALPHABET.len(), 20);
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip_and_use_the_alphabet(_ in 0..64u8) {
            let code = UserCode::generate();
            prop_assert_eq!(code.as_str().len(), USER_CODE_LEN);
            prop_assert!(code.as_str().chars().all(|c| USER_CODE_ALPHABET.contains(c)));
            prop_assert_eq!(UserCode::parse(&code.display()), Ok(code.clone()));
            prop_assert_eq!(UserCode::parse(&code.as_str().to_lowercase()), Ok(code));
        }

        #[test]
        fn parsing_never_panics(typed in ".{0,80}") {
            if let Ok(code) = UserCode::parse(&typed) {
                prop_assert_eq!(code.as_str().len(), USER_CODE_LEN);
            }
            let _ = parse_device_code(&typed);
        }
    }
}
