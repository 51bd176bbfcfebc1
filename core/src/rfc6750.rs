//! Bearer token usage (RFC 6750): reading the token from a request (the
//! `Authorization` header, 2.1, or the form body, 2.2), checking it against
//! the store and the scope a resource needs, and the `WWW-Authenticate`
//! answers of 3.1; and beside it the `DPoP` scheme of RFC 9449 7, for
//! tokens bound to a key, each request with a proof of that key.

use crate::response::quoted;
use crate::rfc6749::{Oauth2Config, Params, Scope};
use crate::rfc9449::{self, DpopError, UseError};
use crate::store::{
    token_id, CredentialKind, CredentialState, CredentialStore, Status, StoreError,
};
use crate::{Request, Response};

/// Why a bearer request was refused (RFC 6750 3.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// No token at all: a bare challenge, no error code (3.1).
    #[error("the request carries no access token")]
    Missing,
    /// The token is sent in more than one way, or malformed (`invalid_request`, 400).
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// The token is unknown, expired, revoked or not an access token
    /// (`invalid_token`, 401).
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The token lacks a scope the resource needs (`insufficient_scope`, 403).
    #[error("the access token lacks scope {0}")]
    InsufficientScope(Scope),
    /// The store failed (500; the detail is logged, not sent).
    #[error("the server could not complete the request")]
    Store(#[from] StoreError),
    /// The token is unknown, expired or revoked at a `DPoP` request, not
    /// bound to a key there, or bound to a key and sent as `Bearer` or
    /// with another key's proof (RFC 9449 7.1, 7.2): `invalid_token`, 401,
    /// with a `DPoP` challenge.
    #[error("{0}")]
    DpopToken(&'static str),
    /// The request's DPoP proof was refused (RFC 9449 7.1):
    /// `invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce`
    /// header; 401 with a `DPoP` challenge.
    #[error("{0}")]
    DpopProof(DpopError),
}

impl From<UseError> for BearerError {
    fn from(error: UseError) -> Self {
        match error {
            UseError::Refused(error) => BearerError::DpopProof(error),
            UseError::Store(error) => BearerError::Store(error),
        }
    }
}

impl BearerError {
    /// Its status.
    pub fn status(&self) -> u16 {
        match self {
            BearerError::Missing
            | BearerError::InvalidToken(_)
            | BearerError::DpopToken(_)
            | BearerError::DpopProof(_) => 401,
            BearerError::InvalidRequest(_) => 400,
            BearerError::InsufficientScope(_) => 403,
            BearerError::Store(error) => error.status(),
        }
    }

    /// Its RFC 6750 3.1 error code (`None` for a request without a token).
    pub fn code(&self) -> Option<&'static str> {
        match self {
            BearerError::Missing => None,
            BearerError::InvalidRequest(_) => Some("invalid_request"),
            BearerError::InvalidToken(_) | BearerError::DpopToken(_) => Some("invalid_token"),
            BearerError::DpopProof(error) => Some(error.code()),
            BearerError::InsufficientScope(_) => Some("insufficient_scope"),
            BearerError::Store(_) => Some("server_error"),
        }
    }

    /// Whether its challenge is RFC 9449 7.1's `DPoP` one.
    pub fn is_dpop(&self) -> bool {
        matches!(self, BearerError::DpopToken(_) | BearerError::DpopProof(_))
    }

    /// The `WWW-Authenticate` value (RFC 6750 3; RFC 9449 7.1 for the
    /// `DPoP` scheme, with the `algs` a proof may use).
    pub fn challenge(&self, realm: &str) -> String {
        let scheme = if self.is_dpop() { "DPoP" } else { "Bearer" };
        let mut challenge = format!("{scheme} realm=\"{}\"", quoted(realm));
        if let (Some(code), false) = (self.code(), matches!(self, BearerError::Store(_))) {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                quoted(&self.to_string())
            ));
        }
        if let BearerError::InsufficientScope(scope) = self {
            challenge.push_str(&format!(", scope=\"{}\"", quoted(&scope.to_string())));
        }
        if self.is_dpop() {
            challenge.push_str(&format!(", algs=\"{}\"", rfc9449::algs()));
        }
        challenge
    }

    /// The `DPoP` challenge a request with no token at all is told of
    /// beside the `Bearer` one (RFC 9449 7.1): the scheme and the
    /// algorithms its proofs may use.
    pub fn dpop_challenge(realm: &str) -> String {
        format!(
            "DPoP realm=\"{}\", algs=\"{}\"",
            quoted(realm),
            rfc9449::algs()
        )
    }

    /// The answer: its status, the challenge, and a JSON body with `error`
    /// and `error_description`.
    pub fn to_response(&self, realm: &str) -> Response {
        let body = match self.code() {
            Some(code) => serde_json::json!({"error": code, "error_description": self.to_string()}),
            None => serde_json::json!({"error_description": self.to_string()}),
        };
        let mut response = Response::json(self.status(), &body);
        if !matches!(self, BearerError::Store(_)) {
            response
                .headers
                .push(("WWW-Authenticate".to_owned(), self.challenge(realm)));
        }
        if matches!(self, BearerError::Missing) {
            response.headers.push((
                "WWW-Authenticate".to_owned(),
                BearerError::dpop_challenge(realm),
            ));
        }
        if let Some(nonce) = match self {
            BearerError::DpopProof(error) => error.nonce(),
            _ => None,
        } {
            response
                .headers
                .push((rfc9449::NONCE_HEADER.to_owned(), nonce.to_owned()));
        }
        response
    }
}

