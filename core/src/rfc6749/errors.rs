//! Every way an OAuth 2 request can fail. Each variant says which rule was
//! broken; [`Oauth2Error::code`] is the RFC 6749 5.2 (or 4.1.2.1, 6750 3.1)
//! error code it is reported as, and [`Oauth2Error::status`] its status.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::sync::Arc;

use crate::oidc::keys::KeyError;
use crate::response::{quoted, Response};
use crate::rfc7523::{ClientAssertionError, GrantAssertionError};
use crate::store::StoreError;

/// Why an OAuth 2 request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Oauth2Error {
    /// The body or query is not `application/x-www-form-urlencoded` text.
    #[error("the request parameters could not be read as a form")]
    MalformedForm,
    /// A parameter the request needs is missing (RFC 6749 4.1.3, 4.3.2 ...).
    #[error("missing required parameter {0}")]
    MissingParameter(&'static str),
    /// A parameter was sent more than once (RFC 6749 3.1, 3.2).
    #[error("parameter {0} must not be sent more than once")]
    DuplicateParameter(String),
    /// A parameter's value is not well-formed.
    #[error("parameter {name} is malformed: {why}")]
    MalformedParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The client authenticated in more than one way (RFC 6749 2.3).
    #[error("the client must authenticate in exactly one way")]
    MultipleClientAuthentications,
    /// The `Authorization: Basic` header is not base64 of `id:secret` (RFC 6749 2.3.1).
    #[error("the Basic authorization header is malformed")]
    MalformedBasicAuth,
    /// No client was named.
    #[error("the client did not identify itself")]
    MissingClient,
    /// No client has this id, or it was removed.
    #[error("unknown client")]
    UnknownClient,
    /// The client secret is wrong.
    #[error("client authentication failed")]
    BadClientSecret,
    /// The client authenticated with a method this endpoint or the client
    /// itself does not allow.
    #[error("client authentication method {0} is not allowed here")]
    AuthMethodNotAllowed(&'static str),
    /// The client may not use this grant type or response type.
    #[error("the client is not registered for {0}")]
    UnauthorizedClient(String),
    /// No grant of this type is registered (RFC 6749 5.2).
    #[error("grant type {0:?} is not supported")]
    UnsupportedGrantType(String),
    /// No response type of this name is registered (RFC 6749 4.1.2.1).
    #[error("response type {0:?} is not supported")]
    UnsupportedResponseType(String),
    /// The scope is malformed, unknown, or wider than allowed (RFC 6749 3.3).
    #[error("{0}")]
    InvalidScope(String),
    /// A `resource` is not an absolute URI without a fragment, or is one
    /// the grant does not cover (RFC 8707 2: `invalid_target`).
    #[error("{0}")]
    InvalidTarget(String),
    /// The redirect URI is not one the client registered (RFC 6749 3.1.2.3).
    #[error("redirect_uri is not registered for this client")]
    UnregisteredRedirectUri,
    /// No redirect URI was given and the client registered several, or none.
    #[error("redirect_uri is required: the client has not registered exactly one")]
    RedirectUriRequired,
    /// The code, refresh token or password is unknown, expired or spent.
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// A code was presented a second time: every token issued from it was
    /// revoked (RFC 6749 4.1.2, 10.5).
    #[error("the authorization code was already used; the tokens issued from it are revoked")]
    CodeReplayed,
    /// A retired refresh token was presented again: its family was revoked.
    #[error("the refresh token was already used; every token of this grant is revoked")]
    RefreshTokenReused,
    /// The `redirect_uri` at the token endpoint is not the one the code was
    /// issued for (RFC 6749 4.1.3).
    #[error("redirect_uri does not match the authorization request")]
    RedirectUriMismatch,
    /// A public client did not send a code challenge (RFC 7636 4.4.1).
    #[error("public clients must use PKCE: code_challenge is required")]
    PkceRequired,
    /// The code verifier does not match the challenge (RFC 7636 4.6).
    #[error("code_verifier does not match the code challenge")]
    PkceMismatch,
    /// The code was issued with a challenge, but no verifier came (RFC 7636 4.5).
    #[error("missing required parameter code_verifier")]
    PkceVerifierMissing,
    /// A code verifier came for a code issued without a challenge: a PKCE
    /// downgrade (RFC 9700 2.1.1).
    #[error("code_verifier was sent, but the authorization request had no code_challenge")]
    PkceUnexpectedVerifier,
    /// `code_challenge_method` is not one this server accepts (RFC 7636 4.4.1).
    #[error("code_challenge_method {0:?} is not supported")]
    UnsupportedChallengeMethod(String),
    /// The resource owner said no (RFC 6749 4.1.2.1).
    #[error("the resource owner denied the request")]
    AccessDenied,
    /// The token was issued to another client (RFC 7009 2.1).
    #[error("the token was issued to another client")]
    TokenOfAnotherClient,
    /// The store failed: never the client's fault; the detail is logged,
    /// never sent.
    #[error("the server could not complete the request")]
    Store(#[from] StoreError),
    /// A resource owner's password could not be checked (the password
    /// hasher failed, or its task did not finish): never the client's
    /// fault; the cause is logged, never sent.
    #[error("the server could not complete the request")]
    PasswordCheck(#[source] HostError),
    /// A `client_assertion` was refused (RFC 7523 3): its reason.
    #[error("the client assertion was refused: {0}")]
    ClientAssertion(#[from] ClientAssertionError),
    /// A JWT bearer grant's `assertion` was refused (RFC 7523 3.1): its reason.
    #[error("the assertion was refused: {0}")]
    GrantAssertion(#[from] GrantAssertionError),
    /// `prompt=none`, and nobody is signed in (OpenID Connect Core 1.0 3.1.2.6).
    #[error("the user is not signed in, and prompt=none allows no sign-in page")]
    LoginRequired,
    /// `prompt=none`, and the user has not granted this client before.
    #[error("the user has not granted this client, and prompt=none allows no consent page")]
    ConsentRequired,
    /// The server's signing key could not be had: never the client's
    /// fault; the detail is logged, never sent.
    #[error("the server could not complete the request")]
    SigningKey(#[source] KeyError),
    /// The user has not yet approved or denied the device's request (RFC
    /// 8628 3.5): the device keeps polling.
    #[error("the user has not yet approved or denied the request")]
    AuthorizationPending,
    /// The device polled sooner than its interval allows (RFC 8628 3.5):
    /// it must wait `interval` seconds between polls from now on.
    #[error("polling too fast: wait {interval} s between polls")]
    SlowDown {
        /// The interval the device must keep from now on.
        interval: u64,
    },
    /// The device code expired before it was approved and exchanged (RFC
    /// 8628 3.5): the device may start over.
    #[error("the device code has expired; start a new device authorization")]
    ExpiredToken,
    /// Sign-in is throttled for this user name or address (CONTRACT.md
    /// "Users and sessions"): 429 with `Retry-After`.
    #[error("too many failed sign-ins for this user name or from this address; try again in {retry_after} s")]
    Throttled {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Client authentication is throttled for this client or address
    /// (CONTRACT.md "Users and sessions"): 429 with `Retry-After`.
    #[error("too many failed client authentications for this client or from this address; try again in {retry_after} s")]
    ClientThrottled {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// A pushed authorization request's body carried a parameter that
    /// cannot be pushed (`request`, `request_uri`: RFC 9126 2.1).
    #[error("parameter {0} cannot be pushed (RFC 9126 2.1)")]
    NotPushable(&'static str),
    /// The `client_id` in a pushed request's body names another client
    /// than the one that authenticated (RFC 9126 2.1).
    #[error("client_id does not name the client that authenticated")]
    ClientIdMismatch,
    /// The client must push its authorization requests first and sent
    /// one without `request_uri` (RFC 9126 5, 6).
    #[error("this client must push its authorization requests first (RFC 9126): request_uri is required")]
    PushRequired,
    /// The `request_uri` is not a pushed request this client may use now:
    /// unknown, another client's, expired or already used (RFC 9126 4).
    #[error("request_uri {0}")]
    InvalidRequestUri(&'static str),
    /// A client assertion signed with an algorithm its profile does not
    /// allow (FAPI 2.0 Security Profile 5.4: PS256 or ES256 only).
    #[error("client assertions must be signed with {allowed}, not {alg}")]
    AssertionAlgNotAllowed {
        /// The assertion's `alg` (cut short).
        alg: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// This client or address asked this endpoint too often (RFC 8628 5.2,
    /// CONTRACT.md "Users and sessions"): 429 with `Retry-After`.
    #[error("too many requests from this client or address; try again in {retry_after} s")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The request's DPoP proof was refused, or is missing where one is
    /// needed (RFC 9449 5): `invalid_dpop_proof`, or `use_dpop_nonce` with
    /// a `DPoP-Nonce` header.
    #[error("{0}")]
    Dpop(#[from] crate::rfc9449::DpopError),
}

/// A store failure stays a store failure; the rest is the signing key's.
impl From<KeyError> for Oauth2Error {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Store(error) => Oauth2Error::Store(error),
            other => Oauth2Error::SigningKey(other),
        }
    }
}

/// An error of the host's own machinery (its password hasher, the task
/// that ran it), whose type credlog cannot know: kept whole, so that its
/// message, its [`source`](StdError::source) chain and its type (through
/// [`HostError::get_ref`]) reach whoever logs or matches it. It reads as
/// the error it wraps. Two are equal when they are clones of one.
#[derive(Debug, Clone)]
pub struct HostError(Arc<dyn StdError + Send + Sync>);

impl HostError {
    /// Keeps `error` (or a message: whatever a boxed error is made from).
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        HostError(Arc::from(error.into()))
    }

    /// The error kept, to `downcast_ref` to the host's type.
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for HostError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl PartialEq for HostError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for HostError {}

impl Oauth2Error {
    /// The error code sent as `error`.
    pub fn code(&self) -> &'static str {
        use Oauth2Error::*;
        match self {
            MalformedForm
            | MissingParameter(_)
            | DuplicateParameter(_)
            | MalformedParameter { .. }
            | MultipleClientAuthentications
            | MalformedBasicAuth
            | UnregisteredRedirectUri
            | RedirectUriRequired
            | PkceRequired
            | PkceVerifierMissing
            | UnsupportedChallengeMethod(_)
            | NotPushable(_)
            | ClientIdMismatch
            | PushRequired => "invalid_request",
            InvalidRequestUri(_) => "invalid_request_uri",
            MissingClient
            | UnknownClient
            | BadClientSecret
            | AuthMethodNotAllowed(_)
            | ClientAssertion(_)
            | AssertionAlgNotAllowed { .. } => "invalid_client",
            UnauthorizedClient(_) => "unauthorized_client",
            UnsupportedGrantType(_) => "unsupported_grant_type",
            UnsupportedResponseType(_) => "unsupported_response_type",
            InvalidScope(_) => "invalid_scope",
            InvalidTarget(_) => "invalid_target",
            InvalidGrant(_)
            | CodeReplayed
            | RefreshTokenReused
            | RedirectUriMismatch
            | PkceMismatch
            | PkceUnexpectedVerifier
            | TokenOfAnotherClient
            | GrantAssertion(_) => "invalid_grant",
            AccessDenied => "access_denied",
            AuthorizationPending => "authorization_pending",
            SlowDown { .. } => "slow_down",
            ExpiredToken => "expired_token",
            Store(_) | PasswordCheck(_) | SigningKey(_) => "server_error",
            LoginRequired => "login_required",
            ConsentRequired => "consent_required",
            Throttled { .. } | ClientThrottled { .. } | TooManyRequests { .. } => {
                "temporarily_unavailable"
            }
            Dpop(error) => error.code(),
        }
    }

    /// The status of the error response (RFC 6749 5.2): 401 for a client
    /// that failed to authenticate, 500 for a failure of the server, else 400.
    pub fn status(&self) -> u16 {
        if self.retry_after().is_some() {
            return 429;
        }
        if let Oauth2Error::Store(error) = self {
            return error.status();
        }
        match self.code() {
            "invalid_client" => 401,
            "server_error" => 500,
            _ => 400,
        }
    }

    /// How long a throttled request must wait (`Retry-After`), for a 429.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Oauth2Error::Throttled { retry_after }
            | Oauth2Error::ClientThrottled { retry_after }
            | Oauth2Error::TooManyRequests { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// What `error_description` says: the variant's message, or for a
    /// failure of the server a sentence without its detail.
    pub fn description(&self) -> String {
        self.to_string()
    }

    /// The RFC 6749 5.2 JSON error response, `no-store`, with `error_uri`
    /// when the deployment set one for this code, and on a 401 a `Basic`
    /// challenge (RFC 6749 5.2: the client tried, or must try, HTTP auth).
    pub fn to_response(&self, realm: &str, error_uris: &BTreeMap<String, String>) -> Response {
        let mut body = serde_json::json!({
            "error": self.code(),
            "error_description": self.description(),
        });
        if let Some(uri) = error_uris.get(self.code()) {
            body["error_uri"] = serde_json::Value::String(uri.clone());
        }
        let mut response = Response::json(self.status(), &body);
        if let Some(retry_after) = self.retry_after() {
            response
                .headers
                .push(("Retry-After".to_owned(), retry_after.to_string()));
        }
        if let Oauth2Error::Dpop(error) = self {
            if let Some(nonce) = error.nonce() {
                response
                    .headers
                    .push((crate::rfc9449::NONCE_HEADER.to_owned(), nonce.to_owned()));
            }
        }
        if self.status() == 401 {
            response.headers.push((
                "WWW-Authenticate".to_owned(),
                format!("Basic realm=\"{}\"", quoted(realm)),
            ));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_client_is_401_with_a_basic_challenge_and_error_uri() {
        let uris = BTreeMap::from([(
            "invalid_client".to_owned(),
            "https://docs.example/errors#client".to_owned(),
        )]);
        let response = Oauth2Error::BadClientSecret.to_response("cred\"log", &uris);
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("www-authenticate"),
            Some("Basic realm=\"credlog\"")
        );
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(body["error_uri"], "https://docs.example/errors#client");
    }

    #[test]
    fn store_failures_are_500_and_hide_their_detail() {
        let response = Oauth2Error::Store(StoreError::Backend("sled: /secret/path".into()))
            .to_response("credlog", &BTreeMap::new());
        assert_eq!(response.status, 500);
        assert!(!String::from_utf8(response.body).unwrap().contains("secret"));
        // A store that cannot be reached: 503, try again; the same body.
        let response = Oauth2Error::Store(StoreError::Unavailable("10.0.0.7: refused".into()))
            .to_response("credlog", &BTreeMap::new());
        assert_eq!(response.status, 503);
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "server_error");
        assert!(!body.to_string().contains("10.0.0.7"), "{body}");
    }

    #[test]
    fn password_check_failures_are_500_server_error_and_hide_their_cause() {
        let error = Oauth2Error::PasswordCheck(HostError::new("argon2: /secret/params"));
        assert_eq!((error.status(), error.code()), (500, "server_error"));
        let response = error.to_response("credlog", &BTreeMap::new());
        let body = String::from_utf8(response.body).unwrap();
        assert!(!body.contains("secret"), "{body}");
        assert!(body.contains("server_error"), "{body}");
    }

    #[test]
    fn assertion_refusals_keep_their_reason_and_describe_it() {
        use crate::rfc7523::AssertionError;
        let client = |reason: ClientAssertionError| Oauth2Error::from(reason);
        let grant = |reason: GrantAssertionError| Oauth2Error::from(reason);
        let refused = "the assertion was refused";
        for (error, code, description) in [
            (
                client(AssertionError::Expired.into()),
                "invalid_client",
                "the client assertion was refused: the assertion expired (RFC 7523 3)".to_owned(),
            ),
            (
                client(ClientAssertionError::NoKeys),
                "invalid_client",
                "the client assertion was refused: the client registered no keys".to_owned(),
            ),
            (
                client(ClientAssertionError::JtiReused),
                "invalid_client",
                "the client assertion was refused: the assertion's jti was used before (RFC 7523 3)"
                    .to_owned(),
            ),
            (
                grant(AssertionError::WrongAudience.into()),
                "invalid_grant",
                format!("{refused}: the assertion's \"aud\" does not name this server (RFC 7523 3)"),
            ),
            (
                grant(GrantAssertionError::NoKeys),
                "invalid_grant",
                format!("{refused}: the client registered no keys (jwks)"),
            ),
            (
                grant(GrantAssertionError::IssuerNotClient),
                "invalid_grant",
                format!("{refused}: its iss must be the client's id (RFC 7523 3)"),
            ),
            (
                grant(GrantAssertionError::JtiReused),
                "invalid_grant",
                format!("{refused}: its jti was used before (RFC 7523 3)"),
            ),
            (
                grant(GrantAssertionError::NoLiveGrant),
                "invalid_grant",
                format!(
                    "{refused}: its sub is neither the client nor a user whose grant to it is live"
                ),
            ),
            (
                grant(GrantAssertionError::GrantEnded),
                "invalid_grant",
                format!("{refused}: the grant it rests on ended meanwhile"),
            ),
        ] {
            assert_eq!((error.code(), error.description()), (code, description));
        }
        let error = client(AssertionError::Expired.into());
        assert!(matches!(
            error,
            Oauth2Error::ClientAssertion(ClientAssertionError::Invalid(AssertionError::Expired))
        ));
        let source = StdError::source(&error).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("the assertion expired (RFC 7523 3)")
        );
    }

    #[test]
    fn a_password_check_failure_keeps_the_hosts_error() {
        #[derive(Debug, thiserror::Error)]
        #[error("the hasher broke")]
        struct Broke;
        let error = Oauth2Error::from(crate::rfc6749::OwnerCheckError::Check(HostError::new(
            Broke,
        )));
        let Oauth2Error::PasswordCheck(cause) = &error else {
            panic!("{error:?}");
        };
        assert!(cause.get_ref().downcast_ref::<Broke>().is_some());
        let source = StdError::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("the hasher broke"));
        assert_eq!(
            error.description(),
            "the server could not complete the request"
        );
        assert_eq!(error, error.clone());
        assert_ne!(HostError::new("same"), HostError::new("same"));
    }

    #[test]
    fn a_signing_key_failure_keeps_the_key_error_and_a_store_failure_stays_one() {
        let error = Oauth2Error::from(KeyError::Raced);
        assert_eq!(error, Oauth2Error::SigningKey(KeyError::Raced));
        assert_eq!((error.status(), error.code()), (500, "server_error"));
        let source = StdError::source(&error).map(ToString::to_string);
        assert_eq!(source, Some(KeyError::Raced.to_string()));
        let store = StoreError::Backend("down".into());
        assert_eq!(
            Oauth2Error::from(KeyError::Store(store.clone())),
            Oauth2Error::Store(store)
        );
    }

    #[test]
    fn grant_errors_are_400() {
        for error in [
            Oauth2Error::CodeReplayed,
            Oauth2Error::UnsupportedGrantType("x".into()),
            Oauth2Error::InvalidScope("too wide".into()),
            Oauth2Error::InvalidTarget("too wide".into()),
            Oauth2Error::MissingParameter("code"),
            Oauth2Error::AuthorizationPending,
            Oauth2Error::SlowDown { interval: 10 },
            Oauth2Error::ExpiredToken,
            Oauth2Error::AccessDenied,
        ] {
            assert_eq!(error.status(), 400, "{error:?}");
        }
    }
}
