//! What a client registers (RFC 7591 2): its grant types, response types
//! and token endpoint authentication method, as types parsed once, at
//! registration. Whether the running server has a grant for each is RFC
//! 6749's question (`Oauth2Server::check_registration`).
//!
//! On the wire (registration answers, JSON, the store's encoding) each is
//! its registered name, exactly the string a client sent.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::scope::ScopeError;
use crate::request::is_scheme;

/// A grant type a client may use (RFC 7591 2, `grant_types`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    /// `authorization_code` (RFC 6749 4.1).
    AuthorizationCode,
    /// `implicit` (RFC 6749 4.2).
    Implicit,
    /// `password` (RFC 6749 4.3).
    Password,
    /// `client_credentials` (RFC 6749 4.4).
    ClientCredentials,
    /// `refresh_token` (RFC 6749 6).
    RefreshToken,
    /// An extension grant (RFC 6749 4.5): an absolute URI, such as
    /// `urn:ietf:params:oauth:grant-type:device_code`, for a deployment's
    /// own grant registered on its server.
    Extension(String),
}

impl GrantType {
    /// The five grant types RFC 6749 defines.
    pub const BUILT_IN: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
    ];

    /// Its registered name, as `grant_type` carries it.
    pub fn as_str(&self) -> &str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Extension(uri) => uri,
        }
    }
}

/// Whether `name` is an absolute URI (RFC 6749 4.5, RFC 3986 4.3): a
/// scheme, a colon, and something after it with no space or control.
fn is_extension_grant(name: &str) -> bool {
    match name.split_once(':') {
        Some((scheme, rest)) => {
            is_scheme(scheme) && !rest.is_empty() && rest.chars().all(|c| c.is_ascii_graphic())
        }
        None => false,
    }
}

impl FromStr for GrantType {
    type Err = MetadataError;

    /// One of the five names, or an absolute URI (RFC 6749 4.5).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(grant) = GrantType::BUILT_IN
            .into_iter()
            .find(|grant| grant.as_str() == name)
        {
            return Ok(grant);
        }
        if is_extension_grant(name) {
            return Ok(GrantType::Extension(name.to_owned()));
        }
        Err(MetadataError::UnknownGrantType(name.to_owned()))
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A response type a client may ask for at the authorization endpoint
/// (RFC 7591 2, `response_types`; RFC 6749 3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResponseType {
    /// `code`: an authorization code (RFC 6749 4.1.1).
    Code,
    /// `token`: an access token in the fragment (RFC 6749 4.2.1).
    Token,
    /// `id_token token`: the implicit flow with sign-in, an ID token beside
    /// the access token (OpenID Connect Core 1.0 3.2.2.1). A client that
    /// may use `token` may use it too.
    IdTokenToken,
}

impl ResponseType {
    /// Every response type, in the order metadata lists them.
    pub const ALL: [ResponseType; 3] = [
        ResponseType::Code,
        ResponseType::Token,
        ResponseType::IdTokenToken,
    ];

    /// Its registered name, as `response_type` carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
            ResponseType::IdTokenToken => "id_token token",
        }
    }

    /// A `response_type` value in its one spelling: a space-separated set
    /// whose order does not matter (RFC 6749 3.1.1), its words sorted, as
    /// registered names are written (`id_token token`, `code id_token`).
    pub fn canonical(name: &str) -> String {
        let mut words: Vec<&str> = name.split(' ').collect();
        words.sort_unstable();
        words.join(" ")
    }
}

impl FromStr for ResponseType {
    type Err = MetadataError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let canonical = ResponseType::canonical(name);
        ResponseType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == canonical)
            .ok_or_else(|| MetadataError::UnknownResponseType(name.to_owned()))
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why registration metadata is refused (RFC 7591 3.2.2
/// `invalid_client_metadata`). The messages are the `error_description`s
/// registration answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not one of RFC 6749's five grant types, nor an absolute URI.
    #[error("grant type {0:?} is not supported")]
    UnknownGrantType(String),
    /// A grant type this server has no grant for (a deployment may
    /// unregister built-in ones, and register its own).
    #[error("grant type {:?} is not supported", .0.as_str())]
    GrantTypeUnavailable(GrantType),
    /// Not `code`, `token` or `id_token token`.
    #[error("response type {0:?} is not supported")]
    UnknownResponseType(String),
    /// A response type no grant of this server answers.
    #[error("response type {:?} is not supported", .0.as_str())]
    ResponseTypeUnavailable(ResponseType),
    /// Not one of the three `token_endpoint_auth_method`s (RFC 7591 2).
    #[error(
        "token_endpoint_auth_method {0:?} is not one of client_secret_basic, client_secret_post, none"
    )]
    UnknownAuthMethod(String),
    /// A `scope` outside RFC 6749 3.3's grammar or over a cap of
    /// CONTRACT.md "Users and sessions" (64 tokens of 128 characters).
    #[error("scope: {0}")]
    Scope(#[from] ScopeError),
}

