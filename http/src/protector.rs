//! The resource protectors: warp filters any route can wrap so that it
//! runs only for a valid OAuth 1 signed request (RFC 5849 3,
//! [`require_oauth1`]), a bearer token with the scopes it needs (RFC 6750,
//! [`require_bearer`]), or either ([`require_oauth`]); the route learns
//! whose credential it was (the counterparts of Authlib's
//! `require_oauth('profile')`, `current_credential` and `current_token`).
//!
//! ```no_run
//! use credlog_http::{protector::require_oauth1, App};
//! use warp::Filter;
//!
//! fn photos(app: App) -> impl Filter<Extract = (String,), Error = warp::Rejection> + Clone {
//!     warp::path!("api" / "photos")
//!         .and(warp::get())
//!         .and(require_oauth1(app))
//!         .map(|credential: credlog_http::protector::Oauth1Credential| {
//!             format!("photos of {:?}", credential.user)
//!         })
//! }
//! ```
//!
//! A refusal rejects with the OAuth 1 error response; install
//! [`crate::adapter::recover`] (as [`crate::routes`] does) to send it.

use credlog_core::resource::ResourceCredential;
use credlog_core::rfc5849::TokenCredentialUse;
use credlog_core::rfc6749::Scope;
use credlog_core::rfc6750::{self, BearerError, BearerToken};
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{incoming, refuse, reply};
use crate::app::App;

/// The token credential a protected request was signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oauth1Credential {
    /// The client (`oauth_consumer_key`).
    pub client_id: String,
    /// The resource owner who granted it.
    pub user: Option<String>,
    /// Its scope (the client's registered scope when it was granted).
    pub scope: String,
    /// `oauth_token`.
    pub token: String,
    /// The request itself, whose body the filter has read.
    pub request: Request,
}

impl Oauth1Credential {
    fn new(used: TokenCredentialUse, request: Request) -> Self {
        Oauth1Credential {
            client_id: used.client_id,
            user: used.user,
            scope: used.scope,
            token: used.token,
            request,
        }
    }
}

/// Checks a request at the resource endpoint; the nonce is used and the
/// `Verified` event appended on success.
pub async fn protect(app: &App, request: Request) -> Result<Oauth1Credential, Response> {
    let used = app
        .oauth1()
        .resource(app.store(), &request, app.now())
        .await
        .map_err(|error| app.oauth1().error_response(&error))?;
    Ok(Oauth1Credential::new(used, request))
}

/// The filter: passes the [`Oauth1Credential`] on, or rejects with the
/// OAuth 1 error response (400 or 401 with `WWW-Authenticate: OAuth`).
pub fn require_oauth1(
    app: App,
) -> impl Filter<Extract = (Oauth1Credential,), Error = warp::Rejection> + Clone {
    incoming(&app).and_then(move |request: Request| {
        let app = app.clone();
        async move { protect(&app, request).await.map_err(refuse) }
    })
}

/// A bearer-protected request: its token (a bearer token, or a DPoP-bound
/// one whose proof passed: [`BearerToken::dpop_jkt`]), and the request
/// itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerCredential {
    /// The live access token: client, user, scope.
    pub token: BearerToken,
    /// The request, whose body the filter has read.
    pub request: Request,
}

/// The answer to a refused bearer request (RFC 6750 3.1); a store failure
/// is logged, not shown.
pub fn bearer_error(app: &App, error: &BearerError) -> Response {
    credlog_core::resource::bearer_refusal(app.oauth2(), error)
}

/// Checks a bearer request for `required` scopes.
pub async fn protect_bearer(
    app: &App,
    request: Request,
    required: &Scope,
) -> Result<BearerCredential, Response> {
    let rules = rfc6750::DpopRules::of(app.oauth2().config());
    match rfc6750::protect_with(app.store(), &request, required, &rules, app.now()).await {
        Ok(token) => Ok(BearerCredential { token, request }),
        Err(error) => Err(bearer_error(app, &error)),
    }
}

/// A route's own scope list (space-separated; `""` requires none). A
/// malformed one is the route's bug, and requiring nothing would open it,
/// so it requires the impossible.
fn required_scope(scopes: &str) -> Scope {
    if scopes.is_empty() {
        return Scope::default();
    }
    Scope::parse(scopes).unwrap_or_else(|_| Scope::stored("\u{0}"))
}

/// The bearer filter: passes the [`BearerCredential`] on when the token is
/// live and holds every scope in `scopes` (space-separated; `""` for none),
/// or rejects with 400, 401 or 403 and `WWW-Authenticate: Bearer`.
pub fn require_bearer(
    app: App,
    scopes: &str,
) -> impl Filter<Extract = (BearerCredential,), Error = warp::Rejection> + Clone {
    let required = required_scope(scopes);
    incoming(&app).and_then(move |request: Request| {
        let (app, required) = (app.clone(), required.clone());
        async move {
            protect_bearer(&app, request, &required)
                .await
                .map_err(refuse)
        }
    })
}

/// Either credential a protected route accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An OAuth 1 token credential.
    Oauth1(Oauth1Credential),
    /// An OAuth 2 bearer token.
    Bearer(BearerCredential),
}

