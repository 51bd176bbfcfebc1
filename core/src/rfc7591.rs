//! Client registration, shaped by RFC 7591 (Dynamic Client Registration):
//! the metadata a client registers with (2), its checks, the record and
//! event it becomes, and the registration response (3.2.1). Who may own a
//! client is the host's to decide; what a registration is, is decided here.

use serde::{Deserialize, Serialize};

use crate::domain::{ClientOptions, OptionError};
use crate::jose::JwkSet;
use crate::random::random_token;
use crate::request::is_scheme;
use crate::rfc5849::signature::rsa_public_key_from_pem;
use crate::rfc6749::client_metadata::{parse_all, MetadataError};
use crate::rfc6749::{ClientAuthMethod, GrantType, Oauth2Server, ResponseType, Scope};
use crate::store::{
    AppendError, ClientKeysRegistered, ClientOptionsRegistered, ClientRecord, CredentialKind,
    CredentialStore, Event, Failure, Issued, Precondition, Secret, StoreError,
};

/// Why a client could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// A redirect URI breaks a rule of [`redirect_uri_refusal`] (RFC 7591
    /// `invalid_redirect_uri`).
    #[error("redirect URI {uri:?} {rule}")]
    InvalidRedirectUri {
        /// The URI as registered.
        uri: String,
        /// The rule it breaks, as a phrase.
        rule: &'static str,
    },
    /// Other metadata is not acceptable (RFC 7591 `invalid_client_metadata`).
    #[error("{0}")]
    InvalidMetadata(String),
    /// A grant type, response type or authentication method is unknown, or
    /// not one the server has (RFC 7591 `invalid_client_metadata`).
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistrationError {
    /// The RFC 7591 3.2.2 error code, for a registration refused for its
    /// metadata (`None` for a store failure, which is not the client's).
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            RegistrationError::InvalidRedirectUri { .. } => Some("invalid_redirect_uri"),
            RegistrationError::InvalidMetadata(_) | RegistrationError::Metadata(_) => {
                Some("invalid_client_metadata")
            }
            RegistrationError::Store(_) => None,
        }
    }
}

/// Client metadata as RFC 7591 2 names it (the subset credlog uses), plus
/// `rsa_public_key` for OAuth 1 RSA-SHA1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    /// A name to show the resource owner.
    pub client_name: String,
    /// Redirect URIs, also the OAuth 1 callbacks the client may use.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Space-separated scopes (default `profile`).
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Grant types (default `authorization_code`).
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Response types (default `code`).
    #[serde(default = "default_response_types")]
    pub response_types: Vec<String>,
    /// How the client authenticates at the token endpoint (default `client_secret_basic`).
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    /// An RSA public key (PEM) for OAuth 1 RSA-SHA1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_public_key: Option<String>,
    /// The client's public keys, a JWK Set (RFC 7591 2, RFC 7517 5): what
    /// its `private_key_jwt` authentication and JWT bearer grants are
    /// signed with (RFC 7523). Required for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// RFC 9449 5.2: its token requests must carry a DPoP proof.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// RFC 9126 6: its authorization requests must be pushed first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// The algorithm its ID tokens are signed with (`RS256` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// `"opaque"` or `"jwt"` (RFC 9068): its access tokens' format, when
    /// not the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<String>,
    /// `"fapi2"`: it follows the FAPI 2.0 Security Profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

fn default_scope() -> String {
    "profile".to_owned()
}
fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".to_owned()]
}
fn default_response_types() -> Vec<String> {
    vec!["code".to_owned()]
}
fn default_auth_method() -> String {
    "client_secret_basic".to_owned()
}

impl ClientMetadata {
    /// Metadata with this name and the defaults.
    pub fn named(client_name: impl Into<String>) -> Self {
        ClientMetadata {
            client_name: client_name.into(),
            redirect_uris: Vec::new(),
            scope: default_scope(),
            grant_types: default_grant_types(),
            response_types: default_response_types(),
            token_endpoint_auth_method: default_auth_method(),
            rsa_public_key: None,
            jwks: None,
            dpop_bound_access_tokens: false,
            require_pushed_authorization_requests: false,
            id_token_signed_response_alg: None,
            access_token_format: None,
            profile: None,
        }
    }

    /// The options it registers beyond RFC 7591's fields, checked.
    pub fn options(&self) -> Result<ClientOptions, RegistrationError> {
        let invalid = |error: OptionError| RegistrationError::InvalidMetadata(error.0);
        let options = ClientOptions {
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            id_token_signed_response_alg: self.id_token_signed_response_alg.clone(),
            access_token_format: self
                .access_token_format
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(invalid)?,
            profile: self
                .profile
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(invalid)?,
        };
        options.check().map_err(invalid)?;
        Ok(options)
    }

