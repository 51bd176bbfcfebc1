//! The store suite's management events: a secret rotated, a password
//! changed, a grant revoked by its owner, a user removed; the grants a
//! user can see; and the lists an operator reads. Every check ends with
//! `check` agreeing with what the appends built.

use credlog_core::store::{
    CredentialKind, CredentialStore, Event, GrantRevoked, Issued, Precondition, Secret,
    SecretRotated, Status, UserRecord, UserRemoved,
};

use super::{client, ok, refused, status, token, NOW};

fn user(name: &str, password: &str) -> UserRecord {
    UserRecord {
        name: name.to_owned(),
        password: Secret::Argon2(format!("hash of {password}")),
    }
}

/// A credential of `kind` that `user` granted `client_id`, issued from `parent`.
fn granted(
    kind: CredentialKind,
    id: &str,
    client_id: &str,
    user: &str,
    parent: Option<&str>,
) -> Event {
    let mut record = token(kind, id, client_id, parent);
    record.user = Some(user.to_owned());
    Event::Issued(Issued::Token(record))
}

async fn consistent<S: CredentialStore + ?Sized>(store: &S) {
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

/// The ids of the credentials live at `NOW` under each of `user`'s grants.
async fn live_grants<S: CredentialStore + ?Sized>(
    store: &S,
    user: &str,
) -> Vec<(String, Vec<String>)> {
    store
        .grants_of(user)
        .await
        .unwrap()
        .iter()
        .map(|grant| {
            let live = grant
                .live(NOW)
                .map(|state| state.record.id.clone())
                .collect();
            (grant.client_id.clone(), live)
        })
        .collect()
}

/// A rotated secret replaces the old one; a changed password the old hash.
pub async fn secrets_and_passwords_are_replaced<S: CredentialStore + ?Sized>(store: &S) {
    let alice = user("alice", "old");
    let issued = vec![
        Event::Issued(Issued::User(alice.clone())),
        Event::Issued(Issued::Client(client("c1"))),
    ];
    ok(store, &[], issued).await;
    let rotated = Event::SecretRotated(SecretRotated {
        client_id: "c1".into(),
        secret: Secret::Plain("new-secret".into()),
    });
    let live = Precondition::ClientLive {
        client_id: "c1".into(),
    };
    ok(store, &[live], vec![rotated]).await;
    let secret = store.client("c1").await.unwrap().unwrap().record.secret;
    assert!(secret.matches("new-secret"));
    assert!(!secret.matches("c1-secret"), "the old secret still works");

    let changed = user("alice", "new");
    let exists = Precondition::UserExists {
        name: "alice".into(),
    };
    ok(
        store,
        &[exists],
        vec![Event::PasswordChanged(changed.clone())],
    )
    .await;
    assert_eq!(store.user("alice").await.unwrap(), Some(changed));
    let nobody = Precondition::UserExists { name: "bob".into() };
    let failure = refused(
        store,
        &[nobody],
        vec![Event::PasswordChanged(user("bob", "x"))],
    )
    .await;
    assert_eq!(failure, credlog_core::store::Failure::Missing);
    consistent(store).await;
}

/// What a user granted is listed a client at a time, holding only what
/// has not ended; revoking a grant ends all of it, families included,
/// and a later grant starts afresh.
pub async fn a_revoked_grant_ends_everything_it_held<S: CredentialStore + ?Sized>(store: &S) {
    use CredentialKind::{AccessToken, AuthorizationCode, RefreshToken, TokenCredential};
    ok(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c1")))],
    )
    .await;
    ok(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c2")))],
    )
    .await;
    ok(
        store,
        &[],
        vec![granted(TokenCredential, "oauth1", "c1", "alice", None)],
    )
    .await;
    ok(
        store,
        &[],
        vec![granted(AuthorizationCode, "code", "c1", "alice", None)],
    )
    .await;
    let exchange = vec![
        Event::Exchanged(credlog_core::store::Exchanged { id: "code".into() }),
        granted(AccessToken, "access", "c1", "alice", Some("code")),
        granted(RefreshToken, "refresh", "c1", "alice", Some("code")),
    ];
    ok(store, &[], exchange).await;
    ok(
        store,
        &[],
        vec![granted(TokenCredential, "other", "c2", "alice", None)],
    )
    .await;
    ok(
        store,
        &[],
        vec![granted(TokenCredential, "bobs", "c1", "bob", None)],
    )
    .await;

    let mut expected = vec![
        (
            "c1".to_owned(),
            vec![
                "oauth1".to_owned(),
                "access".to_owned(),
                "refresh".to_owned(),
            ],
        ),
        ("c2".to_owned(), vec!["other".to_owned()]),
    ];
    assert_eq!(live_grants(store, "alice").await, expected);
    let grant = &store.grants_of("alice").await.unwrap()[0];
    assert_eq!((grant.granted_at, grant.last_granted_at), (NOW, NOW));

    let revoke = Event::GrantRevoked(GrantRevoked {
        user: "alice".into(),
        client_id: "c1".into(),
    });
    ok(store, &[], vec![revoke]).await;
    for id in ["oauth1", "access", "refresh"] {
        assert_eq!(status(store, id).await, Status::Revoked, "{id}");
    }
    assert_eq!(
        status(store, "other").await,
        Status::Issued,
        "another client's grant"
    );
    assert_eq!(
        status(store, "bobs").await,
        Status::Issued,
        "another user's grant"
    );
    expected.remove(0);
    assert_eq!(live_grants(store, "alice").await, expected);
    // What the revoked refresh token's family would issue is dead as well.
    ok(
        store,
        &[],
        vec![granted(AccessToken, "late", "c1", "alice", Some("refresh"))],
    )
    .await;
    assert_eq!(status(store, "late").await, Status::Revoked);

    // Granting again works, from nothing.
    ok(
        store,
        &[],
        vec![granted(TokenCredential, "again", "c1", "alice", None)],
    )
    .await;
    let grants = live_grants(store, "alice").await;
    assert!(
        grants.contains(&("c1".to_owned(), vec!["again".to_owned()])),
        "{grants:?}"
    );
    consistent(store).await;
}

/// A grant keeps only credentials that may still work: traded, revoked
/// and expired ones leave it as new ones come.
pub async fn a_grant_forgets_what_has_ended<S: CredentialStore + ?Sized>(store: &S) {
    ok(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c1")))],
    )
    .await;
    let mut short = token(CredentialKind::AccessToken, "short", "c1", None);
    short.user = Some("alice".into());
    short.expires_at = Some(NOW - 1);
    ok(store, &[], vec![Event::Issued(Issued::Token(short))]).await;
    ok(
        store,
        &[],
        vec![granted(
            CredentialKind::RefreshToken,
            "r1",
            "c1",
            "alice",
            None,
        )],
    )
    .await;
    let rotate = vec![
        Event::Exchanged(credlog_core::store::Exchanged { id: "r1".into() }),
        granted(
            CredentialKind::RefreshToken,
            "r2",
            "c1",
            "alice",
            Some("r1"),
        ),
    ];
    ok(store, &[], rotate).await;
    let grants = store.grants_of("alice").await.unwrap();
    let held: Vec<&str> = grants[0]
        .credentials
        .iter()
        .map(|c| c.record.id.as_str())
        .collect();
    assert_eq!(
        held,
        ["r2"],
        "the expired token and the traded one are gone"
    );
    consistent(store).await;
}

/// Removing a user ends every client it owns and every credential it
/// granted, and frees its name; other users keep theirs.
pub async fn a_removed_user_takes_its_clients_and_grants_along<S: CredentialStore + ?Sized>(
    store: &S,
) {
    let mut own = client("own");
    own.owner = "alice".into();
    let mut bobs = client("bobs");
    bobs.owner = "bob".into();
    let setup = vec![
        Event::Issued(Issued::User(user("alice", "pw"))),
        Event::Issued(Issued::User(user("bob", "pw"))),
        Event::Issued(Issued::Client(own)),
        Event::Issued(Issued::Client(bobs)),
    ];
    ok(store, &[], setup).await;
    let tokens = vec![
        granted(
            CredentialKind::AccessToken,
            "alice-at-bobs",
            "bobs",
            "alice",
            None,
        ),
        granted(
            CredentialKind::AccessToken,
            "bob-at-own",
            "own",
            "bob",
            None,
        ),
        granted(
            CredentialKind::AccessToken,
            "bob-at-bobs",
            "bobs",
            "bob",
            None,
        ),
    ];
    ok(store, &[], tokens).await;

    let removed = Event::UserRemoved(UserRemoved {
        name: "alice".into(),
    });
    let exists = Precondition::UserExists {
        name: "alice".into(),
    };
    ok(store, &[exists], vec![removed]).await;
    assert_eq!(store.user("alice").await.unwrap(), None);
    assert!(store.client("own").await.unwrap().unwrap().revoked);
    assert!(!store.client("bobs").await.unwrap().unwrap().revoked);
    assert_eq!(status(store, "alice-at-bobs").await, Status::Revoked);
    assert_eq!(
        status(store, "bob-at-own").await,
        Status::Revoked,
        "its client is gone"
    );
    assert_eq!(status(store, "bob-at-bobs").await, Status::Issued);
    assert!(store.clients_owned_by("alice").await.unwrap().is_empty());
    assert!(store.grants_of("alice").await.unwrap().is_empty());
    assert_eq!(
        live_grants(store, "bob").await,
        [("bobs".to_owned(), vec!["bob-at-bobs".to_owned()])]
    );

    // The name is free again, and the new alice starts with nothing.
    let absent = Precondition::Absent {
        kind: CredentialKind::User,
        id: "alice".into(),
    };
    ok(
        store,
        &[absent],
        vec![Event::Issued(Issued::User(user("alice", "new")))],
    )
    .await;
    assert!(store.clients_owned_by("alice").await.unwrap().is_empty());
    consistent(store).await;
}

/// Every user and every client, in order of name and id.
pub async fn users_and_clients_are_listed<S: CredentialStore + ?Sized>(store: &S) {
    assert!(store.users().await.unwrap().is_empty());
    assert!(store.clients().await.unwrap().is_empty());
    let events = vec![
        Event::Issued(Issued::User(user("carol", "pw"))),
        Event::Issued(Issued::User(user("alice", "pw"))),
        Event::Issued(Issued::Client(client("z1"))),
        Event::Issued(Issued::Client(client("a1"))),
    ];
    ok(store, &[], events).await;
    let revoke = Event::Revoked(credlog_core::store::Revoked {
        id: "z1".into(),
        kind: CredentialKind::Client,
        reason: credlog_core::store::RevocationReason::Requested,
        whole_family: false,
    });
    ok(store, &[], vec![revoke]).await;
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "carol"]);
    let clients: Vec<(String, bool)> = store
        .clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.record.client_id, c.revoked))
        .collect();
    assert_eq!(clients, [("a1".to_owned(), false), ("z1".to_owned(), true)]);
}

