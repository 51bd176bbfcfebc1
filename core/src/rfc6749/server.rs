//! The OAuth 2 authorization server: its grants, its settings, the token
//! endpoint (RFC 6749 3.2) and the issuing every grant shares (5.1).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::client_auth::{self, ClientAuthMethod};
use super::client_metadata::{GrantType, ResponseType};
use super::config::Oauth2Config;
use super::errors::Oauth2Error;
use super::grants::{
    AuthorizationCodeGrant, ClientCredentialsGrant, Grant, ImplicitGrant, Issue, IssueError,
    JwtBearerGrant, PasswordGrant, RefreshTokenGrant, ResourceOwners, TokenContext,
};
use super::params::{Params, Scope};
use super::token_response::{TokenResponse, TokenType};
use crate::domain::ClientOptions;
use crate::oidc::{self, IdTokenFor, OpenId};
use crate::rfc7523::AssertionRules;
use crate::rfc8414::TOKEN_PATH;
use crate::rfc8628::DeviceCodeGrant;
use crate::rfc9068::Minting;
use crate::store::{
    token_id, AppendError, ClientState, Constrained, CredentialKind, CredentialState,
    CredentialStore, Event, Issued, Precondition, Secret, TokenRecord,
};
use crate::{Request, Response};

/// The OAuth 2 server: sans-IO like the OAuth 1 one. Each endpoint takes
/// the store, the request and the time, and answers a [`Response`].
#[derive(Clone)]
pub struct Oauth2Server {
    config: Oauth2Config,
    grants: BTreeMap<String, Arc<dyn Grant>>,
    openid: Option<Arc<OpenId>>,
    issuer: Option<String>,
}

impl std::fmt::Debug for Oauth2Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oauth2Server")
            .field("config", &self.config)
            .field("grants", &self.grants.keys().collect::<Vec<_>>())
            .field("openid", &self.openid.is_some())
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl Default for Oauth2Server {
    fn default() -> Self {
        Oauth2Server::new(Oauth2Config::default())
    }
}

impl Oauth2Server {
    /// A server with the five RFC 6749 grants, the JWT bearer grant (RFC
    /// 7523 2.1), the device authorization grant (RFC 8628), and OpenID
    /// Connect.
    pub fn new(config: Oauth2Config) -> Self {
        let mut server = Oauth2Server::without_grants(config);
        server.openid = Some(Arc::default());
        server.register(AuthorizationCodeGrant);
        server.register(ImplicitGrant);
        server.register(PasswordGrant);
        server.register(ClientCredentialsGrant);
        server.register(RefreshTokenGrant);
        server.register(JwtBearerGrant);
        server.register(DeviceCodeGrant::new());
        server
    }

    /// A server with no grant at all, to register exactly the ones wanted.
    pub fn without_grants(config: Oauth2Config) -> Self {
        Oauth2Server {
            config,
            grants: BTreeMap::new(),
            openid: None,
            issuer: None,
        }
    }

    /// Makes it an OpenID Provider (OpenID Connect Core 1.0), or not one:
    /// then no ID tokens are issued and its OpenID endpoints answer 404.
    pub fn set_openid(&mut self, on: bool) -> &mut Self {
        self.openid = on.then(Arc::default);
        self
    }

    /// The OpenID Provider, when it is one.
    pub fn openid(&self) -> Option<&OpenId> {
        self.openid.as_deref()
    }

    /// Sets the issuer URL (RFC 8414 2, OpenID Connect `iss`) for every
    /// request; without one, it is the scheme and host a request reached.
    pub fn set_issuer(&mut self, issuer: Option<String>) -> &mut Self {
        self.issuer = issuer.map(|issuer| issuer.trim_end_matches('/').to_owned());
        self
    }

    /// The issuer set for every request, if one was.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The issuer as `request` sees it: the one set, or the scheme and
    /// host of its URI.
    pub fn issuer_for(&self, request: &Request) -> String {
        if let Some(issuer) = &self.issuer {
            return issuer.clone();
        }
        let path = crate::consent::path_and_query(&request.uri);
        request
            .uri
            .strip_suffix(path)
            .unwrap_or(&request.uri)
            .to_owned()
    }

    /// Adds a grant, replacing any of the same `grant_type`.
    pub fn register(&mut self, grant: impl Grant + 'static) -> &mut Self {
        self.grants
            .insert(grant.grant_type().to_owned(), Arc::new(grant));
        self
    }

    /// Removes the grant of this type (a deployment that allows no implicit
    /// flow, say).
    pub fn unregister(&mut self, grant_type: &str) -> &mut Self {
        self.grants.remove(grant_type);
        self
    }

    /// The settings.
    pub fn config(&self) -> &Oauth2Config {
        &self.config
    }

