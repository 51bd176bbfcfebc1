//! The authorization endpoint's two requests with the host's [`Consent`]
//! (RFC 6749 3.1, 4.1.1-4.1.2, 4.2.1-4.2.2): `GET` checks the request and
//! asks the signed-in resource owner; `POST` takes the decision. The form
//! carries the request's own parameters, which are checked again on
//! submit, so no state waits on the server between the two.
//!
//! A pushed request (RFC 9126 4) is named by `client_id` and
//! `request_uri` alone; its form carries those two back, and the decision
//! on it uses it up ([`crate::rfc9126`]).

use super::authorization::{AuthorizationError, AuthorizationRequest, Via};
use super::errors::Oauth2Error;
use super::params::{Params, Scope};
use super::server::Oauth2Server;
use crate::consent::{path_and_query, path_of, Consent, Page, Prompt, ReturnsTo};
use crate::form::{form_encode, query_of, Fields};
use crate::oidc;
use crate::store::{CredentialStore, Status};
use crate::{Request, Response};

impl Oauth2Server {
    /// An error before the redirect URI is trusted is shown, never
    /// redirected (RFC 6749 4.1.2.1); after, it goes back to the client.
    fn refusal<C: Consent>(&self, consent: &C, error: AuthorizationError) -> Response {
        match error {
            AuthorizationError::Untrusted(Oauth2Error::Store(detail)) => {
                tracing::error!(%detail, "the credential store failed");
                consent.show(&Page::store_failed(&detail))
            }
            AuthorizationError::Untrusted(error) => consent.show(&Page::Refused {
                status: 400,
                title: "Invalid authorization request",
                message: &format!(
                    "This request cannot be completed: {} ({}). Return to the application and \
                     try again, or tell its developers.",
                    error.description(),
                    error.code()
                ),
            }),
            AuthorizationError::Redirect { location, error } => {
                if let Oauth2Error::Store(detail) = &error {
                    tracing::error!(%detail, "the credential store failed");
                }
                Response::redirect(302, &location)
            }
        }
    }

    /// The request's parameters as the endpoint goes on with them: the
    /// query's (or form's), or a pushed request's in their place.
    async fn resolved<C: Consent>(
        &self,
        store: &dyn CredentialStore,
        consent: &C,
        params: Result<Params, Oauth2Error>,
        now: u64,
    ) -> Result<(Params, Via), Response> {
        let params =
            params.map_err(|error| self.refusal(consent, AuthorizationError::Untrusted(error)))?;
        self.pushed_parameters(store, params, now)
            .await
            .map_err(|error| self.refusal(consent, error))
    }

    async fn checked<C: Consent>(
        &self,
        store: &dyn CredentialStore,
        consent: &C,
        issuer: &str,
        (params, via): (Params, Via),
    ) -> Result<AuthorizationRequest, Response> {
        self.authorization_request_via(store, issuer, params, via)
            .await
            .map_err(|error| self.refusal(consent, error))
    }

    /// Answers `authorization` with `error` and nothing issued, using up
    /// a pushed request.
    async fn declined<C: Consent>(
        &self,
        store: &dyn CredentialStore,
        consent: &C,
        authorization: &AuthorizationRequest,
        error: Oauth2Error,
        now: u64,
    ) -> Response {
        match self
            .decline_authorization(store, authorization, error, now)
            .await
        {
            Ok(location) => Response::redirect(302, &location),
            Err(error) => self.refusal(consent, error),
        }
    }