    /// RFC 7591 2: every value known and well-formed, whatever grants a
    /// server has (see [`ClientMetadata::parse`]).
    pub fn validate(&self) -> Result<(), RegistrationError> {
        self.parse().map(|_| ())
    }

    /// Parses the metadata (RFC 7591 2): every value known and
    /// well-formed. Whether a server has the grants named is checked at
    /// registration ([`Oauth2Server::register_client`]).
    pub fn parse(&self) -> Result<ParsedMetadata, RegistrationError> {
        let invalid = |message: String| Err(RegistrationError::InvalidMetadata(message));
        if self.client_name.trim().is_empty() || self.client_name.chars().count() > 200 {
            return invalid("client_name must be 1 to 200 characters".to_owned());
        }
        for uri in &self.redirect_uris {
            if let Some(rule) = redirect_uri_refusal(uri) {
                return Err(RegistrationError::InvalidRedirectUri {
                    uri: uri.clone(),
                    rule,
                });
            }
        }
        let scope = self.scope.parse::<Scope>().map_err(MetadataError::Scope)?;
        let grant_types = parse_all(&self.grant_types)?;
        let response_types = parse_all(&self.response_types)?;
        let auth_method = self.token_endpoint_auth_method.parse()?;
        if let Some(pem) = &self.rsa_public_key {
            if rsa_public_key_from_pem(pem).is_err() {
                return invalid("rsa_public_key is not an RSA public key in PEM".to_owned());
            }
        }
        let jwks = match &self.jwks {
            Some(set) => match JwkSet::parse(set) {
                Ok(_) => Some(set.to_string()),
                Err(error) => return invalid(format!("jwks: {error}")),
            },
            None if auth_method == ClientAuthMethod::PrivateKeyJwt => {
                return invalid(
                    "token_endpoint_auth_method private_key_jwt needs the client's jwks".to_owned(),
                )
            }
            None => None,
        };
        let options = self.options()?;
        // FAPI 2.0 Security Profile 5.3.2.1: its clients authenticate with
        // private_key_jwt (this server offers no mutual TLS).
        if options.profile == Some(crate::domain::Profile::Fapi2)
            && auth_method != ClientAuthMethod::PrivateKeyJwt
        {
            return invalid(
                "profile fapi2 needs token_endpoint_auth_method private_key_jwt".to_owned(),
            );
        }
        Ok(ParsedMetadata {
            scope,
            grant_types,
            response_types,
            auth_method,
            jwks,
            options,
        })
    }
}

/// What [`ClientMetadata::parse`] read: the metadata a client record holds typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMetadata {
    /// `scope`.
    pub scope: Scope,
    /// `grant_types`.
    pub grant_types: Vec<GrantType>,
    /// `response_types`.
    pub response_types: Vec<ResponseType>,
    /// `token_endpoint_auth_method`.
    pub auth_method: ClientAuthMethod,
    /// `jwks`, checked, as JSON text.
    pub jwks: Option<String>,
    /// The options beyond RFC 7591's fields.
    pub options: ClientOptions,
}

/// A client just registered: its record and, for a confidential client,
/// the secret (shown this once).
#[derive(Debug, Clone)]
pub struct Registered {
    /// What the store holds.
    pub record: ClientRecord,
    /// The client secret; `None` for a public client.
    pub secret: Option<String>,
    /// When it was registered (seconds since the epoch).
    pub issued_at: u64,
    /// The JWK Set it registered, if any.
    pub jwks: Option<serde_json::Value>,
    /// The options it registered beyond RFC 7591's fields.
    pub options: ClientOptions,
}

impl Registered {
    /// The RFC 7591 3.2.1 response to the registration: what
    /// [`registration_json`] holds, and the `jwks` registered.
    pub fn response_json(&self) -> serde_json::Value {
        let mut json = registration_json(&self.record, self.secret.as_deref(), self.issued_at);
        if let Some(jwks) = &self.jwks {
            json["jwks"] = jwks.clone();
        }
        if let serde_json::Value::Object(members) = &mut json {
            members.extend(self.options.to_json());
        }
        json
    }
}

