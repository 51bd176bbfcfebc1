//! Pushed authorization requests (RFC 9126): a client posts its
//! authorization request's parameters to [`PUSHED_AUTHORIZATION_PATH`],
//! authenticated as at the token endpoint (2), and gets a `request_uri`
//! (2.2) that stands for them at the authorization endpoint (4), for the
//! client that pushed them, once, for
//! [`Oauth2Config::pushed_request_lifetime`](crate::rfc6749::Oauth2Config::pushed_request_lifetime)
//! seconds.
//!
//! The parameters are checked when pushed, as the authorization endpoint
//! would check them (2.1: redirect URI, scope, PKCE, response type, the
//! grant's own rules and the client's profile), so that a bad request is
//! refused to the client, never shown to its user. They are stored as a
//! [`CredentialKind::PushedRequest`] whose id is the hash of the
//! `request_uri`, beside a [`Pushed`] event holding them.
//!
//! Single use (7.3 allows a request to be reloaded while it is unused):
//! the consent page may be shown again for an unused request, but the
//! decision on it (granted, denied, or `prompt=none`'s silent answer) uses
//! it up in the record that writes what the decision issues, so a second
//! decision on the same `request_uri` is refused.

use serde::Serialize;

use crate::oidc::SIGNED_IN_AFTER;
use crate::rfc6749::authorization::{AuthorizationError, Via};
use crate::rfc6749::config::random_value;
use crate::rfc6749::grants::{AuthorizationCodeGrant, Grant};
use crate::rfc6749::{ClientAuthMethod, Oauth2Error, Oauth2Server, Params};
use crate::rfc9449::DpopError;
use crate::store::{
    token_id, AppendError, CredentialKind, CredentialStore, Event, Issued, Precondition, Pushed,
    Secret, Status, TokenRecord,
};
use crate::{Request, Response};

pub use crate::rfc8414::PUSHED_AUTHORIZATION_PATH;

/// What every `request_uri` this server makes starts with (RFC 9126 2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The parameters that authenticate the client at the endpoint: relied
/// on for that alone, never stored with the request (RFC 9126 2.1).
pub const CLIENT_AUTHENTICATION_PARAMETERS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// The parameters a pushed request may not carry (RFC 9126 2.1 and 3:
/// this server takes no request objects).
pub const NOT_PUSHABLE: [&str; 2] = ["request_uri", "request"];

/// The answer to a push (RFC 9126 2.2): the `request_uri` and how many
/// seconds it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushedRequest {
    /// The reference to the pushed parameters.
    pub request_uri: String,
    /// Seconds it works.
    pub expires_in: u64,
}

impl PushedRequest {
    /// The 201 response, `no-store` (RFC 9126 2.2).
    pub fn to_response(&self) -> Response {
        Response::json(
            201,
            &serde_json::json!({
                "request_uri": self.request_uri,
                "expires_in": self.expires_in,
            }),
        )
    }
}

impl Oauth2Server {
    /// The client authentication methods the endpoint accepts: those the
    /// authorization code grant accepts at the token endpoint (RFC 9126 2).
    pub fn pushed_authorization_auth_methods(&self) -> Vec<ClientAuthMethod> {
        let grant = AuthorizationCodeGrant;
        self.config()
            .auth_methods(grant.grant_type(), grant.auth_methods())
    }

