//! The OAuth 2 steps the HTTP tests share: a world with a clock the test
//! moves, alice signed in and one client per way of authenticating; the
//! authorization request and its consent; the token, revocation and
//! introspection requests; bearer calls to `/api/me`; and the checks a
//! client makes of each answer.

use credlog_core::rfc5849::encoding::{form_decode, form_encode};
use credlog_core::rfc6749::Oauth2Server;
use credlog_core::store::CredentialStore;
use credlog_http::accounts::{add_user, register_client, ClientMetadata};
use credlog_http::{App, Settings};

use super::clock::TestClock;
use super::{get_page, hidden_inputs, http, login, now, post_form, Answer, Backend, TestServer};
use super::{CALLBACK, PASSWORD};

/// The redirect URI every authorization request names.
pub const REDIRECT: &str = CALLBACK;
/// A second redirect URI the confidential clients registered.
pub const OTHER_REDIRECT: &str = "http://127.0.0.1:8000/elsewhere";
/// The scope every client registered.
pub const SCOPE: &str = "profile email";
/// The `state` every authorization request carries.
pub const STATE: &str = "xyz 42/&=?";
/// A PKCE code verifier (RFC 7636 Appendix B).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// Its S256 challenge.
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// Every built-in grant type.
pub const ALL_GRANTS: [&str; 5] = [
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
];

/// How a client authenticates at the token endpoint (RFC 6749 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// `none`: a public client.
    None,
}

impl AuthMethod {
    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Basic => "client_secret_basic",
            AuthMethod::Post => "client_secret_post",
            AuthMethod::None => "none",
        }
    }
}

/// A registered client and the way it presents itself.
#[derive(Debug, Clone)]
pub struct Oauth2Client {
    pub id: String,
    /// `None` for a public client.
    pub secret: Option<String>,
    pub method: AuthMethod,
}

impl Oauth2Client {
    /// The same client presenting itself another way (its secret, if any,
    /// goes where that way puts it).
    pub fn using(&self, method: AuthMethod) -> Oauth2Client {
        Oauth2Client {
            method,
            ..self.clone()
        }
    }

    /// The same client with a wrong secret.
    pub fn with_secret(&self, secret: &str) -> Oauth2Client {
        Oauth2Client {
            secret: Some(secret.to_owned()),
            ..self.clone()
        }
    }

    /// Whether it is a public client (it must use PKCE).
    pub fn is_public(&self) -> bool {
        self.method == AuthMethod::None
    }
}

/// Registers a client owned by alice with [`SCOPE`] and these settings.
pub async fn register(
    store: &dyn CredentialStore,
    name: &str,
    method: AuthMethod,
    redirect_uris: &[&str],
    grant_types: &[&str],
    response_types: &[&str],
) -> Oauth2Client {
    let mut metadata = ClientMetadata::named(name);
    metadata.redirect_uris = redirect_uris.iter().map(|uri| uri.to_string()).collect();
    metadata.scope = SCOPE.to_owned();
    metadata.grant_types = grant_types.iter().map(|g| g.to_string()).collect();
    metadata.response_types = response_types.iter().map(|r| r.to_string()).collect();
    register_metadata(store, metadata, method).await
}

/// Registers a client owned by alice with `metadata`, which presents
/// itself with `method`.
pub async fn register_metadata(
    store: &dyn CredentialStore,
    mut metadata: ClientMetadata,
    method: AuthMethod,
) -> Oauth2Client {
    metadata.token_endpoint_auth_method = method.name().to_owned();
    let registered = register_client(store, "alice", metadata, None, now())
        .await
        .unwrap();
    Oauth2Client {
        id: registered.record.client_id,
        secret: registered.secret,
        method,
    }
}

/// A server over one store with a stopped clock, alice signed in, and
/// one client of each kind registered to her.
pub struct World {
    pub backend: Backend,
    pub server: TestServer,
    pub clock: TestClock,
    /// alice's session cookie.
    pub cookie: String,
    /// Confidential, `client_secret_basic`, every grant, both response
    /// types, two redirect URIs.
    pub basic: Oauth2Client,
    /// Confidential, `client_secret_post`, code, password and refresh,
    /// one redirect URI.
    pub post: Oauth2Client,
    /// Public (`none`), code and refresh, one redirect URI.
    pub public: Oauth2Client,
    /// Another confidential client like `basic`.
    pub other: Oauth2Client,
    /// Confidential, registered for `authorization_code` alone.
    pub code_only: Oauth2Client,
    dir: tempfile::TempDir,
}

