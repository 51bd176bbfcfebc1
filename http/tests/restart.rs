//! A token credential outlives a restart of the server on the same data
//! directory, and so do the nonces it was used with.

mod support;

use std::sync::Arc;

use credlog_core::store::CredentialStore;
use credlog_core::Request;
use credlog_storage_sled::SledStore;
use support::*;

#[tokio::test]
async fn tokens_and_used_nonces_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let store: Arc<dyn CredentialStore> = Arc::new(SledStore::open(&data).unwrap());
    let server = TestServer::on(store).await;
    let client = seed(server.store.as_ref(), "alice", "App").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let token = three_legged(&server, &client, &cookie).await;
    let used = client
        .signer(Some((&token.0, &token.1)))
        .sign(Request::new("GET", server.url("/api/me")), &[])
        .unwrap();
    assert_eq!(send(&used).await.status, 200);
    server.stop().await;

    // The same directory, a new server on a new port.
    let store: Arc<dyn CredentialStore> = Arc::new(SledStore::open(&data).unwrap());
    let server = TestServer::on(store).await;
    let fresh = me(&server, &client, (&token.0, &token.1)).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.json()["user"], "alice");

    // The request used before the restart is still known as used.
    let nonce = credlog_core::rfc5849::SignedRequest::parse(&used).unwrap();
    let key = credlog_core::store::NonceKey {
        client_id: client.id.clone(),
        token: Some(token.0.clone()),
        timestamp: nonce.timestamp().unwrap().parse().unwrap(),
        nonce: nonce.nonce().unwrap().to_owned(),
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
    let store: Arc<dyn CredentialStore> = Arc::new(SledStore::open(&data).unwrap());
    let server = TestServer::on(store).await;
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let client = seed(server.store.as_ref(), "alice", "App").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let token = three_legged(&server, &client, &cookie).await;
    let used = client
        .signer(Some((&token.0, &token.1)))
        .sign(Request::new("GET", server.url("/api/me")), &[])
        .unwrap();
    assert_eq!(send(&used).await.status, 200);
    server.stop().await;

    let store: Arc<dyn CredentialStore> = Arc::new(SledStore::open(&data).unwrap());
    let server = TestServer::on_addr(store, addr).await;
    send(&used).await.assert_oauth1_error(401, "invalid_nonce");
    assert_eq!(me(&server, &client, (&token.0, &token.1)).await.status, 200);
    server.stop().await;
}
