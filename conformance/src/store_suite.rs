//! The store suite: what every [`CredentialStore`] must do, run by each
//! backend's tests through [`store_suite!`](macro@crate::store_suite).
//!
//! Each check builds its own data on an empty store, so a backend runs it
//! as one test per check. The checks of login sessions, which the store
//! keeps outside the log, are in [`sessions`]; a durable backend also runs
//! [`sessions_survive_reopening`] itself, with a way to reopen its store.

pub mod devices;
pub mod identity;
pub mod manage;
pub mod sessions;

use std::sync::Arc;

use credlog_core::rfc6749::{ClientAuthMethod, GrantType, ResponseType, Scope};
use credlog_core::store::{
    AppendError, Authorized, ClientRecord, CredentialKind, CredentialStore, Event, Exchanged,
    Failure, Issued, NonceKey, Precondition, RevocationReason, Revoked, Secret, Seq, Status,
    TokenRecord, UserRecord, Verified,
};

pub use devices::*;
pub use identity::*;
pub use manage::*;
pub use sessions::*;

/// The time every suite append happens at.
pub const NOW: u64 = 1_700_000_000;

/// A confidential client with an OAuth 1 secret.
pub fn client(client_id: &str) -> ClientRecord {
    ClientRecord {
        client_id: client_id.to_owned(),
        secret: Secret::Plain(format!("{client_id}-secret")),
        owner: "owner".to_owned(),
        name: format!("app {client_id}"),
        redirect_uris: vec!["https://app.example/callback".to_owned()],
        scope: Scope::parse("profile").expect("a valid scope"),
        grant_types: vec![GrantType::AuthorizationCode],
        response_types: vec![ResponseType::Code],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        rsa_public_key: None,
    }
}

/// An OAuth 1 credential of `kind` issued to `client_id`.
pub fn token(kind: CredentialKind, id: &str, client_id: &str, parent: Option<&str>) -> TokenRecord {
    TokenRecord {
        kind,
        id: id.to_owned(),
        secret: Secret::Plain(format!("{id}-secret")),
        client_id: client_id.to_owned(),
        user: None,
        scope: "profile".to_owned(),
        expires_at: None,
        parent: parent.map(str::to_owned),
        redirect_uri: Some("oob".to_owned()),
        code_challenge: None,
    }
}

/// A nonce use.
pub fn nonce(client_id: &str, token: Option<&str>, timestamp: u64, nonce: &str) -> Verified {
    Verified {
        client_id: client_id.to_owned(),
        token: token.map(str::to_owned),
        timestamp,
        nonce: nonce.to_owned(),
    }
}

async fn ok<S: CredentialStore + ?Sized>(
    store: &S,
    preconditions: &[Precondition],
    events: Vec<Event>,
) -> Seq {
    store
        .append(preconditions, events, NOW)
        .await
        .unwrap_or_else(|e| panic!("append refused: {e}"))
}

