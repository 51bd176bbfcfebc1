//! The authorization endpoint (RFC 6749 3.1, 4.1.1, 4.2.1): reading and
//! checking a request before the resource owner is asked, and the redirect
//! that carries the owner's answer back to the client.
//!
//! Until the client and its redirect URI are known, an error must not be
//! redirected anywhere (RFC 6749 4.1.2.1): it is [`AuthorizationError::Untrusted`]
//! and the adapter shows it to the user. After that, errors go back to
//! the client ([`AuthorizationError::Redirect`]).

use super::client_metadata::ResponseType;
use super::errors::Oauth2Error;
use super::grants::{AuthorizeContext, GrantExtras};
use super::params::{Params, Scope};
use super::redirect::{self, ResponseMode};
use super::server::Oauth2Server;
use crate::oidc::{self, AuthenticationRequest, IdTokenFor};
use crate::store::{ClientState, CredentialStore};

/// An authorization request whose client and redirect URI are trusted and
/// whose every parameter passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client.
    pub client: ClientState,
    /// `response_type`.
    pub response_type: String,
    /// The redirect URI the answer goes to.
    pub redirect_uri: String,
    /// Whether the request named it (then the token request must too: RFC 6749 4.1.3).
    pub redirect_uri_given: bool,
    /// The scope asked for, or the client's.
    pub scope: Scope,
    /// `state`, echoed back.
    pub state: Option<String>,
    /// What the grant read for itself (PKCE).
    pub extras: GrantExtras,
    /// Where the answer goes in the redirect URI.
    pub mode: ResponseMode,
    /// The request's parameters as sent, for the consent form to carry.
    pub params: Params,
    /// What an OpenID Connect authentication request (scope `openid`, on
    /// a server that is an OpenID Provider) adds.
    pub openid: Option<AuthenticationRequest>,
}

/// Why an authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationError {
    /// The client or the redirect URI is not trusted: show the error to
    /// the user, never redirect.
    Untrusted(Oauth2Error),
    /// Send the error to the client at `location`.
    Redirect {
        /// The redirect URI with `error`, `error_description` and `state`.
        location: String,
        /// The error.
        error: Oauth2Error,
    },
}

impl AuthorizationError {
    /// The error, wherever it goes.
    pub fn error(&self) -> &Oauth2Error {
        match self {
            AuthorizationError::Untrusted(error) | AuthorizationError::Redirect { error, .. } => {
                error
            }
        }
    }
}

impl AuthorizationRequest {
    /// The redirect that sends `error` back to the client, with `state`.
    pub fn error_redirect(&self, server: &Oauth2Server, error: Oauth2Error) -> AuthorizationError {
        AuthorizationError::Redirect {
            location: error_location(
                server,
                &self.redirect_uri,
                self.mode,
                self.state.as_deref(),
                &error,
            ),
            error,
        }
    }

    /// Whether it asks for an ID token beside an access token in the
    /// fragment (`id_token token`).
    pub fn signs_in_implicitly(&self) -> bool {
        self.response_type == ResponseType::IdTokenToken.as_str()
    }

    /// The redirect carrying `pairs` and `state` back to the client.
    pub fn answer(&self, pairs: &[(String, String)]) -> String {
        let mut all: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        if let Some(state) = &self.state {
            all.push(("state", state));
        }
        redirect::with_parameters(&self.redirect_uri, self.mode, &all)
    }
}

fn error_location(
    server: &Oauth2Server,
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    error: &Oauth2Error,
) -> String {
    let description = error.description();
    let mut pairs = vec![
        ("error", error.code()),
        ("error_description", description.as_str()),
    ];
    if let Some(uri) = server.config().error_uris.get(error.code()) {
        pairs.push(("error_uri", uri));
    }
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect::with_parameters(redirect_uri, mode, &pairs)
}

