//! What the OAuth 1 client's tests share: a provider config pointing at a
//! test server, a browser that answers the consent page the client sends
//! it to, stub providers, and a recorder that checks the signatures of the
//! API calls it receives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credlog_conformance::TEST_RSA_PRIVATE_KEY_PEM;
use credlog_conformance::TEST_RSA_PUBLIC_KEY_PEM;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::signature::rsa_public_key_from_pem;
use credlog_core::rfc5849::{
    SignatureMethods, SignedRequest, Source, TokenCredentials, Transmission, VerifyingKey,
};
use credlog_core::Request;
use credlog_http::client::provider::Env;
use credlog_http::client::{
    ClientOptions, MemoryCache, Method, Provider, ProviderConfig, Registry,
};
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::Filter;

use super::{
    hidden_inputs, http, login, post_form, seed, Answer, Backend, TestClient, TestServer, CALLBACK,
};

/// Every signature method of the client, with its name.
pub const CLIENT_METHODS: [(Method, &str); 4] = [
    (Method::HmacSha1, "HMAC-SHA1"),
    (Method::HmacSha256, "HMAC-SHA256"),
    (Method::RsaSha1, "RSA-SHA1"),
    (Method::Plaintext, "PLAINTEXT"),
];

/// An environment holding nothing: tests are deaf to the process's own.
pub fn no_env() -> Env {
    Arc::new(|_: &str| None)
}

/// An environment holding exactly `variables`.
pub fn env_of(variables: &[(&str, &str)]) -> Env {
    let map: HashMap<String, String> = variables
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    Arc::new(move |name: &str| map.get(name).cloned())
}

/// A registry reading no environment.
pub fn registry() -> Registry {
    Registry::new().with_env(no_env())
}

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

/// A provider at `base` (credlog's paths: `/oauth1/initiate` ..., API
/// under `/api/`) for this client, signing with `method` in `placement`
/// (RSA-SHA1 with the test key and no secret).
pub fn config_at(
    base: &str,
    id: &str,
    secret: &str,
    method: Method,
    placement: Transmission,
) -> ProviderConfig {
    let rsa = method == Method::RsaSha1;
    ProviderConfig {
        client_id: Some(id.to_owned()),
        client_secret: (!rsa).then(|| secret.to_owned()),
        request_token_url: Some(format!("{base}/oauth1/initiate")),
        access_token_url: Some(format!("{base}/oauth1/token")),
        authorize_url: Some(format!("{base}/oauth1/authorize")),
        api_base_url: Some(format!("{base}/api/")),
        client_options: ClientOptions {
            signature_method: Some(method),
            placement: Some(placement),
            rsa_private_key: rsa.then(|| TEST_RSA_PRIVATE_KEY_PEM.to_owned()),
            ..ClientOptions::default()
        },
        ..ProviderConfig::default()
    }
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

/// Serves `routes` on a free port until the test ends; returns its base URL.
pub async fn stub(routes: BoxedFilter<(warp::reply::Response,)>) -> String {
    let (listener, addr) = credlog_http::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    tokio::spawn(warp::serve(routes).incoming(listener).run());
    format!("http://{addr}")
}

/// A `200` with this content type and body.
pub fn answer_with(content_type: &'static str, body: &'static str) -> warp::reply::Response {
    let mut reply = warp::reply::Response::new(body.into());
    reply.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static(content_type),
    );
    reply
}

