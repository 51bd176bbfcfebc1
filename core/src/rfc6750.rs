//! Bearer token usage (RFC 6750): reading the token from a request (the
//! `Authorization` header, 2.1, or the form body, 2.2), checking it against
//! the store and the scope a resource needs, and the `WWW-Authenticate`
//! answers of 3.1.

use crate::response::quoted;
use crate::rfc6749::{Params, Scope};
use crate::store::{token_id, CredentialKind, CredentialStore, Status, StoreError};
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
}

impl BearerError {
    /// Its status.
    pub fn status(&self) -> u16 {
        match self {
            BearerError::Missing | BearerError::InvalidToken(_) => 401,
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
            BearerError::InvalidToken(_) => Some("invalid_token"),
            BearerError::InsufficientScope(_) => Some("insufficient_scope"),
            BearerError::Store(_) => Some("server_error"),
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 3).
    pub fn challenge(&self, realm: &str) -> String {
        let mut challenge = format!("Bearer realm=\"{}\"", quoted(realm));
        if let (Some(code), false) = (self.code(), matches!(self, BearerError::Store(_))) {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                quoted(&self.to_string())
            ));
        }
        if let BearerError::InsufficientScope(scope) = self {
            challenge.push_str(&format!(", scope=\"{}\"", quoted(&scope.to_string())));
        }
        challenge
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
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    Some(if is_b64token(token) {
        Ok(token)
    } else {
        Err(BearerError::InvalidRequest(
            "the Bearer credentials are not a b64token (RFC 6750 2.1)",
        ))
    })
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
}

/// Checks a request's access token at `now`: it must be a live access
/// token with every scope in `required`.
pub async fn protect(
    store: &dyn CredentialStore,
    request: &Request,
    required: &Scope,
    now: u64,
) -> Result<BearerToken, BearerError> {
    let token = token_of(request)?;
    protect_token(store, &token, required, now).await
}

/// Checks an access token already read from its request (RFC 6750 2.1:
/// an adapter that reads the `Authorization` header itself).
pub async fn protect_token(
    store: &dyn CredentialStore,
    token: &str,
    required: &Scope,
    now: u64,
) -> Result<BearerToken, BearerError> {
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
    })
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