/// The RFC 7591 3.2.1 response: `client_id`, `client_secret` (when shown),
/// `client_id_issued_at` and the metadata.
pub fn registration_json(
    record: &ClientRecord,
    secret: Option<&str>,
    issued_at: u64,
) -> serde_json::Value {
    let mut json = serde_json::json!({
        "client_id": record.client_id,
        "client_id_issued_at": issued_at,
        "client_name": record.name,
        "redirect_uris": record.redirect_uris,
        "scope": record.scope,
        "grant_types": record.grant_types,
        "response_types": record.response_types,
        "token_endpoint_auth_method": record.auth_method,
    });
    if let Some(secret) = secret {
        json["client_secret"] = secret.into();
        json["client_secret_expires_at"] = 0.into();
    }
    if let Some(pem) = &record.rsa_public_key {
        json["rsa_public_key"] = pem.as_str().into();
    }
    json
}

/// Why `uri` may not be registered as a redirect URI, or `None` when it
/// may: it must be absolute with no fragment (RFC 6749 3.1.2) and no user
/// information (RFC 9700 4.1: `https://good.example@evil.example/` is
/// evil.example), and be `https`; or plain `http` to a loopback host,
/// `127.0.0.1`, `[::1]` or `localhost` on any port (RFC 8252 7.3); or a
/// private-use scheme holding a dot, such as `com.example.app:/cb` (RFC
/// 8252 7.1). Anything else (`javascript:`, `data:`, `file:`, plain `http`
/// to another host) is refused.
pub fn redirect_uri_refusal(uri: &str) -> Option<&'static str> {
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("holds white space or a control character");
    }
    let Some((scheme, rest)) = uri.split_once(':').filter(|(scheme, _)| is_scheme(scheme)) else {
        return Some("is not an absolute URI: it has no scheme (RFC 3986 4.3)");
    };
    if uri.contains('#') {
        return Some("has a fragment, which a redirect URI may not have (RFC 6749 3.1.2)");
    }
    let authority = rest
        .strip_prefix("//")
        .map(|after| &after[..after.find(['/', '?']).unwrap_or(after.len())]);
    if authority.is_some_and(|authority| authority.contains('@')) {
        return Some("holds user information, which hides the real host (RFC 9700 4.1)");
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => match authority {
            Some(authority) if !authority.is_empty() => None,
            _ => Some("has no host"),
        },
        "http" => match authority.map(host_of) {
            Some(host) if is_loopback(host) => None,
            _ => Some(
                "uses plain http to a host that is not loopback (127.0.0.1, [::1] or localhost); \
                 use https (RFC 8252 7.3, RFC 9700 4.1)",
            ),
        },
        private if private.contains('.') => None,
        _ => Some(
            "has a scheme that is not https, http to a loopback host, or a private-use \
             scheme with a dot such as com.example.app (RFC 8252 7.1)",
        ),
    }
}

/// The host of an authority, without its port.
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn is_loopback(host: &str) -> bool {
    host == "127.0.0.1" || host == "[::1]" || host.eq_ignore_ascii_case("localhost")
}

/// The options `client_id` registered beyond RFC 7591's fields (the
/// defaults when it registered none).
pub async fn client_options(
    store: &dyn CredentialStore,
    client_id: &str,
) -> Result<ClientOptions, StoreError> {
    Ok(store
        .client_options(client_id)
        .await?
        .map(|text| ClientOptions::from_stored(&text))
        .unwrap_or_default())
}