async fn refused<S: CredentialStore + ?Sized>(
    store: &S,
    preconditions: &[Precondition],
    events: Vec<Event>,
) -> Failure {
    let before = store.last_seq().await.unwrap();
    match store.append(preconditions, events, NOW).await {
        Err(AppendError::Refused(refusal)) => {
            assert_eq!(
                store.last_seq().await.unwrap(),
                before,
                "a refused append wrote a record"
            );
            refusal.failure
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The status of a credential that must exist.
async fn status<S: CredentialStore + ?Sized>(store: &S, id: &str) -> Status {
    store
        .credential(id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} exists"))
        .status
}

/// Registers client `c1` and issues temporary credential `t1` to it.
pub async fn client_with_temporary<S: CredentialStore + ?Sized>(store: &S) {
    ok(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c1")))],
    )
    .await;
    let temporary = token(CredentialKind::Temporary, "t1", "c1", None);
    ok(store, &[], vec![Event::Issued(Issued::Token(temporary))]).await;
}

/// Revokes temporary credential `t1` (its owner denied it) at `time`.
pub async fn deny_temporary<S: CredentialStore + ?Sized>(store: &S, time: u64) {
    let revoked = Revoked {
        id: "t1".into(),
        kind: CredentialKind::Temporary,
        reason: RevocationReason::Denied,
        whole_family: false,
    };
    store
        .append(&[], vec![Event::Revoked(revoked)], time)
        .await
        .unwrap();
}

fn temporary_is(status: Status) -> Precondition {
    Precondition::Credential {
        id: "t1".into(),
        kind: CredentialKind::Temporary,
        client_id: "c1".into(),
        status,
        now: NOW,
    }
}

fn authorize(verifier: &str) -> Event {
    Event::Authorized(Authorized {
        id: "t1".into(),
        user: "alice".into(),
        verifier: Some(Secret::sha256(verifier)),
    })
}

/// The exchange of `t1` with `verifier` for token credential `id`.
fn exchange(verifier: &str, id: &str) -> (Vec<Precondition>, Vec<Event>) {
    (
        vec![
            temporary_is(Status::Authorized),
            Precondition::VerifierMatches {
                id: "t1".into(),
                verifier: verifier.into(),
            },
        ],
        vec![
            Event::Exchanged(Exchanged { id: "t1".into() }),
            Event::Issued(Issued::Token(token(
                CredentialKind::TokenCredential,
                id,
                "c1",
                Some("t1"),
            ))),
        ],
    )
}

/// Sequence numbers start at 1, grow by one, and the log returns what was written.
pub async fn the_log_is_ordered_and_complete<S: CredentialStore + ?Sized>(store: &S) {
    assert_eq!(store.last_seq().await.unwrap(), 0);
    assert!(store.read_log(1, 10).await.unwrap().is_empty());
    client_with_temporary(store).await;
    ok(store, &[], vec![authorize("v")]).await;
    assert_eq!(store.last_seq().await.unwrap(), 3);
    let log = store.read_log(1, 10).await.unwrap();
    assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(log[2].events, vec![authorize("v")]);
    assert_eq!(log[2].time, NOW);
    let tail = store.read_log(2, 1).await.unwrap();
    assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), [2]);
}

/// A user's clients are listed in the order registered, with their state,
/// and nobody else's; replay rebuilds the list.
pub async fn clients_are_listed_by_owner<S: CredentialStore + ?Sized>(store: &S) {
    assert!(store.clients_owned_by("owner").await.unwrap().is_empty());
    let mut other = client("c3");
    other.owner = "someone else".to_owned();
    for record in [client("c2"), other, client("c1")] {
        ok(store, &[], vec![Event::Issued(Issued::Client(record))]).await;
    }
    let revoke = Revoked {
        id: "c2".to_owned(),
        kind: CredentialKind::Client,
        reason: RevocationReason::ClientRemoved,
        whole_family: false,
    };
    ok(store, &[], vec![Event::Revoked(revoke)]).await;
    let owned = store.clients_owned_by("owner").await.unwrap();
    let listed: Vec<(&str, bool)> = owned
        .iter()
        .map(|state| (state.record.client_id.as_str(), state.revoked))
        .collect();
    assert_eq!(listed, [("c2", true), ("c1", false)]);
    assert_eq!(
        store.clients_owned_by("someone else").await.unwrap().len(),
        1
    );
    assert!(store.check().await.unwrap().is_consistent());
}

/// Each precondition accepts what it should and refuses, with its reason,
/// what it should not; a refused append writes nothing.
pub async fn preconditions_accept_and_refuse<S: CredentialStore + ?Sized>(store: &S) {
    client_with_temporary(store).await;

    // Absent.
    let client_absent = Precondition::Absent {
        kind: CredentialKind::Client,
        id: "c1".into(),
    };
    assert_eq!(
        refused(store, &[client_absent], vec![]).await,
        Failure::AlreadyExists
    );
    let new_user = Precondition::Absent {
        kind: CredentialKind::User,
        id: "alice".into(),
    };
    let alice = UserRecord {
        name: "alice".into(),
        password: Secret::Argon2("$argon2id$...".into()),
    };
    ok(
        store,
        std::slice::from_ref(&new_user),
        vec![Event::Issued(Issued::User(alice.clone()))],
    )
    .await;
    assert_eq!(store.user("alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(
        refused(store, &[new_user], vec![Event::Issued(Issued::User(alice))]).await,
        Failure::AlreadyExists
    );

    // ClientLive.
    ok(
        store,
        &[Precondition::ClientLive {
            client_id: "c1".into(),
        }],
        vec![],
    )
    .await;
    assert_eq!(
        refused(
            store,
            &[Precondition::ClientLive {
                client_id: "nobody".into()
            }],
            vec![]
        )
        .await,
        Failure::Missing
    );

    // Credential: kind, client, status, expiry.
    ok(store, &[temporary_is(Status::Issued)], vec![]).await;
    assert_eq!(
        refused(store, &[temporary_is(Status::Authorized)], vec![]).await,
        Failure::WrongStatus {
            actual: Status::Issued
        }
    );
    let as_token = Precondition::Credential {
        id: "t1".into(),
        kind: CredentialKind::TokenCredential,
        client_id: "c1".into(),
        status: Status::Issued,
        now: NOW,
    };
    assert_eq!(
        refused(store, &[as_token], vec![]).await,
        Failure::WrongKind {
            actual: CredentialKind::Temporary
        }
    );
    let other_client = Precondition::Credential {
        id: "t1".into(),
        kind: CredentialKind::Temporary,
        client_id: "c2".into(),
        status: Status::Issued,
        now: NOW,
    };
    assert_eq!(
        refused(store, &[other_client], vec![]).await,
        Failure::WrongClient
    );
    let unknown = Precondition::Credential {
        id: "nothing".into(),
        kind: CredentialKind::Temporary,
        client_id: "c1".into(),
        status: Status::Issued,
        now: NOW,
    };
    assert_eq!(refused(store, &[unknown], vec![]).await, Failure::Missing);
    let expiring = TokenRecord {
        expires_at: Some(NOW + 10),
        ..token(CredentialKind::Temporary, "t2", "c1", None)
    };
    ok(store, &[], vec![Event::Issued(Issued::Token(expiring))]).await;
    let at = |now| Precondition::Credential {
        id: "t2".into(),
        kind: CredentialKind::Temporary,
        client_id: "c1".into(),
        status: Status::Issued,
        now,
    };
    ok(store, &[at(NOW + 9)], vec![]).await;
    assert_eq!(
        refused(store, &[at(NOW + 10)], vec![]).await,
        Failure::Expired
    );

    // VerifierMatches.
    ok(
        store,
        &[temporary_is(Status::Issued)],
        vec![authorize("right")],
    )
    .await;
    let (preconditions, events) = exchange("wrong", "tc1");
    assert_eq!(
        refused(store, &preconditions, events).await,
        Failure::VerifierMismatch
    );
    assert_eq!(
        store.credential("tc1").await.unwrap(),
        None,
        "a refused append issued a credential"
    );
    let (preconditions, events) = exchange("right", "tc1");
    ok(store, &preconditions, events).await;
    assert_eq!(status(store, "t1").await, Status::Exchanged);
    let issued = store.credential("tc1").await.unwrap().unwrap();
    assert_eq!(
        (issued.status, issued.family.as_str()),
        (Status::Issued, "t1")
    );

    // A list of preconditions fails at the first that does not hold.
    let failing = [
        Precondition::ClientLive {
            client_id: "c1".into(),
        },
        temporary_is(Status::Issued),
    ];
    assert_eq!(
        refused(store, &failing, vec![]).await,
        Failure::WrongStatus {
            actual: Status::Exchanged
        }
    );
}

/// A nonce is accepted once per client, token and timestamp.
pub async fn a_nonce_is_used_once<S: CredentialStore + ?Sized>(store: &S) {
    client_with_temporary(store).await;
    let used = nonce("c1", Some("t1"), NOW, "n-1");
    let key = NonceKey::from(&used);
    assert!(!store.nonce_seen(&key).await.unwrap());
    ok(
        store,
        &[Precondition::NonceUnused(key.clone())],
        vec![Event::Verified(used.clone())],
    )
    .await;
    assert!(store.nonce_seen(&key).await.unwrap());
    assert_eq!(
        refused(
            store,
            &[Precondition::NonceUnused(key)],
            vec![Event::Verified(used)]
        )
        .await,
        Failure::NonceUsed
    );
    for other in [
        nonce("c1", Some("t1"), NOW + 1, "n-1"),
        nonce("c1", None, NOW, "n-1"),
        nonce("c2", Some("t1"), NOW, "n-1"),
        nonce("c1", Some("t1"), NOW, "n-2"),
    ] {
        let key = NonceKey::from(&other);
        ok(
            store,
            &[Precondition::NonceUnused(key)],
            vec![Event::Verified(other)],
        )
        .await;
    }
}

/// One temporary credential exchanged by 32 tasks at once: exactly one wins.
pub async fn one_exchange_wins_a_race<S: CredentialStore + 'static>(store: Arc<S>) {
    client_with_temporary(&*store).await;
    ok(&*store, &[], vec![authorize("v")]).await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let (preconditions, events) = exchange("v", &format!("token-{i}"));
                store.append(&preconditions, events, NOW).await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(_) => won += 1,
            Err(AppendError::Refused(refusal)) => {
                assert_eq!(
                    refusal.failure,
                    Failure::WrongStatus {
                        actual: Status::Exchanged
                    }
                )
            }
            Err(other) => panic!("the store failed: {other}"),
        }
    }
    assert_eq!(won, 1, "exactly one exchange must succeed");
    let issued = store.read_log(1, 100).await.unwrap().iter().flat_map(|r| r.events.clone()).filter(|e| {
        matches!(e, Event::Issued(Issued::Token(t)) if t.kind == CredentialKind::TokenCredential)
    }).count();
    assert_eq!(issued, 1, "the log holds one issued token credential");
}