/// Whether `token` has the `b64token` syntax of RFC 6750 2.1:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// The token of an `Authorization` header value: `Some(Ok)` for a
/// well-formed `Bearer` credential, `Some(Err)` for a malformed one, `None`
/// for another scheme.
pub fn parse_authorization(value: &str) -> Option<Result<&str, BearerError>> {
    token_in_scheme(
        value,
        "bearer",
        "the Bearer credentials are not a b64token (RFC 6750 2.1)",
    )
}

/// The token of an `Authorization` header value in RFC 9449 7.1's
/// `DPoP` scheme: `Some(Ok)` for a well-formed one (the `token68` syntax
/// of a `b64token`), `Some(Err)` for a malformed one, `None` for another
/// scheme.
pub fn parse_dpop_authorization(value: &str) -> Option<Result<&str, BearerError>> {
    token_in_scheme(
        value,
        "dpop",
        "the DPoP credentials are not a token68 (RFC 9449 7.1)",
    )
}

/// The `b64token` after `scheme` (matched without case) in an
/// `Authorization` value; `malformed` says why one is refused.
fn token_in_scheme<'v>(
    value: &'v str,
    scheme: &str,
    malformed: &'static str,
) -> Option<Result<&'v str, BearerError>> {
    let value = value.trim();
    let (named, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !named.eq_ignore_ascii_case(scheme) {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    Some(if is_b64token(token) {
        Ok(token)
    } else {
        Err(BearerError::InvalidRequest(malformed))
    })
}

/// Whether the request presents an access token in the `DPoP` scheme.
pub fn is_dpop(request: &Request) -> bool {
    request
        .header_values("authorization")
        .any(|value| parse_dpop_authorization(value).is_some())
}

/// How an access token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RFC 6750: `Authorization: Bearer` or the form body.
    Bearer,
    /// RFC 9449 7.1: `Authorization: DPoP`, with a proof.
    DPoP,
}

/// The access token a request presents, in exactly one way, and the
/// scheme it came in: [`token_of`]'s, or the `DPoP` scheme's.
pub fn presented(request: &Request) -> Result<(String, Scheme), BearerError> {
    let mut dpop: Option<String> = None;
    for value in request.header_values("authorization") {
        if let Some(token) = parse_dpop_authorization(value) {
            if dpop.is_some() {
                return Err(BearerError::InvalidRequest(
                    "more than one access token was sent",
                ));
            }
            dpop = Some(token?.to_owned());
        }
    }
    match (dpop, token_of(request)) {
        (Some(token), Err(BearerError::Missing)) => Ok((token, Scheme::DPoP)),
        (Some(_), _) => Err(BearerError::InvalidRequest(
            "the access token was sent in more than one way",
        )),
        (None, read) => read.map(|token| (token, Scheme::Bearer)),
    }
}

/// Whether the request tries bearer authentication: a `Bearer` header or
/// an `access_token` form field.
pub fn is_bearer(request: &Request) -> bool {
    request
        .header_values("authorization")
        .any(|value| parse_authorization(value).is_some())
        || body_token(request).is_some_and(|token| token.is_ok())
}

fn body_token(request: &Request) -> Option<Result<String, BearerError>> {
    if request.method.eq_ignore_ascii_case("GET") || !request.has_form_body() {
        return None;
    }
    match Params::parse(&request.body) {
        Ok(params) => params.get("access_token").map(|t| Ok(t.to_owned())),
        Err(_) => Some(Err(BearerError::InvalidRequest(
            "the form body could not be read",
        ))),
    }
}

