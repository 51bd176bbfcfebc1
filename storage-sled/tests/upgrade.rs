//! A data directory whose projections an older build made (before the
//! grants trees existed) is brought up to date on open: its projections
//! are rebuilt from the log, so `check` agrees and the new reads answer.

mod support;
use support::reopen;

use credlog_conformance::store_suite::{client, token};
use credlog_core::store::{CredentialKind, CredentialStore, Event, Issued};
use credlog_storage_sled::SledStore;

#[tokio::test]
async fn projections_from_before_the_grants_trees_are_rebuilt_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        let mut granted = token(CredentialKind::TokenCredential, "t1", "c1", None);
        granted.user = Some("alice".into());
        let events = vec![
            Event::Issued(Issued::Client(client("c1"))),
            Event::Issued(Issued::Token(granted)),
        ];
        store.append(&[], events, 1_700_000_000).await.unwrap();
    }
    // What the older build left: no grants trees, no version of the rules.
    {
        let db = sled::open(dir.path()).unwrap();
        for tree in ["grants", "user_grants"] {
            db.drop_tree(tree).unwrap();
        }
        db.remove("credlog-projections").unwrap();
        db.flush().unwrap();
    }
    let store = reopen(dir.path());
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    let grants = store.grants_of("alice").await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].client_id, "c1");
    assert_eq!(grants[0].credentials[0].record.id, "t1");
    drop(store);

    // Once rebuilt, it is not rebuilt again: emptied trees now show in check.
    {
        let db = sled::open(dir.path()).unwrap();
        db.drop_tree("grants").unwrap();
        db.flush().unwrap();
    }
    let store = reopen(dir.path());
    let report = store.check().await.unwrap();
    assert!(!report.is_consistent(), "the version key did not hold");
}

/// Version 3 keeps the counters and the nonce window in memory: a
/// directory of version 2 held them in trees on disk, which go on the
/// first open; a nonce used before is still refused (the window is
/// rebuilt from the log), and the sequence numbers go on from the log's end.
#[tokio::test]
async fn a_version_2_directory_loses_its_nonce_tree_and_keeps_its_nonces() {
    use credlog_conformance::store_suite::{nonce, NOW};
    use credlog_core::store::{AppendError, Failure, NonceKey, Precondition};

    let dir = tempfile::tempdir().unwrap();
    let used = nonce("c1", None, NOW, "once");
    let precondition = Precondition::NonceUnused(NonceKey::from(&used));
    {
        let store = SledStore::open(dir.path()).unwrap();
        store
            .append(&[], vec![Event::Issued(Issued::Client(client("c1")))], NOW)
            .await
            .unwrap();
        store
            .append(
                std::slice::from_ref(&precondition),
                vec![Event::Verified(used.clone())],
                NOW,
            )
            .await
            .unwrap();
    }
    // What version 2 left: its counters and nonces in trees on disk.
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert("last_seq", &2u64.to_be_bytes())
            .unwrap();
        db.open_tree("nonces")
            .unwrap()
            .insert(vec![0u8; 12], vec![])
            .unwrap();
        db.insert("credlog-projections", &2u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let store = reopen(dir.path());
    let again = store
        .append(&[precondition], vec![Event::Verified(used)], NOW)
        .await;
    assert!(
        matches!(&again, Err(AppendError::Refused(r)) if r.failure == Failure::NonceUsed),
        "{again:?}"
    );
    assert_eq!(store.last_seq().await.unwrap(), 2);
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    drop(store);
    let db = sled::open(dir.path()).unwrap();
    for tree in ["meta", "nonces"] {
        assert!(
            db.open_tree(tree).unwrap().is_empty(),
            "{tree} is still on disk"
        );
    }
}