/// Revoking a credential with its family ends every credential issued
/// from the same grant; removing a client ends everything issued to it.
pub async fn revocation_reaches_family_and_client<S: CredentialStore + ?Sized>(store: &S) {
    client_with_temporary(store).await;
    ok(store, &[], vec![authorize("v")]).await;
    let (preconditions, events) = exchange("v", "tc1");
    ok(store, &preconditions, events).await;
    let child = token(CredentialKind::AccessToken, "a1", "c1", Some("tc1"));
    ok(store, &[], vec![Event::Issued(Issued::Token(child))]).await;
    let other = token(CredentialKind::Temporary, "t9", "c1", None);
    ok(store, &[], vec![Event::Issued(Issued::Token(other))]).await;

    let alone = Revoked {
        id: "tc1".into(),
        kind: CredentialKind::TokenCredential,
        reason: RevocationReason::Requested,
        whole_family: false,
    };
    ok(store, &[], vec![Event::Revoked(alone)]).await;
    assert_eq!(status(store, "tc1").await, Status::Revoked);
    assert_eq!(status(store, "a1").await, Status::Issued);

    let family = Revoked {
        id: "a1".into(),
        kind: CredentialKind::AccessToken,
        reason: RevocationReason::CodeReplay,
        whole_family: true,
    };
    ok(store, &[], vec![Event::Revoked(family)]).await;
    assert_eq!(status(store, "a1").await, Status::Revoked);
    assert_eq!(status(store, "t1").await, Status::Revoked);
    assert_eq!(status(store, "t9").await, Status::Issued);

    let removed = Revoked {
        id: "c1".into(),
        kind: CredentialKind::Client,
        reason: RevocationReason::ClientRemoved,
        whole_family: false,
    };
    ok(store, &[], vec![Event::Revoked(removed)]).await;
    assert!(store.client("c1").await.unwrap().unwrap().revoked);
    assert_eq!(status(store, "t9").await, Status::Revoked);
    assert_eq!(
        refused(
            store,
            &[Precondition::ClientLive {
                client_id: "c1".into()
            }],
            vec![]
        )
        .await,
        Failure::ClientRevoked
    );
}