    /// `POST` at the pushed authorization request endpoint (RFC 9126 2):
    /// 201 with the `request_uri`, or an RFC 6749 5.2 error (400, 401
    /// `invalid_client`).
    pub async fn pushed_authorization(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Response {
        match self.push(store, request, now).await {
            Ok(pushed) => pushed.to_response(),
            Err(error) => self.error_response(&error),
        }
    }

    /// Authenticates the client of `request`, checks the parameters it
    /// pushes as the authorization endpoint would, and stores them (RFC
    /// 9126 2.1, 2.2).
    pub async fn push(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<PushedRequest, Oauth2Error> {
        let params = Self::form(request)?;
        let methods = self.pushed_authorization_auth_methods();
        let client = self
            .authenticate_client(store, request, &params, &methods, now)
            .await?;
        let client_id = client.record.client_id.as_str();
        if let Some(name) = NOT_PUSHABLE
            .into_iter()
            .find(|name| params.get(name).is_some())
        {
            return Err(Oauth2Error::NotPushable(name));
        }
        if params.get("client_id").is_some_and(|id| id != client_id) {
            return Err(Oauth2Error::ClientIdMismatch);
        }
        let mut pushed = params
            .without(&CLIENT_AUTHENTICATION_PARAMETERS)
            .with("client_id", client_id);
        // RFC 9449 10.1: a proof sent with the push binds the code to its
        // key, as `dpop_jkt` would; both must then name one key.
        if let Some(jkt) = self.dpop_proof(store, request, now).await? {
            match pushed.get("dpop_jkt") {
                Some(named) if named != jkt => return Err(DpopError::JktMismatch.into()),
                Some(_) => {}
                None => pushed = pushed.with("dpop_jkt", &jkt),
            }
        }
        let issuer = self.issuer_for(request);
        self.authorization_request_via(store, &issuer, pushed.clone(), Via::Pushing)
            .await
            .map_err(|refused| refused.error().clone())?;
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_value());
        let id = token_id(&request_uri);
        let lifetime = self.config().pushed_request_lifetime;
        let record = TokenRecord {
            kind: CredentialKind::PushedRequest,
            id: id.clone(),
            secret: Secret::None,
            client_id: client_id.to_owned(),
            user: None,
            scope: String::new(),
            expires_at: Some(now.saturating_add(lifetime)),
            parent: None,
            redirect_uri: None,
            code_challenge: None,
        };
        let events = vec![
            Event::Issued(Issued::Token(record)),
            Event::Pushed(Pushed {
                id,
                params: pushed.to_pairs(),
            }),
        ];
        let live = Precondition::ClientLive {
            client_id: client_id.to_owned(),
        };
        match store.append(&[live], events, now).await {
            Ok(_) => Ok(PushedRequest {
                request_uri,
                expires_in: lifetime,
            }),
            Err(AppendError::Refused(_)) => Err(Oauth2Error::UnknownClient),
            Err(AppendError::Store(error)) => Err(Oauth2Error::Store(error)),
        }
    }

    /// The parameters the authorization endpoint goes on with, and where
    /// they came from: `query`'s own, or, when it names a `request_uri`,
    /// the pushed request's in their place (RFC 9126 4). The pushed
    /// request must be `client_id`'s, unused and unexpired at `now`;
    /// otherwise the request is not trusted (shown, never redirected).
    /// The sign-in the endpoint forced ([`SIGNED_IN_AFTER`]) is kept from
    /// the query.
    pub async fn pushed_parameters(
        &self,
        store: &dyn CredentialStore,
        query: Params,
        now: u64,
    ) -> Result<(Params, Via), AuthorizationError> {
        use AuthorizationError::Untrusted;
        let Some(request_uri) = query.get("request_uri") else {
            return Ok((query, Via::Query));
        };
        let client_id = query
            .get("client_id")
            .ok_or(Untrusted(Oauth2Error::MissingParameter("client_id")))?;
        let id = token_id(request_uri);
        let state = match store.credential(&id).await {
            Ok(Some(state)) if state.record.kind == CredentialKind::PushedRequest => state,
            Ok(_) => return Err(Untrusted(Oauth2Error::InvalidRequestUri("is unknown"))),
            Err(error) => return Err(Untrusted(Oauth2Error::Store(error))),
        };
        if state.record.client_id != client_id {
            return Err(Untrusted(Oauth2Error::InvalidRequestUri(
                "was pushed by another client",
            )));
        }
        if state.status != Status::Issued {
            return Err(Untrusted(Oauth2Error::InvalidRequestUri(
                "was already used",
            )));
        }
        if state.is_expired(now) {
            return Err(Untrusted(Oauth2Error::InvalidRequestUri("has expired")));
        }
        let pushed = match store.pushed(&id).await {
            Ok(Some(pushed)) => pushed,
            Ok(None) => return Err(Untrusted(Oauth2Error::InvalidRequestUri("is unknown"))),
            Err(error) => return Err(Untrusted(Oauth2Error::Store(error))),
        };
        let mut params = Params::from_pairs(pushed.params);
        if let Some(after) = query.get(SIGNED_IN_AFTER) {
            params = params.with(SIGNED_IN_AFTER, after);
        }
        Ok((params, Via::Pushed(request_uri.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc6749::Oauth2Config;

    #[test]
    fn the_answer_is_201_no_store_with_the_rfc_shape() {
        // RFC 9126 2.2's example answer.
        let pushed = PushedRequest {
            request_uri: "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c".to_owned(),
            expires_in: 60,
        };
        let response = pushed.to_response();
        assert_eq!(response.status, 201);
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "request_uri": "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c",
                "expires_in": 60,
            })
        );
    }

    #[test]
    fn the_endpoint_takes_the_code_grants_methods() {
        let server = Oauth2Server::new(Oauth2Config::default());
        let methods = server.pushed_authorization_auth_methods();
        for method in ClientAuthMethod::ALL {
            assert!(methods.contains(&method), "{method:?}");
        }
    }

    #[test]
    fn refusals_are_invalid_request_and_invalid_request_uri() {
        for error in [
            Oauth2Error::NotPushable("request_uri"),
            Oauth2Error::NotPushable("request"),
            Oauth2Error::ClientIdMismatch,
            Oauth2Error::PushRequired,
        ] {
            assert_eq!(error.code(), "invalid_request", "{error}");
            assert_eq!(error.status(), 400);
        }
        assert_eq!(
            Oauth2Error::InvalidRequestUri("has expired").code(),
            "invalid_request_uri"
        );
        let alg = Oauth2Error::AssertionAlgNotAllowed {
            alg: "RS256".to_owned(),
            allowed: "PS256 or ES256",
        };
        assert_eq!((alg.code(), alg.status()), ("invalid_client", 401));
    }
}
