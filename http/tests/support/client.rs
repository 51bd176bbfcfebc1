//! What the OAuth 1 client's tests against a real credlog server share: a
//! provider config pointing at a test server, and a browser that answers
//! the consent page the client sends it to; with what credlog-client's own
//! tests share (`client/tests/support/mod.rs`: environments, stub
//! providers, a recorder of signed calls).

use std::sync::Arc;

use credlog_client::{MemoryCache, Method, Provider, ProviderConfig};
use credlog_conformance::TEST_RSA_PRIVATE_KEY_PEM;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::{TokenCredentials, Transmission};
use serde_json::json;

use super::clock::TestClock;
use super::{
    hidden_inputs, http, login, post_form, seed, Answer, Backend, TestClient, TestServer, CALLBACK,
};

#[path = "../../../client/tests/support/mod.rs"]
mod without_server;
// Each test binary uses some of these.
use without_server::config_at;
#[allow(unused_imports)]
pub use without_server::{
    as_env, closed_port, field, no_env, registry, stub, with_field, CLIENT_METHODS,
};

/// The settings of `server`'s OAuth 1 endpoints for `client`, signing with
/// `method` in `placement`. RSA-SHA1 gets the test key and no secret.
pub fn config(
    server: &TestServer,
    client: &TestClient,
    method: Method,
    placement: Transmission,
) -> ProviderConfig {
    config_at(
        &server.url(""),
        &client.id,
        &client.secret,
        method,
        placement,
    )
}

/// A provider for `server` signing HMAC-SHA1 in the header, and the URL
/// `browser` was sent to authorize a fresh temporary credential.
pub async fn login_started(
    server: &TestServer,
    client: &TestClient,
    browser: &Browser,
) -> (Arc<Provider>, String) {
    let config = config(server, client, Method::HmacSha1, Transmission::Header);
    let provider = registry().register("credlog", config).unwrap();
    let redirect = provider
        .authorize_redirect(&browser.session, CALLBACK)
        .await
        .unwrap();
    (provider, redirect)
}

/// One user's browser: signed in to the provider (its cookie) and holding
/// a session with the app (its id).
#[derive(Debug, Clone)]
pub struct Browser {
    pub user: String,
    pub cookie: String,
    pub session: String,
}

impl Browser {
    /// `user` signs in to `server`, and opens a fresh session with the app.
    pub async fn sign_in(server: &TestServer, user: &str) -> Browser {
        Browser {
            user: user.to_owned(),
            cookie: login(server, user, super::PASSWORD).await,
            session: credlog_http::app::random_token(),
        }
    }

    /// Follows the app's redirect to the consent page and answers it
    /// (`confirm` is `yes` or `no`); returns the query the provider sends
    /// the browser back to [`CALLBACK`] with.
    pub async fn answer(&self, server: &TestServer, redirect: &str, confirm: &str) -> String {
        assert!(
            redirect.starts_with(&server.url("/oauth1/authorize?")),
            "{redirect}"
        );
        let page = Answer::from(
            http()
                .get(redirect)
                .header("Cookie", &self.cookie)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, 200, "consent page: {}", page.body);
        assert!(
            page.body
                .contains(&format!("<strong>{}</strong>", self.user)),
            "{}",
            page.body
        );
        let mut fields = hidden_inputs(&page.body);
        fields.push(("confirm".to_owned(), confirm.to_owned()));
        let decided = post_form(server, "/oauth1/authorize", Some(&self.cookie), &fields).await;
        assert_eq!(decided.status, 302, "{}", decided.body);
        let location = decided.header("location").unwrap();
        let (callback, query) = location.split_once('?').expect("a query on the callback");
        assert_eq!(callback, CALLBACK);
        query.to_owned()
    }

    /// The whole login through `provider`, granted.
    pub async fn log_in(&self, server: &TestServer, provider: &Provider) -> TokenCredentials {
        let redirect = provider
            .authorize_redirect(&self.session, CALLBACK)
            .await
            .unwrap_or_else(|e| panic!("{}: authorize_redirect: {e}", provider.name()));
        let query = self.answer(server, &redirect, "yes").await;
        provider
            .authorize_access_token(&self.session, &query)
            .await
            .unwrap_or_else(|e| panic!("{}: authorize_access_token: {e}", provider.name()))
    }
}

/// What `GET /api/me` says of `token`, through `provider`.
pub async fn me_through(provider: &Provider, token: &TokenCredentials) -> serde_json::Value {
    let answer = provider
        .get("me", Some(token))
        .await
        .unwrap_or_else(|e| panic!("{}: GET me: {e}", provider.name()));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/json");
    answer.json().unwrap()
}

/// What `/api/me` answers for `user` signed in through `client`.
pub fn me_of(user: &str, client: &TestClient) -> serde_json::Value {
    json!({"user": user, "client_id": client.id, "scope": "profile email"})
}

/// A memory server with alice signed in and her client registered.
pub struct Started {
    pub server: TestServer,
    pub client: TestClient,
    pub alice: Browser,
    pub _dir: tempfile::TempDir,
}

/// Starts a [`Started`].
pub async fn started() -> Started {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Memory, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let alice = Browser::sign_in(&server, "alice").await;
    Started {
        server,
        client,
        alice,
        _dir: dir,
    }
}

/// A cache of temporary credentials on `clock`.
pub fn cache_on(clock: &TestClock) -> Arc<MemoryCache> {
    Arc::new(MemoryCache::with_clock(clock.monotonic()))
}

/// Every setting of `server`'s provider for `client`, as environment
/// variables of provider `credlog`, signing RSA-SHA1 in the query with
/// the key in `key_file`.
pub fn credlog_env(
    server: &TestServer,
    client: &TestClient,
    key_file: &str,
) -> Vec<(String, String)> {
    let kwargs = form_encode([
        ("signature_method", "RSA-SHA1"),
        ("signature_type", "QUERY"),
        ("rsa_key_file", key_file),
        ("timeout", "10"),
        ("user_agent", "printer/1.0"),
    ]);
    [
        ("CREDLOG_CLIENT_ID", client.id.clone()),
        ("CREDLOG_CLIENT_SECRET", client.secret.clone()),
        ("CREDLOG_REQUEST_TOKEN_URL", server.url("/oauth1/initiate")),
        ("CREDLOG_REQUEST_TOKEN_PARAMS", "x_app=printer".to_owned()),
        ("CREDLOG_ACCESS_TOKEN_URL", server.url("/oauth1/token")),
        ("CREDLOG_ACCESS_TOKEN_PARAMS", "x_step=exchange".to_owned()),
        ("CREDLOG_AUTHORIZE_URL", server.url("/oauth1/authorize")),
        (
            "CREDLOG_AUTHORIZE_PARAMS",
            "x_theme=dark&lang=en".to_owned(),
        ),
        ("CREDLOG_API_BASE_URL", server.url("/api/")),
        ("CREDLOG_CLIENT_KWARGS", kwargs),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v))
    .collect()
}

pub fn key_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("client-key.pem");
    std::fs::write(&path, TEST_RSA_PRIVATE_KEY_PEM).unwrap();
    path.to_str().unwrap().to_owned()
}
