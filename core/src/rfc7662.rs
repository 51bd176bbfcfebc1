//! Token introspection (RFC 7662): an authenticated client asks whether one
//! of its own tokens is active. Another client's token, like an unknown,
//! expired or revoked one, is `{"active": false}` (2.2).

use crate::oidc::subject_of;
use crate::rfc6749::{Oauth2Error, Oauth2Server, TokenType};
use crate::store::{CredentialKind, CredentialStore, Status};
use crate::{Request, Response};

impl Oauth2Server {
    /// `POST /introspect` (RFC 7662 2.1).
    pub async fn introspect(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Response {
        match self.introspection(store, request, now).await {
            Ok(body) => Response::json(200, &body),
            Err(error) => self.error_response(&error),
        }
    }

    async fn introspection(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<serde_json::Value, Oauth2Error> {
        let (client, state) = self
            .token_in_question(
                store,
                request,
                &self.config().introspection_auth_methods,
                now,
            )
            .await?;
        let inactive = serde_json::json!({"active": false});
        let Some(state) = state else {
            return Ok(inactive);
        };
        // What it is bound to, read once: RFC 9449 6.2's key (a DPoP-bound
        // token says so, and names it) and RFC 8707's resources.
        let (jkt, audience) = match state.record.kind {
            CredentialKind::AccessToken | CredentialKind::RefreshToken => store
                .constraints(&state.record.id)
                .await?
                .map(|constrained| (constrained.jkt, constrained.audience))
                .unwrap_or_default(),
            _ => (None, Vec::new()),
        };
        let token_type = match state.record.kind {
            CredentialKind::AccessToken if jkt.is_some() => TokenType::DPoP.as_str(),
            CredentialKind::AccessToken => TokenType::Bearer.as_str(),
            CredentialKind::RefreshToken => "refresh_token",
            _ => return Ok(inactive),
        };
        if state.record.client_id != client.record.client_id
            || state.status != Status::Issued
            || state.is_expired(now)
        {
            return Ok(inactive);
        }
        let mut body = serde_json::json!({
            "active": true,
            "scope": state.record.scope,
            "client_id": state.record.client_id,
            "token_type": token_type,
        });
        // `sub` is the user's OpenID subject, the one ID tokens and
        // UserInfo carry (assigned now if none was yet); `username` the name.
        if let Some(user) = &state.record.user {
            body["username"] = user.clone().into();
            if let Some(sub) = subject_of(store, user, now).await? {
                body["sub"] = sub.into();
            }
        }
        if let Some(exp) = state.record.expires_at {
            body["exp"] = exp.into();
        }
        // RFC 8707 2: the resources it is for, when it was given some.
        if !audience.is_empty() {
            body["aud"] = crate::rfc9068::audience_claim(&audience, "");
        }
        if let Some(jkt) = jkt {
            body["cnf"] = serde_json::json!({ "jkt": jkt });
        }
        Ok(body)
    }
}