impl Oauth2Server {
    /// Reads and checks an authorization request (RFC 6749 4.1.1, 4.2.1).
    pub async fn authorization_request(
        &self,
        store: &dyn CredentialStore,
        params: Params,
    ) -> Result<AuthorizationRequest, AuthorizationError> {
        use AuthorizationError::Untrusted;
        let client_id = params
            .get("client_id")
            .ok_or(Untrusted(Oauth2Error::MissingParameter("client_id")))?;
        let client = match store.client(client_id).await {
            Ok(Some(client)) if !client.revoked => client,
            Ok(_) => return Err(Untrusted(Oauth2Error::UnknownClient)),
            Err(error) => return Err(Untrusted(Oauth2Error::Store(error))),
        };
        let redirect_uri =
            redirect::resolve(params.get("redirect_uri"), &client.record.redirect_uris)
                .map_err(Untrusted)?
                .to_owned();
        let state = params.get("state").map(str::to_owned);
        let grant = params
            .get("response_type")
            .and_then(|name| self.response_grant(name));
        let mode = grant.map_or(ResponseMode::Query, |grant| grant.response_mode());
        let fail = |error: Oauth2Error| AuthorizationError::Redirect {
            location: error_location(self, &redirect_uri, mode, state.as_deref(), &error),
            error,
        };
        let response_type = ResponseType::canonical(
            params
                .get("response_type")
                .ok_or_else(|| fail(Oauth2Error::MissingParameter("response_type")))?,
        );
        let Some(grant) = grant else {
            return Err(fail(Oauth2Error::UnsupportedResponseType(response_type)));
        };
        if !client.record.allows_response_type(&response_type)
            || !client.record.allows_grant(grant.grant_type())
        {
            return Err(fail(Oauth2Error::UnauthorizedClient(format!(
                "response type {response_type}"
            ))));
        }
        let allowed = self.client_scope(&client);
        let scope = match params.get("scope") {
            None => allowed,
            Some(text) => {
                let scope = Scope::parse(text).map_err(fail)?;
                if !scope.is_subset_of(&allowed) {
                    return Err(fail(Oauth2Error::InvalidScope(format!(
                        "scope {scope} is wider than the {allowed} this client may ask for"
                    ))));
                }
                scope
            }
        };
        let mut request = AuthorizationRequest {
            client,
            response_type,
            redirect_uri_given: params.get("redirect_uri").is_some(),
            redirect_uri: redirect_uri.clone(),
            scope,
            state: state.clone(),
            extras: GrantExtras::default(),
            mode,
            params: Params::default(),
            openid: None,
        };
        if self.openid().is_some() && oidc::is_openid(&request.scope) {
            request.openid = Some(AuthenticationRequest::parse(&params).map_err(fail)?);
        }
        if request.signs_in_implicitly() {
            // OpenID Connect Core 1.0 3.2.2.1: an ID token in the fragment
            // is for an authentication request, whose nonce is required.
            match &request.openid {
                None => {
                    return Err(fail(Oauth2Error::MalformedParameter {
                        name: "response_type",
                        why: "id_token token signs the user in: the scope must include openid",
                    }))
                }
                Some(openid) if openid.nonce.is_none() => {
                    return Err(fail(Oauth2Error::MissingParameter("nonce")))
                }
                Some(_) => {}
            }
        }
        request.extras = grant
            .validate_authorization(&request, &params, self)
            .map_err(fail)?;
        request.params = params;
        Ok(request)
    }

    /// The resource owner `user` granted `request`: issue what it asked for
    /// and answer where to send the owner (RFC 6749 4.1.2, 4.2.2). An
    /// `id_token token` request also gets an ID token by `issuer`, with the
    /// `at_hash` of the access token the grant issued (OpenID Connect Core
    /// 1.0 3.2.2.5).
    pub async fn grant_authorization(
        &self,
        store: &dyn CredentialStore,
        request: &AuthorizationRequest,
        issuer: &str,
        user: &str,
        auth_time: Option<u64>,
        now: u64,
    ) -> Result<String, AuthorizationError> {
        let grant = self.response_grant(&request.response_type).ok_or_else(|| {
            request.error_redirect(
                self,
                Oauth2Error::UnsupportedResponseType(request.response_type.clone()),
            )
        })?;
        let ctx = AuthorizeContext {
            server: self,
            store,
            request,
            user,
            issuer,
            auth_time,
            now,
        };
        let fail = |error| request.error_redirect(self, error);
        // The key and subject are had before anything is issued, so that
        // a failure to have them issues nothing.
        let sign_in = match (self.openid(), &request.openid) {
            (Some(openid), Some(asked)) if request.signs_in_implicitly() => Some((
                self.id_token_parts(store, openid, &request.client.record.client_id, user, now)
                    .await
                    .map_err(fail)?,
                IdTokenFor {
                    auth_time,
                    nonce: asked.nonce.clone(),
                },
            )),
            _ => None,
        };
        let mut pairs = grant.authorize(&ctx).await.map_err(fail)?;
        if let Some((parts, what)) = sign_in {
            let access_token = pairs
                .iter()
                .find(|(name, _)| name == "access_token")
                .map(|(_, value)| value.clone())
                .ok_or_else(|| {
                    fail(Oauth2Error::UnsupportedResponseType(
                        request.response_type.clone(),
                    ))
                })?;
            let client_id = &request.client.record.client_id;
            let id_token = self.id_token(&parts, issuer, client_id, now, &what, &access_token);
            pairs.push(("id_token".to_owned(), id_token));
        }
        Ok(request.answer(&pairs))
    }

    /// The resource owner denied `request`: where to send the owner (RFC
    /// 6749 4.1.2.1 `access_denied`).
    pub fn deny_authorization(&self, request: &AuthorizationRequest) -> String {
        error_location(
            self,
            &request.redirect_uri,
            request.mode,
            request.state.as_deref(),
            &Oauth2Error::AccessDenied,
        )
    }
}
