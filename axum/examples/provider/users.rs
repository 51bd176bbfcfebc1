//! The application's own users and sign-in: a fixed list of names and
//! passwords, sessions in memory behind a cookie, and `/login`. credlog
//! knows them only through the host ([`Visit`]): who is signed in, the
//! password check of the password grant, the throttle and the address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use credlog_axum::{MakeHost, Reply};
use credlog_core::provider::Host;
use credlog_core::random::random_token;
use credlog_core::rfc6749::{OwnerCheckError, ResourceOwners};
use credlog_core::store::{
    AppendError, CredentialKind, CredentialStore, Event, Issued, Precondition, Secret, StoreError,
    UserRecord,
};
use credlog_core::throttle::{Limits, MemoryThrottle, Throttle};

use super::consent::{hidden, html};

/// The application's users: name and password.
pub const ACCOUNTS: [(&str, &str); 2] = [("alice", "wonderland"), ("bob", "builder")];

/// The users as the example prints them: `NAME / PASSWORD` lines.
pub fn listing() -> String {
    let lines: Vec<String> = ACCOUNTS
        .iter()
        .map(|(name, password)| format!("{name} / {password}"))
        .collect();
    lines.join("\n")
}

/// The session cookie's name.
const SESSION: &str = "example_session";
/// The cookie that proves a sign-in form came from our page.
const LOGIN_CSRF: &str = "example_login_csrf";

/// Someone signed in: who, when, and the token their forms carry.
#[derive(Debug, Clone)]
pub struct Session {
    /// Their user name.
    pub user: String,
    /// When they signed in (seconds since the epoch).
    pub auth_time: u64,
    /// The CSRF token of their forms.
    pub csrf: String,
}

/// The users, who is signed in, and the throttle credlog counts in.
/// Cheap to clone.
#[derive(Clone)]
pub struct Users(Arc<Inner>);

struct Inner {
    sessions: Mutex<HashMap<String, Session>>,
    throttle: MemoryThrottle,
}

impl Users {
    /// [`ACCOUNTS`], no one signed in.
    pub fn new() -> Self {
        Users(Arc::new(Inner {
            sessions: Mutex::default(),
            throttle: MemoryThrottle::new(Limits::default()),
        }))
    }

    /// Tells credlog's store the users' names (never their passwords): an
    /// OpenID subject is kept for each user the store knows. A name the
    /// store has already (a restart on sled) is left as it is.
    pub async fn enrol(store: &dyn CredentialStore, now: u64) -> Result<(), StoreError> {
        for (name, _) in ACCOUNTS {
            let absent = Precondition::Absent {
                kind: CredentialKind::User,
                id: name.to_owned(),
            };
            let user = Event::Issued(Issued::User(UserRecord {
                name: name.to_owned(),
                password: Secret::None,
            }));
            match store.append(&[absent], vec![user], now).await {
                Ok(_) | Err(AppendError::Refused(_)) => {}
                Err(AppendError::Store(error)) => return Err(error),
            }
        }
        Ok(())
    }

    fn check(name: &str, password: &str) -> bool {
        ACCOUNTS
            .iter()
            .any(|(user, secret)| *user == name && *secret == password)
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.0
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The session whose cookie `cookies` (a `Cookie` header) carries.
    pub fn session(&self, cookies: &str) -> Option<Session> {
        let id = cookie(cookies, SESSION)?;
        self.sessions().get(id).cloned()
    }
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
}

/// The host of one request: the users, and the client's address.
pub struct Visit<'a> {
    /// The application's users.
    pub users: &'a Users,
    address: Option<IpAddr>,
}

impl MakeHost for Users {
    type Host<'a> = Visit<'a>;

    fn host<'a>(&'a self, _parts: &Parts, address: Option<IpAddr>) -> Visit<'a> {
        Visit {
            users: self,
            address,
        }
    }
}

impl Host for Visit<'_> {
    fn throttle(&self) -> &dyn Throttle {
        &self.users.0.throttle
    }

    fn address(&self) -> Option<IpAddr> {
        self.address
    }
}

#[async_trait]
impl ResourceOwners for Visit<'_> {
    async fn authenticate(&self, username: &str, password: &str) -> Result<bool, OwnerCheckError> {
        Ok(Users::check(username, password))
    }
}

/// `GET /login` and `POST /login`.
pub fn routes(users: Users) -> Router {
    Router::new()
        .route("/login", get(login_page).post(login))
        .with_state(users)
}

/// Where to go after signing in.
#[derive(serde::Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
}

/// The sign-in form, as posted.
#[derive(serde::Deserialize)]
struct Login {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf_token: String,
}

/// The form, with a new CSRF token in it and in a cookie.
async fn login_page(Query(Next { next }): Query<Next>) -> Response {
    login_form(200, &next)
}

fn login_form(status: u16, next: &str) -> Response {
    let token = random_token();
    let form = format!(
        "<form method=\"post\" action=\"/login\">\n{}{}\
         <label>Name <input name=\"username\"></label>\n\
         <label>Password <input name=\"password\" type=\"password\"></label>\n\
         <button>Sign in</button>\n</form>",
        hidden("next", next),
        hidden("csrf_token", &token),
    );
    let cookie = format!("{LOGIN_CSRF}={token}; Path=/login; HttpOnly; SameSite=Strict");
    (
        [("set-cookie", cookie)],
        Reply(html(status, "Sign in", &form)),
    )
        .into_response()
}

async fn login(
    State(users): State<Users>,
    headers: axum::http::HeaderMap,
    Form(login): Form<Login>,
) -> Response {
    let cookies = headers
        .get("cookie")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let expected = cookie(cookies, LOGIN_CSRF);
    if login.csrf_token.is_empty() || expected != Some(login.csrf_token.as_str()) {
        let refused = html(
            403,
            "Forbidden",
            "<p>This form was not sent from our page.</p>",
        );
        return Reply(refused).into_response();
    }
    if !Users::check(&login.username, &login.password) {
        return login_form(401, &login.next);
    }
    let id = random_token();
    let session = Session {
        user: login.username,
        auth_time: now(),
        csrf: random_token(),
    };
    users.sessions().insert(id.clone(), session);
    // Only a path on this site: never an open redirect.
    let next = match login.next.as_str() {
        next if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => next,
        _ => "/",
    };
    let cookie = format!("{SESSION}={id}; Path=/; HttpOnly; SameSite=Lax");
    ([("set-cookie", cookie)], Redirect::to(next)).into_response()
}

/// Now, in seconds since the epoch.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
