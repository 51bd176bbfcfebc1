//! What a client may register beyond RFC 7591's own fields, and what a
//! deployment sets server-wide for the same things: DPoP-bound tokens
//! (RFC 9449 5.2), pushed authorization requests (RFC 9126 6), the ID
//! token's signing algorithm (OpenID Connect Dynamic Client Registration
//! 2), the access token's format (RFC 9068) and the FAPI 2.0 profile.
//!
//! The store keeps them as the JSON object [`ClientOptions::to_stored`]
//! writes (a `ClientOptionsRegistered` event), so a later option is one
//! more member, not a new record format.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The JWS algorithms the server signs ID tokens and JWT access tokens
/// with (RFC 7518 3.1, RFC 8037 3.1).
pub const SIGNING_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

/// How access tokens are issued (`access_token_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessTokenFormat {
    /// A random value the store looks up (the default).
    #[default]
    Opaque,
    /// An RFC 9068 JWT, signed by the server, still recorded in the store.
    Jwt,
}

impl AccessTokenFormat {
    /// Its name in settings and registration.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenFormat::Opaque => "opaque",
            AccessTokenFormat::Jwt => "jwt",
        }
    }
}

impl FromStr for AccessTokenFormat {
    type Err = OptionError;
    fn from_str(name: &str) -> Result<Self, OptionError> {
        match name {
            "opaque" => Ok(AccessTokenFormat::Opaque),
            "jwt" => Ok(AccessTokenFormat::Jwt),
            _ => Err(OptionError(format!(
                "access_token_format {name:?} is not \"opaque\" or \"jwt\""
            ))),
        }
    }
}

/// A security profile a deployment or a client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    /// The FAPI 2.0 Security Profile: PAR required, `response_type=code`
    /// only, PKCE S256 only, DPoP-bound tokens only, `private_key_jwt`
    /// with PS256 or ES256 only, codes live 60 s at most, no implicit or
    /// password grant.
    #[serde(rename = "fapi2")]
    Fapi2,
}

impl Profile {
    /// Its name in settings and registration.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Fapi2 => "fapi2",
        }
    }
}

impl FromStr for Profile {
    type Err = OptionError;
    fn from_str(name: &str) -> Result<Self, OptionError> {
        match name {
            "fapi2" => Ok(Profile::Fapi2),
            _ => Err(OptionError(format!("profile {name:?} is not \"fapi2\""))),
        }
    }
}

/// Why an option is refused: the message can go out as an
/// `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionError(pub String);

/// A client's options beyond RFC 7591's fields; the default is what a
/// client that registered none gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientOptions {
    /// RFC 9449 5.2: a token request without a DPoP proof is refused.
    #[serde(skip_serializing_if = "is_false")]
    pub dpop_bound_access_tokens: bool,
    /// RFC 9126 6: authorization requests must be pushed first.
    #[serde(skip_serializing_if = "is_false")]
    pub require_pushed_authorization_requests: bool,
    /// The algorithm its ID tokens are signed with (`RS256` when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// Its access tokens' format (the server's when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<AccessTokenFormat>,
    /// The profile it follows (the server's when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl ClientOptions {
    /// Checks what a client registered: a signing algorithm the server
    /// offers.
    pub fn check(&self) -> Result<(), OptionError> {
        if let Some(alg) = &self.id_token_signed_response_alg {
            if !SIGNING_ALGS.contains(&alg.as_str()) {
                return Err(OptionError(format!(
                    "id_token_signed_response_alg {alg:?} is not one of {}",
                    SIGNING_ALGS.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Whether it is all defaults (then nothing need be stored).
    pub fn is_default(&self) -> bool {
        *self == ClientOptions::default()
    }

    /// The JSON object the store keeps.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("options serialize to JSON")
    }

    /// The options from what the store keeps; members this build does not
    /// know, or cannot read, leave their defaults.
    pub fn from_stored(text: &str) -> ClientOptions {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// The options as registration answers them (RFC 7591 3.2.1): the
    /// members set, as registered.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }
}

impl fmt::Display for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_stored())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_through_what_the_store_keeps() {
        let options = ClientOptions {
            dpop_bound_access_tokens: true,
            require_pushed_authorization_requests: true,
            id_token_signed_response_alg: Some("ES256".to_owned()),
            access_token_format: Some(AccessTokenFormat::Jwt),
            profile: Some(Profile::Fapi2),
        };
        let stored = options.to_stored();
        assert!(stored.contains("\"profile\":\"fapi2\""), "{stored}");
        assert!(
            stored.contains("\"access_token_format\":\"jwt\""),
            "{stored}"
        );
        assert_eq!(ClientOptions::from_stored(&stored), options);
        assert_eq!(ClientOptions::default().to_stored(), "{}");
        assert!(ClientOptions::from_stored("not json").is_default());
    }

    #[test]
    fn only_offered_algorithms_are_accepted() {
        for alg in SIGNING_ALGS {
            let options = ClientOptions {
                id_token_signed_response_alg: Some(alg.to_owned()),
                ..ClientOptions::default()
            };
            assert_eq!(options.check(), Ok(()));
        }
        for alg in ["HS256", "none", "es256", "RS384"] {
            let options = ClientOptions {
                id_token_signed_response_alg: Some(alg.to_owned()),
                ..ClientOptions::default()
            };
            assert!(options.check().is_err(), "{alg}");
        }
    }
}