    /// Every grant, by grant type.
    pub fn grants(&self) -> impl Iterator<Item = &dyn Grant> {
        self.grants.values().map(|grant| grant.as_ref())
    }

    /// Whether a grant of this `grant_type` is registered.
    pub fn has_grant(&self, grant_type: &str) -> bool {
        self.grants.contains_key(grant_type)
    }

    /// The grant that answers `response_type` at the authorization endpoint.
    /// `id_token token` is the `token` grant's, on an OpenID Provider: the
    /// server adds the ID token to what that grant answers.
    pub fn response_grant(&self, response_type: &str) -> Option<&dyn Grant> {
        let mut name = ResponseType::canonical(response_type);
        if self.openid.is_some() && name == ResponseType::IdTokenToken.as_str() {
            name = ResponseType::Token.as_str().to_owned();
        }
        self.grants()
            .find(|grant| grant.response_type() == Some(name.as_str()))
    }

    /// Every `response_type` answered here, as metadata lists them.
    pub fn response_types(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.grants().filter_map(Grant::response_type).collect();
        if self.openid.is_some() && names.contains(&ResponseType::Token.as_str()) {
            names.push(ResponseType::IdTokenToken.as_str());
        }
        names
    }

    /// The client authentication methods a grant accepts here.
    pub fn auth_methods(&self, grant: &dyn Grant) -> Vec<ClientAuthMethod> {
        self.config
            .auth_methods(grant.grant_type(), grant.auth_methods())
    }

    /// The scope a client may ask for: what it registered, within the
    /// server's allowed scopes.
    pub fn client_scope(&self, client: &ClientState) -> Scope {
        let registered = &client.record.scope;
        match &self.config.allowed_scopes {
            Some(allowed) => registered.intersection(allowed),
            None => registered.clone(),
        }
    }

    /// An error answer, with the deployment's `error_uri`.
    pub fn error_response(&self, error: &Oauth2Error) -> Response {
        match error {
            Oauth2Error::Store(detail) => tracing::error!(%detail, "the credential store failed"),
            Oauth2Error::PasswordCheck(detail) => {
                tracing::error!(%detail, "a resource owner's password could not be checked")
            }
            Oauth2Error::SigningKey(detail) => {
                tracing::error!(%detail, "the ID token signing key could not be had")
            }
            _ => {}
        }
        error.to_response(&self.config.realm, &self.config.error_uris)
    }

    /// Reads the form parameters of a POST to one of the server's endpoints.
    pub fn form(request: &Request) -> Result<Params, Oauth2Error> {
        if !request.body.is_empty() && !request.has_form_body() {
            return Err(Oauth2Error::MalformedForm);
        }
        Params::parse(&request.body)
    }

    /// Authenticates the client of a request to an endpoint that accepts
    /// `allowed`, at `now` (an assertion's time limits, RFC 7523 3).
    pub async fn authenticate_client(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        params: &Params,
        allowed: &[ClientAuthMethod],
        now: u64,
    ) -> Result<ClientState, Oauth2Error> {
        let presented = client_auth::presented(request, params)?;
        self.profile_permits(store, &presented).await?;
        let rules = self.assertion_rules(request);
        client_auth::authenticate(store, &presented, allowed, &rules, now).await
    }

    /// What a JWT presented to this server must say (RFC 7523 3): `aud`
    /// is the issuer, the token endpoint, or the endpoint it was sent to;
    /// it expires within five minutes.
    pub fn assertion_rules(&self, request: &Request) -> AssertionRules {
        let issuer = self.issuer_for(request);
        // The endpoint under the issuer, never the origin the request
        // named in `Host` (CONTRACT.md "OpenID Connect ...").
        let path = crate::consent::path_and_query(&request.uri);
        let endpoint = format!(
            "{issuer}{}",
            path.split(['?', '#']).next().unwrap_or_default()
        );
        let mut audiences = vec![issuer.clone(), format!("{issuer}{TOKEN_PATH}")];
        if !audiences.contains(&endpoint) {
            audiences.push(endpoint);
        }
        AssertionRules::new(audiences)
    }

    /// A request about a token (RFC 7009 2.1, RFC 7662 2.1): its client,
    /// authenticated by one of `allowed`, and the token named by `token`
    /// as the store holds it, if it does. `token_type_hint` is not needed:
    /// ids are unique across kinds.
    pub async fn token_in_question(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        allowed: &[ClientAuthMethod],
        now: u64,
    ) -> Result<(ClientState, Option<CredentialState>), Oauth2Error> {
        let params = Self::form(request)?;
        let client = self
            .authenticate_client(store, request, &params, allowed, now)
            .await?;
        let token = params.require("token")?;
        match store.credential(&token_id(token)).await {
            Ok(state) => Ok((client, state)),
            Err(error) => Err(Oauth2Error::Store(error)),
        }
    }

