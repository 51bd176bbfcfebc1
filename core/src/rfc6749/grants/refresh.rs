//! Refreshing an access token (RFC 6749 6). Refresh tokens rotate: each
//! use retires the old one and issues a new one; presenting a retired one
//! revokes every token of its grant (OAuth 2.0 Security BCP 4.14.2).

use async_trait::async_trait;

use super::{second_use, trade, Grant, Issue, TokenContext, Traded};
use crate::oidc::IdTokenFor;
use crate::rfc6749::client_auth::ClientAuthMethod;
use crate::rfc6749::params::Scope;
use crate::rfc6749::Oauth2Error;
use crate::rfc8707;
use crate::store::{token_id, CredentialKind, RevocationReason, Status};
use crate::Response;

/// `grant_type=refresh_token`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefreshTokenGrant;

#[async_trait]
impl Grant for RefreshTokenGrant {
    fn grant_type(&self) -> &str {
        "refresh_token"
    }

    /// Public clients refresh what they got with PKCE, without a secret.
    fn auth_methods(&self) -> &[ClientAuthMethod] {
        &ClientAuthMethod::ALL
    }

    fn issues_refresh_token(&self) -> bool {
        true
    }

    /// RFC 6749 6: `refresh_token`, and a `scope` no wider than it had;
    /// RFC 8707 2.2: `resource`s within the grant's, the new refresh
    /// token keeping the grant's.
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        let value = ctx.params.require("refresh_token")?;
        let id = token_id(value);
        let unknown = Oauth2Error::InvalidGrant("the refresh token is unknown");
        let state = match ctx.store.credential(&id).await {
            Ok(Some(state)) if state.record.kind == CredentialKind::RefreshToken => state,
            Ok(_) => return Err(unknown),
            Err(error) => return Err(Oauth2Error::Store(error)),
        };
        let client_id = &ctx.client.record.client_id;
        if &state.record.client_id != client_id {
            return Err(Oauth2Error::TokenOfAnotherClient);
        }
        match state.status {
            Status::Issued => {}
            Status::Exchanged => return Err(second_use(ctx, traded(&id)).await),
            Status::Revoked => {
                return Err(Oauth2Error::InvalidGrant("the refresh token was revoked"))
            }
            Status::Authorized => return Err(unknown),
        }
        if state.is_expired(ctx.now) {
            return Err(Oauth2Error::InvalidGrant("the refresh token has expired"));
        }
        let granted = Scope::stored(&state.record.scope);
        let scope = ctx.requested_scope(&granted)?;
        let resources = rfc8707::granted(ctx.store, &id).await?;
        let (audience, refresh_audience) = rfc8707::narrowed(ctx.params, resources)?;
        // OpenID Connect Core 1.0 12.2: a new ID token, for the same user
        // and the original sign-in, without the nonce.
        let id_token = IdTokenFor::recorded(ctx.store, &state.family, &scope, false).await?;
        let issue = Issue {
            id_token,
            refresh_scope: Some(granted),
            audience,
            refresh_audience,
            ..Issue::trading(ctx, &state, Status::Issued, scope)
        };
        trade(ctx, issue, traded(&id)).await
    }
}

/// A retired refresh token came back: every token of its grant ends.
fn traded(id: &str) -> Traded<'_> {
    Traded {
        id,
        kind: CredentialKind::RefreshToken,
        reason: RevocationReason::RefreshReuse,
        second_use: Oauth2Error::RefreshTokenReused,
        expired: "the refresh token has expired",
        no_longer_valid: "the refresh token is no longer valid",
    }
}