/// A stub provider that keeps every request it gets, as a core request,
/// and answers each with the same `200`.
pub struct Recorder {
    pub base: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Recorder {
    /// A recorder answering `{"ok":true}`.
    pub async fn start() -> Recorder {
        Recorder::answering("application/json", "{\"ok\":true}").await
    }

    /// A recorder answering this content type and body.
    pub async fn answering(content_type: &'static str, answer: &'static str) -> Recorder {
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let kept = Arc::clone(&requests);
        let (listener, addr) = credlog_http::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{addr}");
        let origin = base.clone();
        let routes = warp::method()
            .and(warp::path::full())
            .and(credlog_http::client::warp::callback_query())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      query: String,
                      headers: warp::http::HeaderMap,
                      body: warp::hyper::body::Bytes| {
                    let mut uri = format!("{origin}{}", path.as_str());
                    if !query.is_empty() {
                        uri = format!("{uri}?{query}");
                    }
                    let mut request = Request::new(method.as_str(), uri);
                    for (name, value) in &headers {
                        request = request.with_header(name.as_str(), value.to_str().unwrap());
                    }
                    request.body = body.to_vec();
                    kept.lock().unwrap().push(request);
                    answer_with(content_type, answer)
                },
            );
        tokio::spawn(warp::serve(routes).incoming(listener).run());
        Recorder { base, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The requests received so far, forgotten.
    pub fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// Where the protocol parameters of `request` travelled (all in one place),
/// and whether its signature holds for these secrets (and the test RSA key).
pub fn check_signature(
    request: &Request,
    client_secret: &str,
    token_secret: &str,
) -> (Source, bool) {
    let signed = SignedRequest::parse(request).unwrap();
    let sources: Vec<Source> = signed
        .parameters()
        .parameters
        .iter()
        .filter(|p| p.name.starts_with("oauth_"))
        .map(|p| p.source)
        .collect();
    assert!(!sources.is_empty(), "unsigned: {request:?}");
    assert!(
        sources.iter().all(|s| *s == sources[0]),
        "protocol parameters scattered: {sources:?}"
    );
    let public = rsa_public_key_from_pem(TEST_RSA_PUBLIC_KEY_PEM).unwrap();
    let key = VerifyingKey {
        client_secret,
        token_secret,
        rsa_public_key: Some(&public),
    };
    let methods = SignatureMethods::all_builtin();
    let method = methods.find(signed.signature_method().unwrap()).unwrap();
    let holds = method.verify(
        &signed.base_string().unwrap(),
        signed.signature().unwrap(),
        &key,
    );
    (sources[0], holds)
}

/// The form fields of `request`'s body that are not protocol parameters.
pub fn body_fields(request: &Request) -> Vec<(String, String)> {
    let body = std::str::from_utf8(&request.body).unwrap();
    credlog_core::rfc5849::encoding::form_decode(body)
        .unwrap()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("oauth_"))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// The value of `name` in a form-encoded `text`.
pub fn field(text: &str, name: &str) -> Option<String> {
    credlog_core::rfc5849::encoding::form_decode(text)
        .unwrap()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// Replaces the value of `name` in a form-encoded `query`.
pub fn with_field(query: &str, name: &str, value: &str) -> String {
    let pairs: Vec<(String, String)> = credlog_core::rfc5849::encoding::form_decode(query)
        .unwrap()
        .into_iter()
        .map(|(n, v)| {
            let v = if n == name { value.into() } else { v };
            (n.into_owned(), v.into_owned())
        })
        .collect();
    credlog_core::rfc5849::encoding::form_encode(
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
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

/// A clock for the cache that the test moves forward.
pub fn movable_clock() -> (Arc<Mutex<Duration>>, Arc<MemoryCache>) {
    let start = Instant::now();
    let offset = Arc::new(Mutex::new(Duration::ZERO));
    let clock = Arc::clone(&offset);
    let cache = MemoryCache::with_clock(Arc::new(move || start + *clock.lock().unwrap()));
    (offset, Arc::new(cache))
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub fn stub_config(base: &str, request_token_path: &str) -> ProviderConfig {
    ProviderConfig {
        client_id: Some("printer".into()),
        client_secret: Some("printer secret".into()),
        request_token_url: Some(format!("{base}{request_token_path}")),
        access_token_url: Some(format!("{base}/token")),
        authorize_url: Some(format!("{base}/authorize")),
        api_base_url: Some(format!("{base}/api/")),
        ..ProviderConfig::default()
    }
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

pub fn as_env(variables: &[(String, String)]) -> credlog_http::client::provider::Env {
    let pairs: Vec<(&str, &str)> = variables
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    env_of(&pairs)
}

pub fn key_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("client-key.pem");
    std::fs::write(&path, TEST_RSA_PRIVATE_KEY_PEM).unwrap();
    path.to_str().unwrap().to_owned()
}
