//! What a deployment sets for its OAuth 2 server: lifetimes, token
//! generators, refresh tokens, client authentication, scopes, error URIs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use base64::Engine;

use super::client_auth::ClientAuthMethod;
use super::params::Scope;
use crate::domain::{AccessTokenFormat, ClientOptions, Profile};
use crate::store::CredentialKind;

/// Makes the value of an access or refresh token.
pub trait TokenGenerator: Send + Sync {
    /// A new token value of `kind` for `client_id` under `grant_type`. It
    /// must hold at least 128 random bits: the store keeps only its SHA-256.
    fn generate(&self, kind: CredentialKind, client_id: &str, grant_type: &str) -> String;
}

/// The default generator: 192 random bits from the OS, base64url (32 characters).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomTokens;

impl TokenGenerator for RandomTokens {
    fn generate(&self, _: CredentialKind, _: &str, _: &str) -> String {
        random_value()
    }
}

/// 192 random bits from the OS, base64url without padding (32 characters).
pub fn random_value() -> String {
    let mut bytes = [0u8; 24];
    // getrandom fails only when the OS has no entropy source at all; a
    // server cannot run safely then.
    getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What a deployment changes about one grant; `None` keeps the grant's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantSettings {
    /// Seconds an access token from this grant lives.
    pub access_token_lifetime: Option<u64>,
    /// Whether this grant issues refresh tokens.
    pub issue_refresh_token: Option<bool>,
    /// The client authentication methods accepted; only narrows the
    /// grant's own list.
    pub auth_methods: Option<Vec<ClientAuthMethod>>,
}

/// The OAuth 2 server's settings.
#[derive(Clone)]
pub struct Oauth2Config {
    /// The realm of `WWW-Authenticate` challenges.
    pub realm: String,
    /// Seconds an authorization code lives (at most 600: RFC 6749 4.1.2).
    pub code_lifetime: u64,
    /// Seconds an access token lives unless its grant says otherwise.
    pub access_token_lifetime: u64,
    /// Seconds a refresh token lives (`None`: until used or revoked).
    pub refresh_token_lifetime: Option<u64>,
    /// Seconds an OpenID Connect ID token is valid (default 3600); a
    /// retired signing key stays published this long after it retired.
    pub id_token_lifetime: u64,
    /// Per grant type: lifetime, refresh tokens, client authentication.
    pub grants: BTreeMap<String, GrantSettings>,
    /// `error_uri` to add to error responses, by error code.
    pub error_uris: BTreeMap<String, String>,
    /// The scopes this server grants at all (`None`: whatever clients registered).
    pub allowed_scopes: Option<Scope>,
    /// Whether PKCE's `plain` method is accepted (RFC 7636 4.2; `S256` always is).
    pub allow_plain_pkce: bool,
    /// Seconds a device code and its user code live (RFC 8628 3.2
    /// `expires_in`; default 600).
    pub device_code_lifetime: u64,
    /// Seconds a device waits between polls (RFC 8628 3.2 `interval`;
    /// default 5).
    pub device_poll_interval: u64,
    /// Client authentication at the revocation endpoint (RFC 7009 2.1).
    pub revocation_auth_methods: Vec<ClientAuthMethod>,
    /// Client authentication at the introspection endpoint (RFC 7662 2.1).
    pub introspection_auth_methods: Vec<ClientAuthMethod>,
    /// Makes access tokens.
    pub access_tokens: Arc<dyn TokenGenerator>,
    /// Makes refresh tokens.
    pub refresh_tokens: Arc<dyn TokenGenerator>,
    /// The profile every client follows (`None`: plain OAuth 2; a client
    /// may still choose one for itself).
    pub profile: Option<Profile>,
    /// RFC 9126 6: every client must push its authorization requests.
    pub require_pushed_authorization_requests: bool,
    /// Seconds a pushed request's `request_uri` works (RFC 9126 2.2;
    /// default 60).
    pub pushed_request_lifetime: u64,
    /// How access tokens are issued unless a client chose otherwise.
    pub access_token_format: AccessTokenFormat,
    /// Seconds a DPoP proof's `iat` may be from now, either way (RFC 9449
    /// 11.1; default 60).
    pub dpop_proof_window: u64,
    /// RFC 9449 8, 9: whether proofs must carry a nonce the server gave
    /// (`DPoP-Nonce`, `use_dpop_nonce`).
    pub dpop_nonces: bool,
}

impl fmt::Debug for Oauth2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oauth2Config")
            .field("realm", &self.realm)
            .field("code_lifetime", &self.code_lifetime)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("refresh_token_lifetime", &self.refresh_token_lifetime)
            .field("id_token_lifetime", &self.id_token_lifetime)
            .field("grants", &self.grants)
            .field("error_uris", &self.error_uris)
            .field("allowed_scopes", &self.allowed_scopes)
            .field("allow_plain_pkce", &self.allow_plain_pkce)
            .field("device_code_lifetime", &self.device_code_lifetime)
            .field("device_poll_interval", &self.device_poll_interval)
            .field("profile", &self.profile)
            .field(
                "require_pushed_authorization_requests",
                &self.require_pushed_authorization_requests,
            )
            .field("pushed_request_lifetime", &self.pushed_request_lifetime)
            .field("access_token_format", &self.access_token_format)
            .field("dpop_proof_window", &self.dpop_proof_window)
            .field("dpop_nonces", &self.dpop_nonces)
            .finish_non_exhaustive()
    }
}

