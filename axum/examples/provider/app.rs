//! The application: credlog's provider on a store, its clients, and its
//! routes (the provider's, `/login`, and the protected `/api/me`).

use std::path::Path;
use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Json, Router};
use credlog_axum::{Authorized, Credlog, RequireScope};
use credlog_core::jose::SigningKey;
use credlog_core::provider::Provider;
use credlog_core::rfc5849::{Oauth1Config, Oauth1Provider};
use credlog_core::rfc6749::Oauth2Server;
use credlog_core::rfc7523::JWT_BEARER_GRANT;
use credlog_core::rfc7591::ClientMetadata;
use credlog_core::rfc8628::DEVICE_CODE_GRANT;
use credlog_core::store::CredentialStore;
use serde_json::{json, Value};

use super::users::{self, Users};

/// Where the clients say they live (nothing serves it here).
pub const CALLBACK: &str = "http://127.0.0.1:9000/callback";
/// The public client's grants: the code flow with PKCE, the device flow.
const PUBLIC: [&str; 3] = ["authorization_code", "refresh_token", DEVICE_CODE_GRANT];
/// The keyed client's: its own access, and its users' by assertion.
const KEYED: [&str; 3] = ["authorization_code", "client_credentials", JWT_BEARER_GRANT];

/// The application on `store`, reached at `origin`, and its clients as
/// printed: confidential (every grant), public, and keyed
/// (`private_key_jwt`, its private key written to `key_file`).
pub async fn start(
    store: Arc<dyn CredentialStore>,
    origin: &str,
    key_file: &Path,
) -> Result<(Router, Vec<String>), Box<dyn std::error::Error>> {
    let oauth1 = Oauth1Provider::new(Oauth1Config::default(), 600);
    let provider = Provider::new(oauth1, Oauth2Server::default());
    let credlog = Credlog::new(provider, store).with_public_origin(origin);
    credlog_core::oidc::keys::create_first(credlog.store(), credlog.now()).await?;
    Users::enrol(credlog.store(), credlog.now()).await?;
    let oauth2 = credlog.provider().oauth2();
    let every: Vec<&str> = oauth2.grants().map(|grant| grant.grant_type()).collect();
    let mut clients = Vec::new();
    for (id, grants, method) in [
        ("Example app", &every[..], "client_secret_basic"),
        ("Example public app", &PUBLIC[..], "none"),
        ("Example service", &KEYED[..], "private_key_jwt"),
    ] {
        clients.push(client(&credlog, id, grants, method, key_file).await?);
    }
    let users = Users::new();
    let api = get(me).layer(Extension(RequireScope::new("profile")));
    let router = credlog
        .router(users.clone())
        .route("/api/me", api)
        .with_state(credlog)
        .merge(users::routes(users));
    Ok((router, clients))
}

/// A new client named `name`, registered for `grants`, as printed.
async fn client(
    credlog: &Credlog,
    name: &str,
    grants: &[&str],
    method: &str,
    key_file: &Path,
) -> Result<String, Box<dyn std::error::Error>> {
    let oauth2 = credlog.provider().oauth2();
    let response_types = oauth2.response_types();
    let keyed = method == "private_key_jwt";
    let metadata = ClientMetadata {
        redirect_uris: vec![CALLBACK.to_owned()],
        scope: "openid profile email".to_owned(),
        response_types: response_types.iter().map(|t| t.to_string()).collect(),
        grant_types: grants.iter().map(|grant| grant.to_string()).collect(),
        token_endpoint_auth_method: method.to_owned(),
        jwks: keyed.then(|| write_key(key_file)).transpose()?,
        ..ClientMetadata::named(name)
    };
    let (store, now) = (credlog.store(), credlog.now());
    let registered = oauth2
        .register_client(store, "example", metadata, None, now)
        .await?;
    let id = registered.record.client_id;
    Ok(match registered.secret {
        Some(secret) => format!("id {id} secret {secret}"),
        None if keyed => format!("id {id} private_key_jwt key {}", key_file.display()),
        None => format!("id {id}"),
    })
}

/// A new RSA key: the private half written to `path` (PKCS#8 PEM, readable
/// by its owner only), the public half answered as a JWK Set.
fn write_key(path: &Path) -> std::io::Result<Value> {
    let key = SigningKey::generate();
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, key.to_pkcs8_pem().as_bytes())?;
    Ok(json!({ "keys": [key.public_jwk()] }))
}

/// Who the credential speaks for (`Authorized` has checked it).
async fn me(Authorized(credential): Authorized) -> Json<Value> {
    let c = credential;
    Json(json!({ "user": c.user(), "client_id": c.client_id(), "scope": c.scope() }))
}
