//! Grants (RFC 6749 4, 6): the built-in five, and the [`Grant`] trait
//! through which a deployment adds its own (RFC 6749 4.5, 8.3).
//!
//! A grant answers at the token endpoint, at the authorization endpoint,
//! or both. The server does what every grant shares (client
//! authentication, the client's registration, scope rules, making and
//! storing tokens); a grant decides who the tokens speak for and what must
//! hold in the store for them to be issued.

pub mod authorization_code;
pub mod client_credentials;
pub mod implicit;
pub mod jwt_bearer;
pub mod password;
pub mod refresh;

use async_trait::async_trait;

use super::authorization::AuthorizationRequest;
use super::client_auth::ClientAuthMethod;
use super::errors::{HostError, Oauth2Error};
use super::params::{Params, Scope};
use super::redirect::ResponseMode;
use super::server::Oauth2Server;
use crate::domain::ClientOptions;
use crate::oidc::IdTokenFor;
use crate::store::{
    AppendError, ClientState, CredentialKind, CredentialState, CredentialStore, Event, Exchanged,
    Failure, Precondition, PreconditionFailed, RevocationReason, Revoked, Status, StoreError,
};
use crate::{Request, Response};

pub use authorization_code::AuthorizationCodeGrant;
pub use client_credentials::ClientCredentialsGrant;
pub use implicit::ImplicitGrant;
pub use jwt_bearer::JwtBearerGrant;
pub use password::PasswordGrant;
pub use refresh::RefreshTokenGrant;

/// Why a resource owner's password could not be checked (a wrong password
/// is `Ok(false)`, not an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnerCheckError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The check itself could not run: the password hasher failed, or the
    /// task it ran on did not finish. The host's error is kept.
    #[error("the password check could not run: {0}")]
    Check(#[source] HostError),
    /// Too many wrong passwords for this user name or from this address
    /// ([`crate::throttle`]): refused before any check, even a right one.
    #[error("too many failed sign-ins; try again in {retry_after} s")]
    Throttled {
        /// Seconds to wait (`Retry-After`).
        retry_after: u64,
    },
}

impl From<OwnerCheckError> for Oauth2Error {
    fn from(error: OwnerCheckError) -> Self {
        match error {
            OwnerCheckError::Store(error) => Oauth2Error::Store(error),
            OwnerCheckError::Check(cause) => Oauth2Error::PasswordCheck(cause),
            OwnerCheckError::Throttled { retry_after } => Oauth2Error::Throttled { retry_after },
        }
    }
}

/// Checks resource owners' passwords, for the password grant (RFC 6749
/// 4.3). The adapter implements it with its password hashing.
#[async_trait]
pub trait ResourceOwners: Send + Sync {
    /// Whether `password` is `username`'s.
    async fn authenticate(&self, username: &str, password: &str) -> Result<bool, OwnerCheckError>;
}

/// No resource owners: every password is wrong.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOwners;

#[async_trait]
impl ResourceOwners for NoOwners {
    async fn authenticate(&self, _: &str, _: &str) -> Result<bool, OwnerCheckError> {
        Ok(false)
    }
}

/// A grant type, built in or a deployment's own.
#[async_trait]
pub trait Grant: Send + Sync {
    /// Its name in `grant_type` and in a client's registered `grant_types`.
    fn grant_type(&self) -> &str;

    /// Whether it answers `grant_type` requests at the token endpoint.
    fn at_token_endpoint(&self) -> bool {
        true
    }

    /// The `response_type` it answers at the authorization endpoint, if any.
    fn response_type(&self) -> Option<&str> {
        None
    }

    /// Where its authorization response goes in the redirect URI.
    fn response_mode(&self) -> ResponseMode {
        ResponseMode::Query
    }

    /// The client authentication methods it accepts at the token endpoint
    /// unless the deployment narrows them.
    fn auth_methods(&self) -> &[ClientAuthMethod] {
        &ClientAuthMethod::CONFIDENTIAL
    }

    /// Whether it issues refresh tokens unless the deployment says otherwise.
    fn issues_refresh_token(&self) -> bool {
        false
    }

    /// A token request (RFC 6749 4.x.3): checks what the grant needs and
    /// issues through [`TokenContext::issue`].
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        Err(Oauth2Error::UnsupportedGrantType(ctx.grant_type.to_owned()))
    }

    /// Checks what this grant needs of an authorization request beyond
    /// what every one needs (client, redirect URI, scope), before the
    /// resource owner is asked.
    fn validate_authorization(
        &self,
        _request: &AuthorizationRequest,
        _params: &Params,
        _server: &Oauth2Server,
    ) -> Result<GrantExtras, Oauth2Error> {
        Ok(GrantExtras::default())
    }

    /// The resource owner granted an authorization request: issue what it
    /// asked for and answer the parameters for the redirect (the server
    /// adds `state`).
    async fn authorize(
        &self,
        _ctx: &AuthorizeContext<'_>,
    ) -> Result<Vec<(String, String)>, Oauth2Error> {
        Err(Oauth2Error::UnsupportedResponseType(
            self.response_type().unwrap_or_default().to_owned(),
        ))
    }
}