/// Checks a request carrying either an OAuth 1 signature or a bearer token
/// (which must hold `required`).
pub async fn protect_either(
    app: &App,
    request: Request,
    required: &Scope,
) -> Result<Credential, Response> {
    let credential = credlog_core::resource::protect_either(
        app.oauth1(),
        app.oauth2(),
        app.store(),
        &request,
        required,
        app.now(),
    )
    .await?;
    Ok(match credential {
        ResourceCredential::Oauth1(used) => {
            Credential::Oauth1(Oauth1Credential::new(used, request))
        }
        ResourceCredential::Bearer(token) => {
            Credential::Bearer(BearerCredential { token, request })
        }
    })
}

/// The filter for either credential; bearer tokens must hold `scopes`.
pub fn require_oauth(
    app: App,
    scopes: &str,
) -> impl Filter<Extract = (Credential,), Error = warp::Rejection> + Clone {
    let required = required_scope(scopes);
    incoming(&app).and_then(move |request: Request| {
        let (app, required) = (app.clone(), required.clone());
        async move {
            protect_either(&app, request, &required)
                .await
                .map_err(refuse)
        }
    })
}

/// What `/api/me` answers.
#[derive(serde::Serialize)]
struct Me {
    user: Option<String>,
    client_id: String,
    scope: String,
}

fn me_json(user: Option<String>, client_id: String, scope: String) -> warp::reply::Response {
    let me = Me {
        user,
        client_id,
        scope,
    };
    let mut response =
        warp::reply::Response::new(serde_json::to_vec(&me).unwrap_or_default().into());
    let headers = response.headers_mut();
    headers.insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        "x-content-type-options",
        warp::http::HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /api/me`: who the credential speaks for. An OAuth 1 signature or an
/// access token with scope `profile`: a bearer token, or a DPoP-bound one
/// in the `DPoP` scheme with a proof of its key (RFC 9449 7).
///
/// A GET with a `Bearer` header is answered from the header alone, without
/// collecting the request (the hot path of a resource server; a DPoP-bound
/// token sent so is refused there); everything else, the `DPoP` scheme
/// included, goes through [`require_oauth`].
pub fn me(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let profile = required_scope("profile");
    let bearer_get = {
        let app = app.clone();
        warp::path!("api" / "me")
            .and(warp::get())
            .and(warp::header::<String>("authorization"))
            .and_then(move |value: String| {
                let (app, profile) = (app.clone(), profile.clone());
                async move {
                    let token = match rfc6750::parse_authorization(&value) {
                        Some(Ok(token)) => token,
                        Some(Err(error)) => return Ok(reply(bearer_error(&app, &error))),
                        None => return Err(warp::reject::not_found()),
                    };
                    Ok(
                        match rfc6750::protect_token(app.store(), token, &profile, app.now()).await
                        {
                            Ok(t) => me_json(t.user, t.client_id, t.scope.to_string()),
                            Err(error) => reply(bearer_error(&app, &error)),
                        },
                    )
                }
            })
    };
    let any = warp::path!("api" / "me")
        .and(warp::get())
        .and(require_oauth(app, "profile"))
        .map(|credential: Credential| match credential {
            Credential::Oauth1(c) => me_json(c.user, c.client_id, c.scope),
            Credential::Bearer(c) => {
                me_json(c.token.user, c.token.client_id, c.token.scope.to_string())
            }
        });
    bearer_get.or(any).unify().boxed()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use credlog_core::store::{token_id, CredentialKind, Event, Issued, Secret, TokenRecord};
    use credlog_storage_memory::MemoryStore;

    use super::*;
    use crate::app::Settings;

    /// An app whose store holds one live access token, `raw`, of scope `profile`.
    async fn app_with_token(raw: &str) -> App {
        let store = Arc::new(MemoryStore::new());
        let app = App::builder(store, Settings::default())
            .clock(Arc::new(|| 1_000))
            .build();
        let token = TokenRecord {
            kind: CredentialKind::AccessToken,
            id: token_id(raw),
            secret: Secret::None,
            client_id: "client".into(),
            user: Some("alice".into()),
            scope: "profile".into(),
            expires_at: Some(2_000),
            parent: None,
            redirect_uri: None,
            code_challenge: None,
        };
        app.store()
            .append(&[], vec![Event::Issued(Issued::Token(token))], 1_000)
            .await
            .unwrap();
        app
    }

    async fn status(
        filter: impl Filter<Extract = (Credential,), Error = warp::Rejection> + Clone + 'static,
    ) -> u16 {
        let route = filter
            .map(|_: Credential| "ok")
            .recover(crate::adapter::recover);
        warp::test::request()
            .path("/")
            .header("host", "localhost")
            .header("authorization", "Bearer live-token")
            .reply(&route)
            .await
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn an_empty_scope_list_requires_no_scope_of_either_filter() {
        let app = app_with_token("live-token").await;
        assert_eq!(status(require_oauth(app.clone(), "")).await, 200);
        assert_eq!(status(require_oauth(app.clone(), "profile")).await, 200);
        assert_eq!(status(require_oauth(app, "email")).await, 403);
    }

    #[test]
    fn a_malformed_scope_list_requires_the_impossible() {
        assert!(!Scope::parse("profile")
            .unwrap()
            .is_subset_of(&Scope::default()));
        let impossible = required_scope("bad\"scope");
        assert!(!impossible.is_subset_of(&Scope::parse("profile email").unwrap()));
        assert!(required_scope("").is_subset_of(&Scope::default()));
    }
}