/// Replaying the log rebuilds exactly the stored projections.
pub async fn replay_reproduces_the_projections<S: CredentialStore + ?Sized>(store: &S) {
    let empty = store.check().await.unwrap();
    assert!(empty.is_consistent(), "{:?}", empty.mismatches);
    revocation_reaches_family_and_client(store).await;
    let used = nonce("c2", None, NOW, "n");
    ok(
        store,
        &[Precondition::NonceUnused(NonceKey::from(&used))],
        vec![Event::Verified(used)],
    )
    .await;
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    assert_eq!(report.records, store.last_seq().await.unwrap());
}

/// A check tells of every record it replays, once each, in order.
pub async fn a_check_tells_of_each_record_it_replays<S: CredentialStore + ?Sized>(store: &S) {
    use std::sync::Mutex;
    revocation_reaches_family_and_client(store).await;
    let seen = Mutex::new(Vec::new());
    let report = store
        .check_observed(&|seq| seen.lock().unwrap().push(seq))
        .await
        .unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    let last = store.last_seq().await.unwrap();
    assert!(last > 1);
    assert_eq!(seen.into_inner().unwrap(), (1..=last).collect::<Vec<_>>());
    assert_eq!(report.records, last);
}

/// The sizes an operator watches: the nonces kept (fewer once pruned) and
/// the sessions live at the time asked about, by the limits given.
pub async fn sizes_count_nonces_and_live_sessions<S: CredentialStore + ?Sized>(store: &S) {
    use credlog_core::store::{Sizes, TOUCH_SLACK};
    let limits = sessions::LIMITS;
    let sizes = |at| async move { store.sizes(&limits, at).await.unwrap() };
    assert_eq!(sizes(NOW).await, Sizes::default());
    for (timestamp, name) in [(NOW - 1000, "old"), (NOW, "a"), (NOW, "b")] {
        let used = nonce("c1", None, timestamp, name);
        ok(
            store,
            &[Precondition::NonceUnused(NonceKey::from(&used))],
            vec![Event::Verified(used)],
        )
        .await;
    }
    assert_eq!(sizes(NOW).await.nonces, 3);
    store.prune_nonces(NOW - 300).await.unwrap();
    assert_eq!(sizes(NOW).await.nonces, 2);

    for (id, user, at) in [("s1", "alice", NOW), ("s2", "bob", NOW + 500)] {
        store
            .create_session(sessions::session(id, user, at), &limits)
            .await
            .unwrap();
    }
    assert_eq!(sizes(NOW + 500).await.live_sessions, 2);
    // s1 has gone unused too long; s2 not yet: kept, but only one live.
    let s1_idle = NOW + limits.idle + TOUCH_SLACK;
    assert_eq!(sizes(s1_idle).await.live_sessions, 1);
    assert_eq!(sizes(s1_idle).await.nonces, 2, "sessions are not nonces");
    store
        .remove_session(&credlog_core::store::SessionHash::of("s2"))
        .await
        .unwrap();
    assert_eq!(sizes(NOW + 500).await.live_sessions, 1);
}

