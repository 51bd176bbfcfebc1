//! Retention (DESIGN.md rule 7): `Verified` records older than the
//! retention leave the live log, into the archive or away; every record
//! that changes a credential stays; the projections still equal a replay,
//! and a nonce inside the window is still refused.

mod support;
use support::copy_dir;

use std::path::Path;

use credlog_conformance::store_suite::{self, nonce, NOW};
use credlog_core::store::{
    AppendError, CredentialKind, CredentialStore, Event, Failure, NonceKey, Precondition, Record,
    RevocationReason, Revoked, Status,
};
use credlog_storage_sled::{Retention, SledStore, Usage, ARCHIVE_DIR};

/// The nonce window these stores keep; the retention is longer.
const WINDOW: u64 = 10;
const RETAIN: u64 = 60;
/// Signed requests, one a second from `NOW`.
const REQUESTS: u64 = 200;

fn open(path: &Path, archive: bool) -> SledStore {
    let retention = Retention {
        seconds: RETAIN,
        archive,
    };
    SledStore::open_retaining(path, WINDOW, Some(retention), Usage::Serving, &|_, _| {})
        .expect("the store opens")
}

fn verified(second: u64) -> (Precondition, Event) {
    let used = nonce("c1", None, NOW + second, &format!("n{second}"));
    (
        Precondition::NonceUnused(NonceKey::from(&used)),
        Event::Verified(used),
    )
}

/// A client and its temporary credential, then `REQUESTS` signed
/// requests a second apart, in batches of eight at once (so that the log
/// holds chunks), with the temporary credential revoked half-way; answers
/// the whole log as written.
async fn fill(store: &SledStore) -> Vec<Record> {
    store_suite::client_with_temporary(store).await;
    for second in (0..REQUESTS).step_by(8) {
        if second == 96 {
            let revoked = Revoked {
                id: "t1".into(),
                kind: CredentialKind::Temporary,
                reason: RevocationReason::Denied,
                whole_family: false,
            };
            store
                .append(&[], vec![Event::Revoked(revoked)], NOW + second)
                .await
                .unwrap();
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
fn only_verified(record: &Record) -> bool {
    record
        .events
        .iter()
        .all(|event| matches!(event, Event::Verified(_)))
}

/// What a retention of `RETAIN` seconds keeps: records newer than the
/// cutoff, and every record that is not a signed request's.
fn expected_kept(written: &[Record]) -> (Vec<Record>, Vec<Record>) {
    let newest = written.last().unwrap().time;
    let cutoff = newest - RETAIN;
    written
        .iter()
        .cloned()
        .partition(|record| record.time >= cutoff || !only_verified(record))
}

async fn nonce_in_window_is_refused(store: &SledStore) {
    let (precondition, event) = verified(REQUESTS - 1);
    let again = store
        .append(&[precondition], vec![event], NOW + REQUESTS)
        .await;
    assert!(
        matches!(&again, Err(AppendError::Refused(r)) if r.failure == Failure::NonceUsed),
        "{again:?}"
    );
}

#[tokio::test]
async fn old_signed_requests_move_to_the_archive_and_the_rest_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let store = open(&path, true);
    let written = fill(&store).await;
    let (kept, retired) = expected_kept(&written);
    assert!(retired.len() > 100, "the test retires something");
    assert!(kept.iter().any(|record| !only_verified(record)));

    assert_eq!(store.housekeep().unwrap(), retired.len() as u64);
    assert_eq!(store.read_log(1, usize::MAX).await.unwrap(), kept);
    assert_eq!(store.read_archive(1, usize::MAX).await.unwrap(), retired);
    // Reading from the middle, as `credlog log --since` does.
    let middle = retired[retired.len() / 2].seq;
    let from_middle = store.read_archive(middle, 5).await.unwrap();
    assert_eq!(
        from_middle,
        retired[retired.len() / 2..retired.len() / 2 + 5]
    );
    assert_eq!(store.last_seq().await.unwrap(), written.len() as u64);
    assert_eq!(
        store.credential("t1").await.unwrap().unwrap().status,
        Status::Revoked
    );
    nonce_in_window_is_refused(&store).await;
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    // Nothing more is old enough.
    assert_eq!(store.housekeep().unwrap(), 0);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let archive = path.join(ARCHIVE_DIR);
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&archive), 0o700);
        for segment in std::fs::read_dir(&archive).unwrap() {
            assert_eq!(mode(&segment.unwrap().path()), 0o600);
        }
    }

    drop(store);
    let store = open(&path, true);
    assert_eq!(
        store.read_log(1, usize::MAX).await.unwrap().len(),
        kept.len()
    );
    assert_eq!(store.read_archive(1, usize::MAX).await.unwrap(), retired);
    assert!(store.check().await.unwrap().is_consistent());
    // Opened without a retention, the directory reads and checks the same.
    drop(store);
    let store = SledStore::open_with_nonce_window(&path, WINDOW).unwrap();
    assert_eq!(store.read_archive(1, usize::MAX).await.unwrap(), retired);
    assert!(store.check().await.unwrap().is_consistent());
}

#[tokio::test]
async fn with_archiving_off_old_signed_requests_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let store = open(&path, false);
    let written = fill(&store).await;
    let (kept, retired) = expected_kept(&written);
    assert_eq!(store.housekeep().unwrap(), retired.len() as u64);
    assert_eq!(store.read_log(1, usize::MAX).await.unwrap(), kept);
    assert!(store.read_archive(1, usize::MAX).await.unwrap().is_empty());
    assert!(!path.join(ARCHIVE_DIR).exists());
    drop(store);
    let store = open(&path, false);
    nonce_in_window_is_refused(&store).await;
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    assert_eq!(report.records, kept.len() as u64);
}

#[tokio::test]
async fn a_move_cut_short_after_its_segment_was_written_is_redone() {
    let dir = tempfile::tempdir().unwrap();
    let (done, cut) = (dir.path().join("done"), dir.path().join("cut"));
    {
        let store = SledStore::open_with_nonce_window(&done, WINDOW).unwrap();
        fill(&store).await;
    }
    copy_dir(&done, &cut);
    let store = open(&done, true);
    store.housekeep().unwrap();
    let retired = store.read_archive(1, usize::MAX).await.unwrap();
    let live = store.read_log(1, usize::MAX).await.unwrap();
    // The state a crash between the segment's rename and the log's
    // change leaves: the segment written, its records still live.
    copy_dir(&done.join(ARCHIVE_DIR), &cut.join(ARCHIVE_DIR));
    drop(store);
    let store = open(&cut, true);
    assert!(store.check().await.unwrap().is_consistent());
    store.housekeep().unwrap();
    assert_eq!(store.read_log(1, usize::MAX).await.unwrap(), live);
    assert_eq!(store.read_archive(1, usize::MAX).await.unwrap(), retired);
    let segments = |path: &Path| std::fs::read_dir(path.join(ARCHIVE_DIR)).unwrap().count();
    assert_eq!(segments(&cut), segments(&done));
    assert!(store.check().await.unwrap().is_consistent());
}