impl Oauth2Server {
    /// Registers a client owned by `owner` (whom the host has already
    /// checked), with `client_id` (a random one when `None`) and, unless
    /// it is public, a random secret; grant and response types this server
    /// does not have are refused. One `Issued` event, on the condition
    /// that the id is free.
    pub async fn register_client(
        &self,
        store: &dyn CredentialStore,
        owner: &str,
        metadata: ClientMetadata,
        client_id: Option<String>,
        now: u64,
    ) -> Result<Registered, RegistrationError> {
        let parsed = metadata.parse()?;
        self.check_registration(&parsed.grant_types, &parsed.response_types)?;
        let client_id = client_id.unwrap_or_else(random_token);
        // A secret for the methods that present one; an OAuth 1 consumer
        // of a private_key_jwt client has none either.
        let secret = parsed.auth_method.presents_secret().then(random_token);
        let record = ClientRecord {
            client_id: client_id.clone(),
            secret: secret.clone().map_or(Secret::None, Secret::Plain),
            owner: owner.to_owned(),
            name: metadata.client_name,
            redirect_uris: metadata.redirect_uris,
            scope: parsed.scope,
            grant_types: parsed.grant_types,
            response_types: parsed.response_types,
            auth_method: parsed.auth_method,
            rsa_public_key: metadata.rsa_public_key,
        };
        let absent = Precondition::Absent {
            kind: CredentialKind::Client,
            id: client_id.clone(),
        };
        let mut events = vec![Event::Issued(Issued::Client(record.clone()))];
        if let Some(jwks) = parsed.jwks {
            events.push(Event::ClientKeysRegistered(ClientKeysRegistered {
                client_id: client_id.clone(),
                jwks,
            }));
        }
        if !parsed.options.is_default() {
            events.push(Event::ClientOptionsRegistered(ClientOptionsRegistered {
                client_id: client_id.clone(),
                options: parsed.options.to_stored(),
            }));
        }
        store
            .append(&[absent], events, now)
            .await
            .map_err(|error| match error {
                AppendError::Refused(refused) if refused.failure == Failure::AlreadyExists => {
                    RegistrationError::InvalidMetadata(format!("client id {client_id:?} is taken"))
                }
                AppendError::Refused(_) => RegistrationError::InvalidMetadata(
                    "the client could not be registered".to_owned(),
                ),
                AppendError::Store(error) => RegistrationError::Store(error),
            })?;
        Ok(Registered {
            record,
            secret,
            issued_at: now,
            jwks: metadata.jwks,
            options: parsed.options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_the_contract_both_ways() {
        for allowed in [
            "https://app.example/cb",
            "https://app.example:8443/cb?x=1",
            "HTTPS://app.example/cb",
            "http://127.0.0.1:8000/callback",
            "http://127.0.0.1/callback",
            "http://[::1]:9000/cb",
            "http://localhost/cb",
            "http://LOCALHOST:1/cb",
            "com.example.app:/oauth2redirect",
            "com.example.app://cb",
        ] {
            assert_eq!(redirect_uri_refusal(allowed), None, "{allowed}");
        }
        for (refused, rule) in [
            ("javascript:alert(1)", "scheme"),
            ("data:text/html,<script>", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("ftp://files.example/cb", "scheme"),
            ("http://evil.example/cb", "loopback"),
            ("http://127.0.0.1.evil.example/cb", "loopback"),
            ("http://localhost.evil.example:80/cb", "loopback"),
            ("https://good.example@evil.example/cb", "user information"),
            ("http://localhost@evil.example/cb", "user information"),
            ("com.example.app://user@host/cb", "user information"),
            ("https:///no-host", "no host"),
            ("https://app.example/cb#frag", "fragment"),
            ("/relative", "no scheme"),
            ("app.example/cb", "no scheme"),
            ("", "no scheme"),
            ("https://app.example/c b", "white space"),
        ] {
            let said =
                redirect_uri_refusal(refused).unwrap_or_else(|| panic!("{refused} accepted"));
            assert!(said.contains(rule), "{refused}: {said}");
        }
    }

    #[test]
    fn metadata_is_validated_as_rfc_7591_says() {
        let mut metadata = ClientMetadata::named("App");
        metadata.redirect_uris = vec!["https://app.example/cb".into()];
        assert!(metadata.validate().is_ok());

        for bad in [
            "/relative",
            "https://app.example/cb#frag",
            "app.example/cb",
            "",
        ] {
            let mut with_bad = metadata.clone();
            with_bad.redirect_uris.push(bad.into());
            let error = with_bad.validate().unwrap_err();
            assert_eq!(error.error_code(), Some("invalid_redirect_uri"), "{bad}");
        }
        let mut bad_grant = metadata.clone();
        bad_grant.grant_types = vec!["magic".into()];
        assert_eq!(
            bad_grant.validate().unwrap_err().error_code(),
            Some("invalid_client_metadata")
        );
        let mut extension = metadata.clone();
        extension.grant_types = vec!["urn:ietf:params:oauth:grant-type:device_code".into()];
        assert!(extension.validate().is_ok());
        let mut bad_key = metadata.clone();
        bad_key.rsa_public_key = Some("not a key".into());
        assert!(bad_key.validate().is_err());
        let mut bad_scope = metadata;
        bad_scope.scope = "a  b".into();
        assert!(bad_scope.validate().is_err());
    }

    #[test]
    fn a_fapi2_client_authenticates_with_private_key_jwt() {
        let mut metadata = ClientMetadata::named("Bank app");
        metadata.redirect_uris = vec!["https://bank.example/cb".to_owned()];
        metadata.profile = Some("fapi2".to_owned());
        let refused = metadata.parse().unwrap_err();
        assert_eq!(refused.error_code(), Some("invalid_client_metadata"));
        assert!(refused.to_string().contains("private_key_jwt"), "{refused}");
        metadata.token_endpoint_auth_method = "private_key_jwt".to_owned();
        metadata.jwks = Some(serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256",
            "x": crate::jose::examples::A3_X, "y": crate::jose::examples::A3_Y,
        }]}));
        let parsed = metadata.parse().unwrap();
        assert_eq!(parsed.options.profile, Some(crate::domain::Profile::Fapi2));
    }
}