/// Nonces behind the window are pruned and the check still agrees.
pub async fn pruned_nonces_are_forgotten_consistently<S: CredentialStore + ?Sized>(store: &S) {
    for (timestamp, name) in [(NOW - 1000, "old"), (NOW, "new")] {
        let used = nonce("c1", None, timestamp, name);
        ok(
            store,
            &[Precondition::NonceUnused(NonceKey::from(&used))],
            vec![Event::Verified(used)],
        )
        .await;
    }
    assert_eq!(store.prune_nonces(NOW - 300).await.unwrap(), 1);
    assert!(!store
        .nonce_seen(&NonceKey::from(&nonce("c1", None, NOW - 1000, "old")))
        .await
        .unwrap());
    assert!(store
        .nonce_seen(&NonceKey::from(&nonce("c1", None, NOW, "new")))
        .await
        .unwrap());
    // Below the floor nothing can be vouched for: such a nonce is refused.
    let forgotten = nonce("c1", None, NOW - 301, "never-seen");
    let precondition = Precondition::NonceUnused(NonceKey::from(&forgotten));
    let failure = refused(store, &[precondition], vec![Event::Verified(forgotten)]).await;
    assert_eq!(failure, Failure::NonceTooOld);
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

/// The OAuth 1 validator over the store: a signed request verifies once,
/// its nonce use is in the log, and a replay, a foreign or expired token
/// and a removed client are refused.
pub async fn oauth1_requests_verify_against_the_store<S: CredentialStore + ?Sized>(store: &S) {
    use credlog_core::rfc5849::{
        ClientCredentials, Endpoint, Oauth1Error, Oauth1Server, Signer, StoreSource,
        TokenCredentials,
    };
    use credlog_core::Request;

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
    let live = token(CredentialKind::TokenCredential, "k1", "c1", None);
    let expired = TokenRecord {
        expires_at: Some(NOW),
        ..token(CredentialKind::TokenCredential, "k2", "c1", None)
    };
    let foreign = token(CredentialKind::TokenCredential, "k3", "c2", None);
    let temporary = token(CredentialKind::Temporary, "t1", "c1", None);
    let issued = [live, expired, foreign, temporary].map(|t| Event::Issued(Issued::Token(t)));
    ok(store, &[], issued.to_vec()).await;

    let server = &Oauth1Server::default();
    let signed = |token: &str, nonce: &str| {
        Signer::new(ClientCredentials::new("c1", "c1-secret"))
            .with_token(TokenCredentials::new(token, format!("{token}-secret")))
            .sign_at(
                Request::new("GET", "https://api.example/api/me"),
                &[],
                NOW,
                nonce,
            )
            .expect("the request signs")
    };
    let verify = |request: Request| async move {
        server
            .verify(
                &request,
                Endpoint::Resource,
                NOW,
                &StoreSource::new(store, NOW),
            )
            .await
    };

    let verified = verify(signed("k1", "n1"))
        .await
        .expect("a good request verifies");
    assert_eq!(verified.token.as_deref(), Some("k1"));
    let last = store
        .read_log(store.last_seq().await.unwrap(), 1)
        .await
        .unwrap();
    assert_eq!(
        last[0].events,
        vec![Event::Verified(nonce("c1", Some("k1"), NOW, "n1"))]
    );
    assert_eq!(
        verify(signed("k1", "n1")).await,
        Err(Oauth1Error::NonceReused)
    );
    for refused_token in ["k2", "k3", "t1", "missing"] {
        assert_eq!(
            verify(signed(refused_token, "n2")).await,
            Err(Oauth1Error::UnknownToken),
            "{refused_token}"
        );
    }
    let removed = Revoked {
        id: "c1".into(),
        kind: CredentialKind::Client,
        reason: RevocationReason::ClientRemoved,
        whole_family: false,
    };
    ok(store, &[], vec![Event::Revoked(removed)]).await;
    assert_eq!(
        verify(signed("k1", "n3")).await,
        Err(Oauth1Error::UnknownClient)
    );
}

/// Runs every check of the store suite as its own test, each on a fresh
/// store. `$make` is an expression giving `(Arc<store>, guard)`, where the
/// guard (a temporary directory, say) lives as long as the test.
#[macro_export]
macro_rules! store_suite {
    ($make:expr) => {
        mod store_suite {
            #[allow(unused_imports)]
            use super::*;
            use $crate::store_suite as suite;

            $crate::store_suite!(@test the_log_is_ordered_and_complete, $make);
            $crate::store_suite!(@test preconditions_accept_and_refuse, $make);
            $crate::store_suite!(@test clients_are_listed_by_owner, $make);
            $crate::store_suite!(@test a_nonce_is_used_once, $make);
            $crate::store_suite!(@test revocation_reaches_family_and_client, $make);
            $crate::store_suite!(@test replay_reproduces_the_projections, $make);
            $crate::store_suite!(@test pruned_nonces_are_forgotten_consistently, $make);
            $crate::store_suite!(@test a_check_tells_of_each_record_it_replays, $make);
            $crate::store_suite!(@test sizes_count_nonces_and_live_sessions, $make);
            $crate::store_suite!(@test secrets_and_passwords_are_replaced, $make);
            $crate::store_suite!(@test a_revoked_grant_ends_everything_it_held, $make);
            $crate::store_suite!(@test a_grant_forgets_what_has_ended, $make);
            $crate::store_suite!(@test a_removed_user_takes_its_clients_and_grants_along, $make);
            $crate::store_suite!(@test users_and_clients_are_listed, $make);
            $crate::store_suite!(@test a_clients_credentials_end_up_to_their_revocation, $make);
            $crate::store_suite!(@test oauth1_requests_verify_against_the_store, $make);
            $crate::store_suite!(@test sessions_are_kept_touched_and_removed, $make);
            $crate::store_suite!(@test a_session_is_found_by_the_hash_of_its_id_alone, $make);
            $crate::store_suite!(@test sessions_end_by_the_callers_limits, $make);
            $crate::store_suite!(@test sessions_are_bounded_per_user_and_in_all, $make);
            $crate::store_suite!(@test a_users_sessions_end_together, $make);
            $crate::store_suite!(@test a_subject_is_assigned_once_and_dies_with_its_user, $make);
            $crate::store_suite!(@test signing_keys_are_created_once_and_rotate, $make);
            $crate::store_suite!(@test client_keys_belong_to_registered_clients, $make);
            $crate::store_suite!(@test a_codes_authentication_is_kept, $make);
            $crate::store_suite!(@test expired_device_codes_nobody_approved_leave, $make);

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn one_exchange_wins_a_race() {
                let (store, _guard) = $make;
                suite::one_exchange_wins_a_race(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn racing_sign_ins_keep_the_bounds() {
                let (store, _guard) = $make;
                suite::racing_sign_ins_keep_the_bounds(store).await;
            }
        }
    };
    (@test $name:ident, $make:expr) => {
        #[tokio::test]
        async fn $name() {
            let (store, _guard) = $make;
            suite::$name(&*store).await;
        }
    };
}