    /// The token endpoint (RFC 6749 3.2): the grant named by `grant_type`
    /// answers, once its client has authenticated as the grant allows and
    /// is registered for it.
    pub async fn token(
        &self,
        store: &dyn CredentialStore,
        owners: &dyn ResourceOwners,
        request: &Request,
        now: u64,
    ) -> Response {
        match self.token_response(store, owners, request, now).await {
            Ok(response) => response,
            Err(error) => self.error_response(&error),
        }
    }

    async fn token_response(
        &self,
        store: &dyn CredentialStore,
        owners: &dyn ResourceOwners,
        request: &Request,
        now: u64,
    ) -> Result<Response, Oauth2Error> {
        let params = Self::form(request)?;
        let grant_type = params.require("grant_type")?;
        let grant = self
            .grants
            .get(grant_type)
            .filter(|grant| grant.at_token_endpoint())
            .ok_or_else(|| Oauth2Error::UnsupportedGrantType(grant_type.to_owned()))?;
        let client = self
            .authenticate_client(
                store,
                request,
                &params,
                &self.auth_methods(grant.as_ref()),
                now,
            )
            .await?;
        if !client.record.allows_grant(grant_type) {
            return Err(Oauth2Error::UnauthorizedClient(format!(
                "grant type {grant_type}"
            )));
        }
        // RFC 9449 5: a proof binds the tokens to its key; a client
        // registered for DPoP-bound tokens must send one (5.2).
        let options = crate::rfc7591::client_options(store, &client.record.client_id).await?;
        let dpop_jkt = match self.dpop_proof(store, request, now).await? {
            None if self.config.requires_dpop(&options) => {
                return Err(crate::rfc9449::DpopError::Missing.into())
            }
            jkt => jkt,
        };
        let ctx = TokenContext {
            server: self,
            store,
            owners,
            request,
            params: &params,
            client: &client,
            grant: grant.as_ref(),
            grant_type,
            dpop_jkt,
            options,
            now,
        };
        grant.token(&ctx).await
    }

