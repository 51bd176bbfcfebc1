//! The authorization code grant (RFC 6749 4.1) with PKCE (RFC 7636).
//! Codes live at most ten minutes and work once; a second use revokes
//! every token issued from the code (RFC 6749 4.1.2, 10.5).

use async_trait::async_trait;

use super::{second_use, trade, AuthorizeContext, Grant, GrantExtras, Issue, TokenContext, Traded};
use crate::oidc::IdTokenFor;
use crate::rfc6749::authorization::AuthorizationRequest;
use crate::rfc6749::client_auth::ClientAuthMethod;
use crate::rfc6749::config::random_value;
use crate::rfc6749::params::{Params, Scope};
use crate::rfc6749::redirect;
use crate::rfc6749::server::Oauth2Server;
use crate::rfc6749::Oauth2Error;
use crate::rfc7636::{self, ChallengeMethod};
use crate::rfc8707;
use crate::store::{
    token_id, Authenticated, Authorized, Constrained, CredentialKind, Event, Issued,
    RevocationReason, Secret, Status, TokenRecord,
};
use crate::Response;

/// `response_type=code`, `grant_type=authorization_code`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationCodeGrant;

#[async_trait]
impl Grant for AuthorizationCodeGrant {
    fn grant_type(&self) -> &str {
        "authorization_code"
    }

    fn response_type(&self) -> Option<&str> {
        Some("code")
    }

    /// Public clients redeem their codes with PKCE and no secret.
    fn auth_methods(&self) -> &[ClientAuthMethod] {
        &ClientAuthMethod::ALL
    }

    fn issues_refresh_token(&self) -> bool {
        true
    }

    /// RFC 7636 4.3: the challenge, required of public clients (4.4.1);
    /// RFC 8707 2: each `resource` well-formed.
    fn validate_authorization(
        &self,
        request: &AuthorizationRequest,
        params: &Params,
        server: &Oauth2Server,
    ) -> Result<GrantExtras, Oauth2Error> {
        let challenge = rfc7636::challenge(
            params.get("code_challenge"),
            params.get("code_challenge_method"),
            server.config().allow_plain_pkce,
        )?;
        if challenge.is_none() && request.client.record.auth_method == ClientAuthMethod::None {
            return Err(Oauth2Error::PkceRequired);
        }
        rfc8707::requested(params)?;
        // RFC 9449 10: `dpop_jkt` binds the code to a key's thumbprint.
        if params
            .get("dpop_jkt")
            .is_some_and(|jkt| !crate::rfc9449::is_thumbprint(jkt))
        {
            return Err(Oauth2Error::MalformedParameter {
                name: "dpop_jkt",
                why: "not a base64url SHA-256 JWK thumbprint (RFC 9449 10)",
            });
        }
        Ok(GrantExtras {
            code_challenge: challenge.map(|(c, method)| (c, method.name().to_owned())),
        })
    }

    /// RFC 6749 4.1.2: a code bound to the client, the owner, the scope,
    /// the redirect URI if one was named, and the PKCE challenge; and to
    /// the request's resources (RFC 8707 2.1) and `dpop_jkt` (RFC 9449
    /// 10), when it has them.
    async fn authorize(
        &self,
        ctx: &AuthorizeContext<'_>,
    ) -> Result<Vec<(String, String)>, Oauth2Error> {
        let request = ctx.request;
        let audience = rfc8707::requested(&request.params)?;
        let jkt = request.params.get("dpop_jkt").map(str::to_owned);
        let code = random_value();
        let id = token_id(&code);
        let record = TokenRecord {
            kind: CredentialKind::AuthorizationCode,
            id: id.clone(),
            secret: Secret::None,
            client_id: request.client.record.client_id.clone(),
            user: Some(ctx.user.to_owned()),
            scope: request.scope.to_string(),
            expires_at: Some(
                ctx.now
                    .saturating_add(ctx.server.config().code_lifetime_of(&request.options)),
            ),
            parent: None,
            redirect_uri: request
                .redirect_uri_given
                .then(|| request.redirect_uri.clone()),
            code_challenge: request.extras.code_challenge.clone(),
        };
        let mut events = vec![
            Event::Issued(Issued::Token(record)),
            Event::Authorized(Authorized {
                id: id.clone(),
                user: ctx.user.to_owned(),
                verifier: None,
            }),
        ];
        if jkt.is_some() || !audience.is_empty() {
            events.push(Event::Constrained(Constrained {
                id: id.clone(),
                jkt,
                audience,
            }));
        }
        // OpenID Connect Core 1.0 3.1.3.6: the ID token says when the user
        // signed in and echoes the nonce; both are kept with the code.
        if let Some(openid) = &request.openid {
            events.push(Event::Authenticated(Authenticated {
                id,
                auth_time: ctx.auth_time.unwrap_or(ctx.now),
                nonce: openid.nonce.clone(),
            }));
        }
        ctx.append(events).await?;
        Ok(vec![("code".to_owned(), code)])
    }

