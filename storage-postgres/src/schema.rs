//! The database schema and its versioned migrations, applied when a store
//! opens: each in its own transaction, under an advisory lock, so nodes
//! starting together apply each once. A database whose schema is newer
//! than this build knows is refused, never written to.

use crate::pg;
use credlog_core::store::StoreError;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The lock migrations hold (for the session: they span transactions).
const MIGRATION_LOCK: i64 = 0x6372_6564_6c6f_6703;

/// Migration N brings version N - 1 to N.
const MIGRATIONS: &[&str] = &[
    // 1: the log, the projections, the login sessions.
    "CREATE TABLE credlog_log (
         seq bigint PRIMARY KEY,
         record bytea NOT NULL
     );
     CREATE TABLE credlog_projection (
         tree text NOT NULL,
         key bytea NOT NULL,
         value bytea NOT NULL,
         PRIMARY KEY (tree, key)
     );
     CREATE TABLE credlog_session (
         hash bytea PRIMARY KEY,
         user_name text NOT NULL,
         csrf_token text NOT NULL,
         created bigint NOT NULL,
         last_used bigint NOT NULL
     );
     CREATE INDEX credlog_session_user ON credlog_session (user_name);",
    // 2: the sign-in throttle's counts, shared by every node.
    "CREATE TABLE credlog_throttle_user (
         name text PRIMARY KEY,
         failures bigint NOT NULL,
         locked_until bigint NOT NULL,
         last_failure bigint NOT NULL
     );
     CREATE TABLE credlog_throttle_address (
         address text PRIMARY KEY,
         started bigint NOT NULL,
         failures bigint NOT NULL
     );",
    // 3: retention (DESIGN.md rule 7): the archive of retired `Verified`
    // records, and the marks housekeeping keeps (below which sequence
    // number every retirable record has left the live log).
    "CREATE TABLE credlog_archive (
         seq bigint PRIMARY KEY,
         record bytea NOT NULL
     );
     CREATE TABLE credlog_mark (
         name text PRIMARY KEY,
         value bigint NOT NULL
     );",
];

/// Applies the migrations the database lacks.
pub(crate) async fn migrate(client: &mut deadpool_postgres::Client) -> Result<(), StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)?;
    let migrated = apply(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg);
    migrated.and(unlocked.map(drop))
}

async fn apply(client: &mut deadpool_postgres::Client) -> Result<(), StoreError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS credlog_schema (version integer NOT NULL)")
        .await
        .map_err(pg)?;
    let row = client
        .query_opt("SELECT version FROM credlog_schema", &[])
        .await
        .map_err(pg)?;
    let mut version: i32 = row.map_or(0, |row| row.get(0));
    if version > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "the database holds credlog schema version {version}, newer than this credlog knows \
             ({SCHEMA_VERSION}): run a credlog at least as new as the one that wrote it"
        )));
    }
    while version < SCHEMA_VERSION {
        let txn = client.transaction().await.map_err(pg)?;
        txn.batch_execute(MIGRATIONS[version as usize])
            .await
            .map_err(pg)?;
        txn.execute("DELETE FROM credlog_schema", &[])
            .await
            .map_err(pg)?;
        txn.execute(
            "INSERT INTO credlog_schema (version) VALUES ($1)",
            &[&(version + 1)],
        )
        .await
        .map_err(pg)?;
        txn.commit().await.map_err(pg)?;
        version += 1;
        tracing::info!(version, "migrated the PostgreSQL schema");
    }
    Ok(())
}