    /// The thumbprint of the key of the DPoP proof `request` carries to
    /// the token or PAR endpoint (RFC 9449 5, 10.1), checked and its
    /// `jti` used; `None` when it carries none.
    pub async fn dpop_proof(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<Option<String>, Oauth2Error> {
        let Some(proof) = crate::rfc9449::proof_of(request)? else {
            return Ok(None);
        };
        let expected = crate::rfc9449::Expected {
            method: &request.method,
            uri: &request.uri,
            now,
            window: self.config.dpop_proof_window,
            access_token: None,
            nonces: None,
        };
        let nonces = self.config.dpop_nonces;
        let proof = crate::rfc9449::check_and_use(store, proof, expected, nonces).await?;
        Ok(Some(proof.jkt))
    }

    /// Makes the tokens `issue` asks for, appends them with its
    /// preconditions and events, and answers the token response (RFC 6749 5.1).
    pub(crate) async fn issue(
        &self,
        ctx: &TokenContext<'_>,
        issue: Issue,
    ) -> Result<Response, IssueError> {
        let config = &self.config;
        let client = &ctx.client.record;
        let lifetime = match issue.expires_by {
            Some(by) => config
                .access_token_lifetime(ctx.grant_type)
                .min(by.saturating_sub(ctx.now)),
            None => config.access_token_lifetime(ctx.grant_type),
        };
        // Authlib's rule: a refresh token only for a client that may use one.
        let wants_refresh = config
            .issues_refresh_token(ctx.grant_type, ctx.grant.issues_refresh_token())
            && client.allows_grant(GrantType::RefreshToken.as_str());
        // Opaque, or a JWT (RFC 9068) for a client whose format is `jwt`.
        let issuer = self.issuer_for(ctx.request);
        let minting = Minting {
            issuer: &issuer,
            grant_type: ctx.grant_type,
            client_id: &client.client_id,
            options: &ctx.options,
            user: issue.user.as_deref(),
            audience: &issue.audience,
            scope: &issue.scope,
            now: ctx.now,
            lifetime,
            jkt: ctx.dpop_jkt.as_deref(),
            auth_time: issue.id_token.as_ref().and_then(|what| what.auth_time),
        };
        let access = self.access_token_value(ctx.store, &minting).await?;
        let refresh = wants_refresh.then(|| {
            config.refresh_tokens.generate(
                CredentialKind::RefreshToken,
                &client.client_id,
                ctx.grant_type,
            )
        });
        let record = |kind, value: &str, scope: &Scope, expires_at, parent| TokenRecord {
            kind,
            id: token_id(value),
            secret: Secret::None,
            client_id: client.client_id.clone(),
            user: issue.user.clone(),
            scope: scope.to_string(),
            expires_at,
            parent,
            redirect_uri: None,
            code_challenge: None,
        };
        let mut events = issue.events;
        let mut access_parent = issue.parent.clone();
        // RFC 9449 5: a refresh token is bound only when its client cannot
        // authenticate (a public client); a confidential one's is bound by
        // its authentication already.
        let refresh_jkt = ctx
            .dpop_jkt
            .clone()
            .filter(|_| client.auth_method == ClientAuthMethod::None);
        let mut bound = Vec::new();
        if let Some(refresh) = &refresh {
            let scope = issue.refresh_scope.as_ref().unwrap_or(&issue.scope);
            let expires_at = config
                .refresh_token_lifetime
                .map(|lifetime| ctx.now.saturating_add(lifetime));
            let refresh = record(
                CredentialKind::RefreshToken,
                refresh,
                scope,
                expires_at,
                issue.parent.clone(),
            );
            // Without a parent, the refresh token starts the family.
            access_parent.get_or_insert_with(|| refresh.id.clone());
            bound.push(Constrained {
                id: refresh.id.clone(),
                jkt: refresh_jkt,
                audience: issue
                    .refresh_audience
                    .clone()
                    .unwrap_or_else(|| issue.audience.clone()),
            });
            events.push(Event::Issued(Issued::Token(refresh)));
        }
        let access_record = record(
            CredentialKind::AccessToken,
            &access,
            &issue.scope,
            Some(ctx.now.saturating_add(lifetime)),
            access_parent,
        );
        bound.push(Constrained {
            id: access_record.id.clone(),
            jkt: ctx.dpop_jkt.clone(),
            audience: issue.audience.clone(),
        });
        events.push(Event::Issued(Issued::Token(access_record)));
        // Written after what they bind, and only when they bind something.
        events.extend(
            bound
                .into_iter()
                .filter(|bound| bound.jkt.is_some() || !bound.audience.is_empty())
                .map(Event::Constrained),
        );
        let id_token = match (&issue.id_token, self.openid(), &issue.user) {
            (Some(what), Some(openid), Some(user)) => Some((
                what,
                self.id_token_parts(ctx.store, openid, &ctx.options, user, ctx.now)
                    .await?,
            )),
            _ => None,
        };
        let mut preconditions = issue.preconditions;
        preconditions.push(Precondition::ClientLive {
            client_id: client.client_id.clone(),
        });
        match ctx.store.append(&preconditions, events, ctx.now).await {
            Ok(_) => {}
            Err(AppendError::Refused(refused)) => return Err(IssueError::Refused(refused)),
            Err(AppendError::Store(error)) => return Err(IssueError::Failed(error.into())),
        }
        let id_token = id_token.map(|(what, parts)| {
            self.id_token(&parts, &issuer, &client.client_id, ctx.now, what, &access)
        });
        let token_type = match ctx.dpop_jkt {
            Some(_) => TokenType::DPoP,
            None => TokenType::Bearer,
        };
        let response = TokenResponse {
            refresh_token: refresh,
            id_token,
            token_type,
            ..TokenResponse::bearer(access, lifetime, issue.scope)
        };
        Ok(response.to_response())
    }

    /// The key an ID token for a client with `options` is signed with
    /// (the current one for its `id_token_signed_response_alg`, RS256 when
    /// it registered none) and the subject it names, read (or made) before
    /// the tokens are written, so that a failure here issues nothing.
    pub(crate) async fn id_token_parts(
        &self,
        store: &dyn CredentialStore,
        openid: &OpenId,
        options: &ClientOptions,
        user: &str,
        now: u64,
    ) -> Result<IdTokenParts, Oauth2Error> {
        let alg = oidc::keys::client_alg(options);
        let key = openid.keys.current(store, alg, now).await?;
        match oidc::subject_of(store, user, now).await {
            Ok(Some(sub)) => Ok(IdTokenParts { key, sub }),
            Ok(None) => Err(Oauth2Error::InvalidGrant(
                "the user who granted this is gone",
            )),
            Err(error) => Err(Oauth2Error::Store(error)),
        }
    }

    /// The ID token issued at `now` by `issuer` to the client `audience`
    /// beside `access_token`, signed.
    pub(crate) fn id_token(
        &self,
        parts: &IdTokenParts,
        issuer: &str,
        audience: &str,
        now: u64,
        what: &IdTokenFor,
        access_token: &str,
    ) -> String {
        let claims = oidc::id_token::claims(
            issuer,
            &parts.sub,
            audience,
            now,
            self.config.id_token_lifetime,
            what,
            Some((parts.key.alg(), access_token)),
        );
        parts.key.sign(&claims)
    }
}

/// What an ID token needs from the store: the key to sign it with and the
/// user's subject identifier.
pub(crate) struct IdTokenParts {
    key: Arc<crate::jose::SigningKey>,
    sub: String,
}