    /// `GET` at the authorization endpoint (RFC 6749 4.1.1, 4.2.1): the
    /// request, checked, put to the signed-in resource owner; anyone else is
    /// sent to sign in first. An OpenID Connect request may ask for a fresh
    /// sign-in (`prompt=login`, `max_age`), or for no page at all
    /// (`prompt=none`: answered at once, or with `login_required` or
    /// `consent_required`; OpenID Connect Core 1.0 3.1.2.1, 3.1.2.6).
    pub async fn authorize_page<C: Consent>(
        &self,
        store: &dyn CredentialStore,
        consent: &C,
        request: &Request,
        now: u64,
    ) -> Response {
        let owner = consent.owner(request).await;
        let query = query_of(&request.uri).unwrap_or("");
        let params = match self
            .resolved(store, consent, Params::parse(query.as_bytes()), now)
            .await
        {
            Ok(params) => params,
            Err(response) => return response,
        };
        // prompt=none is answered by a redirect, which needs the request
        // checked first; anything else signs in before it is looked at.
        let silent = params
            .0
            .get("prompt")
            .is_some_and(|prompt| prompt.split(' ').any(|value| value == "none"));
        if owner.is_none() && !silent {
            return consent.sign_in(path_and_query(&request.uri));
        }
        let issuer = self.issuer_for(request);
        let authorization = match self.checked(store, consent, &issuer, params).await {
            Ok(authorization) => authorization,
            Err(response) => return response,
        };
        let Some(owner) = owner else {
            return match authorization.openid {
                Some(_) => {
                    self.declined(
                        store,
                        consent,
                        &authorization,
                        Oauth2Error::LoginRequired,
                        now,
                    )
                    .await
                }
                None => consent.sign_in(path_and_query(&request.uri)),
            };
        };
        if let Some(openid) = &authorization.openid {
            let auth_time = consent.auth_time(&owner);
            if openid.needs_sign_in(auth_time, now) {
                if openid.prompt.none {
                    return self
                        .declined(
                            store,
                            consent,
                            &authorization,
                            Oauth2Error::LoginRequired,
                            now,
                        )
                        .await;
                }
                // A pushed request comes back by its reference alone.
                let carried = match &authorization.request_uri {
                    Some(_) => Params::from_pairs(authorization.form_fields()),
                    None => authorization.params.clone(),
                };
                let back = oidc::after_sign_in(path_of(&request.uri), &carried, now);
                return consent.sign_in(&back);
            }
            if openid.prompt.none {
                let user = consent.user(&owner);
                return match self.granted_before(store, user, &authorization).await {
                    Ok(true) => match self
                        .grant_authorization(store, &authorization, &issuer, user, auth_time, now)
                        .await
                    {
                        Ok(location) => Response::redirect(302, &location),
                        Err(error) => self.refusal(consent, error),
                    },
                    Ok(false) => {
                        self.declined(
                            store,
                            consent,
                            &authorization,
                            Oauth2Error::ConsentRequired,
                            now,
                        )
                        .await
                    }
                    Err(error) => self.refusal(
                        consent,
                        authorization.error_redirect(self, Oauth2Error::Store(error)),
                    ),
                };
            }
        }
        let scope = authorization.scope.to_string();
        let prompt = Prompt {
            client_name: &authorization.client.record.name,
            scope: &scope,
            returns_to: ReturnsTo::Uri(&authorization.redirect_uri),
            action: path_of(&request.uri),
            fields: authorization.form_fields(),
        };
        consent.ask(&owner, &prompt)
    }

    /// Whether `user` has granted the request's client its whole scope
    /// before, in credentials not taken back: what `prompt=none` may go on
    /// without asking.
    async fn granted_before(
        &self,
        store: &dyn CredentialStore,
        user: &str,
        authorization: &AuthorizationRequest,
    ) -> Result<bool, crate::store::StoreError> {
        let client_id = &authorization.client.record.client_id;
        let grants = store.grants_of(user).await?;
        let scopes: Vec<&str> = grants
            .iter()
            .filter(|grant| &grant.client_id == client_id)
            .flat_map(|grant| &grant.credentials)
            .filter(|credential| credential.status != Status::Revoked)
            .map(|credential| credential.record.scope.as_str())
            .collect();
        let granted = Scope::stored(&scopes.join(" "));
        Ok(!granted.is_empty() && authorization.scope.is_subset_of(&granted))
    }

    /// `POST` at the authorization endpoint (RFC 6749 4.1.2, 4.2.2): the
    /// owner's decision on the request, checked again, and the redirect
    /// that carries the answer to the client.
    pub async fn authorize_decision<C: Consent>(
        &self,
        store: &dyn CredentialStore,
        consent: &C,
        request: &Request,
        now: u64,
    ) -> Response {
        let Ok(form) = Params::parse(&request.body) else {
            return consent.show(&Page::UNREADABLE_FORM);
        };
        let own = consent.own_fields();
        let params = Params::from_pairs(form.iter().filter(|(name, _)| !own.contains(name)));
        let Some(owner) = consent.owner(request).await else {
            return consent.sign_in(&format!(
                "{}?{}",
                path_of(&request.uri),
                form_encode(params.iter())
            ));
        };
        // The host reads its own fields as a plain form.
        let Some(fields) = Fields::parse(&request.body) else {
            return consent.show(&Page::UNREADABLE_FORM);
        };
        let grant = match consent.answer(&owner, &fields) {
            Ok(grant) => grant,
            Err(response) => return response,
        };
        let params = match self.resolved(store, consent, Ok(params), now).await {
            Ok(params) => params,
            Err(response) => return response,
        };
        let issuer = self.issuer_for(request);
        let authorization = match self.checked(store, consent, &issuer, params).await {
            Ok(authorization) => authorization,
            Err(response) => return response,
        };
        if !grant {
            return self
                .declined(
                    store,
                    consent,
                    &authorization,
                    Oauth2Error::AccessDenied,
                    now,
                )
                .await;
        }
        match self
            .grant_authorization(
                store,
                &authorization,
                &issuer,
                consent.user(&owner),
                consent.auth_time(&owner),
                now,
            )
            .await
        {
            Ok(location) => Response::redirect(302, &location),
            Err(error) => self.refusal(consent, error),
        }
    }
}
