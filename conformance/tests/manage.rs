//! `credlog_core::manage`, the actions owners and operators take, over a
//! memory store: each is one append of the events the store suite checks,
//! refused with `NotFound` for what does not exist, and `check` agrees.

use credlog_conformance::store_suite::{client, token, NOW};
use credlog_core::manage::{self, ManageError};
use credlog_core::rfc6749::ClientAuthMethod;
use credlog_core::store::{
    token_id, CredentialKind, CredentialStore, Event, Issued, Secret, SessionHash, SessionLimits,
    SessionRecord, Status, UserRecord,
};
use credlog_storage_memory::MemoryStore;

async fn setup() -> MemoryStore {
    let store = MemoryStore::new();
    let mut public = client("public");
    public.auth_method = ClientAuthMethod::None;
    public.secret = Secret::None;
    let mut granted = token(
        CredentialKind::AccessToken,
        &token_id("the-token"),
        "c1",
        None,
    );
    granted.user = Some("alice".into());
    let events = vec![
        Event::Issued(Issued::User(UserRecord {
            name: "alice".into(),
            password: Secret::Argon2("old".into()),
        })),
        Event::Issued(Issued::Client(client("c1"))),
        Event::Issued(Issued::Client(public)),
        Event::Issued(Issued::Token(granted)),
    ];
    store.append(&[], events, NOW).await.unwrap();
    store
}

async fn status(store: &MemoryStore, id: &str) -> Status {
    store.credential(id).await.unwrap().unwrap().status
}

async fn clean(store: &MemoryStore) {
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

fn not_found(result: Result<impl std::fmt::Debug, ManageError>, what: &str) {
    match result {
        Err(ManageError::NotFound { what: found, .. }) => assert_eq!(found, what),
        other => panic!("expected no {what}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rotated_secret_is_new_and_the_old_one_is_dead() {
    let store = setup().await;
    let secret = manage::rotate_secret(&store, "c1", NOW).await.unwrap();
    assert_eq!(secret.len(), 32);
    let stored = store.client("c1").await.unwrap().unwrap().record.secret;
    assert!(stored.matches(&secret) && !stored.matches("c1-secret"));
    let again = manage::rotate_secret(&store, "c1", NOW).await.unwrap();
    assert_ne!(again, secret);
    assert!(matches!(
        manage::rotate_secret(&store, "public", NOW).await,
        Err(ManageError::NoSecret(_))
    ));
    not_found(manage::rotate_secret(&store, "nope", NOW).await, "client");
    manage::remove_client(&store, "c1", NOW).await.unwrap();
    not_found(manage::rotate_secret(&store, "c1", NOW).await, "client");
    not_found(manage::remove_client(&store, "c1", NOW).await, "client");
    clean(&store).await;
}

#[tokio::test]
async fn a_token_is_revoked_by_its_value_or_its_id() {
    let store = setup().await;
    let id = token_id("the-token");
    let kind = manage::revoke_token(&store, "the-token", NOW)
        .await
        .unwrap();
    assert_eq!(kind, CredentialKind::AccessToken);
    assert_eq!(status(&store, &id).await, Status::Revoked);
    assert_eq!(
        manage::revoke_token(&store, &id, NOW).await.unwrap(),
        kind,
        "by id, and again: revoking is idempotent"
    );
    not_found(manage::revoke_token(&store, "unknown", NOW).await, "token");
    clean(&store).await;
}

#[tokio::test]
async fn grants_are_revoked_one_client_or_all_at_once() {
    let store = setup().await;
    not_found(
        manage::revoke_grant(&store, "alice", "public", NOW).await,
        "grant",
    );
    manage::revoke_grant(&store, "alice", "c1", NOW)
        .await
        .unwrap();
    assert_eq!(
        status(&store, &token_id("the-token")).await,
        Status::Revoked
    );
    not_found(
        manage::revoke_grant(&store, "alice", "c1", NOW).await,
        "grant",
    );
    assert_eq!(
        manage::revoke_user_grants(&store, "alice", NOW)
            .await
            .unwrap(),
        0
    );
    not_found(manage::revoke_user_grants(&store, "bob", NOW).await, "user");

    let mut second = token(CredentialKind::TokenCredential, "oauth1", "c1", None);
    second.user = Some("alice".into());
    store
        .append(&[], vec![Event::Issued(Issued::Token(second))], NOW)
        .await
        .unwrap();
    assert_eq!(
        manage::revoke_user_grants(&store, "alice", NOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(status(&store, "oauth1").await, Status::Revoked);
    clean(&store).await;
}

#[tokio::test]
async fn a_clients_credentials_are_revoked_and_it_stays() {
    let store = setup().await;
    manage::revoke_client_credentials(&store, "c1", NOW)
        .await
        .unwrap();
    assert_eq!(
        status(&store, &token_id("the-token")).await,
        Status::Revoked
    );
    assert!(!store.client("c1").await.unwrap().unwrap().revoked);
    not_found(
        manage::revoke_client_credentials(&store, "nope", NOW).await,
        "client",
    );
    clean(&store).await;
}

#[tokio::test]
async fn a_password_change_and_a_removal_sign_the_user_out() {
    let store = setup().await;
    let limits = SessionLimits {
        lifetime: 1000,
        idle: 1000,
        per_user: 4,
        in_all: 4,
    };
    let session = || SessionRecord::new(SessionHash::of("s"), "alice", "csrf", NOW);
    store.create_session(session(), &limits).await.unwrap();
    manage::change_password(&store, "alice", Secret::Argon2("new".into()), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.user("alice").await.unwrap().unwrap().password,
        Secret::Argon2("new".into())
    );
    assert!(store
        .session(&SessionHash::of("s"), &limits, NOW)
        .await
        .unwrap()
        .is_none());
    not_found(
        manage::change_password(&store, "bob", Secret::Argon2("x".into()), NOW).await,
        "user",
    );

    store.create_session(session(), &limits).await.unwrap();
    manage::remove_user(&store, "alice", NOW).await.unwrap();
    assert!(store.user("alice").await.unwrap().is_none());
    assert!(store
        .session(&SessionHash::of("s"), &limits, NOW)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        status(&store, &token_id("the-token")).await,
        Status::Revoked
    );
    not_found(manage::remove_user(&store, "alice", NOW).await, "user");
    clean(&store).await;
}
