//! The JWT bearer grant (RFC 7523 2.1): a client trades an assertion,
//! signed by one of its registered keys, for an access token for the
//! user named in `sub` (one who has granted that client before) or, when
//! `sub` is the client itself, for its own access.

use async_trait::async_trait;

use super::{Grant, Issue, IssueError, TokenContext};
use crate::rfc6749::client_auth::ClientAuthMethod;
use crate::rfc6749::Oauth2Error;
use crate::rfc7523::{self, JWT_BEARER_GRANT};
use crate::store::Failure;
use crate::Response;

/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JwtBearerGrant;

fn refused(why: impl std::fmt::Display) -> Oauth2Error {
    Oauth2Error::GrantAssertion(why.to_string())
}

#[async_trait]
impl Grant for JwtBearerGrant {
    fn grant_type(&self) -> &str {
        JWT_BEARER_GRANT
    }

    /// The assertion proves the client; a public one names itself with
    /// `client_id` (RFC 7523 3.1: client authentication is optional).
    fn auth_methods(&self) -> &[ClientAuthMethod] {
        &ClientAuthMethod::ALL
    }

    /// RFC 7523 2.1, 3: `assertion` signed by one of the client's keys,
    /// `iss` the client, `aud` this server, `exp` within five minutes,
    /// `jti` never seen before (kept like a nonce, in the same record as
    /// the token, so two requests racing with one assertion issue once).
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        let assertion = ctx.params.require("assertion")?;
        let client_id = &ctx.client.record.client_id;
        let keys = rfc7523::client_keys(ctx.store, client_id)
            .await?
            .ok_or_else(|| refused("the client registered no keys (jwks)"))?;
        let rules = ctx.server.assertion_rules(ctx.request);
        let checked =
            rfc7523::check_grant_assertion(assertion, &keys, &rules, ctx.now).map_err(refused)?;
        if &checked.issuer != client_id {
            return Err(refused("its iss must be the client's id (RFC 7523 3)"));
        }
        let user = if &checked.subject == client_id {
            None
        } else {
            let granted = ctx
                .store
                .grants_of(&checked.subject)
                .await?
                .iter()
                .any(|grant| &grant.client_id == client_id);
            if !granted {
                return Err(refused(
                    "its sub is neither the client nor a user who has granted it access",
                ));
            }
            Some(checked.subject.clone())
        };
        let scope = ctx.requested_scope(&ctx.client_scope())?;
        let (unused, used) = rfc7523::jti_use(client_id, JWT_BEARER_GRANT, &checked);
        let issue = Issue {
            preconditions: vec![unused],
            events: vec![used],
            ..Issue::new(user, scope)
        };
        match ctx.issue(issue).await {
            Ok(response) => Ok(response),
            Err(IssueError::Refused(refusal)) => Err(match refusal.failure {
                Failure::NonceUsed | Failure::NonceTooOld => {
                    refused("its jti was used before (RFC 7523 3)")
                }
                _ => Oauth2Error::UnknownClient,
            }),
            Err(IssueError::Failed(error)) => Err(error),
        }
    }
}
