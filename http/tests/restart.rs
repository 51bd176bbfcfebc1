//! A token credential outlives a restart of the server on the same data
//! directory, and so do the nonces it was used with, and so does a login
//! session (CONTRACT.md "Deployment"), until it is signed out.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use credlog_core::store::{CredentialStore, NonceKey};
use credlog_core::Request;
use credlog_storage_sled::SledStore;
use support::process::Running;
use support::*;

async fn on_sled(data: &Path, addr: SocketAddr) -> TestServer {
    let store: Arc<dyn CredentialStore> = Arc::new(SledStore::open(data).unwrap());
    TestServer::on_addr(store, addr).await
}

/// Before the restart: a token credential, one request signed with it
/// and answered, and the address the server had. The server is stopped.
struct Before {
    client: TestClient,
    token: (String, String),
    used: Request,
    addr: SocketAddr,
}

async fn before_restart(data: &Path) -> Before {
    let server = on_sled(data, "127.0.0.1:0".parse().unwrap()).await;
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    let client = seed(server.store.as_ref(), "alice", "App").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let token = three_legged(&server, &client, &cookie).await;
    let used = client
        .signer(Some((&token.0, &token.1)))
        .sign(Request::new("GET", server.url("/api/me")), &[])
        .unwrap();
    assert_eq!(send(&used).await.status, 200);
    server.stop().await;
    Before {
        client,
        token,
        used,
        addr,
    }
}

#[tokio::test]
async fn tokens_and_used_nonces_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let before = before_restart(&data).await;

    // The same directory, a new server on a new port.
    let server = on_sled(&data, "127.0.0.1:0".parse().unwrap()).await;
    let (token, secret) = &before.token;
    let fresh = me(&server, &before.client, (token, secret)).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.json()["user"], "alice");

    // The request used before the restart is still known as used.
    let used = credlog_core::rfc5849::SignedRequest::parse(&before.used).unwrap();
    let key = NonceKey {
        client_id: before.client.id.clone(),
        token: Some(token.clone()),
        timestamp: used.timestamp().unwrap().parse().unwrap(),
        nonce: used.nonce().unwrap().to_owned(),
    };
    assert!(
        server.store.nonce_seen(&key).await.unwrap(),
        "the used nonce was forgotten"
    );
    assert!(server.store.check().await.unwrap().is_consistent());
    server.stop().await;
}

#[tokio::test]
async fn a_replay_after_restart_on_the_same_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let before = before_restart(&data).await;

    let server = on_sled(&data, before.addr).await;
    send(&before.used)
        .await
        .assert_oauth1_error(401, "invalid_nonce");
    let (token, secret) = &before.token;
    assert_eq!(
        me(&server, &before.client, (token, secret)).await.status,
        200
    );
    server.stop().await;
}

/// `credlog serve` on `data`, on a free port: the process and its base URL.
fn serve(data: &Path) -> (Running, TestServer) {
    let running = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .stderr(Stdio::null()),
    );
    let base = running.base();
    (running, TestServer::remote(&base))
}

/// Who the home page says is signed in with `cookie`, and the CSRF token
/// of its sign-out form.
async fn home(server: &TestServer, cookie: &str) -> (Option<String>, Option<String>) {
    let page = get_page(server, "/", Some(cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let user = element_text(&page.body, "user");
    let csrf = user.as_ref().map(|_| {
        hidden_inputs(&page.body)
            .into_iter()
            .find(|(name, _)| name == "csrf_token")
            .expect("the sign-out form carries a CSRF token")
            .1
    });
    (user, csrf)
}

#[tokio::test]
async fn a_session_survives_a_restart_until_signed_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let added = Command::new(env!("CARGO_BIN_EXE_credlog"))
        .args(["user", "add", "alice", "--password", PASSWORD, "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");

    let (mut running, server) = serve(&data);
    let cookie = login(&server, "alice", PASSWORD).await;
    let (user, csrf) = home(&server, &cookie).await;
    assert_eq!(user.as_deref(), Some("alice"));
    assert!(running.terminate().success());

    // The same directory, a new process on a new port: still signed in,
    // with the same CSRF token.
    let (mut running, server) = serve(&data);
    let (user, after) = home(&server, &cookie).await;
    assert_eq!(user.as_deref(), Some("alice"), "the session was lost");
    assert_eq!(after, csrf);

    let fields = [("csrf_token".to_owned(), after.unwrap())];
    let out = post_form(&server, "/logout", Some(&cookie), &fields).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(home(&server, &cookie).await.0, None, "signed out");
    assert!(running.terminate().success());

    // Signed out stays signed out after a restart.
    let (mut running, server) = serve(&data);
    assert_eq!(
        home(&server, &cookie).await.0,
        None,
        "the session came back"
    );
    assert!(running.terminate().success());

    // Sessions are not in the log: the check still passes.
    let check = Command::new(env!("CARGO_BIN_EXE_credlog"))
        .args(["check", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
}
