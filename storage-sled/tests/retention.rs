//! Retention (DESIGN.md rule 7): `Verified` records older than the
//! retention leave the live log, into the archive or away; every record
//! that changes a credential stays; the projections still equal a replay,
//! and a nonce inside the window is still refused.

mod support;
use support::copy_dir;

use std::path::Path;

use credlog_conformance::retention_suite::{
    fill, nonce_in_window_is_refused, old_signed_requests_leave_the_live_log, retention, WINDOW,
};
use credlog_core::store::CredentialStore;
use credlog_storage_sled::{SledStore, Usage, ARCHIVE_DIR};

fn open(path: &Path, archive: bool) -> SledStore {
    SledStore::open_retaining(
        path,
        WINDOW,
        Some(retention(archive)),
        Usage::Serving,
        &|_, _| {},
    )
    .expect("the store opens")
}

#[tokio::test]
async fn old_signed_requests_move_to_the_archive_and_the_rest_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let store = open(&path, true);
    let housekeep = || async { store.housekeep().unwrap() };
    let (kept, retired) = old_signed_requests_leave_the_live_log(&store, housekeep, true).await;

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
    let housekeep = || async { store.housekeep().unwrap() };
    let (kept, _) = old_signed_requests_leave_the_live_log(&store, housekeep, false).await;
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