/// The access token a request presents, in exactly one way (RFC 6750 2).
pub fn token_of(request: &Request) -> Result<String, BearerError> {
    let mut found: Option<String> = None;
    for value in request.header_values("authorization") {
        if let Some(token) = parse_authorization(value) {
            if found.is_some() {
                return Err(BearerError::InvalidRequest(
                    "more than one access token was sent",
                ));
            }
            found = Some(token?.to_owned());
        }
    }
    if let Some(token) = body_token(request) {
        if found.is_some() {
            return Err(BearerError::InvalidRequest(
                "the access token was sent in more than one way",
            ));
        }
        found = Some(token?);
    }
    found.ok_or(BearerError::Missing)
}

/// A live access token, as the protected resource sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerToken {
    /// The client it was issued to.
    pub client_id: String,
    /// The resource owner (`None` for a client credentials token).
    pub user: Option<String>,
    /// Its scope.
    pub scope: Scope,
    /// Its id in the store (the SHA-256 of its value).
    pub id: String,
    /// When it expires (seconds since the epoch).
    pub expires_at: Option<u64>,
    /// The thumbprint of the key it is bound to, when it is DPoP-bound
    /// (RFC 9449 6): the request came in the `DPoP` scheme with a proof
    /// made with that key.
    pub dpop_jkt: Option<String>,
}

/// What a resource asks of DPoP proofs (RFC 9449 7): the deployment's
/// `iat` window and whether proofs must carry a server nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpopRules {
    /// Seconds a proof's `iat` may be from now, either way.
    pub window: u64,
    /// Whether proofs must carry a server nonce (RFC 9449 9).
    pub nonces: bool,
}

impl Default for DpopRules {
    /// A 60 s window, no nonces.
    fn default() -> Self {
        DpopRules {
            window: 60,
            nonces: false,
        }
    }
}

impl DpopRules {
    /// The deployment's rules.
    pub fn of(config: &Oauth2Config) -> Self {
        DpopRules {
            window: config.dpop_proof_window,
            nonces: config.dpop_nonces,
        }
    }
}

/// Checks a request's access token at `now`: it must be a live access
/// token with every scope in `required`, presented as `Bearer` when it
/// is not DPoP-bound, and in the `DPoP` scheme with a proof of its key
/// when it is (with the default [`DpopRules`]).
pub async fn protect(
    store: &dyn CredentialStore,
    request: &Request,
    required: &Scope,
    now: u64,
) -> Result<BearerToken, BearerError> {
    protect_with(store, request, required, &DpopRules::default(), now).await
}

/// [`protect`], with the deployment's DPoP rules.
pub async fn protect_with(
    store: &dyn CredentialStore,
    request: &Request,
    required: &Scope,
    rules: &DpopRules,
    now: u64,
) -> Result<BearerToken, BearerError> {
    match presented(request)? {
        (token, Scheme::Bearer) => protect_token(store, &token, required, now).await,
        (token, Scheme::DPoP) => protect_dpop(store, request, &token, required, rules, now).await,
    }
}

/// The token's state when it is a live access token.
async fn live(
    store: &dyn CredentialStore,
    token: &str,
    now: u64,
) -> Result<CredentialState, BearerError> {
    let state = match store.credential(&token_id(token)).await {
        Ok(Some(state)) if state.record.kind == CredentialKind::AccessToken => state,
        Ok(_) => return Err(BearerError::InvalidToken("the access token is unknown")),
        Err(error) => return Err(BearerError::Store(error)),
    };
    if state.status != Status::Issued {
        return Err(BearerError::InvalidToken("the access token was revoked"));
    }
    if state.is_expired(now) {
        return Err(BearerError::InvalidToken("the access token has expired"));
    }
    Ok(state)
}

/// The key a token is bound to, if any.
async fn bound_key(store: &dyn CredentialStore, id: &str) -> Result<Option<String>, BearerError> {
    Ok(store
        .constraints(id)
        .await?
        .and_then(|constrained| constrained.jkt))
}

fn granted(
    state: CredentialState,
    required: &Scope,
    dpop_jkt: Option<String>,
) -> Result<BearerToken, BearerError> {
    let scope = Scope::stored(&state.record.scope);
    if !required.is_subset_of(&scope) {
        return Err(BearerError::InsufficientScope(required.clone()));
    }
    Ok(BearerToken {
        client_id: state.record.client_id,
        user: state.record.user,
        scope,
        id: state.record.id,
        expires_at: state.record.expires_at,
        dpop_jkt,
    })
}

