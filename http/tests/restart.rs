//! A token credential outlives a restart of the server on the same data
//! directory, and so do the nonces it was used with.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use credlog_core::store::{CredentialStore, NonceKey};
use credlog_core::Request;
use credlog_storage_sled::SledStore;
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
