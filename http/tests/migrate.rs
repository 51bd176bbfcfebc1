//! `credlog migrate --from DIR --to URL` through the real binary: every
//! record of a sled log lands in PostgreSQL as it was, the projections
//! there answer as sled's did, `credlog check` passes on both, and a
//! database that already holds records is refused.

mod support;

use credlog_conformance::store_suite::{self, nonce};
use credlog_core::store::{CredentialStore, Event, NonceKey, Precondition};
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::SledStore;
use support::process::credlog;

/// The credentials [`fill`] leaves, in every state, and one it does not.
const IDS: [&str; 5] = ["t1", "tc1", "a1", "t9", "missing"];
const WINDOW: u64 = credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW;

/// A sled log with clients, tokens, a revoked family and signed requests
/// inside and outside the nonce window.
async fn fill(store: &SledStore) {
    store_suite::revocation_reaches_family_and_client(store).await;
    for (i, time) in nonce_times().into_iter().enumerate() {
        let used = nonce("c1", None, time, &format!("n{i}"));
        let unused = Precondition::NonceUnused(NonceKey::from(&used));
        store
            .append(&[unused], vec![Event::Verified(used)], time)
            .await
            .unwrap();
    }
}

/// When the signed requests [`fill`] appends were made: one long before
/// the others.
fn nonce_times() -> [u64; 4] {
    let now = store_suite::NOW;
    [now - 2 * WINDOW, now - 1, now, now + 1]
}

fn run(args: &[&str]) -> std::process::Output {
    credlog().args(args).output().expect("credlog runs")
}

#[tokio::test]
async fn a_sled_log_migrates_into_postgres_as_it_was() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (records, credentials) = {
        let store = SledStore::open(&data).unwrap();
        fill(&store).await;
        let records = store.read_log(1, usize::MAX).await.unwrap();
        let mut credentials = Vec::new();
        for id in IDS {
            credentials.push(store.credential(id).await.unwrap());
        }
        (records, credentials)
    };
    let url = database.url();
    let data_arg = data.to_str().unwrap();

    let migrated = run(&["migrate", "--from", data_arg, "--to", &url]);
    let stdout = String::from_utf8_lossy(&migrated.stdout);
    assert!(
        migrated.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert_eq!(
        stdout.trim(),
        format!(
            "migrated {} records into PostgreSQL; the check passes on both",
            records.len()
        )
    );

    let target = PostgresStore::open_with_nonce_window(&url, WINDOW)
        .await
        .unwrap();
    assert_eq!(target.read_log(1, usize::MAX).await.unwrap(), records);
    for (id, expected) in IDS.into_iter().zip(&credentials) {
        assert_eq!(&target.credential(id).await.unwrap(), expected, "{id}");
    }
    assert!(target.client("c1").await.unwrap().unwrap().revoked);
    // The signed requests inside the window are known there, so cannot be
    // replayed on PostgreSQL either; the old one is below its floor.
    for (i, time) in nonce_times().into_iter().enumerate().skip(1) {
        let used = nonce("c1", None, time, &format!("n{i}"));
        assert!(
            target.nonce_seen(&NonceKey::from(&used)).await.unwrap(),
            "n{i}"
        );
    }
    drop(target);
    for store in [["--data", data_arg], ["--postgres", url.as_str()]] {
        let checked = run(&["check", store[0], store[1]]);
        assert!(checked.status.success(), "{store:?}: {checked:?}");
    }

    // Into a database that holds records: refused, changing nothing.
    let again = run(&["migrate", "--from", data_arg, "--to", &url]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("already holds {} records", records.len())),
        "{stderr}"
    );
}
