//! The OAuth 2.0 endpoints: token (RFC 6749 3.2), revocation (RFC 7009),
//! introspection (RFC 7662), metadata (RFC 8414), and OpenID Connect's
//! Discovery document, JWK Set and UserInfo endpoint. The engine in
//! `credlog_core::rfc6749` decides; this module routes and supplies the
//! resource owners' passwords. The authorization endpoint, which has a
//! page, is in [`crate::consent`].

use std::future::Future;
use std::net::IpAddr;

use async_trait::async_trait;
use credlog_core::oidc::{DISCOVERY_PATH, JWKS_PATH, USERINFO_PATH};
use credlog_core::rfc6749::{Caller, Guarded, OwnerCheckError, ResourceOwners};
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
        let attempt = Attempt::password(username, self.address);
        Ok(sign_in(self.app, &attempt, password).await?.is_some())
    }
}

/// `answer`, an endpoint's answer to `request`, behind the client
/// authentication throttle ([`credlog_core::rfc6749::client_throttle`]),
/// counted in the app's throttle for the client's `address`.
pub async fn guarded(
    app: &App,
    address: Option<IpAddr>,
    endpoint: Guarded,
    request: &Request,
    answer: impl Future<Output = Response>,
) -> Response {
    let caller = Caller {
        throttle: app.throttle(),
        address,
    };
    app.oauth2()
        .guarded(&caller, endpoint, request, app.now(), answer)
        .await
}

async fn token(app: App, address: Option<IpAddr>, request: Request) -> Response {
    let owners = AppOwners { app: &app, address };
    let answer = app
        .oauth2()
        .token(app.store(), &owners, &request, app.now());
    guarded(&app, address, Guarded::Token, &request, answer).await
}

async fn revoke(app: App, address: Option<IpAddr>, request: Request) -> Response {
    let answer = app.oauth2().revoke(app.store(), &request, app.now());
    guarded(&app, address, Guarded::Revocation, &request, answer).await
}

async fn introspect(app: App, address: Option<IpAddr>, request: Request) -> Response {
    let answer = app.oauth2().introspect(app.store(), &request, app.now());
    guarded(&app, address, Guarded::Introspection, &request, answer).await
}

/// The issuer: the configured base URL, or the scheme and host the request reached.
pub fn issuer(app: &App, request: &Request) -> String {
    app.oauth2().issuer_for(request)
}

async fn metadata(app: App, request: Request) -> Response {
    json(200, &app.oauth2().metadata(&issuer(&app, &request)))
}

async fn openid_configuration(app: App, request: Request) -> Response {
    match app.oauth2().openid() {
        Some(_) => json(
            200,
            &app.oauth2().openid_configuration(&issuer(&app, &request)),
        ),
        None => not_found(),
    }
}

/// The JWK Set (RFC 7517 5): the keys ID tokens are signed with, the
/// current one first, and each retired one until what it signed has expired.
async fn jwks(app: App, _request: Request) -> Response {
    let Some(openid) = app.oauth2().openid() else {
        return not_found();
    };
    let lifetime = app.oauth2().config().id_token_lifetime;
    match openid
        .keys
        .published(app.store(), app.now(), lifetime)
        .await
    {
        Ok(keys) => json(200, &credlog_core::jose::jwk_set(&keys)),
        Err(error) => app
            .oauth2()
            .error_response(&credlog_core::rfc6749::Oauth2Error::from(error)),
    }
}

async fn userinfo(app: App, request: Request) -> Response {
    app.oauth2()
        .userinfo(app.store(), &request, app.now())
        .await
}

fn not_found() -> Response {
    json(404, &serde_json::json!({"error": "not_found"}))
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
        .and(answer_from(app.clone(), revoke));
    let introspect = at(INTROSPECTION_PATH)
        .and(warp::post())
        .and(answer_from(app.clone(), introspect));
    let metadata = at(METADATA_PATH)
        .and(warp::get())
        .and(answer(app.clone(), metadata));
    let discovery = at(DISCOVERY_PATH)
        .and(warp::get())
        .and(answer(app.clone(), openid_configuration));
    let jwks = at(JWKS_PATH)
        .and(warp::get())
        .and(answer(app.clone(), jwks));
    let userinfo = at(USERINFO_PATH)
        .and(warp::get().or(warp::post()).unify())
        .and(answer(app, userinfo));
    token
        .or(revoke)
        .unify()
        .or(introspect)
        .unify()
        .or(metadata)
        .unify()
        .or(discovery)
        .unify()
        .or(jwks)
        .unify()
        .or(userinfo)
        .unify()
        .boxed()
}
