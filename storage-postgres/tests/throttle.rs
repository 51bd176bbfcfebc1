//! The throttle suite on PostgreSQL: two nodes' throttles (each its own
//! store and pool) on one database count the same guesses.

use credlog_conformance::throttle_suite as suite;
use credlog_core::throttle::Limits;
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::{PostgresStore, PostgresThrottle};

async fn two_nodes() -> Option<(PostgresThrottle, PostgresThrottle, TestDatabase)> {
    let database = TestDatabase::create().await?;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let store = PostgresStore::connect(database.config.clone(), 300)
            .await
            .expect("the store opens");
        nodes.push(store.throttle(Limits::default()));
    }
    let (b, a) = (nodes.pop()?, nodes.pop()?);
    Some((a, b, database))
}

#[tokio::test]
async fn five_wrong_passwords_in_a_row_lock_the_user_name_for_a_minute() {
    let Some((a, b, _database)) = two_nodes().await else {
        return;
    };
    suite::five_wrong_passwords_in_a_row_lock_the_user_name_for_a_minute(&a, &b).await;
}

#[tokio::test]
async fn thirty_failures_from_one_address_in_a_minute_lock_the_address() {
    let Some((a, b, _database)) = two_nodes().await else {
        return;
    };
    suite::thirty_failures_from_one_address_in_a_minute_lock_the_address(&a, &b).await;
}

#[tokio::test]
async fn ten_failed_client_authentications_lock_the_client() {
    let Some((a, b, _database)) = two_nodes().await else {
        return;
    };
    suite::ten_failed_client_authentications_lock_the_client(&a, &b).await;
}

#[tokio::test]
async fn sixty_failed_client_authentications_lock_the_address() {
    let Some((a, b, _database)) = two_nodes().await else {
        return;
    };
    suite::sixty_failed_client_authentications_lock_the_address(&a, &b).await;
}

#[tokio::test]
async fn sixty_device_requests_a_minute_per_client_and_address() {
    let Some((a, b, _database)) = two_nodes().await else {
        return;
    };
    suite::sixty_device_requests_a_minute_per_client_and_address(&a, &b).await;
}

#[tokio::test]
async fn a_right_user_code_never_resets_the_count() {
    let Some((a, b, _database)) = two_nodes().await else {
        return;
    };
    suite::a_right_user_code_never_resets_the_count(&a, &b).await;
}
