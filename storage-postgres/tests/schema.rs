//! The schema migrations: nodes starting together on an empty database
//! apply each once, and a database whose schema is newer than this build
//! is refused with a clear error, not written to.

use credlog_core::store::{CredentialStore, StoreError};
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::{PostgresStore, SCHEMA_VERSION};
use tokio_postgres::NoTls;

const WINDOW: u64 = 300;

#[tokio::test]
async fn nodes_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let open = || PostgresStore::connect(database.config.clone(), WINDOW);
    let (a, b, c) = tokio::join!(open(), open(), open());
    for store in [a, b, c] {
        assert_eq!(store.expect("each node opens").last_seq().await, Ok(0));
    }
    let (client, connection) = database.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    let versions = client
        .query("SELECT version FROM credlog_schema", &[])
        .await
        .unwrap();
    let versions: Vec<i32> = versions.iter().map(|row| row.get(0)).collect();
    assert_eq!(versions, [SCHEMA_VERSION]);

    client
        .execute(
            "UPDATE credlog_schema SET version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    let refused = open().await.expect_err("a newer schema is refused");
    let StoreError::Backend(message) = refused else {
        panic!("{refused:?}");
    };
    assert!(
        message.contains(&format!("schema version {}", SCHEMA_VERSION + 1))
            && message.contains("newer"),
        "{message}"
    );
}
