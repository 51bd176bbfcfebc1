//! The implicit grant (RFC 6749 4.2): an access token straight in the
//! redirect URI's fragment, never a refresh token (4.2.2).

use async_trait::async_trait;

use super::{AuthorizeContext, Grant, GrantExtras};
use crate::rfc6749::authorization::AuthorizationRequest;
use crate::rfc6749::params::Params;
use crate::rfc6749::redirect::ResponseMode;
use crate::rfc6749::server::Oauth2Server;
use crate::rfc6749::token_response::TokenResponse;
use crate::rfc6749::Oauth2Error;
use crate::rfc8707;
use crate::rfc9068::Minting;
use crate::store::{token_id, Constrained, CredentialKind, Event, Issued, Secret, TokenRecord};

/// `response_type=token`; registered as grant type `implicit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImplicitGrant;

#[async_trait]
impl Grant for ImplicitGrant {
    fn grant_type(&self) -> &str {
        "implicit"
    }

    fn at_token_endpoint(&self) -> bool {
        false
    }

    fn response_type(&self) -> Option<&str> {
        Some("token")
    }

    fn response_mode(&self) -> ResponseMode {
        ResponseMode::Fragment
    }

    /// RFC 8707 2: each `resource` well-formed.
    fn validate_authorization(
        &self,
        _request: &AuthorizationRequest,
        params: &Params,
        _server: &Oauth2Server,
    ) -> Result<GrantExtras, Oauth2Error> {
        rfc8707::requested(params)?;
        Ok(GrantExtras::default())
    }

    /// RFC 6749 4.2.2: `access_token`, `token_type`, `expires_in`, `scope`;
    /// the token opaque or a JWT (RFC 9068) as the client's format says,
    /// for the request's resources (RFC 8707 2).
    async fn authorize(
        &self,
        ctx: &AuthorizeContext<'_>,
    ) -> Result<Vec<(String, String)>, Oauth2Error> {
        let config = ctx.server.config();
        let client_id = &ctx.request.client.record.client_id;
        let audience = rfc8707::requested(&ctx.request.params)?;
        let lifetime = config.access_token_lifetime(self.grant_type());
        let minting = Minting {
            issuer: ctx.issuer,
            grant_type: self.grant_type(),
            client_id,
            options: &ctx.request.options,
            user: Some(ctx.user),
            audience: &audience,
            scope: &ctx.request.scope,
            now: ctx.now,
            lifetime,
            jkt: None,
            auth_time: ctx.auth_time,
        };
        let value = ctx.server.access_token_value(ctx.store, &minting).await?;
        let id = token_id(&value);
        let record = TokenRecord {
            kind: CredentialKind::AccessToken,
            id: id.clone(),
            secret: Secret::None,
            client_id: client_id.clone(),
            user: Some(ctx.user.to_owned()),
            scope: ctx.request.scope.to_string(),
            expires_at: Some(ctx.now.saturating_add(lifetime)),
            parent: None,
            redirect_uri: None,
            code_challenge: None,
        };
        let mut events = vec![Event::Issued(Issued::Token(record))];
        if !audience.is_empty() {
            events.push(Event::Constrained(Constrained {
                id,
                jkt: None,
                audience,
            }));
        }
        ctx.append(events).await?;
        let scope = ctx.request.scope.clone();
        Ok(TokenResponse::bearer(value, lifetime, scope).to_pairs())
    }
}
