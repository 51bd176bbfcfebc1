//! The implicit grant (RFC 6749 4.2): an access token straight in the
//! redirect URI's fragment, never a refresh token (4.2.2).

use async_trait::async_trait;

use super::{AuthorizeContext, Grant};
use crate::rfc6749::redirect::ResponseMode;
use crate::rfc6749::token_response::TokenResponse;
use crate::rfc6749::Oauth2Error;
use crate::store::{token_id, CredentialKind, Event, Issued, Secret, TokenRecord};

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

    /// RFC 6749 4.2.2: `access_token`, `token_type`, `expires_in`, `scope`.
    async fn authorize(
        &self,
        ctx: &AuthorizeContext<'_>,
    ) -> Result<Vec<(String, String)>, Oauth2Error> {
        let config = ctx.server.config();
        let client_id = &ctx.request.client.record.client_id;
        let value = config.access_tokens.generate(
            CredentialKind::AccessToken,
            client_id,
            self.grant_type(),
        );
        let lifetime = config.access_token_lifetime(self.grant_type());
        let record = TokenRecord {
            kind: CredentialKind::AccessToken,
            id: token_id(&value),
            secret: Secret::None,
            client_id: client_id.clone(),
            user: Some(ctx.user.to_owned()),
            scope: ctx.request.scope.to_string(),
            expires_at: Some(ctx.now.saturating_add(lifetime)),
            parent: None,
            redirect_uri: None,
            code_challenge: None,
        };
        ctx.append(vec![Event::Issued(Issued::Token(record))])
            .await?;
        let scope = ctx.request.scope.clone();
        Ok(TokenResponse::bearer(value, lifetime, scope).to_pairs())
    }
}
