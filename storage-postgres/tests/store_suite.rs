//! The store suite on PostgreSQL, each test on a database of its own.

use std::sync::Arc;

use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;

const WINDOW: u64 = credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW;

async fn fresh() -> Option<(Arc<PostgresStore>, TestDatabase)> {
    let database = TestDatabase::create().await?;
    let store = PostgresStore::connect(database.config.clone(), WINDOW)
        .await
        .expect("the store opens");
    Some((Arc::new(store), database))
}

credlog_conformance::store_suite!(match fresh().await {
    Some(fresh) => fresh,
    None => return,
});
