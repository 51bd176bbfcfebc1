//! The authorization endpoint (RFC 6749 3.1, 4.1.1, 4.2.1): reading and
//! checking a request before the resource owner is asked, and the redirect
//! that carries the owner's answer back to the client.
//!
//! Until the client and its redirect URI are known, an error must not be
//! redirected anywhere (RFC 6749 4.1.2.1): it is [`AuthorizationError::Untrusted`]
//! and the adapter shows it to the user. After that, errors go back to
//! the client ([`AuthorizationError::Redirect`]).
//!
//! Every authorization response, success or error, in the query or the
//! fragment, names the issuer in `iss` (RFC 9207 2). A request may have
//! been pushed first (RFC 9126; [`crate::rfc9126`]); a client whose
//! profile or registration requires that is refused one that was not.

use super::client_metadata::ResponseType;
use super::errors::Oauth2Error;
use super::grants::{AuthorizeContext, GrantExtras};
use super::params::{Params, Scope};
use super::redirect::{self, ResponseMode};
use super::server::Oauth2Server;
use crate::domain::{ClientOptions, Profile};
use crate::oidc::{self, AuthenticationRequest, IdTokenFor};
use crate::store::{
    token_id, AppendError, ClientState, CredentialKind, CredentialStore, Event, Exchanged,
    Precondition, PreconditionFailed, Status,
};

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
    /// The issuer every answer names in `iss` (RFC 9207 2).
    pub issuer: String,
    /// The `request_uri` of the pushed request these parameters came from
    /// (RFC 9126 4), if they were pushed: the decision on it uses it up.
    pub request_uri: Option<String>,
    /// The options the client registered (its profile, say).
    pub options: ClientOptions,
}

/// Where an authorization request's parameters came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The authorization endpoint's query or form, as sent.
    Query,
    /// The body of a pushed request being checked before it is stored
    /// (RFC 9126 2.1).
    Pushing,
    /// A pushed request, named at the authorization endpoint by this
    /// `request_uri` (RFC 9126 4).
    Pushed(String),
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
    /// The redirect that sends `error` back to the client, with `state`
    /// and `iss`.
    pub fn error_redirect(&self, server: &Oauth2Server, error: Oauth2Error) -> AuthorizationError {
        AuthorizationError::Redirect {
            location: error_location(
                server,
                &self.issuer,
                &self.redirect_uri,
                self.mode,
                self.state.as_deref(),
                &error,
            ),
            error,
        }
    }

    /// For a request that was pushed, what its decision appends to use
    /// it up: the pushed request must still be unused, unexpired and the
    /// client's, and becomes exchanged in the same record (RFC 9126 4,
    /// 7.3). `None` for a request that was not pushed.
    pub fn pushed_use(&self, now: u64) -> Option<(Precondition, Event)> {
        let id = token_id(self.request_uri.as_deref()?);
        Some((
            Precondition::Credential {
                id: id.clone(),
                kind: CredentialKind::PushedRequest,
                client_id: self.client.record.client_id.clone(),
                status: Status::Issued,
                now,
            },
            Event::Exchanged(Exchanged { id }),
        ))
    }

    /// The error a refused append of this request's decision means: its
    /// pushed request used up or expired in the meantime, or its client
    /// removed.
    pub fn refused(&self, refused: &PreconditionFailed) -> Oauth2Error {
        match refused.precondition {
            Precondition::Credential {
                kind: CredentialKind::PushedRequest,
                ..
            } => Oauth2Error::InvalidRequestUri("was already used, or has expired"),
            _ => Oauth2Error::UnknownClient,
        }
    }

    /// Whether it follows the FAPI 2.0 Security Profile.
    pub fn is_fapi2(&self, server: &Oauth2Server) -> bool {
        server.config().profile_of(&self.options) == Some(Profile::Fapi2)
    }

    /// Whether it asks for an ID token beside an access token in the
    /// fragment (`id_token token`).
    pub fn signs_in_implicitly(&self) -> bool {
        self.response_type == ResponseType::IdTokenToken.as_str()
    }

    /// The redirect carrying `pairs`, `state` and `iss` back to the client.
    pub fn answer(&self, pairs: &[(String, String)]) -> String {
        let mut all: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        if let Some(state) = &self.state {
            all.push(("state", state));
        }
        all.push(("iss", &self.issuer));
        redirect::with_parameters(&self.redirect_uri, self.mode, &all)
    }

    /// The parameters the consent form carries back: a pushed request's
    /// `client_id` and `request_uri` alone (RFC 9126 4), or the request's
    /// own parameters.
    pub fn form_fields(&self) -> Vec<(&str, &str)> {
        match &self.request_uri {
            Some(uri) => vec![
                ("client_id", self.client.record.client_id.as_str()),
                ("request_uri", uri.as_str()),
            ],
            None => self.params.iter().collect(),
        }
    }
}

