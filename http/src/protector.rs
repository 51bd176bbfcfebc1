//! The resource protector: a warp filter any route can wrap so that it
//! runs only for a valid OAuth 1 signed request (RFC 5849 3), and learns
//! whose credential it was (the counterpart of Authlib's
//! `require_oauth()` and `current_credential`).
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

use credlog_core::rfc5849::{Endpoint, Oauth1Error};
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{incoming, json, refuse, reply};
use crate::app::App;
use crate::oauth1::{oauth1_error, verify};

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

/// Checks a request at the resource endpoint; the nonce is used and the
/// `Verified` event appended on success.
pub async fn protect(app: &App, request: Request) -> Result<Oauth1Credential, Response> {
    let accepted = verify(app, &request, Endpoint::Resource).await?;
    // The validator read the token to check the signature; it is still live.
    let Some(state) = accepted.token else {
        return Err(oauth1_error(app, &Oauth1Error::UnknownToken));
    };
    Ok(Oauth1Credential {
        client_id: accepted.request.client_key,
        user: state.record.user,
        scope: state.record.scope,
        token: state.record.id,
        request,
    })
}

/// The filter: passes the [`Oauth1Credential`] on, or rejects with the
/// OAuth 1 error response (400 or 401 with `WWW-Authenticate: OAuth`).
pub fn require_oauth1(
    app: App,
) -> impl Filter<Extract = (Oauth1Credential,), Error = warp::Rejection> + Clone {
    incoming(app.settings().body_limit).and_then(move |request: Request| {
        let app = app.clone();
        async move { protect(&app, request).await.map_err(refuse) }
    })
}

/// `GET /api/me`: who the credential speaks for.
pub fn me(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("api" / "me")
        .and(warp::get())
        .and(require_oauth1(app))
        .map(|credential: Oauth1Credential| {
            reply(json(
                200,
                &serde_json::json!({
                    "user": credential.user,
                    "client_id": credential.client_id,
                    "scope": credential.scope,
                }),
            ))
        })
        .boxed()
}
