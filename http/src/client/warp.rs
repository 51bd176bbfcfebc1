//! warp helpers for an app that logs its users in through a provider:
//! a browser session to bind the login to, the redirect out, the callback's
//! query, and an error page.
//!
//! ```no_run
//! use std::sync::Arc;
//! use credlog_http::client::warp::{browser_session, callback_query, failure, redirect, BrowserSession};
//! use credlog_http::client::Provider;
//! use warp::Filter;
//!
//! fn login(provider: Arc<Provider>) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
//!     warp::path!("login").and(browser_session()).then(move |session: BrowserSession| {
//!         let provider = Arc::clone(&provider);
//!         async move {
//!             let answer = match provider.authorize_redirect(&session.id, "http://127.0.0.1:8000/callback").await {
//!                 Ok(url) => redirect(&url),
//!                 Err(error) => failure(&error),
//!             };
//!             session.attach(answer)
//!         }
//!     })
//! }
//! ```

use std::convert::Infallible;

use warp::http::{header, HeaderValue, StatusCode};
use warp::Filter;

use super::error::ClientError;
use crate::pages::escape;

/// The cookie that names an app's browser session.
pub const COOKIE: &str = "credlog_client_session";

/// A browser's session with the app: an id from its cookie, or a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// The session id (32 random letters and digits).
    pub id: String,
    /// Whether it is new, so the cookie must be set.
    pub is_new: bool,
}

impl BrowserSession {
    /// `reply`, with the session cookie set when the session is new.
    pub fn attach(&self, mut reply: warp::reply::Response) -> warp::reply::Response {
        if self.is_new {
            let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax", self.id);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                reply.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        reply
    }
}

/// The request's browser session (a cookie holding anything but an id of
/// ours starts a new one).
pub fn browser_session() -> impl Filter<Extract = (BrowserSession,), Error = Infallible> + Clone {
    warp::cookie::optional::<String>(COOKIE).map(|id: Option<String>| match id {
        Some(id) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            BrowserSession { id, is_new: false }
        }
        _ => BrowserSession {
            id: crate::app::random_token(),
            is_new: true,
        },
    })
}

/// The raw query of the request ("" without one): what the provider sent
/// the user back with.
pub fn callback_query() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// A 302 to `url`.
pub fn redirect(url: &str) -> warp::reply::Response {
    let mut reply = warp::reply::Response::new(Default::default());
    *reply.status_mut() = StatusCode::FOUND;
    if let Ok(location) = HeaderValue::from_str(url) {
        reply.headers_mut().insert(header::LOCATION, location);
    }
    reply
}

/// A page for a failed login or call: 403 when the user denied access,
/// 400 for a callback that does not belong to this session, 502 when the
/// provider failed or could not be reached. Secrets are never shown.
pub fn failure(error: &ClientError) -> warp::reply::Response {
    let status = match error {
        ClientError::Denied => 403,
        ClientError::NoTemporaryCredential
        | ClientError::TokenMismatch
        | ClientError::MissingCallbackParameter(_)
        | ClientError::MalformedCallback => 400,
        ClientError::Network { .. }
        | ClientError::Provider { .. }
        | ClientError::NotForm { .. }
        | ClientError::CallbackNotConfirmed { .. } => 502,
        _ => 500,
    };
    crate::adapter::reply(crate::pages::page(
        status,
        "Sign-in failed",
        &format!(
            "<p id=\"error\">{}</p>\n<p><a href=\"/\">Back</a></p>",
            escape(&error.to_string())
        ),
    ))
}
