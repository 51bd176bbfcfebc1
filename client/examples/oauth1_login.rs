//! A web app that signs its users in with credlog over OAuth 1 (RFC 5849)
//! and shows who they are, through the client [`Registry`].
//!
//! Start a credlog server with its demo clients (they register the callback
//! `http://127.0.0.1:8000/callback`), then this app with the
//! `demo-confidential` secret the server printed, and open
//! <http://127.0.0.1:8000/>:
//!
//! ```sh
//! cargo run --release -- serve --demo | tee serve.out
//! SECRET=$(sed -n 's/.*client_id=demo-confidential client_secret=\([^ ]*\).*/\1/p' serve.out)
//! CREDLOG_CLIENT_SECRET=$SECRET cargo run -p credlog-client --features warp --example oauth1_login
//! ```
//!
//! Settings, from the environment:
//!
//! - `APP_ADDR`: where the app listens (`127.0.0.1:8000`); its callback is
//!   `http://APP_ADDR/callback`, which the client must have registered;
//! - `CREDLOG_URL`: the credlog server (`http://127.0.0.1:8080`), whose
//!   `/oauth1/initiate`, `/oauth1/authorize`, `/oauth1/token` and `/api/`
//!   the provider is registered with;
//! - `CREDLOG_CLIENT_SECRET` (required), `CREDLOG_CLIENT_ID`
//!   (`demo-confidential` when unset) and the other `CREDLOG_*` settings the
//!   registry reads, such as `CREDLOG_CLIENT_KWARGS=signature_method=HMAC-SHA256`.
//!
//! Token credentials are kept in memory, by browser session: a restart
//! signs everyone out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use credlog_client::warp::{
    browser_session, callback_query, failure, login_session, page, redirect, BrowserSession,
};
use credlog_client::{ClientError, Provider, ProviderConfig, Registry};
use credlog_core::rfc5849::TokenCredentials;
use html_escape::encode_safe as escape;
use warp::reply::Response;
use warp::Filter;

/// What every route shares.
#[derive(Clone)]
struct App {
    /// The registered provider "credlog".
    credlog: Arc<Provider>,
    /// `http://APP_ADDR/callback`.
    callback: String,
    /// The token credential of each signed-in browser session.
    tokens: Arc<Mutex<HashMap<String, TokenCredentials>>>,
}

impl App {
    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, TokenCredentials>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `GET /`: the user's `/api/me` when signed in, else a sign-in link.
async fn home(app: App, session: BrowserSession) -> Response {
    let token = app.tokens().get(&session.id).cloned();
    let answer = match token {
        None => page(
            200,
            "Example app",
            "<p>You are not signed in.</p>\n<p><a href=\"/login\">Sign in with credlog</a></p>",
        ),
        Some(token) => match app.credlog.get("me", Some(&token)).await {
            Ok(me) => page(
                200,
                "Example app",
                &format!(
                    "<p>Signed in. credlog's <code>/api/me</code> says:</p>\n\
                     <pre id=\"me\">{}</pre>\n\
                     <form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>",
                    escape(&me.text())
                ),
            ),
            Err(error) => {
                // A revoked or expired token: forget it, so the user can sign in again.
                if let ClientError::Provider { status: 401, .. } = error {
                    app.tokens().remove(&session.id);
                }
                failure(&error)
            }
        },
    };
    session.attach(answer)
}

/// `GET /login`: a temporary credential kept for a new browser session
/// (never one whose id the browser brought: it may have been planted), and
/// the user sent to credlog to allow it (RFC 5849 2.1, 2.2).
async fn login(app: App, session: BrowserSession) -> Response {
    let answer = match app
        .credlog
        .authorize_redirect(&session.id, &app.callback)
        .await
    {
        Ok(url) => redirect(&url),
        Err(error) => failure(&error),
    };
    session.attach(answer)
}

/// `GET /callback?oauth_token=...&oauth_verifier=...`: the token
/// credential (RFC 5849 2.3), kept for a new browser session that takes
/// over from the one the login ran in.
async fn callback(app: App, session: BrowserSession, query: String) -> Response {
    match app
        .credlog
        .authorize_access_token(&session.id, &query)
        .await
    {
        Ok(token) => {
            let signed_in = BrowserSession::new_random();
            app.tokens().insert(signed_in.id.clone(), token);
            signed_in.attach(redirect("/"))
        }
        Err(error) => session.attach(failure(&error)),
    }
}

/// `POST /logout`: forgets this browser session's token credential.
async fn logout(app: App, session: BrowserSession) -> Response {
    app.tokens().remove(&session.id);
    session.attach(redirect("/"))
}

fn routes(app: App) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let with_app = warp::any().map(move || app.clone());
    let home = warp::path::end()
        .and(warp::get())
        .and(with_app.clone())
        .and(browser_session())
        .then(home);
    let login = warp::path!("login")
        .and(warp::get())
        .and(with_app.clone())
        .and(login_session())
        .then(login);
    let callback = warp::path!("callback")
        .and(warp::get())
        .and(with_app.clone())
        .and(browser_session())
        .and(callback_query())
        .then(callback);
    let logout = warp::path!("logout")
        .and(warp::post())
        .and(with_app)
        .and(browser_session())
        .then(logout);
    home.or(login)
        .unify()
        .or(callback)
        .unify()
        .or(logout)
        .unify()
}

/// An environment variable, or `default` when it is unset or empty.
fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let addr = setting("APP_ADDR", "127.0.0.1:8000");
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        eprintln!("oauth1_login: APP_ADDR {addr:?} is not an address such as 127.0.0.1:8000");
        return ExitCode::from(2);
    };
    let base = setting("CREDLOG_URL", "http://127.0.0.1:8080");
    let base = base.trim_end_matches('/');
    // The demo client unless CREDLOG_CLIENT_ID names another.
    let client_id = std::env::var("CREDLOG_CLIENT_ID")
        .map_or(true, |id| id.is_empty())
        .then(|| "demo-confidential".to_owned());

    // Explicit settings win; the registry fills the rest in from
    // CREDLOG_CLIENT_ID, CREDLOG_CLIENT_SECRET, CREDLOG_CLIENT_KWARGS ...
    let registry = Registry::new();
    let config = ProviderConfig {
        client_id,
        request_token_url: Some(format!("{base}/oauth1/initiate")),
        access_token_url: Some(format!("{base}/oauth1/token")),
        authorize_url: Some(format!("{base}/oauth1/authorize")),
        api_base_url: Some(format!("{base}/api/")),
        ..ProviderConfig::default()
    };
    let credlog = match registry.register("credlog", config) {
        Ok(provider) => provider,
        Err(error) => {
            eprintln!("oauth1_login: {error}");
            return ExitCode::from(2);
        }
    };

    let bound = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener.local_addr().map(|local| (listener, local)),
        Err(error) => Err(error),
    };
    let (listener, local) = match bound {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("oauth1_login: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{local}");
    println!(
        "signing in with credlog at {base} ({})",
        credlog.signature_method()
    );
    let app = App {
        credlog,
        callback: format!("http://{local}/callback"),
        tokens: Arc::default(),
    };
    warp::serve(routes(app))
        .incoming(listener)
        .graceful(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .run()
        .await;
    ExitCode::SUCCESS
}