/// Revoking a client's credentials ends everything issued to it so far,
/// families included, and nothing issued after; the client stays.
pub async fn a_clients_credentials_end_up_to_their_revocation<S: CredentialStore + ?Sized>(
    store: &S,
) {
    use credlog_core::store::CredentialsRevoked;
    ok(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c1")))],
    )
    .await;
    ok(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c2")))],
    )
    .await;
    let before = vec![
        granted(CredentialKind::RefreshToken, "r1", "c1", "alice", None),
        granted(CredentialKind::AccessToken, "a1", "c1", "bob", None),
        granted(CredentialKind::AccessToken, "other", "c2", "alice", None),
    ];
    ok(store, &[], before).await;
    let revoke = Event::CredentialsRevoked(CredentialsRevoked {
        client_id: "c1".into(),
    });
    ok(store, &[], vec![revoke]).await;
    assert_eq!(status(store, "r1").await, Status::Revoked);
    assert_eq!(status(store, "a1").await, Status::Revoked);
    assert_eq!(status(store, "other").await, Status::Issued);
    assert!(!store.client("c1").await.unwrap().unwrap().revoked);
    ok(
        store,
        &[],
        vec![granted(
            CredentialKind::AccessToken,
            "a2",
            "c1",
            "bob",
            None,
        )],
    )
    .await;
    assert_eq!(status(store, "a2").await, Status::Issued, "issued after");
    let alice = live_grants(store, "alice").await;
    assert_eq!(
        alice[0],
        ("c1".to_owned(), vec![]),
        "alice's grant holds nothing live"
    );
    consistent(store).await;
}