/// How a client authenticates (RFC 7591 2, `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientAuthMethod {
    /// `Authorization: Basic` with the form-encoded id and secret (RFC 6749 2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 2.3.1).
    ClientSecretPost,
    /// `client_id` alone: a public client (RFC 6749 2.1).
    None,
    /// `client_assertion`: a JWT signed with one of the client's registered
    /// keys (RFC 7523 2.2, OpenID Connect Core 1.0 9).
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    /// Every method, in the order metadata lists them.
    pub const ALL: [ClientAuthMethod; 4] = [
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::None,
        ClientAuthMethod::PrivateKeyJwt,
    ];

    /// The methods of confidential clients: a secret, or a signed assertion.
    pub const CONFIDENTIAL: [ClientAuthMethod; 3] = [
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::PrivateKeyJwt,
    ];

    /// Its registered name.
    pub fn name(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::None => "none",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Whether a client of this method presents a secret, and so has one
    /// (a public client has none, nor does one that signs assertions).
    pub fn presents_secret(self) -> bool {
        matches!(
            self,
            ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
        )
    }

    /// The method of this registered name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.name() == name)
    }
}

impl fmt::Display for ClientAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ClientAuthMethod {
    type Err = MetadataError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name).ok_or_else(|| MetadataError::UnknownAuthMethod(name.to_owned()))
    }
}

/// Stored and answered as its registered name.
impl Serialize for ClientAuthMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ClientAuthMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Parses every name, failing on the first that does not parse.
pub fn parse_all<T: FromStr, S: AsRef<str>>(names: &[S]) -> Result<Vec<T>, T::Err> {
    names.iter().map(|name| name.as_ref().parse()).collect()
}

/// Serializes and deserializes a type as its registered name.
macro_rules! as_registered_name {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

as_registered_name!(GrantType);
as_registered_name!(ResponseType);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_parse_from_their_names_and_absolute_uris() {
        for grant in GrantType::BUILT_IN {
            assert_eq!(grant.as_str().parse(), Ok(grant.clone()));
        }
        let device = "urn:ietf:params:oauth:grant-type:device_code";
        assert_eq!(
            device.parse::<GrantType>(),
            Ok(GrantType::Extension(device.to_owned()))
        );
        assert_eq!(GrantType::Extension(device.to_owned()).as_str(), device);
        for bad in ["magic", "", "Implicit", "urn:", ":x", "urn:a b", "1urn:x"] {
            assert_eq!(
                bad.parse::<GrantType>(),
                Err(MetadataError::UnknownGrantType(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn response_types_are_code_token_and_implicit_sign_in() {
        assert_eq!("code".parse(), Ok(ResponseType::Code));
        assert_eq!("token".parse(), Ok(ResponseType::Token));
        // RFC 6749 3.1.1: the order of the words does not matter.
        for name in ["id_token token", "token id_token"] {
            assert_eq!(name.parse(), Ok(ResponseType::IdTokenToken), "{name}");
        }
        assert_eq!(
            "token  id_token".parse::<ResponseType>(),
            Err(MetadataError::UnknownResponseType("token  id_token".into()))
        );
        assert_eq!(
            "code token".parse::<ResponseType>(),
            Err(MetadataError::UnknownResponseType("code token".into()))
        );
    }

    #[test]
    fn they_serialize_as_the_names_a_client_registered() {
        let grants = vec![
            GrantType::AuthorizationCode,
            GrantType::Extension("urn:example:trust".into()),
        ];
        let json = serde_json::to_string(&grants).unwrap();
        assert_eq!(json, r#"["authorization_code","urn:example:trust"]"#);
        assert_eq!(
            serde_json::from_str::<Vec<GrantType>>(&json).unwrap(),
            grants
        );
        assert_eq!(
            serde_json::to_string(&[ResponseType::Code, ResponseType::Token]).unwrap(),
            r#"["code","token"]"#
        );
        assert!(serde_json::from_str::<GrantType>(r#""magic""#).is_err());
    }

    #[test]
    fn methods_parse_and_serialize_as_their_names() {
        for method in ClientAuthMethod::ALL {
            assert_eq!(method.name().parse(), Ok(method));
            let json = serde_json::to_string(&method).unwrap();
            assert_eq!(json, format!("\"{}\"", method.name()));
            assert_eq!(
                serde_json::from_str::<ClientAuthMethod>(&json).unwrap(),
                method
            );
        }
        assert_eq!(
            "client_secret_jwt".parse::<ClientAuthMethod>(),
            Err(MetadataError::UnknownAuthMethod("client_secret_jwt".into()))
        );
    }
}