/// What a grant reads from an authorization request for itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantExtras {
    /// The PKCE challenge and its method's name (RFC 7636 4.3).
    pub code_challenge: Option<(String, String)>,
}

/// A token request, its client authenticated and registered for the grant.
pub struct TokenContext<'a> {
    /// The server (its settings, and the issuing every grant shares).
    pub server: &'a Oauth2Server,
    /// The store.
    pub store: &'a dyn CredentialStore,
    /// The resource owners, for the password grant.
    pub owners: &'a dyn ResourceOwners,
    /// The request.
    pub request: &'a Request,
    /// Its form parameters.
    pub params: &'a Params,
    /// The authenticated client.
    pub client: &'a ClientState,
    /// The grant answering.
    pub grant: &'a dyn Grant,
    /// The RFC 7638 thumbprint of the key of the request's DPoP proof
    /// (RFC 9449 5), checked: what the tokens are bound to.
    pub dpop_jkt: Option<String>,
    /// The options the client registered beyond RFC 7591's fields, read
    /// once for the request.
    pub options: ClientOptions,
    /// The `grant_type`.
    pub grant_type: &'a str,
    /// Now, in seconds since the epoch.
    pub now: u64,
}

impl TokenContext<'_> {
    /// The scope asked for (RFC 6749 3.3): the `scope` parameter, which must
    /// lie within `within`, or `within` itself when absent.
    pub fn requested_scope(&self, within: &Scope) -> Result<Scope, Oauth2Error> {
        match self.params.get("scope") {
            None => Ok(within.clone()),
            Some(text) => {
                let scope = Scope::parse(text)?;
                if scope.is_subset_of(within) {
                    Ok(scope)
                } else {
                    Err(Oauth2Error::InvalidScope(format!(
                        "scope {scope} is wider than the {within} allowed here"
                    )))
                }
            }
        }
    }

    /// The scope the client may ask for: its registered scope, within the
    /// server's allowed scopes.
    pub fn client_scope(&self) -> Scope {
        self.server.client_scope(self.client)
    }

    /// Issues an access token (and a refresh token when the grant's
    /// [`Grant::issues_refresh_token`], the deployment's settings and the
    /// client's registration all allow) in one append
    /// with `issue`'s preconditions and events, and answers the RFC 6749
    /// 5.1 token response.
    pub async fn issue(&self, issue: Issue) -> Result<Response, IssueError> {
        self.server.issue(self, issue).await
    }
}

/// What a grant asks the server to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The resource owner the tokens speak for (`None`: the client itself).
    pub user: Option<String>,
    /// The access token's scope.
    pub scope: Scope,
    /// The refresh token's scope, when it differs (RFC 6749 6: a rotated
    /// refresh token keeps the old one's scope).
    pub refresh_scope: Option<Scope>,
    /// The credential these are issued from (a code, a refresh token), so
    /// that revoking its family reaches them.
    pub parent: Option<String>,
    /// When the access token must stop working at the latest (seconds
    /// since the epoch): the end of what it rests on, when that comes
    /// before the access token lifetime would.
    pub expires_by: Option<u64>,
    /// What must hold for them to be issued.
    pub preconditions: Vec<Precondition>,
    /// Events written in the same record, before the issued tokens.
    pub events: Vec<Event>,
    /// An OpenID Connect ID token to issue with them, for `user`, when
    /// the server is an OpenID Provider.
    pub id_token: Option<IdTokenFor>,
    /// The resources the access token is for (RFC 8707 2, its `aud`);
    /// empty: any.
    pub audience: Vec<String>,
    /// The resources the refresh token may later ask for, when they differ
    /// from `audience` (a refresh narrowing its access token keeps the
    /// grant's resources: RFC 8707 2.2).
    pub refresh_audience: Option<Vec<String>>,
}

impl Issue {
    /// Tokens for `user` with `scope`, from nothing.
    pub fn new(user: Option<String>, scope: Scope) -> Self {
        Issue {
            user,
            scope,
            refresh_scope: None,
            parent: None,
            expires_by: None,
            preconditions: Vec::new(),
            events: Vec::new(),
            id_token: None,
            audience: Vec::new(),
            refresh_audience: None,
        }
    }
}

impl Issue {
    /// Tokens for `scope` in exchange for `traded` (a code, a device code,
    /// a refresh token), which must still have `status`: they speak for
    /// its user, join its family, and it is exchanged in the same record.
    pub fn trading(
        ctx: &TokenContext<'_>,
        traded: &CredentialState,
        status: Status,
        scope: Scope,
    ) -> Self {
        let id = traded.record.id.clone();
        Issue {
            parent: Some(id.clone()),
            preconditions: vec![Precondition::Credential {
                id: id.clone(),
                kind: traded.record.kind,
                client_id: ctx.client.record.client_id.clone(),
                status,
                now: ctx.now,
            }],
            events: vec![Event::Exchanged(Exchanged { id })],
            ..Issue::new(traded.record.user.clone(), scope)
        }
    }
}

