//! A data directory whose projections an older build made (before the
//! grants trees existed) is brought up to date on open: its projections
//! are rebuilt from the log, so `check` agrees and the new reads answer.

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
    let store = SledStore::open(dir.path()).unwrap();
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
    let store = SledStore::open(dir.path()).unwrap();
    let report = store.check().await.unwrap();
    assert!(!report.is_consistent(), "the version key did not hold");
}
