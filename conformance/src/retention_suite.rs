//! Retention (DESIGN.md rule 7) on every backend that keeps one:
//! `Verified` records older than the retention leave the live log, into
//! the archive or away; every record that changes a credential stays; the
//! projections still equal a replay, and a nonce inside the window is
//! still refused.

use std::future::Future;

use crate::store_suite::{self, nonce, NOW};
use credlog_core::store::{
    AppendError, CredentialStore, Event, Failure, NonceKey, Precondition, Record, Retention, Status,
};

/// The nonce window the stores under test keep; the retention is longer.
pub const WINDOW: u64 = 10;
/// The retention, in seconds.
pub const RETAIN: u64 = 60;
/// Signed requests, one a second from `NOW`.
pub const REQUESTS: u64 = 200;

/// The retention under test, archiving or not.
pub fn retention(archive: bool) -> Retention {
    Retention {
        seconds: RETAIN,
        archive,
    }
}

fn verified(second: u64) -> (Precondition, Event) {
    let used = nonce("c1", None, NOW + second, &format!("n{second}"));
    (
        Precondition::NonceUnused(NonceKey::from(&used)),
        Event::Verified(used),
    )
}

/// A client and its temporary credential, then `REQUESTS` signed
/// requests a second apart, in batches of eight at once (so that a log
/// that groups commits holds chunks), with the temporary credential
/// revoked half-way; answers the whole log as written.
pub async fn fill<S: CredentialStore + ?Sized>(store: &S) -> Vec<Record> {
    store_suite::client_with_temporary(store).await;
    for second in (0..REQUESTS).step_by(8) {
        if second == 96 {
            store_suite::deny_temporary(store, NOW + second).await;
        }
        // A batch at one time: an entry of the log never straddles the cutoff.
        let time = NOW + second;
        let batch = (second..(second + 8).min(REQUESTS)).map(|nth| async move {
            let (precondition, event) = verified(nth);
            store
                .append(&[precondition], vec![event], time)
                .await
                .unwrap()
        });
        futures::future::join_all(batch).await;
    }
    store.read_log(1, usize::MAX).await.unwrap()
}

/// Whether a record is a signed request's alone.
pub fn only_verified(record: &Record) -> bool {
    record
        .events
        .iter()
        .all(|event| matches!(event, Event::Verified(_)))
}

/// What a retention of `RETAIN` seconds keeps and what it retires:
/// records newer than the cutoff, and every record that is not a signed
/// request's, stay.
pub fn expected_kept(written: &[Record]) -> (Vec<Record>, Vec<Record>) {
    let newest = written.last().unwrap().time;
    let cutoff = newest - RETAIN;
    written
        .iter()
        .cloned()
        .partition(|record| record.time >= cutoff || !only_verified(record))
}

/// The newest signed request's nonce, presented again, is refused.
pub async fn nonce_in_window_is_refused<S: CredentialStore + ?Sized>(store: &S) {
    let (precondition, event) = verified(REQUESTS - 1);
    let again = store
        .append(&[precondition], vec![event], NOW + REQUESTS)
        .await;
    assert!(
        matches!(&again, Err(AppendError::Refused(r)) if r.failure == Failure::NonceUsed),
        "{again:?}"
    );
}

/// The whole rule on a store that keeps nonces for [`WINDOW`] and retains
/// for [`retention`]`(archive)`, its housekeeping run by `housekeep`
/// (answering how many records it retired): the old signed requests leave
/// the live log, into the archive when `archive`; the rest stays, reads,
/// and checks. Answers what was kept and what was retired.
pub async fn old_signed_requests_leave_the_live_log<S, H, F>(
    store: &S,
    housekeep: H,
    archive: bool,
) -> (Vec<Record>, Vec<Record>)
where
    S: CredentialStore + ?Sized,
    H: Fn() -> F,
    F: Future<Output = u64>,
{
    let written = fill(store).await;
    let (kept, retired) = expected_kept(&written);
    assert!(retired.len() > 100, "the test retires something");
    assert!(kept.iter().any(|record| !only_verified(record)));

    assert_eq!(housekeep().await, retired.len() as u64);
    assert_eq!(store.read_log(1, usize::MAX).await.unwrap(), kept);
    let archived = store.read_archive(1, usize::MAX).await.unwrap();
    if archive {
        assert_eq!(archived, retired);
        // Reading from the middle, as `credlog log --since` does.
        let middle = retired.len() / 2;
        let from_middle = store.read_archive(retired[middle].seq, 5).await.unwrap();
        assert_eq!(from_middle, retired[middle..middle + 5]);
    } else {
        assert!(archived.is_empty(), "{archived:?}");
    }
    assert_eq!(store.last_seq().await.unwrap(), written.len() as u64);
    assert_eq!(
        store.credential("t1").await.unwrap().unwrap().status,
        Status::Revoked
    );
    nonce_in_window_is_refused(store).await;
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    assert_eq!(report.records, kept.len() as u64);
    // Nothing more is old enough.
    assert_eq!(housekeep().await, 0);
    (kept, retired)
}