/// Why issuing did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueError {
    /// A precondition failed (another request won, the code was used ...).
    Refused(PreconditionFailed),
    /// Anything else.
    Failed(Oauth2Error),
}

impl From<Oauth2Error> for IssueError {
    fn from(error: Oauth2Error) -> Self {
        IssueError::Failed(error)
    }
}

/// A credential a grant trades for tokens (a code, a refresh token), and
/// what its second use means.
pub(crate) struct Traded<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its kind.
    pub kind: CredentialKind,
    /// Why its family ends when it comes back.
    pub reason: RevocationReason,
    /// The error a second use gets, once the family is revoked.
    pub second_use: Oauth2Error,
    /// The error once it has expired.
    pub expired: &'static str,
    /// The error when it changed otherwise before it could be traded.
    pub no_longer_valid: &'static str,
}

/// Issues `issue` in exchange for `traded`. Losing the race to another
/// request that traded it first is its second use.
pub(crate) async fn trade(
    ctx: &TokenContext<'_>,
    issue: Issue,
    traded: Traded<'_>,
) -> Result<Response, Oauth2Error> {
    bound_key_proven(ctx, &traded).await?;
    match ctx.issue(issue).await {
        Ok(response) => Ok(response),
        Err(IssueError::Refused(refused)) => Err(match refused.failure {
            Failure::WrongStatus {
                actual: Status::Exchanged,
            } => second_use(ctx, traded).await,
            Failure::Expired => Oauth2Error::InvalidGrant(traded.expired),
            Failure::ClientRevoked => Oauth2Error::UnknownClient,
            _ => Oauth2Error::InvalidGrant(traded.no_longer_valid),
        }),
        Err(IssueError::Failed(error)) => Err(error),
    }
}

/// RFC 9449 5, 10: a credential bound to a DPoP key (a code whose
/// authorization request named `dpop_jkt`, a public client's refresh
/// token) is traded only with a proof made with that key: without one it
/// is `invalid_dpop_proof`, with another key's `invalid_grant`.
async fn bound_key_proven(ctx: &TokenContext<'_>, traded: &Traded<'_>) -> Result<(), Oauth2Error> {
    let bound = ctx
        .store
        .constraints(traded.id)
        .await?
        .and_then(|constrained| constrained.jkt);
    match (bound, &ctx.dpop_jkt) {
        (None, _) => Ok(()),
        (Some(bound), Some(proven)) if bound == *proven => Ok(()),
        (Some(_), Some(_)) => Err(Oauth2Error::InvalidGrant(match traded.kind {
            CredentialKind::AuthorizationCode => {
                "the authorization code is bound to another DPoP key than the proof's"
            }
            CredentialKind::RefreshToken => {
                "the refresh token is bound to another DPoP key than the proof's"
            }
            _ => "the credential is bound to another DPoP key than the proof's",
        })),
        (Some(_), None) => Err(Oauth2Error::Dpop(crate::rfc9449::DpopError::Missing)),
    }
}

/// A traded credential came back: someone holds a copy, so every token
/// of its grant ends (RFC 6749 4.1.2 for codes; refresh token rotation,
/// RFC 9700 4.14.2).
pub(crate) async fn second_use(ctx: &TokenContext<'_>, traded: Traded<'_>) -> Oauth2Error {
    let revoke = Event::Revoked(Revoked {
        id: traded.id.to_owned(),
        kind: traded.kind,
        reason: traded.reason,
        whole_family: true,
    });
    match ctx.store.append(&[], vec![revoke], ctx.now).await {
        // With no precondition, nothing can refuse it.
        Ok(_) | Err(AppendError::Refused(_)) => traded.second_use,
        Err(AppendError::Store(error)) => Oauth2Error::Store(error),
    }
}

/// An authorization request the resource owner granted.
pub struct AuthorizeContext<'a> {
    /// The server.
    pub server: &'a Oauth2Server,
    /// The store.
    pub store: &'a dyn CredentialStore,
    /// The request, validated.
    pub request: &'a AuthorizationRequest,
    /// Who granted it.
    pub user: &'a str,
    /// The issuer as the request reached it (for what the grant signs).
    pub issuer: &'a str,
    /// When they signed in, if the host knows.
    pub auth_time: Option<u64>,
    /// Now, in seconds since the epoch.
    pub now: u64,
}

impl AuthorizeContext<'_> {
    /// Appends what the owner's grant issues, while the request's client
    /// is still live. A pushed request (RFC 9126) is used up in the same record.
    pub async fn append(&self, mut events: Vec<Event>) -> Result<(), Oauth2Error> {
        let mut preconditions = vec![Precondition::ClientLive {
            client_id: self.request.client.record.client_id.clone(),
        }];
        if let Some((pushed, used)) = self.request.pushed_use(self.now) {
            preconditions.push(pushed);
            events.push(used);
        }
        match self.store.append(&preconditions, events, self.now).await {
            Ok(_) => Ok(()),
            Err(AppendError::Refused(refused)) => Err(self.request.refused(&refused)),
            Err(AppendError::Store(error)) => Err(Oauth2Error::Store(error)),
        }
    }
}
