//! warp helpers for an app that logs its users in through a provider:
//! a browser session to bind the login to, the redirect out, the callback's
//! query, and an error page.
//!
//! A login starts in a session of the app's own making ([`login_session`]:
//! a new id, whatever cookie the browser sent), so that nobody can plant a
//! session id in a victim's browser and then share the session the victim
//! signs in to (session fixation). The callback reads that id back with
//! [`browser_session`]; what the login earns is best kept under
//! [`BrowserSession::new_random`], a fresh id again.
//!
//! ```no_run
//! use std::sync::Arc;
//! use credlog_client::warp::{callback_query, failure, login_session, redirect, BrowserSession};
//! use credlog_client::Provider;
//! use warp::Filter;
//!
//! fn login(provider: Arc<Provider>) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
//!     warp::path!("login").and(login_session()).then(move |session: BrowserSession| {
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

use std::borrow::Cow;

use warp::http::{header, HeaderName, HeaderValue, StatusCode};
use warp::Filter;

use crate::config::Redacted;
use crate::error::ClientError;

/// The cookie that names an app's browser session.
pub const COOKIE: &str = "credlog_client_session";

/// A browser's session with the app: an id from its cookie, or a new one.
/// Its `Debug` hides the id, which is as good as the session to whoever
/// holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// The session id (32 random letters and digits).
    pub id: String,
    /// Whether it is new, so the cookie must be set.
    pub is_new: bool,
}

impl std::fmt::Debug for BrowserSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSession")
            .field("id", &Redacted)
            .field("is_new", &self.is_new)
            .finish()
    }
}

impl BrowserSession {
    /// A session with a new random id, whose cookie [`attach`](Self::attach)
    /// sets. An app keeps what a finished login earned under one of these
    /// rather than the id the login ran under, so that whoever knew that id
    /// gets none of it.
    pub fn new_random() -> BrowserSession {
        BrowserSession {
            id: credlog_core::random::random_token(),
            is_new: true,
        }
    }

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

/// The request's browser session: the id its cookie holds when it has
/// the shape of one (32 letters and digits), else a new one.
///
/// The browser may have made that id up, or had it planted: nothing but a
/// login started with [`login_session`] or an id from
/// [`BrowserSession::new_random`] should be bound to a session, so that an
/// id the app did not issue finds nothing (a callback under it finds no
/// waiting login).
pub fn browser_session() -> impl Filter<Extract = (BrowserSession,), Error = Infallible> + Clone {
    warp::cookie::optional::<String>(COOKIE).map(|id: Option<String>| match id {
        Some(id) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            BrowserSession { id, is_new: false }
        }
        _ => BrowserSession::new_random(),
    })
}

/// The session for the route that starts a login
/// ([`Provider::authorize_redirect`](crate::Provider::authorize_redirect)):
/// always a new random id, whatever cookie the browser sent, so that the
/// login (and what it earns) is bound to an id this app issued to this
/// browser just now, never to one an attacker chose (session fixation).
pub fn login_session() -> impl Filter<Extract = (BrowserSession,), Error = Infallible> + Clone {
    warp::any().map(BrowserSession::new_random)
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
        | ClientError::ResponseTooLarge { .. }
        | ClientError::CallbackNotConfirmed { .. } => 502,
        _ => 500,
    };
    page(
        status,
        "Sign-in failed",
        &format!(
            "<p id=\"error\">{}</p>\n<p><a href=\"/\">Back</a></p>",
            escape(&error.to_string())
        ),
    )
}

/// A whole HTML page in credlog's plain style: `title` (escaped here) and
/// `body`, which must already be HTML (escape what it quotes, with
/// `html_escape::encode_safe`). Never cached, never framed, sniffed or
/// allowed to load anything.
pub fn page(status: u16, title: &str, body: &str) -> warp::reply::Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · credlog</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         code{{background:#eee;padding:.1rem .3rem}}label{{display:block;margin:.5rem 0}}\
         button{{margin-right:.5rem}}table{{border-collapse:collapse}}td,th{{padding:.2rem .5rem;border-bottom:1px solid #ccc;text-align:left}}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n",
        title = escape(title),
    );
    let mut reply = warp::reply::Response::new(html.into());
    *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = reply.headers_mut();
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
        ("x-content-type-options", "nosniff"),
    ] {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    reply
}

/// `text` safe to put in HTML text or a quoted attribute.
fn escape(text: &str) -> Cow<'_, str> {
    html_escape::encode_safe(text)
}
