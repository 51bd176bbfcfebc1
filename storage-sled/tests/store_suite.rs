//! The store suite on the sled backend, each test in its own directory.

use std::sync::Arc;

use credlog_storage_sled::SledStore;

fn fresh() -> (Arc<SledStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStore::open(dir.path().join("data")).expect("the store opens");
    (Arc::new(store), dir)
}

credlog_conformance::store_suite!(fresh());
