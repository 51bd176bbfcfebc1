//! Login sessions on sled beyond the suite: they survive a restart (and a
//! removed one stays removed), only the hash of an id reaches the disk,
//! and they stay out of the log and its check.

use std::path::Path;

use credlog_conformance::store_suite::{self, LIMITS, NOW};
use credlog_core::store::{CredentialStore, SessionHash, SessionRecord};
use credlog_storage_sled::SledStore;

#[tokio::test]
async fn sessions_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    store_suite::sessions_survive_reopening(|| SledStore::open(&path).expect("the store opens"))
        .await;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(std::fs::read(&path).unwrap());
        }
    }
    found
}

#[tokio::test]
async fn only_the_hash_of_a_session_id_reaches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let id = "Qm7Xc2Vb9Nz4Lk8Jh3Gf6Ds1Ap5Oi0Uy";
    {
        let store = SledStore::open(&path).unwrap();
        // A CSRF token that does not spell the id (the suite's does).
        let record = SessionRecord::new(SessionHash::of(id), "alice", "the form's token", NOW);
        store.create_session(record, &LIMITS).await.unwrap();
        let report = store.check().await.unwrap();
        assert!(report.is_consistent(), "{:?}", report.mismatches);
        assert_eq!(store.last_seq().await.unwrap(), 0);
    }
    let written = files(&path);
    assert!(
        written
            .iter()
            .any(|file| contains(file, &SessionHash::of(id).0)),
        "the hash is on disk"
    );
    assert!(
        !written.iter().any(|file| contains(file, id.as_bytes())),
        "the session id itself was written to disk"
    );
}