fn error_location(
    server: &Oauth2Server,
    issuer: &str,
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
    pairs.push(("iss", issuer));
    redirect::with_parameters(redirect_uri, mode, &pairs)
}

impl Oauth2Server {
    /// Reads and checks an authorization request (RFC 6749 4.1.1, 4.2.1)
    /// sent to the authorization endpoint as it is, answered by `issuer`.
    pub async fn authorization_request(
        &self,
        store: &dyn CredentialStore,
        issuer: &str,
        params: Params,
    ) -> Result<AuthorizationRequest, AuthorizationError> {
        self.authorization_request_via(store, issuer, params, Via::Query)
            .await
    }

    /// Reads and checks an authorization request whose parameters came
    /// `via` the query, a push being checked, or a pushed request: the
    /// same rules for all, except that a client that must push its
    /// requests (RFC 9126 6) is refused one that was not pushed, once its
    /// redirect URI is trusted (RFC 9126 5).
    pub async fn authorization_request_via(
        &self,
        store: &dyn CredentialStore,
        issuer: &str,
        params: Params,
        via: Via,
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
        let options = crate::rfc7591::client_options(store, client_id)
            .await
            .map_err(|error| Untrusted(Oauth2Error::Store(error)))?;
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
            location: error_location(self, issuer, &redirect_uri, mode, state.as_deref(), &error),
            error,
        };
        if via == Via::Query && self.config().requires_par(&options) {
            return Err(fail(Oauth2Error::PushRequired));
        }
        let response_type = ResponseType::canonical(
            params
                .get("response_type")
                .ok_or_else(|| fail(Oauth2Error::MissingParameter("response_type")))?,
        );
        let fapi2 = self.config().profile_of(&options) == Some(Profile::Fapi2);
        // FAPI 2.0 Security Profile 5.3.2.2: the code flow alone. Refused
        // as the server's own rule when the deployment follows the
        // profile, as the client's when only the client does.
        if fapi2 && response_type != ResponseType::Code.as_str() {
            return Err(fail(match self.config().profile {
                Some(Profile::Fapi2) => Oauth2Error::UnsupportedResponseType(response_type),
                None => Oauth2Error::UnauthorizedClient(format!(
                    "response type {response_type} under the FAPI 2.0 profile"
                )),
            }));
        }
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
            issuer: issuer.to_owned(),
            request_uri: match &via {
                Via::Pushed(uri) => Some(uri.clone()),
                Via::Query | Via::Pushing => None,
            },
            options,
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
        if fapi2 {
            // FAPI 2.0 Security Profile 5.3.2.2: PKCE with S256, whatever
            // else the deployment allows.
            crate::rfc7636::require_s256(request.extras.code_challenge.as_ref()).map_err(fail)?;
        }
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
                self.id_token_parts(store, openid, &request.options, user, now)
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
            &request.issuer,
            &request.redirect_uri,
            request.mode,
            request.state.as_deref(),
            &Oauth2Error::AccessDenied,
        )
    }

    /// `request` is answered with `error` without issuing anything (the
    /// owner denied it, or `prompt=none` could not go on): where to send
    /// the owner. A pushed request is used up first (RFC 9126 7.3: its
    /// decision is final), and one used up already is refused.
    pub async fn decline_authorization(
        &self,
        store: &dyn CredentialStore,
        request: &AuthorizationRequest,
        error: Oauth2Error,
        now: u64,
    ) -> Result<String, AuthorizationError> {
        if let Some((pushed, used)) = request.pushed_use(now) {
            let live = Precondition::ClientLive {
                client_id: request.client.record.client_id.clone(),
            };
            match store.append(&[live, pushed], vec![used], now).await {
                Ok(_) => {}
                Err(AppendError::Refused(refused)) => {
                    return Err(AuthorizationError::Untrusted(request.refused(&refused)))
                }
                Err(AppendError::Store(error)) => {
                    return Err(AuthorizationError::Untrusted(Oauth2Error::Store(error)))
                }
            }
        }
        match request.error_redirect(self, error) {
            AuthorizationError::Redirect { location, .. } => Ok(location),
            untrusted => Err(untrusted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc6749::{ClientAuthMethod, GrantType};
    use crate::store::{ClientRecord, Failure, Secret};

    fn request(request_uri: Option<&str>, mode: ResponseMode) -> AuthorizationRequest {
        let client = ClientState {
            record: ClientRecord {
                client_id: "app".to_owned(),
                secret: Secret::None,
                owner: "alice".to_owned(),
                name: "App".to_owned(),
                redirect_uris: vec!["https://app.example/cb".to_owned()],
                scope: Scope::parse("profile").unwrap(),
                grant_types: vec![GrantType::AuthorizationCode],
                response_types: vec![ResponseType::Code],
                auth_method: ClientAuthMethod::ClientSecretBasic,
                rsa_public_key: None,
            },
            revoked: false,
            issued_seq: 1,
        };
        AuthorizationRequest {
            client,
            response_type: "code".to_owned(),
            redirect_uri: "https://app.example/cb".to_owned(),
            redirect_uri_given: true,
            scope: Scope::parse("profile").unwrap(),
            state: Some("s 1".to_owned()),
            extras: GrantExtras::default(),
            mode,
            params: Params::from_pairs([
                ("client_id", "app"),
                ("response_type", "code"),
                ("dpop_jkt", "thumb"),
            ]),
            openid: None,
            issuer: "https://as.example".to_owned(),
            request_uri: request_uri.map(str::to_owned),
            options: ClientOptions::default(),
        }
    }

    #[test]
    fn every_answer_names_the_issuer_in_the_query_or_the_fragment() {
        let server = Oauth2Server::default();
        let code = request(None, ResponseMode::Query);
        assert_eq!(
            code.answer(&[("code".to_owned(), "c".to_owned())]),
            "https://app.example/cb?code=c&state=s%201&iss=https%3A%2F%2Fas.example"
        );
        let denied = server.deny_authorization(&code);
        assert!(denied.starts_with("https://app.example/cb?error=access_denied&"));
        assert!(denied.ends_with("&state=s%201&iss=https%3A%2F%2Fas.example"));
        let implicit = request(None, ResponseMode::Fragment);
        assert!(implicit
            .answer(&[("access_token".to_owned(), "t".to_owned())])
            .ends_with("#access_token=t&state=s%201&iss=https%3A%2F%2Fas.example"));
        match implicit.error_redirect(&server, Oauth2Error::ConsentRequired) {
            AuthorizationError::Redirect { location, .. } => {
                assert!(location.contains("#error=consent_required&"), "{location}");
                assert!(location.ends_with("&iss=https%3A%2F%2Fas.example"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pushed_request_is_carried_by_reference_and_used_up_once() {
        let uri = "urn:ietf:params:oauth:request_uri:abc";
        let pushed = request(Some(uri), ResponseMode::Query);
        assert_eq!(
            pushed.form_fields(),
            [("client_id", "app"), ("request_uri", uri)]
        );
        // The pushed parameters stay readable beside it.
        assert_eq!(pushed.params.get("dpop_jkt"), Some("thumb"));
        let (precondition, event) = pushed.pushed_use(7).expect("a pushed request");
        assert_eq!(
            precondition,
            Precondition::Credential {
                id: token_id(uri),
                kind: CredentialKind::PushedRequest,
                client_id: "app".to_owned(),
                status: Status::Issued,
                now: 7,
            }
        );
        assert_eq!(event, Event::Exchanged(Exchanged { id: token_id(uri) }));
        let used = PreconditionFailed {
            precondition,
            failure: Failure::Missing,
        };
        assert_eq!(pushed.refused(&used).code(), "invalid_request_uri");
        let gone = PreconditionFailed {
            precondition: Precondition::ClientLive {
                client_id: "app".to_owned(),
            },
            failure: Failure::Missing,
        };
        assert_eq!(pushed.refused(&gone), Oauth2Error::UnknownClient);

        let plain = request(None, ResponseMode::Query);
        assert_eq!(plain.pushed_use(7), None);
        assert_eq!(plain.form_fields().len(), 3);
    }
}
