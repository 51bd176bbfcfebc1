//! What every HTTP test shares: a real server on a free port over either
//! store, an HTTP client that does not follow redirects, a signed-request
//! sender, and the steps of the three-legged flow.
#![allow(dead_code)]

use std::sync::Arc;

use credlog_conformance::TEST_RSA_PRIVATE_KEY_PEM;
use credlog_conformance::TEST_RSA_PUBLIC_KEY_PEM;
use credlog_core::rfc5849::encoding::form_decode;
use credlog_core::rfc5849::signature::{
    rsa_private_key_from_pem, HmacSha1, HmacSha256, Plaintext, RsaSha1,
};
use credlog_core::rfc5849::{ClientCredentials, Signer, TokenCredentials, Transmission};
use credlog_core::store::CredentialStore;
use credlog_core::Request;
use credlog_http::accounts::{add_user, register_client, ClientMetadata};
use credlog_http::{App, Settings};
use credlog_storage_memory::MemoryStore;
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::SledStore;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod client;
pub mod clock;
pub mod mount;
pub mod oauth2;
pub mod process;
pub mod python;

/// The stores every flow runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sled,
    Postgres,
}

pub const BACKENDS: [Backend; 3] = [Backend::Memory, Backend::Sled, Backend::Postgres];

pub const CALLBACK: &str = "http://127.0.0.1:8000/callback";
pub const PASSWORD: &str = "alice's password";

/// Runs each case as two tests, `case::memory` and `case::sled`, one over
/// each store:
///
/// - `on_both_stores!(a, b)`: `async fn a(w: &oauth2::World)`, on a fresh
///   OAuth 2 world; `on_both_stores!(a, oauth2 = f)` builds that world's
///   app with the OAuth 2 server `f()` returns (`f` a function beside `a`);
/// - `on_both_stores!(world = start; a, b)`: `async fn a(w: &W)`, on the
///   world `async fn start(backend: Backend) -> W` makes (beside the
///   cases), stopped after with its `async fn stop(self)`;
/// - `on_both_stores!(backend; a, b)`: `async fn a(backend: Backend)`,
///   which starts what it needs itself.
#[macro_export]
macro_rules! on_both_stores {
    (@tests $name:ident, |$backend:ident| $run:expr) => {
        mod $name {
            #[tokio::test]
            async fn memory() {
                let $backend = $crate::support::Backend::Memory;
                $run
            }

            #[tokio::test]
            async fn sled() {
                let $backend = $crate::support::Backend::Sled;
                $run
            }

            #[tokio::test]
            async fn postgres() {
                if !credlog_storage_postgres::testing::available().await {
                    return;
                }
                let $backend = $crate::support::Backend::Postgres;
                $run
            }
        }
    };
    (backend; $($name:ident),+ $(,)?) => {
        $( $crate::on_both_stores!(@tests $name, |backend| super::$name(backend).await); )+
    };
    (world = $start:ident; $($name:ident),+ $(,)?) => {
        $( $crate::on_both_stores!(@tests $name, |backend| {
            let w = super::$start(backend).await;
            super::$name(&w).await;
            w.stop().await;
        }); )+
    };
    ($name:ident, oauth2 = $server:ident) => {
        $crate::on_both_stores!(@tests $name, |backend| {
            let w = $crate::support::oauth2::World::start(backend, Some(super::$server())).await;
            super::$name(&w).await;
            w.stop().await;
        });
    };
    ($($name:ident),+ $(,)?) => {
        $( $crate::on_both_stores!(@tests $name, |backend| {
            let w = $crate::support::oauth2::World::start(backend, None).await;
            super::$name(&w).await;
            w.stop().await;
        }); )+
    };
}

/// A fresh store of this kind (sled in `dir`).
/// A store on `backend`, and the PostgreSQL database it is in (dropped
/// after the store).
async fn open(
    backend: Backend,
    dir: &tempfile::TempDir,
) -> (Arc<dyn CredentialStore>, Option<TestDatabase>) {
    match backend {
        Backend::Memory => (Arc::new(MemoryStore::new()), None),
        Backend::Sled => (
            Arc::new(SledStore::open(dir.path().join("data")).unwrap()),
            None,
        ),
        Backend::Postgres => {
            let database = TestDatabase::create().await.expect("PostgreSQL answers");
            let window = credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW;
            let store = PostgresStore::connect(database.config.clone(), window)
                .await
                .expect("the store opens");
            (Arc::new(store), Some(database))
        }
    }
}

