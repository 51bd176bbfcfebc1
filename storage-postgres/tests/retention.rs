//! Retention (DESIGN.md rule 7) on PostgreSQL: the old signed requests
//! leave `credlog_log`, into `credlog_archive` or away, as on sled; every
//! node reads and checks the result, and nodes housekeeping at once
//! retire each record once.

use credlog_conformance::retention_suite::{
    expected_kept, fill, old_signed_requests_leave_the_live_log, retention, WINDOW,
};
use credlog_core::store::CredentialStore;
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;

async fn node(database: &TestDatabase, archive: bool) -> PostgresStore {
    PostgresStore::connect(database.config.clone(), WINDOW)
        .await
        .expect("the store opens")
        .retaining(Some(retention(archive)))
}

#[tokio::test]
async fn old_signed_requests_move_to_the_archive_every_node_reads() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = node(&database, true).await;
    let housekeep = || async { store.housekeep().await.unwrap() };
    let (kept, retired) = old_signed_requests_leave_the_live_log(&store, housekeep, true).await;

    // Another node, without a retention of its own, reads and checks the same.
    let other = PostgresStore::connect(database.config.clone(), WINDOW)
        .await
        .unwrap();
    assert_eq!(other.read_log(1, usize::MAX).await.unwrap(), kept);
    assert_eq!(other.read_archive(1, usize::MAX).await.unwrap(), retired);
    assert!(other.check().await.unwrap().is_consistent());
    assert_eq!(other.housekeep().await.unwrap(), 0);
}

#[tokio::test]
async fn with_archiving_off_old_signed_requests_are_dropped() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = node(&database, false).await;
    let housekeep = || async { store.housekeep().await.unwrap() };
    old_signed_requests_leave_the_live_log(&store, housekeep, false).await;
}

#[tokio::test]
async fn nodes_housekeeping_at_once_retire_each_record_once() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let (a, b) = (node(&database, true).await, node(&database, true).await);
    let written = fill(&a).await;
    let (kept, retired) = expected_kept(&written);
    let (by_a, by_b) = tokio::join!(a.housekeep(), b.housekeep());
    let (by_a, by_b) = (by_a.unwrap(), by_b.unwrap());
    // A node that found the other retiring left it to finish; one more
    // round each retires whatever is left.
    let again = a.housekeep().await.unwrap() + b.housekeep().await.unwrap();
    assert_eq!(by_a + by_b + again, retired.len() as u64);
    assert_eq!(b.read_log(1, usize::MAX).await.unwrap(), kept);
    assert_eq!(a.read_archive(1, usize::MAX).await.unwrap(), retired);
    assert!(b.check().await.unwrap().is_consistent());
}