impl Default for Oauth2Config {
    fn default() -> Self {
        Oauth2Config {
            realm: "credlog".to_owned(),
            code_lifetime: 600,
            access_token_lifetime: 3600,
            refresh_token_lifetime: None,
            id_token_lifetime: 3600,
            grants: BTreeMap::new(),
            error_uris: BTreeMap::new(),
            allowed_scopes: None,
            allow_plain_pkce: true,
            device_code_lifetime: 600,
            device_poll_interval: crate::rfc8628::DEFAULT_INTERVAL,
            revocation_auth_methods: ClientAuthMethod::ALL.to_vec(),
            introspection_auth_methods: ClientAuthMethod::CONFIDENTIAL.to_vec(),
            access_tokens: Arc::new(RandomTokens),
            refresh_tokens: Arc::new(RandomTokens),
            profile: None,
            require_pushed_authorization_requests: false,
            pushed_request_lifetime: 60,
            access_token_format: AccessTokenFormat::Opaque,
            dpop_proof_window: 60,
            dpop_nonces: false,
        }
    }
}

impl Oauth2Config {
    /// The authorization code lifetime, capped at RFC 6749 4.1.2's ten minutes.
    pub fn code_lifetime(&self) -> u64 {
        self.code_lifetime.min(600)
    }

    /// The methods a grant accepts: its own, narrowed by the deployment.
    pub fn auth_methods(
        &self,
        grant_type: &str,
        declared: &[ClientAuthMethod],
    ) -> Vec<ClientAuthMethod> {
        let narrowed: Option<BTreeSet<ClientAuthMethod>> = self
            .grants
            .get(grant_type)
            .and_then(|settings| settings.auth_methods.as_ref())
            .map(|methods| methods.iter().copied().collect());
        declared
            .iter()
            .copied()
            .filter(|method| narrowed.as_ref().is_none_or(|set| set.contains(method)))
            .collect()
    }

    /// Seconds an access token from `grant_type` lives.
    pub fn access_token_lifetime(&self, grant_type: &str) -> u64 {
        self.grants
            .get(grant_type)
            .and_then(|settings| settings.access_token_lifetime)
            .unwrap_or(self.access_token_lifetime)
    }

    /// The profile `client` follows: its own, or the server's.
    pub fn profile_of(&self, client: &ClientOptions) -> Option<Profile> {
        client.profile.or(self.profile)
    }

    /// Whether `client` must push its authorization requests: it, the
    /// server, or the profile either follows says so.
    pub fn requires_par(&self, client: &ClientOptions) -> bool {
        self.require_pushed_authorization_requests
            || client.require_pushed_authorization_requests
            || self.profile_of(client) == Some(Profile::Fapi2)
    }

    /// Whether `client`'s token requests must carry a DPoP proof.
    pub fn requires_dpop(&self, client: &ClientOptions) -> bool {
        client.dpop_bound_access_tokens || self.profile_of(client) == Some(Profile::Fapi2)
    }

    /// The format of `client`'s access tokens: its own, or the server's.
    pub fn access_token_format_of(&self, client: &ClientOptions) -> AccessTokenFormat {
        client
            .access_token_format
            .unwrap_or(self.access_token_format)
    }

    /// Seconds `client`'s authorization codes live: at most 60 under FAPI
    /// 2.0 (its 5.3.2.1), ten minutes otherwise.
    pub fn code_lifetime_of(&self, client: &ClientOptions) -> u64 {
        match self.profile_of(client) {
            Some(Profile::Fapi2) => self.code_lifetime().min(60),
            None => self.code_lifetime(),
        }
    }

    /// Whether `grant_type` issues refresh tokens (`default`: the grant's own choice).
    pub fn issues_refresh_token(&self, grant_type: &str, default: bool) -> bool {
        self.grants
            .get(grant_type)
            .and_then(|settings| settings.issue_refresh_token)
            .unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_only_narrow_a_grants_methods() {
        let mut config = Oauth2Config::default();
        config.grants.insert(
            "password".into(),
            GrantSettings {
                auth_methods: Some(vec![
                    ClientAuthMethod::ClientSecretBasic,
                    ClientAuthMethod::None,
                ]),
                ..GrantSettings::default()
            },
        );
        let declared = [
            ClientAuthMethod::ClientSecretBasic,
            ClientAuthMethod::ClientSecretPost,
        ];
        assert_eq!(
            config.auth_methods("password", &declared),
            vec![ClientAuthMethod::ClientSecretBasic]
        );
        assert_eq!(
            config.auth_methods("client_credentials", &declared),
            declared.to_vec()
        );
    }

    #[test]
    fn random_values_are_long_and_distinct() {
        let (a, b) = (random_value(), random_value());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(
            Oauth2Config {
                code_lifetime: 3600,
                ..Oauth2Config::default()
            }
            .code_lifetime(),
            600
        );
    }
}