/// The settings of a server on loopback, as `credlog serve` decides them
/// there: PLAINTEXT is allowed (development), the issuer from `Host`.
pub fn loopback_settings() -> Settings {
    let mut settings = Settings::default();
    settings.oauth1.over_tls = true;
    settings
}

/// A credlog server on a free port, stopped (gracefully) on `stop`.
pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn CredentialStore>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Last, so it is dropped after the store.
    database: Option<TestDatabase>,
}

impl TestServer {
    pub async fn start(backend: Backend, dir: &tempfile::TempDir) -> TestServer {
        let (store, database) = open(backend, dir).await;
        let mut server = TestServer::on(store).await;
        server.database = database;
        server
    }

    pub async fn on(store: Arc<dyn CredentialStore>) -> TestServer {
        TestServer::on_addr(store, "127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn on_addr(
        store: Arc<dyn CredentialStore>,
        addr: std::net::SocketAddr,
    ) -> TestServer {
        let app = App::new(Arc::clone(&store), loopback_settings());
        TestServer::serving(app, store, addr).await
    }

    /// A server over `backend` running the app `build` makes from the
    /// store (to inject a clock, or an OAuth 2 server with grants of its own).
    pub async fn start_with(
        backend: Backend,
        dir: &tempfile::TempDir,
        build: impl FnOnce(Arc<dyn CredentialStore>) -> App,
    ) -> TestServer {
        let (store, database) = open(backend, dir).await;
        let app = build(Arc::clone(&store));
        let mut server = TestServer::serving(app, store, "127.0.0.1:0".parse().unwrap()).await;
        server.database = database;
        server
    }

    async fn serving(
        app: App,
        store: Arc<dyn CredentialStore>,
        addr: std::net::SocketAddr,
    ) -> TestServer {
        let (listener, addr) = credlog_http::bind(addr).await.unwrap();
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(credlog_http::serve(app, listener, async {
            let _ = signal.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            store,
            shutdown: Some(shutdown),
            task: Some(task),
            database: None,
        }
    }

    /// A server in another process (the `credlog` binary), reached at
    /// `base`; its `store` is an empty stand-in, not the server's.
    pub fn remote(base: &str) -> TestServer {
        TestServer {
            base: base.to_owned(),
            store: Arc::new(MemoryStore::new()),
            shutdown: None,
            task: None,
            database: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops serving and waits for requests in flight.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// An HTTP client that shows redirects instead of following them.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A response as the tests read it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub async fn from(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The form-encoded body's value of `name`.
    pub fn form(&self, name: &str) -> Option<String> {
        form_decode(&self.body)
            .unwrap()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts an OAuth 1 error: status, `error`, and the challenge on a 401.
    pub fn assert_oauth1_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.form("error").as_deref(), Some(error), "{}", self.body);
        assert!(self.form("error_description").is_some(), "{}", self.body);
        assert_eq!(
            self.header("www-authenticate"),
            (status == 401).then_some("OAuth realm=\"credlog\""),
            "{}",
            self.body
        );
    }
}

/// Sends a core request as it is (signed or not).
pub async fn send(request: &Request) -> Answer {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = http().request(method, &request.uri);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    Answer::from(builder.body(request.body.clone()).send().await.unwrap()).await
}

/// Sends a signed request twice: it works once, and the replay is refused.
pub async fn assert_works_once(request: &Request) {
    let first = send(request).await;
    assert_eq!(first.status, 200, "{}", first.body);
    send(request)
        .await
        .assert_oauth1_error(401, "invalid_nonce");
}

/// The signature methods, by name.
pub const METHODS: [&str; 4] = ["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT"];
pub const TRANSMISSIONS: [Transmission; 3] = [
    Transmission::Header,
    Transmission::Body,
    Transmission::Query,
];

/// A registered client and how it signs.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: String,
    pub method: &'static str,
    pub transmission: Transmission,
}

impl TestClient {
    pub fn signer(&self, token: Option<(&str, &str)>) -> Signer {
        let mut credentials = ClientCredentials::new(&self.id, &self.secret);
        let signer = match self.method {
            "HMAC-SHA1" => Signer::new(credentials).with_method(HmacSha1),
            "HMAC-SHA256" => Signer::new(credentials).with_method(HmacSha256),
            "PLAINTEXT" => Signer::new(credentials).with_method(Plaintext),
            "RSA-SHA1" => {
                credentials.rsa_private_key =
                    Some(rsa_private_key_from_pem(TEST_RSA_PRIVATE_KEY_PEM).unwrap());
                Signer::new(credentials).with_method(RsaSha1)
            }
            other => panic!("no method {other}"),
        };
        let signer = signer.with_transmission(self.transmission);
        match token {
            Some((token, secret)) => signer.with_token(TokenCredentials::new(token, secret)),
            None => signer,
        }
    }

    pub fn with(&self, method: &'static str, transmission: Transmission) -> TestClient {
        TestClient {
            method,
            transmission,
            ..self.clone()
        }
    }
}

/// A user `alice` and a client registered to her with the test RSA key
/// and [`CALLBACK`].
pub async fn seed(store: &dyn CredentialStore, user: &str, client_name: &str) -> TestClient {
    if store.user(user).await.unwrap().is_none() {
        add_user(store, user, PASSWORD, now()).await.unwrap();
    }
    let mut metadata = ClientMetadata::named(client_name);
    metadata.redirect_uris = vec![CALLBACK.to_owned()];
    metadata.scope = "profile email".to_owned();
    metadata.rsa_public_key = Some(TEST_RSA_PUBLIC_KEY_PEM.to_owned());
    let registered = register_client(store, user, metadata, None, now())
        .await
        .unwrap();
    TestClient {
        id: registered.record.client_id,
        secret: registered.secret.unwrap(),
        method: "HMAC-SHA1",
        transmission: Transmission::Header,
    }
}

pub fn now() -> u64 {
    credlog_http::app::system_clock()()
}

/// Signs `method path` with `extra` protocol parameters and sends it.
pub async fn signed(
    server: &TestServer,
    signer: &Signer,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> Answer {
    let request = signer
        .sign(Request::new(method, server.url(path)), extra)
        .unwrap();
    send(&request).await
}

/// Step 1: a temporary credential for `callback`.
pub async fn initiate(
    server: &TestServer,
    client: &TestClient,
    callback: &str,
) -> (String, String) {
    let answer = signed(
        server,
        &client.signer(None),
        "POST",
        "/oauth1/initiate",
        &[("oauth_callback", callback)],
    )
    .await;
    assert_eq!(answer.status, 200, "initiate: {}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        answer.form("oauth_callback_confirmed").as_deref(),
        Some("true")
    );
    (
        answer.form("oauth_token").unwrap(),
        answer.form("oauth_token_secret").unwrap(),
    )
}

/// The login form at `path` (`/login?next=...`) as a browser gets it: the
/// `Cookie` value its pre-session CSRF cookie sets and its hidden inputs.
pub async fn login_form(server: &TestServer, path: &str) -> (String, Vec<(String, String)>) {
    let form = get_page(server, path, None).await;
    assert_eq!(form.status, 200, "GET {path}: {}", form.body);
    let cookie = form.header("set-cookie").expect("a login CSRF cookie");
    assert!(cookie.starts_with("credlog_login="), "{cookie}");
    let fields = hidden_inputs(&form.body);
    (cookie.split(';').next().unwrap().to_owned(), fields)
}

/// Signs in through the form at `path` (`/login?next=...`) and returns the answer.
pub async fn submit_login(server: &TestServer, path: &str, user: &str, password: &str) -> Answer {
    let (login_cookie, mut fields) = login_form(server, path).await;
    fields.push(("username".to_owned(), user.to_owned()));
    fields.push(("password".to_owned(), password.to_owned()));
    post_form(server, "/login", Some(&login_cookie), &fields).await
}

/// Signs in through `POST /login`; returns the `Cookie` header value.
pub async fn login(server: &TestServer, user: &str, password: &str) -> String {
    let answer = submit_login(server, "/login", user, password).await;
    assert_eq!(answer.status, 303, "login: {}", answer.body);
    let cookie = answer.header("set-cookie").expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_owned()
}

pub async fn get_page(server: &TestServer, path: &str, cookie: Option<&str>) -> Answer {
    let mut request = http().get(server.url(path));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    Answer::from(request.send().await.unwrap()).await
}

pub async fn post_form(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
    fields: &[(String, String)],
) -> Answer {
    post_form_with(server, path, cookie, &[], fields).await
}

/// [`post_form`] with extra headers (`Origin`, `Sec-Fetch-Site` ...).
pub async fn post_form_with(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
    fields: &[(String, String)],
) -> Answer {
    let mut request = http()
        .post(server.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(credlog_core::rfc5849::encoding::form_encode(
            fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        ));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Answer::from(request.send().await.unwrap()).await
}

/// The hidden inputs of the page's one form, as a browser would submit them.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    assert_eq!(html.matches("<form method=\"post\"").count(), 1, "{html}");
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let attribute = |name: &str| {
                let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + input[start..].find('"').unwrap();
                html_unescape(&input[start..end])
            };
            (attribute("name"), attribute("value"))
        })
        .collect()
}

fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of the element with this id.
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let open_end = start + html[start..].find('>')? + 1;
    let close = open_end + html[open_end..].find('<')?;
    Some(html_unescape(&html[open_end..close]))
}

/// Step 2: the owner opens the consent page and answers it.
pub async fn consent(server: &TestServer, cookie: &str, token: &str, confirm: &str) -> Answer {
    let page = get_page(
        server,
        &format!("/oauth1/authorize?oauth_token={token}"),
        Some(cookie),
    )
    .await;
    assert_eq!(page.status, 200, "consent page: {}", page.body);
    let mut fields = hidden_inputs(&page.body);
    fields.push(("confirm".to_owned(), confirm.to_owned()));
    post_form(server, "/oauth1/authorize", Some(cookie), &fields).await
}

/// The query parameters of a redirect's `Location`.
pub fn location_query(answer: &Answer) -> Vec<(String, String)> {
    let location = answer.header("location").expect("a Location header");
    let query = location.split_once('?').map_or("", |(_, q)| q);
    form_decode(query)
        .unwrap()
        .into_iter()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// Step 2 for a granted callback flow: the verifier from the redirect.
pub async fn grant(server: &TestServer, cookie: &str, token: &str) -> String {
    let answer = consent(server, cookie, token, "yes").await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    assert!(answer.header("location").unwrap().starts_with(CALLBACK));
    let query = location_query(&answer);
    assert_eq!(query[0], ("oauth_token".to_owned(), token.to_owned()));
    assert_eq!(query[1].0, "oauth_verifier");
    query[1].1.clone()
}

/// Step 3: the token credential.
pub async fn exchange(
    server: &TestServer,
    client: &TestClient,
    temporary: (&str, &str),
    verifier: &str,
) -> Answer {
    signed(
        server,
        &client.signer(Some(temporary)),
        "POST",
        "/oauth1/token",
        &[("oauth_verifier", verifier)],
    )
    .await
}

/// The whole flow with a callback; returns the token credential.
pub async fn three_legged(
    server: &TestServer,
    client: &TestClient,
    cookie: &str,
) -> (String, String) {
    let (token, secret) = initiate(server, client, CALLBACK).await;
    let verifier = grant(server, cookie, &token).await;
    let answer = exchange(server, client, (&token, &secret), &verifier).await;
    assert_eq!(answer.status, 200, "token: {}", answer.body);
    (
        answer.form("oauth_token").unwrap(),
        answer.form("oauth_token_secret").unwrap(),
    )
}

/// `GET /api/me` signed with a token credential.
pub async fn me(server: &TestServer, client: &TestClient, token: (&str, &str)) -> Answer {
    signed(server, &client.signer(Some(token)), "GET", "/api/me", &[]).await
}
