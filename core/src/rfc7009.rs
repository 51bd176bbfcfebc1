//! Token revocation (RFC 7009): a client ends one of its own access or
//! refresh tokens. Revoking a refresh token ends every token of its grant
//! (2.1); an unknown token is answered 200 like a revoked one (2.2).

use crate::rfc6749::{Oauth2Error, Oauth2Server};
use crate::store::{
    AppendError, CredentialKind, CredentialStore, Event, RevocationReason, Revoked, Status,
};
use crate::{Request, Response};

impl Oauth2Server {
    /// `POST /revoke` (RFC 7009 2.1).
    pub async fn revoke(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Response {
        match self.revoke_token(store, request, now).await {
            Ok(()) => Response::json(200, &serde_json::json!({})),
            Err(error) => self.error_response(&error),
        }
    }

    async fn revoke_token(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<(), Oauth2Error> {
        let (client, state) = self
            .token_in_question(store, request, &self.config().revocation_auth_methods, now)
            .await?;
        let Some(state) = state else {
            return Ok(());
        };
        let kind = state.record.kind;
        if !matches!(
            kind,
            CredentialKind::AccessToken | CredentialKind::RefreshToken
        ) {
            return Ok(());
        }
        if state.record.client_id != client.record.client_id {
            return Err(Oauth2Error::TokenOfAnotherClient);
        }
        if state.status == Status::Revoked {
            return Ok(());
        }
        let revoke = Event::Revoked(Revoked {
            id: state.record.id,
            kind,
            reason: RevocationReason::Requested,
            whole_family: kind == CredentialKind::RefreshToken,
        });
        match store.append(&[], vec![revoke], now).await {
            Ok(_) => Ok(()),
            Err(AppendError::Refused(_)) => Ok(()),
            Err(AppendError::Store(error)) => Err(Oauth2Error::Store(error)),
        }
    }
}
