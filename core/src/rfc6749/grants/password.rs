//! The resource owner password credentials grant (RFC 6749 4.3).

use async_trait::async_trait;

use super::{Grant, Issue, IssueError, TokenContext};
use crate::domain::Profile;
use crate::rfc6749::Oauth2Error;
use crate::rfc8707;
use crate::Response;

/// `grant_type=password`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordGrant;

#[async_trait]
impl Grant for PasswordGrant {
    fn grant_type(&self) -> &str {
        "password"
    }

    fn issues_refresh_token(&self) -> bool {
        true
    }

    /// RFC 6749 4.3.2: `username`, `password`, optional `scope`; RFC 8707
    /// 2: optional `resource`s.
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        // FAPI 2.0 Security Profile 5.3.2.1: no resource owner passwords.
        // Refused as the server's own rule when the deployment follows the
        // profile, as the client's when only the client does.
        let config = ctx.server.config();
        if config.profile_of(&ctx.options) == Some(Profile::Fapi2) {
            return Err(match config.profile {
                Some(Profile::Fapi2) => {
                    Oauth2Error::UnsupportedGrantType(self.grant_type().to_owned())
                }
                None => Oauth2Error::UnauthorizedClient(
                    "grant type password under the FAPI 2.0 profile".to_owned(),
                ),
            });
        }
        let username = ctx.params.require("username")?;
        let password = ctx.params.require("password")?;
        let scope = ctx.requested_scope(&ctx.client_scope())?;
        let audience = rfc8707::requested(ctx.params)?;
        let good = ctx.owners.authenticate(username, password).await?;
        if !good {
            return Err(Oauth2Error::InvalidGrant(
                "the username or password is wrong",
            ));
        }
        let issue = Issue {
            audience,
            ..Issue::new(Some(username.to_owned()), scope)
        };
        ctx.issue(issue).await.map_err(refused_as_client)
    }
}

/// The only precondition a fresh issue has is a live client.
pub(super) fn refused_as_client(error: IssueError) -> Oauth2Error {
    match error {
        IssueError::Refused(_) => Oauth2Error::UnknownClient,
        IssueError::Failed(error) => error,
    }
}
