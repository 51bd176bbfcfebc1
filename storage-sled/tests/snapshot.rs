//! Snapshots (DESIGN.md rule 7): a consistent check keeps its rebuild as
//! the snapshot; the next check replays only the records after it, onto a
//! copy, and finds what a full replay finds; `check` (full) replays all.

mod support;

use std::path::Path;

use credlog_conformance::store_suite::{self, nonce, NOW};
use credlog_core::store::projections::Tree;
use credlog_core::store::{CheckReport, CredentialStore, Event, NonceKey, Precondition};
use credlog_storage_sled::{SledStore, SNAPSHOT_DIR};

/// The nonce window of these stores: short, so that the window moves on
/// between checks.
const WINDOW: u64 = 10;

/// The store in `path` (once a raw sled handle a test used let go of it).
fn open(path: &Path) -> SledStore {
    support::released(|| SledStore::open_with_nonce_window(path, WINDOW)).expect("the store opens")
}

/// Signed requests `from..to`, one a second after `NOW`.
async fn requests(store: &SledStore, seconds: std::ops::Range<u64>) {
    for second in seconds {
        let used = nonce("c1", None, NOW + second, &format!("n{second}"));
        let precondition = Precondition::NonceUnused(NonceKey::from(&used));
        store
            .append(&[precondition], vec![Event::Verified(used)], NOW + second)
            .await
            .unwrap();
    }
}

fn consistent(report: &CheckReport) {
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

#[tokio::test]
async fn a_check_starts_from_the_snapshot_the_last_one_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let store = open(&path);
    store_suite::client_with_temporary(&store).await;
    requests(&store, 0..40).await;

    // No snapshot yet: the whole log, and a snapshot at its end.
    let first = store.check_from_snapshot(&|_| {}).await.unwrap();
    consistent(&first);
    assert_eq!((first.records, first.snapshot), (42, None));
    assert!(path.join(SNAPSHOT_DIR).is_dir());
    assert!(
        !path.join("check-scratch").exists(),
        "the rebuild is left behind"
    );
    // It holds the clients' secrets: private, as the data directory is.
    #[cfg(unix)]
    for entry in std::fs::read_dir(path.join(SNAPSHOT_DIR)).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "the snapshot's files are {mode:o}");
    }

    // The window moves on and prunes; the snapshot's old nonces must go.
    requests(&store, 40..70).await;
    store.housekeep().unwrap();
    let second = store.check_from_snapshot(&|_| {}).await.unwrap();
    consistent(&second);
    assert_eq!((second.records, second.snapshot), (30, Some(42)));

    // Nothing new: nothing replayed, still consistent.
    let third = store.check_from_snapshot(&|_| {}).await.unwrap();
    consistent(&third);
    assert_eq!((third.records, third.snapshot), (0, Some(72)));

    // A full check replays everything, whatever the snapshot.
    let full = store.check().await.unwrap();
    consistent(&full);
    assert_eq!((full.records, full.snapshot), (72, None));

    // Across a restart, the snapshot is still there.
    drop(store);
    let store = open(&path);
    let after = store.check_from_snapshot(&|_| {}).await.unwrap();
    consistent(&after);
    assert_eq!(after.snapshot, Some(72));
}

#[tokio::test]
async fn a_projection_changed_behind_the_log_is_found_from_the_snapshot_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    {
        let store = open(&path);
        store_suite::client_with_temporary(&store).await;
        requests(&store, 0..5).await;
        consistent(&store.check().await.unwrap());
        requests(&store, 5..10).await;
    }
    // A credential the snapshot already holds, removed behind the log's back.
    let db = sled::open(&path).unwrap();
    assert!(db
        .open_tree(Tree::Credentials.name())
        .unwrap()
        .remove("t1")
        .unwrap()
        .is_some());
    db.flush().unwrap();
    drop(db);
    let store = open(&path);
    let report = store.check_from_snapshot(&|_| {}).await.unwrap();
    assert_eq!(report.snapshot, Some(7));
    assert!(
        report
            .mismatches
            .iter()
            .any(|m| m.contains("credentials") && m.contains("in the log but not stored")),
        "{:?}",
        report.mismatches
    );
    // An inconsistent check keeps the snapshot it started from.
    let again = store.check_from_snapshot(&|_| {}).await.unwrap();
    assert_eq!(again.snapshot, Some(7));
    assert!(!again.is_consistent());
}

#[tokio::test]
async fn a_snapshot_built_by_other_projection_rules_is_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    {
        let store = open(&path);
        store_suite::client_with_temporary(&store).await;
        consistent(&store.check().await.unwrap());
    }
    // As an older version of the rules would have left it.
    let about: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("snapshot");
    let snapshot = redb::Database::open(path.join(SNAPSHOT_DIR).join("projections.redb")).unwrap();
    let txn = snapshot.begin_write().unwrap();
    txn.open_table(about).unwrap().insert("rules", 2).unwrap();
    txn.commit().unwrap();
    drop(snapshot);
    let store = open(&path);
    let report = store.check_from_snapshot(&|_| {}).await.unwrap();
    consistent(&report);
    assert_eq!((report.records, report.snapshot), (2, None));
    // That check kept a snapshot by these rules, which the next one uses.
    let next = store.check_from_snapshot(&|_| {}).await.unwrap();
    assert_eq!(next.snapshot, Some(2));
}

#[tokio::test]
async fn a_snapshot_left_by_the_version_before_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    {
        let store = open(&path);
        store_suite::client_with_temporary(&store).await;
    }
    // The previous version kept its snapshot as a sled database.
    let old = sled::open(path.join(SNAPSHOT_DIR)).unwrap();
    old.insert("credlog-snapshot-seq", &2u64.to_be_bytes())
        .unwrap();
    old.flush().unwrap();
    drop(old);
    let store = open(&path);
    let report = store.check_from_snapshot(&|_| {}).await.unwrap();
    consistent(&report);
    assert_eq!((report.records, report.snapshot), (2, None));
    let next = store.check_from_snapshot(&|_| {}).await.unwrap();
    assert_eq!((next.records, next.snapshot), (0, Some(2)));
}
