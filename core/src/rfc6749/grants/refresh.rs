//! Refreshing an access token (RFC 6749 6). Refresh tokens rotate: each
//! use retires the old one and issues a new one; presenting a retired one
//! revokes every token of its grant (OAuth 2.0 Security BCP 4.14.2).

use async_trait::async_trait;

use super::{Grant, Issue, IssueError, TokenContext};
use crate::rfc6749::client_auth::ClientAuthMethod;
use crate::rfc6749::params::Scope;
use crate::rfc6749::Oauth2Error;
use crate::store::{
    token_id, CredentialKind, Event, Exchanged, Failure, Precondition, RevocationReason, Revoked,
    Status,
};
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

    /// RFC 6749 6: `refresh_token`, and a `scope` no wider than it had.
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        let value = ctx.params.require("refresh_token")?;
        let id = token_id(value);
        let unknown = Oauth2Error::InvalidGrant("the refresh token is unknown");
        let state = match ctx.store.credential(&id).await {
            Ok(Some(state)) if state.record.kind == CredentialKind::RefreshToken => state,
            Ok(_) => return Err(unknown),
            Err(error) => return Err(Oauth2Error::Store(error.to_string())),
        };
        let client_id = &ctx.client.record.client_id;
        if &state.record.client_id != client_id {
            return Err(Oauth2Error::TokenOfAnotherClient);
        }
        match state.status {
            Status::Issued => {}
            Status::Exchanged => return Err(reused(ctx, &id).await),
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
        let issue = Issue {
            refresh_scope: Some(granted),
            parent: Some(id.clone()),
            preconditions: vec![Precondition::Credential {
                id: id.clone(),
                kind: CredentialKind::RefreshToken,
                client_id: client_id.clone(),
                status: Status::Issued,
                now: ctx.now,
            }],
            events: vec![Event::Exchanged(Exchanged { id: id.clone() })],
            ..Issue::new(state.record.user.clone(), scope)
        };
        match ctx.issue(issue).await {
            Ok(response) => Ok(response),
            Err(IssueError::Refused(refused))
                if refused.failure
                    == (Failure::WrongStatus {
                        actual: Status::Exchanged,
                    }) =>
            {
                Err(reused(ctx, &id).await)
            }
            Err(IssueError::Refused(refused)) if refused.failure == Failure::ClientRevoked => {
                Err(Oauth2Error::UnknownClient)
            }
            Err(IssueError::Refused(_)) => Err(Oauth2Error::InvalidGrant(
                "the refresh token is no longer valid",
            )),
            Err(IssueError::Failed(error)) => Err(error),
        }
    }
}

/// A retired refresh token came back: someone holds a copy. Every token
/// of its grant ends.
async fn reused(ctx: &TokenContext<'_>, id: &str) -> Oauth2Error {
    let revoke = Event::Revoked(Revoked {
        id: id.to_owned(),
        kind: CredentialKind::RefreshToken,
        reason: RevocationReason::RefreshReuse,
        whole_family: true,
    });
    match ctx.store.append(&[], vec![revoke], ctx.now).await {
        Ok(_) => Oauth2Error::RefreshTokenReused,
        Err(error) => Oauth2Error::Store(error.to_string()),
    }
}
