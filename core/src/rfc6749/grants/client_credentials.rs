//! The client credentials grant (RFC 6749 4.4): confidential clients only,
//! tokens that speak for the client itself, no refresh token (4.4.3).

use async_trait::async_trait;

use super::password::refused_as_client;
use super::{Grant, Issue, TokenContext};
use crate::rfc6749::Oauth2Error;
use crate::rfc8707;
use crate::Response;

/// `grant_type=client_credentials`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCredentialsGrant;

#[async_trait]
impl Grant for ClientCredentialsGrant {
    fn grant_type(&self) -> &str {
        "client_credentials"
    }

    /// RFC 6749 4.4.2: optional `scope`; RFC 8707 2: optional `resource`s.
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        let scope = ctx.requested_scope(&ctx.client_scope())?;
        let issue = Issue {
            audience: rfc8707::requested(ctx.params)?,
            ..Issue::new(None, scope)
        };
        ctx.issue(issue).await.map_err(refused_as_client)
    }
}
