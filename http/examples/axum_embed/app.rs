//! The axum app: its state (a store, the OAuth 1 provider, the OAuth 2
//! server, its users), its clients, and the routes. Each route hands the
//! request to an engine of credlog's core and writes back what it answers.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use credlog_core::consent::path_and_query;
use credlog_core::resource::protect_either;
use credlog_core::rfc5849::{Oauth1Config, Oauth1Provider};
use credlog_core::rfc6749::{Oauth2Config, Oauth2Server, Scope};
use credlog_core::rfc7591::{ClientMetadata, RegistrationError};
use credlog_core::rfc8414::{
    AUTHORIZATION_PATH, INTROSPECTION_PATH, METADATA_PATH, REVOCATION_PATH, TOKEN_PATH,
};
use credlog_storage_memory::MemoryStore;

use super::adapter::{Core, Reply};
use super::users::{self, Users};

/// The app's users, name and password.
pub const ACCOUNTS: [(&str, &str); 2] = [("alice", "wonderland"), ("bob", "builder")];

/// Where the example's clients say they live (nothing serves it).
pub const CALLBACK: &str = "http://127.0.0.1:9000/callback";

/// The largest request body read, in bytes.
const BODY_LIMIT: usize = 64 * 1024;

/// Now, in seconds since the Unix epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// What every route shares.
pub struct App {
    store: MemoryStore,
    oauth1: Oauth1Provider,
    oauth2: Oauth2Server,
    users: Arc<Users>,
}

/// A client registered at start.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its id (`oauth_consumer_key`, `client_id`).
    pub id: String,
    /// Its secret; none for a public client.
    pub secret: Option<String>,
}

/// The clients registered at start.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Confidential: OAuth 1 HMAC-SHA1, and OAuth 2 with `client_secret_basic`.
    pub confidential: Client,
    /// Public: the OAuth 2 code flow with PKCE, no secret.
    pub public: Client,
}

impl App {
    /// An app with an empty store, the example's users and no implicit grant.
    pub fn new() -> Self {
        let mut oauth2 = Oauth2Server::new(Oauth2Config::default());
        oauth2.unregister("implicit");
        App {
            store: MemoryStore::new(),
            oauth1: Oauth1Provider::new(Oauth1Config::default(), 600),
            oauth2,
            users: Arc::new(Users::new(&ACCOUNTS)),
        }
    }

    /// Registers the example's two clients through core's registration
    /// (RFC 7591 shaped): ids and the confidential one's secret are new.
    pub async fn register_clients(&self) -> Result<Clients, RegistrationError> {
        let confidential = ClientMetadata {
            grant_types: ["authorization_code", "refresh_token", "password"]
                .map(String::from)
                .into(),
            ..client_metadata("Photo printer", "client_secret_basic")
        };
        let public = client_metadata("Photo viewer", "none");
        let mut registered = Vec::new();
        for wanted in [confidential, public] {
            let client = self
                .oauth2
                .register_client(&self.store, OWNER, wanted, None, now())
                .await?;
            registered.push(Client {
                id: client.record.client_id,
                secret: client.secret,
            });
        }
        let public = registered.pop().expect("two clients");
        let confidential = registered.pop().expect("two clients");
        Ok(Clients {
            confidential,
            public,
        })
    }
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

/// Who the example's clients belong to (the store needs no such user: the
/// host decides who may own a client).
const OWNER: &str = "axum-example";

/// A client of the code flow with refresh tokens, at [`CALLBACK`].
fn client_metadata(name: &str, auth_method: &str) -> ClientMetadata {
    ClientMetadata {
        redirect_uris: vec![CALLBACK.to_owned()],
        scope: "profile email".to_owned(),
        grant_types: ["authorization_code", "refresh_token"]
            .map(String::from)
            .into(),
        token_endpoint_auth_method: auth_method.to_owned(),
        ..ClientMetadata::named(name)
    }
}

/// Every route: OAuth 1, OAuth 2, `/api/me`, and the app's own `/login`.
pub fn router(app: Arc<App>) -> Router {
    let users = users::routes(app.users.clone());
    Router::new()
        .route("/oauth1/initiate", post(oauth1_initiate))
        .route("/oauth1/authorize", get(oauth1_ask).post(oauth1_decide))
        .route("/oauth1/token", post(oauth1_token))
        .route(AUTHORIZATION_PATH, get(oauth2_ask).post(oauth2_decide))
        .route(TOKEN_PATH, post(oauth2_token))
        .route(REVOCATION_PATH, post(oauth2_revoke))
        .route(INTROSPECTION_PATH, post(oauth2_introspect))
        .route(METADATA_PATH, get(metadata))
        .route("/api/me", get(me))
        .with_state(app)
        .merge(users)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

type Shared = State<Arc<App>>;

async fn oauth1_initiate(State(app): Shared, Core(request): Core) -> Reply {
    Reply(app.oauth1.initiate(&app.store, &request, now()).await)
}

async fn oauth1_ask(State(app): Shared, Core(request): Core) -> Reply {
    let users = app.users.as_ref();
    Reply(
        app.oauth1
            .authorize_page(&app.store, users, &request, now())
            .await,
    )
}

async fn oauth1_decide(State(app): Shared, Core(request): Core) -> Reply {
    let users = app.users.as_ref();
    Reply(
        app.oauth1
            .authorize_decision(&app.store, users, &request, now())
            .await,
    )
}

async fn oauth1_token(State(app): Shared, Core(request): Core) -> Reply {
    Reply(app.oauth1.token(&app.store, &request, now()).await)
}

async fn oauth2_ask(State(app): Shared, Core(request): Core) -> Reply {
    let users = app.users.as_ref();
    Reply(
        app.oauth2
            .authorize_page(&app.store, users, &request, now())
            .await,
    )
}

async fn oauth2_decide(State(app): Shared, Core(request): Core) -> Reply {
    let users = app.users.as_ref();
    Reply(
        app.oauth2
            .authorize_decision(&app.store, users, &request, now())
            .await,
    )
}

async fn oauth2_token(State(app): Shared, Core(request): Core) -> Reply {
    let owners = app.users.as_ref();
    Reply(app.oauth2.token(&app.store, owners, &request, now()).await)
}

async fn oauth2_revoke(State(app): Shared, Core(request): Core) -> Reply {
    Reply(app.oauth2.revoke(&app.store, &request, now()).await)
}

async fn oauth2_introspect(State(app): Shared, Core(request): Core) -> Reply {
    Reply(app.oauth2.introspect(&app.store, &request, now()).await)
}

/// RFC 8414: the issuer is this server as the client reached it.
async fn metadata(State(app): Shared, Core(request): Core) -> Json<serde_json::Value> {
    let path = path_and_query(&request.uri);
    let issuer = &request.uri[..request.uri.len() - path.len()];
    Json(app.oauth2.metadata(issuer))
}

/// Who the credential speaks for: an OAuth 1 signed request, or a bearer
/// token with scope `profile`.
async fn me(State(app): Shared, Core(request): Core) -> Result<impl IntoResponse, Reply> {
    let profile = Scope::stored("profile");
    let credential = protect_either(
        &app.oauth1,
        &app.oauth2,
        &app.store,
        &request,
        &profile,
        now(),
    )
    .await
    .map_err(Reply)?;
    let me = serde_json::json!({
        "user": credential.user(),
        "client_id": credential.client_id(),
        "scope": credential.scope(),
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(me)))
}
