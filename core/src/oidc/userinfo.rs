//! The UserInfo endpoint (OpenID Connect Core 1.0 5.3): claims about the
//! user an access token with scope `openid` speaks for.

use serde_json::json;

use super::{subject_of, OPENID};
use crate::rfc6749::{Oauth2Server, Scope};
use crate::rfc6750::{self, BearerError};
use crate::{Request, Response};

impl Oauth2Server {
    /// `GET` (or `POST`) at the UserInfo endpoint: `sub`, and
    /// `preferred_username` when the token has scope `profile` (5.4). A
    /// token that speaks for no user (client credentials) is refused as
    /// `invalid_token`: there is nobody to describe.
    pub async fn userinfo(
        &self,
        store: &dyn crate::store::CredentialStore,
        request: &Request,
        now: u64,
    ) -> Response {
        let realm = &self.config().realm;
        let required = Scope::stored(OPENID);
        // A DPoP-bound token comes with a proof of its key (RFC 9449 7).
        let rules = rfc6750::DpopRules::of(self.config());
        let token = match rfc6750::protect_with(store, request, &required, &rules, now).await {
            Ok(token) => token,
            Err(error) => return bearer_refusal(&error, realm),
        };
        let Some(user) = token.user else {
            let error = BearerError::InvalidToken("the access token speaks for no user");
            return bearer_refusal(&error, realm);
        };
        let sub = match subject_of(store, &user, now).await {
            Ok(Some(sub)) => sub,
            Ok(None) => {
                let error = BearerError::InvalidToken("the user the token speaks for is gone");
                return bearer_refusal(&error, realm);
            }
            Err(error) => return bearer_refusal(&BearerError::Store(error), realm),
        };
        let mut claims = json!({ "sub": sub });
        if token.scope.contains("profile") {
            claims["preferred_username"] = user.into();
        }
        let mut response = Response::json(200, &claims);
        response
            .headers
            .push(("Cache-Control".to_owned(), "no-store".to_owned()));
        response
    }
}

fn bearer_refusal(error: &BearerError, realm: &str) -> Response {
    if let BearerError::Store(detail) = error {
        tracing::error!(%detail, "the credential store failed");
    }
    error.to_response(realm)
}
