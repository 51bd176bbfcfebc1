//! The host app's own users and sign-in, which credlog's core knows only
//! through two seams: [`Consent`] at the authorization endpoints (who is
//! signed in, how consent is asked and read) and [`ResourceOwners`] for
//! the OAuth 2 password grant. Nothing here is credlog's: a map of users,
//! a `/login` form that sets a cookie, and a consent page with its own
//! wording and CSRF token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use credlog_core::consent::{Consent, Page, Prompt, ReturnsTo};
use credlog_core::form::Fields;
use credlog_core::random::random_token;
use credlog_core::rfc5849::encoding::percent_encode;
use credlog_core::rfc6749::{OwnerCheckError, ResourceOwners};
use credlog_core::store::Secret;
use credlog_core::{Request, Response};

use super::adapter::Reply;

/// The sign-in cookie's name.
const COOKIE: &str = "toy_session";

/// Someone signed in: who, and the token their consent forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    user: String,
    csrf: String,
}

/// The app's users (name and password) and who is signed in (cookie value
/// to session). A toy: passwords in memory, sessions for ever.
#[derive(Debug, Default)]
pub struct Users {
    passwords: HashMap<String, Secret>,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Users {
    /// These users, with these passwords.
    pub fn new(accounts: &[(&str, &str)]) -> Self {
        let passwords = accounts
            .iter()
            .map(|(name, password)| (name.to_string(), Secret::Plain(password.to_string())))
            .collect();
        Users {
            passwords,
            sessions: Mutex::default(),
        }
    }

    fn check(&self, name: &str, password: &str) -> bool {
        self.passwords
            .get(name)
            .is_some_and(|secret| secret.matches(password))
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The value of the sign-in cookie among a request's `Cookie` headers.
fn cookie(request: &Request) -> Option<&str> {
    request
        .header_values("cookie")
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

#[async_trait]
impl Consent for Users {
    type Owner = Session;

    async fn owner(&self, request: &Request) -> Option<Session> {
        self.sessions().get(cookie(request)?).cloned()
    }

    fn user<'a>(&self, owner: &'a Session) -> &'a str {
        &owner.user
    }

    fn sign_in(&self, return_to: &str) -> Response {
        Response::redirect(303, &format!("/login?next={}", percent_encode(return_to)))
    }

    fn ask(&self, owner: &Session, prompt: &Prompt<'_>) -> Response {
        let then = match prompt.returns_to {
            ReturnsTo::OutOfBand => "You will get a code to type into the app.".to_owned(),
            ReturnsTo::Uri(uri) => format!("You will go back to {}.", escape(uri)),
        };
        let fields: String = prompt
            .fields
            .iter()
            .chain([&("csrf", owner.csrf.as_str())])
            .map(|(name, value)| hidden(name, value))
            .collect();
        html(
            200,
            "Let an app in?",
            &format!(
                "<p>Hi {user}. <b id=\"client\">{client}</b> would like to use your account \
                 (<span id=\"scope\">{scope}</span>). {then}</p>\n\
                 <form method=\"post\" action=\"{action}\">\n{fields}\
                 <button name=\"decision\" value=\"allow\">Let it in</button>\n\
                 <button name=\"decision\" value=\"deny\">No thanks</button>\n</form>",
                user = escape(&owner.user),
                client = escape(prompt.client_name),
                scope = escape(prompt.scope),
                action = escape(prompt.action),
            ),
        )
    }

    fn answer(&self, owner: &Session, form: &Fields) -> Result<bool, Response> {
        if form.get("csrf") != Some(owner.csrf.as_str()) {
            return Err(html(
                403,
                "Forbidden",
                "<p>This form was not sent from our page.</p>",
            ));
        }
        match form.get("decision") {
            Some("allow") => Ok(true),
            Some("deny") => Ok(false),
            _ => Err(html(
                400,
                "Bad request",
                "<p>Choose one of the two buttons.</p>",
            )),
        }
    }

    fn own_fields(&self) -> &[&str] {
        &["csrf", "decision"]
    }

    fn show(&self, page: &Page<'_>) -> Response {
        match page {
            Page::Verifier {
                client_name,
                verifier,
            } => html(
                200,
                "Done",
                &format!(
                    "<p>Type this code into {}: <code id=\"verifier\">{}</code></p>",
                    escape(client_name),
                    escape(verifier)
                ),
            ),
            Page::Denied { client_name } => html(
                200,
                "Done",
                &format!("<p>{} was kept out.</p>", escape(client_name)),
            ),
            Page::Refused {
                status,
                title,
                message,
            } => html(*status, title, &format!("<p>{}</p>", escape(message))),
        }
    }
}

#[async_trait]
impl ResourceOwners for Users {
    async fn authenticate(&self, username: &str, password: &str) -> Result<bool, OwnerCheckError> {
        Ok(self.check(username, password))
    }
}

/// `GET /login` and `POST /login`.
pub fn routes(users: Arc<Users>) -> Router {
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

/// The sign-in form.
#[derive(serde::Deserialize)]
struct Login {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_page(Query(Next { next }): Query<Next>) -> Reply {
    Reply(login_form(200, &next))
}

fn login_form(status: u16, next: &str) -> Response {
    html(
        status,
        "Sign in",
        &format!(
            "<form method=\"post\" action=\"/login\">\n{}\
             <input name=\"username\"> <input name=\"password\" type=\"password\">\n\
             <button>Sign in</button>\n</form>",
            hidden("next", next)
        ),
    )
}

async fn login(
    State(users): State<Arc<Users>>,
    Form(login): Form<Login>,
) -> axum::response::Response {
    if !users.check(&login.username, &login.password) {
        return Reply(login_form(401, &login.next)).into_response();
    }
    let id = random_token();
    let session = Session {
        user: login.username,
        csrf: random_token(),
    };
    users.sessions().insert(id.clone(), session);
    // Only a path on this site: never an open redirect.
    let next = match login.next.as_str() {
        next if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => next,
        _ => "/",
    };
    (
        [(
            "set-cookie",
            format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"),
        )],
        Redirect::to(next),
    )
        .into_response()
}

/// A small HTML page that no other site may frame.
fn html(status: u16, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<title>{title}</title>\n<h1>{title}</h1>\n{body}\n",
        title = escape(title)
    );
    Response {
        status,
        headers: vec![
            (
                "Content-Type".to_owned(),
                "text/html; charset=utf-8".to_owned(),
            ),
            ("X-Frame-Options".to_owned(), "DENY".to_owned()),
            ("Cache-Control".to_owned(), "no-store".to_owned()),
        ],
        body: page.into_bytes(),
    }
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        escape(name),
        escape(value)
    )
}

/// `text` safe in HTML text and in double-quoted attributes.
fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}