impl World {
    /// A world over `backend`; its app has the world's clock, and the
    /// OAuth 2 server when one is given.
    pub async fn start(backend: Backend, oauth2: Option<Oauth2Server>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let clock = TestClock::starting_now();
        let app_clock = clock.clock();
        let server = TestServer::start_with(backend, &dir, move |store| match oauth2 {
            Some(oauth2) => App::builder(store, Settings::default())
                .clock(app_clock)
                .oauth2(oauth2)
                .build(),
            None => App::builder(store, Settings::default())
                .clock(app_clock)
                .build(),
        })
        .await;
        let store = server.store.as_ref();
        add_user(store, "alice", PASSWORD, now()).await.unwrap();
        let both = [REDIRECT, OTHER_REDIRECT];
        let basic = register(
            store,
            "Photo printer",
            AuthMethod::Basic,
            &both,
            &ALL_GRANTS,
            &["code", "token"],
        )
        .await;
        let post = register(
            store,
            "Post app",
            AuthMethod::Post,
            &[REDIRECT],
            &["authorization_code", "password", "refresh_token"],
            &["code"],
        )
        .await;
        let public = register(
            store,
            "Phone app",
            AuthMethod::None,
            &[REDIRECT],
            &["authorization_code", "refresh_token"],
            &["code"],
        )
        .await;
        let other = register(
            store,
            "Other app",
            AuthMethod::Basic,
            &both,
            &ALL_GRANTS,
            &["code", "token"],
        )
        .await;
        let code_only = register(
            store,
            "Code only",
            AuthMethod::Basic,
            &[REDIRECT],
            &["authorization_code"],
            &["code"],
        )
        .await;
        let cookie = login(&server, "alice", PASSWORD).await;
        World {
            backend,
            server,
            clock,
            cookie,
            basic,
            post,
            public,
            other,
            code_only,
            dir,
        }
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// The data directory (sled's files live under it).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// Form parameters in order; a name may repeat only through [`Form::also`].
#[derive(Debug, Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// Sets `name` to `value`, replacing any value it had.
    pub fn with(mut self, name: &str, value: &str) -> Form {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value.to_owned(),
            None => self.0.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Adds `name=value` even if `name` is there already.
    pub fn also(mut self, name: &str, value: &str) -> Form {
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Drops `name`.
    pub fn without(mut self, name: &str) -> Form {
        self.0.retain(|(n, _)| n != name);
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `application/x-www-form-urlencoded` text.
    pub fn encoded(&self) -> String {
        form_encode(self.0.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }
}

/// A code request for `client`: `response_type=code`, the client, the
/// redirect URI, its whole scope, [`STATE`], and for a public client the
/// S256 challenge of [`VERIFIER`].
pub fn code_request(client: &Oauth2Client) -> Form {
    let form = Form::new()
        .with("response_type", "code")
        .with("client_id", &client.id)
        .with("redirect_uri", REDIRECT)
        .with("scope", SCOPE)
        .with("state", STATE);
    if client.is_public() {
        form.with("code_challenge", CHALLENGE)
            .with("code_challenge_method", "S256")
    } else {
        form
    }
}

/// An implicit request for `client` (`response_type=token`).
pub fn token_request(client: &Oauth2Client) -> Form {
    code_request(client).with("response_type", "token")
}

/// `GET /oauth2/authorize?request` as signed-in alice.
pub async fn consent_page(w: &World, request: &Form) -> Answer {
    get_page(
        &w.server,
        &format!("/oauth2/authorize?{}", request.encoded()),
        Some(&w.cookie),
    )
    .await
}

/// Submits a consent page's form as a browser would: its hidden inputs
/// and `confirm`.
pub async fn submit_consent(w: &World, page: &Answer, confirm: &str) -> Answer {
    assert_eq!(page.status, 200, "consent page: {}", page.body);
    let mut fields = hidden_inputs(&page.body);
    assert!(
        fields.iter().any(|(name, _)| name == "csrf_token"),
        "{}",
        page.body
    );
    fields.push(("confirm".to_owned(), confirm.to_owned()));
    post_form(&w.server, "/oauth2/authorize", Some(&w.cookie), &fields).await
}

/// alice opens the consent page for `request` and answers `confirm`.
pub async fn authorize(w: &World, request: &Form, confirm: &str) -> Answer {
    let page = consent_page(w, request).await;
    submit_consent(w, &page, confirm).await
}

/// Where a redirect sends the user agent, taken apart.
#[derive(Debug, Clone)]
pub struct Location {
    /// Everything before the query or fragment.
    pub base: String,
    pub query: Vec<(String, String)>,
    pub fragment: Vec<(String, String)>,
}

impl Location {
    /// The `Location` of a 302.
    pub fn of(answer: &Answer) -> Location {
        assert_eq!(answer.status, 302, "{}", answer.body);
        let location = answer.header("location").expect("a Location header");
        let (rest, fragment) = location.split_once('#').unwrap_or((location, ""));
        let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
        let decode = |text: &str| -> Vec<(String, String)> {
            form_decode(text)
                .unwrap()
                .into_iter()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect()
        };
        Location {
            base: base.to_owned(),
            query: decode(query),
            fragment: decode(fragment),
        }
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        lookup(&self.query, name)
    }

    pub fn fragment(&self, name: &str) -> Option<&str> {
        lookup(&self.fragment, name)
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// alice grants `request`; the code from the redirect, whose `state`
/// must be the request's.
pub async fn code_for(w: &World, request: &Form) -> String {
    let answer = authorize(w, request, "yes").await;
    let location = Location::of(&answer);
    assert_eq!(
        location.base,
        request.get("redirect_uri").unwrap_or(REDIRECT)
    );
    assert_eq!(location.query("state"), request.get("state"));
    assert!(location.query("error").is_none(), "{location:?}");
    location.query("code").expect("a code").to_owned()
}

/// `POST path` with `form`, the client authenticating its way.
pub async fn post_as(w: &World, path: &str, client: &Oauth2Client, form: &Form) -> Answer {
    let mut form = form.clone();
    let mut request = http()
        .post(w.server.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded");
    match client.method {
        AuthMethod::Basic => request = request.basic_auth(&client.id, client.secret.as_deref()),
        AuthMethod::Post => {
            form = form.with("client_id", &client.id);
            if let Some(secret) = &client.secret {
                form = form.with("client_secret", secret);
            }
        }
        AuthMethod::None => form = form.with("client_id", &client.id),
    }
    Answer::from(request.body(form.encoded()).send().await.unwrap()).await
}

/// `POST path` with `form` and no client authentication at all.
pub async fn post_anonymous(w: &World, path: &str, form: &Form) -> Answer {
    post_form(&w.server, path, None, &form.0).await
}

/// `POST /oauth2/token`.
pub async fn token(w: &World, client: &Oauth2Client, form: &Form) -> Answer {
    post_as(w, "/oauth2/token", client, form).await
}

/// The token request that redeems `code`: the redirect URI and, for a
/// public client, the verifier.
pub fn exchange_form(client: &Oauth2Client, code: &str) -> Form {
    let form = Form::new()
        .with("grant_type", "authorization_code")
        .with("code", code)
        .with("redirect_uri", REDIRECT);
    if client.is_public() {
        form.with("code_verifier", VERIFIER)
    } else {
        form
    }
}

/// Redeems `code` at the token endpoint.
pub async fn exchange(w: &World, client: &Oauth2Client, code: &str) -> Answer {
    token(w, client, &exchange_form(client, code)).await
}

/// `grant_type=refresh_token`, optionally asking for `scope`.
pub async fn refresh(
    w: &World,
    client: &Oauth2Client,
    refresh_token: &str,
    scope: Option<&str>,
) -> Answer {
    let mut form = Form::new()
        .with("grant_type", "refresh_token")
        .with("refresh_token", refresh_token);
    if let Some(scope) = scope {
        form = form.with("scope", scope);
    }
    token(w, client, &form).await
}

/// `grant_type=password` for alice.
pub async fn password_grant(w: &World, client: &Oauth2Client, password: &str) -> Answer {
    let form = Form::new()
        .with("grant_type", "password")
        .with("username", "alice")
        .with("password", password);
    token(w, client, &form).await
}

/// The whole code flow for `client` with its default request.
pub async fn code_flow(w: &World, client: &Oauth2Client) -> Tokens {
    let code = code_for(w, &code_request(client)).await;
    exchange(w, client, &code).await.tokens()
}

/// `POST /oauth2/revoke` (RFC 7009).
pub async fn revoke(w: &World, client: &Oauth2Client, token: &str) -> Answer {
    post_as(
        w,
        "/oauth2/revoke",
        client,
        &Form::new().with("token", token),
    )
    .await
}

/// `POST /oauth2/introspect` (RFC 7662).
pub async fn introspect(w: &World, client: &Oauth2Client, token: &str) -> Answer {
    post_as(
        w,
        "/oauth2/introspect",
        client,
        &Form::new().with("token", token),
    )
    .await
}

/// `GET /api/me` with `Authorization: Bearer access_token`.
pub async fn me(w: &World, access_token: &str) -> Answer {
    Answer::from(
        http()
            .get(w.server.url("/api/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A successful token response (RFC 6749 5.1), read.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scope: String,
    pub expires_in: u64,
    pub json: serde_json::Value,
}

impl Tokens {
    /// The refresh token, which this response must hold.
    pub fn refresh(&self) -> &str {
        self.refresh_token.as_deref().expect("a refresh token")
    }
}

/// What a client checks of the answers it gets.
pub trait Oauth2Answer {
    /// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 5.1).
    fn assert_no_store(&self);
    /// A 200 token response: `no-store`, JSON, `token_type` Bearer,
    /// `access_token`, `expires_in`, `scope`.
    fn tokens(&self) -> Tokens;
    /// An RFC 6749 5.2 error: status, JSON `error` and
    /// `error_description`, `no-store`.
    fn assert_oauth2_error(&self, status: u16, error: &str);
    /// A `WWW-Authenticate: Basic` challenge (RFC 6749 5.2: the client
    /// tried HTTP Basic).
    fn assert_basic_challenge(&self);
    /// An RFC 6750 3.1 refusal: status, and a `WWW-Authenticate: Bearer`
    /// challenge with `error="..."`.
    fn assert_bearer_error(&self, status: u16, error: &str);
    /// Every `WWW-Authenticate` value.
    fn challenges(&self) -> Vec<String>;
}

impl Oauth2Answer for Answer {
    fn assert_no_store(&self) {
        assert_eq!(self.header("cache-control"), Some("no-store"), "{self:?}");
        assert_eq!(self.header("pragma"), Some("no-cache"), "{self:?}");
    }

    fn tokens(&self) -> Tokens {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.header("content-type"), Some("application/json"));
        self.assert_no_store();
        let json = self.json();
        assert_eq!(json["token_type"], "Bearer", "{json}");
        let text = |name: &str| json[name].as_str().map(str::to_owned);
        let access_token = text("access_token").expect("access_token");
        assert!(!access_token.is_empty());
        Tokens {
            refresh_token: text("refresh_token"),
            scope: text("scope").expect("scope in every token response"),
            expires_in: json["expires_in"].as_u64().expect("expires_in"),
            access_token,
            json,
        }
    }

    fn assert_oauth2_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{}",
            self.body
        );
        self.assert_no_store();
        let json = self.json();
        assert_eq!(json["error"], error, "{json}");
        assert!(json["error_description"].is_string(), "{json}");
    }

    fn assert_basic_challenge(&self) {
        let challenges = self.challenges();
        assert!(
            challenges
                .iter()
                .any(|c| c.starts_with("Basic realm=\"credlog\"")),
            "{challenges:?}"
        );
    }

    fn assert_bearer_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        let challenges = self.challenges();
        let bearer = challenges
            .iter()
            .find(|c| c.starts_with("Bearer "))
            .unwrap_or_else(|| panic!("no Bearer challenge: {challenges:?}"));
        assert!(bearer.contains(&format!("error=\"{error}\"")), "{bearer}");
        assert_eq!(self.json()["error"], error, "{}", self.body);
    }

    fn challenges(&self) -> Vec<String> {
        self.headers
            .get_all("www-authenticate")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }
}
