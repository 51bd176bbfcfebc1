//! The store suite's OpenID Connect and RFC 7523 facts: subject
//! identifiers, the server's signing keys, a client's registered JWK Set,
//! and how a code's user had signed in. Every check ends with `check`
//! agreeing with what the appends built.

use credlog_core::store::{
    Authenticated, ClientKeysRegistered, CredentialKind, CredentialStore, Event, Failure, Issued,
    Precondition, Secret, SigningKeyCreated, SubjectAssigned, UserRecord, UserRemoved,
};

use super::{client, ok, refused, token, NOW};

fn add_user(name: &str) -> Event {
    Event::Issued(Issued::User(UserRecord {
        name: name.to_owned(),
        password: Secret::Argon2("hash".to_owned()),
    }))
}

fn assign(user: &str, sub: &str) -> (Vec<Precondition>, Vec<Event>) {
    (
        vec![
            Precondition::UserExists {
                name: user.to_owned(),
            },
            Precondition::SubjectUnassigned {
                user: user.to_owned(),
            },
        ],
        vec![Event::SubjectAssigned(SubjectAssigned {
            user: user.to_owned(),
            sub: sub.to_owned(),
        })],
    )
}

async fn consistent<S: CredentialStore + ?Sized>(store: &S) {
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

/// A subject is assigned once per account; a removed user's subject goes
/// with it, and the same name added again gets a new one.
pub async fn a_subject_is_assigned_once_and_dies_with_its_user<S: CredentialStore + ?Sized>(
    store: &S,
) {
    ok(store, &[], vec![add_user("alice")]).await;
    assert_eq!(store.subject("alice").await.unwrap(), None);
    let (preconditions, events) = assign("alice", "sub-1");
    ok(store, &preconditions, events).await;
    assert_eq!(
        store.subject("alice").await.unwrap().as_deref(),
        Some("sub-1")
    );

    let (preconditions, events) = assign("alice", "sub-2");
    assert_eq!(
        refused(store, &preconditions, events).await,
        Failure::AlreadyExists
    );
    assert_eq!(
        store.subject("alice").await.unwrap().as_deref(),
        Some("sub-1")
    );

    let (preconditions, events) = assign("bob", "sub-3");
    assert_eq!(
        refused(store, &preconditions, events).await,
        Failure::Missing
    );

    let removed = Event::UserRemoved(UserRemoved {
        name: "alice".to_owned(),
    });
    ok(store, &[], vec![removed]).await;
    assert_eq!(store.subject("alice").await.unwrap(), None);
    ok(store, &[], vec![add_user("alice")]).await;
    let (preconditions, events) = assign("alice", "sub-4");
    ok(store, &preconditions, events).await;
    assert_eq!(
        store.subject("alice").await.unwrap().as_deref(),
        Some("sub-4")
    );
    consistent(store).await;
}

fn create_key(kid: &str, current: Option<&str>) -> (Vec<Precondition>, Vec<Event>) {
    (
        vec![Precondition::CurrentSigningKey {
            kid: current.map(str::to_owned),
        }],
        vec![Event::SigningKeyCreated(SigningKeyCreated {
            kid: kid.to_owned(),
            private_key: Secret::Plain(format!("private key {kid}")),
        })],
    )
}

/// The first key is made once however many servers try; a rotation makes
/// the new key current and retires the old one at the rotation's time.
pub async fn signing_keys_are_created_once_and_rotate<S: CredentialStore + ?Sized>(store: &S) {
    assert!(store.signing_keys().await.unwrap().is_empty());
    let (preconditions, events) = create_key("k1", None);
    ok(store, &preconditions, events).await;
    let (preconditions, events) = create_key("k1-again", None);
    assert_eq!(
        refused(store, &preconditions, events).await,
        Failure::Changed
    );

    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].kid, "k1");
    assert_eq!(keys[0].created_at, NOW);
    assert_eq!(keys[0].retired_at, None);
    assert!(keys[0].private_key.matches("private key k1"));

    // A rotation that read a stale current key loses.
    let (preconditions, events) = create_key("k2", Some("k0"));
    assert_eq!(
        refused(store, &preconditions, events).await,
        Failure::Changed
    );
    let (preconditions, events) = create_key("k2", Some("k1"));
    ok(store, &preconditions, events).await;
    let keys = store.signing_keys().await.unwrap();
    let kids: Vec<_> = keys.iter().map(|key| key.kid.as_str()).collect();
    assert_eq!(kids, ["k1", "k2"]);
    assert_eq!(keys[0].retired_at, Some(NOW));
    assert_eq!(keys[1].retired_at, None);
    consistent(store).await;
}

/// A client's JWK Set is kept for a registered client only, and the last
/// one registered is the one read.
pub async fn client_keys_belong_to_registered_clients<S: CredentialStore + ?Sized>(store: &S) {
    let keys = |client_id: &str, jwks: &str| {
        Event::ClientKeysRegistered(ClientKeysRegistered {
            client_id: client_id.to_owned(),
            jwks: jwks.to_owned(),
        })
    };
    ok(
        store,
        &[],
        vec![
            Event::Issued(Issued::Client(client("c1"))),
            keys("c1", r#"{"keys":[1]}"#),
        ],
    )
    .await;
    ok(store, &[], vec![keys("nobody", r#"{"keys":[]}"#)]).await;
    assert_eq!(
        store.client_keys("c1").await.unwrap().as_deref(),
        Some(r#"{"keys":[1]}"#)
    );
    assert_eq!(store.client_keys("c2").await.unwrap(), None);
    assert_eq!(store.client_keys("nobody").await.unwrap(), None);
    ok(store, &[], vec![keys("c1", r#"{"keys":[2]}"#)]).await;
    assert_eq!(
        store.client_keys("c1").await.unwrap().as_deref(),
        Some(r#"{"keys":[2]}"#)
    );
    consistent(store).await;
}

/// How a code's user signed in is kept beside the code, read by the code's
/// id (the family its refresh tokens share).
pub async fn a_codes_authentication_is_kept<S: CredentialStore + ?Sized>(store: &S) {
    let authenticated = Authenticated {
        id: "code1".to_owned(),
        auth_time: NOW - 60,
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
    };
    ok(
        store,
        &[],
        vec![
            Event::Issued(Issued::Client(client("c1"))),
            Event::Issued(Issued::Token(token(
                CredentialKind::AuthorizationCode,
                "code1",
                "c1",
                None,
            ))),
            Event::Authenticated(authenticated.clone()),
        ],
    )
    .await;
    assert_eq!(
        store.authentication("code1").await.unwrap(),
        Some(authenticated)
    );
    // Nothing is kept for a code that was never issued.
    let orphan = Event::Authenticated(Authenticated {
        id: "code2".to_owned(),
        auth_time: NOW,
        nonce: None,
    });
    ok(store, &[], vec![orphan]).await;
    assert_eq!(store.authentication("code2").await.unwrap(), None);
    consistent(store).await;
}