    /// RFC 6749 4.1.3: the code, its redirect URI and (RFC 7636 4.5) its verifier.
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        let code = ctx.params.require("code")?;
        let id = token_id(code);
        let client_id = &ctx.client.record.client_id;
        let state = match ctx.store.credential(&id).await {
            Ok(Some(state)) if state.record.kind == CredentialKind::AuthorizationCode => state,
            Ok(_) => {
                return Err(Oauth2Error::InvalidGrant(
                    "the authorization code is unknown",
                ))
            }
            Err(error) => return Err(Oauth2Error::Store(error)),
        };
        if &state.record.client_id != client_id {
            return Err(Oauth2Error::TokenOfAnotherClient);
        }
        match state.status {
            Status::Authorized => {}
            Status::Exchanged => return Err(second_use(ctx, traded(&id)).await),
            Status::Revoked => {
                return Err(Oauth2Error::InvalidGrant(
                    "the authorization code was revoked",
                ))
            }
            Status::Issued => {
                return Err(Oauth2Error::InvalidGrant(
                    "the authorization code is unknown",
                ))
            }
        }
        if state.is_expired(ctx.now) {
            return Err(Oauth2Error::InvalidGrant(
                "the authorization code has expired",
            ));
        }
        let expected_redirect = match &state.record.redirect_uri {
            Some(uri) => Some(uri.as_str()),
            None => ctx.params.get("redirect_uri").map(|_| {
                redirect::resolve(None, &ctx.client.record.redirect_uris).unwrap_or_default()
            }),
        };
        if let Some(expected) = expected_redirect {
            if ctx.params.get("redirect_uri") != Some(expected) {
                return Err(Oauth2Error::RedirectUriMismatch);
            }
        }
        match (
            &state.record.code_challenge,
            ctx.params.get("code_verifier"),
        ) {
            (Some((challenge, method)), Some(verifier)) => {
                let method = ChallengeMethod::from_name(method).unwrap_or(ChallengeMethod::S256);
                if !rfc7636::verify(verifier, challenge, method) {
                    return Err(Oauth2Error::PkceMismatch);
                }
            }
            (Some(_), None) => return Err(Oauth2Error::PkceVerifierMissing),
            // RFC 9700 2.1.1: a verifier for a code issued without a
            // challenge is a downgrade attempt (or a client's bug).
            (None, Some(_)) => return Err(Oauth2Error::PkceUnexpectedVerifier),
            (None, None) => {}
        }
        // RFC 8707 2.2: the token's resources, within the code's.
        let granted = rfc8707::granted(ctx.store, &id).await?;
        let (audience, refresh_audience) = rfc8707::narrowed(ctx.params, granted)?;
        let scope = Scope::stored(&state.record.scope);
        let id_token = IdTokenFor::recorded(ctx.store, &id, &scope, true).await?;
        let issue = Issue {
            id_token,
            audience,
            refresh_audience,
            ..Issue::trading(ctx, &state, Status::Authorized, scope)
        };
        trade(ctx, issue, traded(&id)).await
    }
}

/// RFC 6749 4.1.2: a code used twice revokes every token issued from it
/// (its whole family, so also the tokens later refreshed from those).
fn traded(id: &str) -> Traded<'_> {
    Traded {
        id,
        kind: CredentialKind::AuthorizationCode,
        reason: RevocationReason::CodeReplay,
        second_use: Oauth2Error::CodeReplayed,
        expired: "the authorization code has expired",
        no_longer_valid: "the authorization code is no longer valid",
    }
}
