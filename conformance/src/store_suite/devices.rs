//! The store suite's device flow facts (RFC 8628): a device code nobody
//! approved leaves the projections once it has expired (CONTRACT.md
//! "Users and sessions"), with its user code, while the log keeps their
//! record; an approved one stays. Every check ends with `check` agreeing
//! with what the appends built.

use credlog_core::store::projections::{Tree, DEVICE_BUCKET, DEVICE_BUCKETS, DEVICE_SWEEP_GRACE};
use credlog_core::store::{
    Authorized, CredentialKind, CredentialStore, Event, Failure, Issued, NonceKey, Precondition,
    RevocationReason, Revoked, Secret, Status, TokenRecord, UserRecord,
};

use super::{client, nonce, ok, NOW};

/// A device code `d{n}` and its user code `u{n}` for client `c1`, expiring
/// at `expires_at`, in one record (as the device authorization endpoint
/// writes them).
fn codes(n: u32, expires_at: u64) -> Vec<Event> {
    let code = |kind, id: String, parent: Option<String>| {
        Event::Issued(Issued::Token(TokenRecord {
            kind,
            id,
            secret: Secret::None,
            client_id: "c1".to_owned(),
            user: None,
            scope: "profile".to_owned(),
            expires_at: Some(expires_at),
            parent,
            redirect_uri: None,
            code_challenge: None,
        }))
    };
    vec![
        code(CredentialKind::DeviceCode, format!("d{n}"), None),
        code(
            CredentialKind::UserCode,
            format!("u{n}"),
            Some(format!("d{n}")),
        ),
    ]
}

async fn append_at<S: CredentialStore + ?Sized>(
    store: &S,
    preconditions: &[Precondition],
    events: Vec<Event>,
    time: u64,
) {
    store
        .append(preconditions, events, time)
        .await
        .unwrap_or_else(|e| panic!("append refused: {e}"));
}

async fn held<S: CredentialStore + ?Sized>(store: &S, id: &str) -> bool {
    store.credential(id).await.unwrap().is_some()
}

async fn consistent<S: CredentialStore + ?Sized>(store: &S) {
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

/// An expired device code that was never approved (pending, or denied)
/// leaves the projections with its user code at the first record that is
/// not of `Verified` events alone, [`DEVICE_SWEEP_GRACE`] or more past its
/// expiry; an approved one, or one that has not expired, stays; and the
/// log keeps every record. `check` agrees throughout, so a replay sweeps
/// where the appends swept.
pub async fn expired_device_codes_nobody_approved_leave<S: CredentialStore + ?Sized>(store: &S) {
    ok(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c1")))],
    )
    .await;
    let user = UserRecord {
        name: "alice".to_owned(),
        password: Secret::None,
    };
    ok(store, &[], vec![Event::Issued(Issued::User(user))]).await;
    let soon = NOW + 10;
    let later = NOW + 10_000;
    for n in 1..=3 {
        ok(store, &[], codes(n, soon)).await;
    }
    ok(store, &[], codes(4, later)).await;
    // d2 approved, d3 denied, d1 left pending.
    let authorized = Event::Authorized(Authorized {
        id: "d2".to_owned(),
        user: "alice".to_owned(),
        verifier: None,
    });
    ok(store, &[], vec![authorized]).await;
    let denied = Event::Revoked(Revoked {
        id: "d3".to_owned(),
        kind: CredentialKind::DeviceCode,
        reason: RevocationReason::Denied,
        whole_family: false,
    });
    ok(store, &[], vec![denied]).await;
    let written = store.last_seq().await.unwrap();
    // Expired, but within the grace: still there (a poll answers
    // `expired_token`).
    let expired = soon + 1;
    append_at(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c2")))],
        expired,
    )
    .await;
    for id in ["d1", "u1", "d2", "u2", "d3", "u3", "d4", "u4"] {
        assert!(held(store, id).await, "{id} is held within the grace");
    }
    consistent(store).await;

    // Past the grace, a record of signed requests alone sweeps nothing...
    let past = soon + DEVICE_BUCKET + DEVICE_SWEEP_GRACE;
    let used = nonce("c1", None, past, "n-1");
    append_at(
        store,
        &[Precondition::NonceUnused(NonceKey::from(&used))],
        vec![Event::Verified(used)],
        past,
    )
    .await;
    assert!(held(store, "d1").await, "a Verified record does not sweep");
    // ...any other record does.
    append_at(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c3")))],
        past,
    )
    .await;
    for id in ["d1", "u1", "d3", "u3"] {
        assert!(!held(store, id).await, "{id} left the projections");
    }
    for id in ["d2", "u2", "d4", "u4"] {
        assert!(held(store, id).await, "{id} stays");
    }
    assert_eq!(
        store.credential("d2").await.unwrap().unwrap().status,
        Status::Authorized
    );
    let buckets = store
        .projection_value(Tree::DeviceExpiry, DEVICE_BUCKETS)
        .await
        .unwrap();
    assert!(buckets.is_some(), "d4's bucket is still due");
    // Nothing can approve a swept code any more.
    let still_pending = Precondition::Credential {
        id: "d1".to_owned(),
        kind: CredentialKind::DeviceCode,
        client_id: "c1".to_owned(),
        status: Status::Issued,
        now: past,
    };
    match store.append(&[still_pending], Vec::new(), past).await {
        Err(credlog_core::store::AppendError::Refused(refused)) => {
            assert_eq!(refused.failure, Failure::Missing)
        }
        other => panic!("approving a swept code: {other:?}"),
    }
    // The log keeps the records.
    let log = store.read_log(1, written as usize).await.unwrap();
    assert!(log.iter().any(|record| record.events == codes(1, soon)));
    consistent(store).await;

    // d4 goes in its turn; the index is empty then.
    let end = later + DEVICE_BUCKET + DEVICE_SWEEP_GRACE;
    append_at(
        store,
        &[],
        vec![Event::Issued(Issued::Client(client("c4")))],
        end,
    )
    .await;
    assert!(!held(store, "d4").await && !held(store, "u4").await);
    assert!(held(store, "d2").await);
    let buckets = store
        .projection_value(Tree::DeviceExpiry, DEVICE_BUCKETS)
        .await
        .unwrap();
    assert_eq!(buckets, None);
    consistent(store).await;
}
