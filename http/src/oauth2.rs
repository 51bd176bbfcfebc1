//! The OAuth 2.0 endpoints: token (RFC 6749 3.2), revocation (RFC 7009),
//! introspection (RFC 7662) and metadata (RFC 8414). The engine in
//! `credlog_core::rfc6749` decides; this module routes and supplies the
//! resource owners' passwords. The authorization endpoint, which has a
//! page, is in [`crate::consent`].

use std::net::IpAddr;

use async_trait::async_trait;
use credlog_core::rfc6749::{OwnerCheckError, ResourceOwners};
use credlog_core::rfc8414::{INTROSPECTION_PATH, METADATA_PATH, REVOCATION_PATH, TOKEN_PATH};
use credlog_core::throttle::Attempt;
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::accounts::sign_in;
use crate::adapter::{answer, answer_from, json};
use crate::app::App;

/// Resource owners are the app's users, signing in from `address`: their
/// passwords are argon2-checked, throttled as on the login form.
pub struct AppOwners<'a> {
    /// The app whose users, password checks and throttle these are.
    pub app: &'a App,
    /// Where the token request came from.
    pub address: Option<IpAddr>,
}

#[async_trait]
impl ResourceOwners for AppOwners<'_> {
    async fn authenticate(&self, username: &str, password: &str) -> Result<bool, OwnerCheckError> {
        let attempt = Attempt {
            user: username,
            address: self.address,
        };
        Ok(sign_in(self.app, &attempt, password).await?.is_some())
    }
}

async fn token(app: App, address: Option<IpAddr>, request: Request) -> Response {
    let owners = AppOwners { app: &app, address };
    app.oauth2()
        .token(app.store(), &owners, &request, app.now())
        .await
}

async fn revoke(app: App, request: Request) -> Response {
    app.oauth2().revoke(app.store(), &request, app.now()).await
}

async fn introspect(app: App, request: Request) -> Response {
    app.oauth2()
        .introspect(app.store(), &request, app.now())
        .await
}

/// The issuer: the configured base URL, or the scheme and host the request reached.
pub fn issuer(app: &App, request: &Request) -> String {
    if let Some(issuer) = &app.settings().issuer {
        return issuer.clone();
    }
    let path = credlog_core::consent::path_and_query(&request.uri);
    request
        .uri
        .strip_suffix(path)
        .unwrap_or(&request.uri)
        .to_owned()
}

async fn metadata(app: App, request: Request) -> Response {
    json(200, &app.oauth2().metadata(&issuer(&app, &request)))
}

/// Exactly `path`, one of rfc8414's two-segment endpoint paths.
fn at(path: &'static str) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    let (first, second) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    warp::path(first)
        .and(warp::path(second))
        .and(warp::path::end())
}

/// `POST /oauth2/token`, `/oauth2/revoke`, `/oauth2/introspect` and
/// `GET /.well-known/oauth-authorization-server`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let token = at(TOKEN_PATH)
        .and(warp::post())
        .and(answer_from(app.clone(), token));
    let revoke = at(REVOCATION_PATH)
        .and(warp::post())
        .and(answer(app.clone(), revoke));
    let introspect = at(INTROSPECTION_PATH)
        .and(warp::post())
        .and(answer(app.clone(), introspect));
    let metadata = at(METADATA_PATH)
        .and(warp::get())
        .and(answer(app, metadata));
    token
        .or(revoke)
        .unify()
        .or(introspect)
        .unify()
        .or(metadata)
        .unify()
        .boxed()
}
