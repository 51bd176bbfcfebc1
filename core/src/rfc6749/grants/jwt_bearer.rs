//! The JWT bearer grant (RFC 7523 2.1): a client trades an assertion,
//! signed by one of its registered keys, for an access token for the
//! user named in `sub` (one whose grant to that client is still live) or,
//! when `sub` is the client itself, for its own access.

use async_trait::async_trait;

use super::{Grant, Issue, IssueError, TokenContext};
use crate::rfc6749::client_auth::ClientAuthMethod;
use crate::rfc6749::{Oauth2Error, Scope};
use crate::rfc7523::{self, GrantAssertionError, JWT_BEARER_GRANT};
use crate::rfc8707;
use crate::store::{CredentialKind, CredentialState, Failure, Precondition, Status};
use crate::Response;

/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JwtBearerGrant;

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
            .ok_or(GrantAssertionError::NoKeys)?;
        let rules = ctx.server.assertion_rules(ctx.request);
        let checked = rfc7523::check_grant_assertion(assertion, &keys, &rules, ctx.now)
            .map_err(GrantAssertionError::from)?;
        if &checked.issuer != client_id {
            return Err(GrantAssertionError::IssuerNotClient.into());
        }
        let (unused, used) = rfc7523::jti_use(client_id, JWT_BEARER_GRANT, &checked);
        // RFC 8707 2: the resources the token is for.
        let audience = rfc8707::requested(ctx.params)?;
        let mut issue = if &checked.subject == client_id {
            Issue::new(None, ctx.requested_scope(&ctx.client_scope())?)
        } else {
            on_live_grant(ctx, &checked.subject).await?
        };
        issue.audience = audience;
        issue.preconditions.push(unused);
        issue.events.push(used);
        match ctx.issue(issue).await {
            Ok(response) => Ok(response),
            Err(IssueError::Refused(refusal)) => Err(match refusal.failure {
                Failure::NonceUsed | Failure::NonceTooOld => GrantAssertionError::JtiReused.into(),
                Failure::ClientRevoked => Oauth2Error::UnknownClient,
                _ => GrantAssertionError::GrantEnded.into(),
            }),
            Err(IssueError::Failed(error)) => Err(error),
        }
    }
}

/// What a token for `user` may be (CONTRACT.md "OAuth 2.0"; RFC 7523 3:
/// the authorization server decides what an assertion may obtain): at
/// most the union of the scopes `user` granted the client in credentials
/// that are still live, resting on one of them. The token joins that
/// credential's family and expires no later than it, so each way of
/// ending the grant (revocation of it or its family, the user's
/// `/authorizations`, the client's removal, expiry) ends the token too;
/// the credential must still be live when the token is written.
async fn on_live_grant(ctx: &TokenContext<'_>, user: &str) -> Result<Issue, Oauth2Error> {
    let client_id = &ctx.client.record.client_id;
    let grant = ctx
        .store
        .grants_of(user)
        .await?
        .into_iter()
        .find(|grant| &grant.client_id == client_id);
    // Each live credential that may carry more tokens, with its scope.
    let mut bases = Vec::new();
    for state in grant.iter().flat_map(|grant| grant.live(ctx.now)) {
        if stands(ctx, state).await? {
            bases.push((state, Scope::stored(&state.record.scope)));
        }
    }
    if bases.is_empty() {
        return Err(GrantAssertionError::NoLiveGrant.into());
    }
    let granted = bases
        .iter()
        .fold(Scope::default(), |all, (_, scope)| all.union(scope))
        .intersection(&ctx.client_scope());
    let scope = ctx.requested_scope(&granted)?;
    let (basis, covers) = rest_on(&bases, &scope).ok_or(GrantAssertionError::NoLiveGrant)?;
    let expires_by = if covers {
        basis.record.expires_at
    } else {
        bases
            .iter()
            .filter_map(|(state, _)| state.record.expires_at)
            .min()
    };
    Ok(Issue {
        parent: Some(basis.record.id.clone()),
        expires_by,
        preconditions: vec![Precondition::Credential {
            id: basis.record.id.clone(),
            kind: basis.record.kind,
            client_id: client_id.clone(),
            status: basis.status,
            now: ctx.now,
        }],
        ..Issue::new(Some(user.to_owned()), scope)
    })
}

/// Whether a live credential of the grant may carry more tokens: not one
/// whose parent was revoked on its own (a token this grant issued earlier
/// from an access token revoked since rests on nothing).
async fn stands(ctx: &TokenContext<'_>, state: &CredentialState) -> Result<bool, Oauth2Error> {
    let Some(parent) = &state.record.parent else {
        return Ok(true);
    };
    let parent = ctx.store.credential(parent).await?;
    Ok(parent.is_none_or(|parent| parent.status != Status::Revoked))
}

/// The credential a token with `scope` rests on, and whether its scope
/// covers that scope: the newest that covers it, a code, refresh token or
/// OAuth 1 credential before an access token; else the newest of all;
/// none when there is no live credential.
fn rest_on<'a>(
    bases: &[(&'a CredentialState, Scope)],
    scope: &Scope,
) -> Option<(&'a CredentialState, bool)> {
    bases
        .iter()
        .map(|(state, granted)| (*state, scope.is_subset_of(granted)))
        .max_by_key(|(state, covers)| {
            (
                *covers,
                state.record.kind != CredentialKind::AccessToken,
                state.issued_seq,
            )
        })
}