/// Checks an access token already read from its request as `Bearer`
/// (RFC 6750 2.1: an adapter that reads the `Authorization` header
/// itself). A DPoP-bound token is refused (RFC 9449 7.2): its holder
/// must prove the key.
pub async fn protect_token(
    store: &dyn CredentialStore,
    token: &str,
    required: &Scope,
    now: u64,
) -> Result<BearerToken, BearerError> {
    let state = live(store, token, now).await?;
    if bound_key(store, &state.record.id).await?.is_some() {
        return Err(BearerError::DpopToken(
            "the access token is DPoP-bound: send it in the DPoP scheme with a proof (RFC 9449 7.1)",
        ));
    }
    granted(state, required, None)
}

/// RFC 9449 7.1: an access token in the `DPoP` scheme, with exactly one
/// proof whose `htm`, `htu` are the request's, whose `ath` is the
/// token's hash, made with the key the token is bound to; its `jti` is
/// used once.
pub async fn protect_dpop(
    store: &dyn CredentialStore,
    request: &Request,
    token: &str,
    required: &Scope,
    rules: &DpopRules,
    now: u64,
) -> Result<BearerToken, BearerError> {
    let proof = rfc9449::proof_of(request)
        .map_err(BearerError::DpopProof)?
        .ok_or(BearerError::DpopProof(DpopError::Missing))?;
    let expected = rfc9449::Expected {
        method: &request.method,
        uri: &request.uri,
        now,
        window: rules.window,
        access_token: Some(token),
        nonces: None,
    };
    let state = live(store, token, now).await.map_err(|error| match error {
        BearerError::InvalidToken(why) => BearerError::DpopToken(why),
        other => other,
    })?;
    let Some(bound) = bound_key(store, &state.record.id).await? else {
        return Err(BearerError::DpopToken(
            "the access token is not DPoP-bound: send it as Bearer (RFC 9449 7.1)",
        ));
    };
    let used = rfc9449::check_and_use(store, proof, expected, rules.nonces).await?;
    if used.jkt != bound {
        return Err(BearerError::DpopToken(
            "the DPoP proof is made with another key than the access token is bound to (RFC 9449 7.1)",
        ));
    }
    granted(state, required, Some(bound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_form_is_read_strictly() {
        assert_eq!(
            parse_authorization("Bearer mF_9.B5f-4.1JqM"),
            Some(Ok("mF_9.B5f-4.1JqM"))
        );
        assert_eq!(parse_authorization("bearer abc=="), Some(Ok("abc==")));
        assert_eq!(parse_authorization("Basic abc"), None);
        assert!(matches!(parse_authorization("Bearer a b"), Some(Err(_))));
        assert!(matches!(parse_authorization("Bearer"), Some(Err(_))));
        assert!(matches!(parse_authorization("Bearer =abc"), Some(Err(_))));
    }

    #[test]
    fn a_token_in_two_places_is_refused() {
        let request = Request::new("POST", "http://rs.example/r")
            .with_header("Authorization", "Bearer abc")
            .with_form(&[("access_token", "abc")]);
        assert_eq!(
            token_of(&request),
            Err(BearerError::InvalidRequest(
                "the access token was sent in more than one way"
            ))
        );
        let body =
            Request::new("POST", "http://rs.example/r").with_form(&[("access_token", "xyz")]);
        assert_eq!(token_of(&body), Ok("xyz".to_owned()));
        let get = Request::new("GET", "http://rs.example/r");
        assert_eq!(token_of(&get), Err(BearerError::Missing));
    }

    #[test]
    fn a_store_that_cannot_be_reached_is_503_without_a_challenge() {
        for (error, status) in [
            (StoreError::Backend("disk".into()), 500),
            (StoreError::Unavailable("10.0.0.7".into()), 503),
        ] {
            let response = BearerError::Store(error).to_response("r");
            assert_eq!(response.status, status);
            assert!(!response
                .headers
                .iter()
                .any(|(name, _)| name == "WWW-Authenticate"));
        }
    }

    #[test]
    fn challenges_follow_rfc_6750_3() {
        assert_eq!(BearerError::Missing.challenge("r"), "Bearer realm=\"r\"");
        let scope = BearerError::InsufficientScope(Scope::parse("profile").unwrap());
        assert_eq!(scope.status(), 403);
        assert_eq!(
            scope.challenge("r"),
            "Bearer realm=\"r\", error=\"insufficient_scope\", \
             error_description=\"the access token lacks scope profile\", scope=\"profile\""
        );
    }
}
