//! The database schema and its versioned migrations, applied when a store
//! opens: each in its own transaction, under an advisory lock, so nodes
//! starting together apply each once. A database whose schema is newer
//! than this build knows is refused, never written to.
//!
//! A change of the projection rules is a migration too ([`Migration::Rebuild`]):
//! the rows a previous release wrote follow its rules, and `check` replays
//! the log under this build's, so the projections are rebuilt from the log
//! (DESIGN.md rule 6: the log is the truth) in the migration's transaction.

use std::collections::BTreeMap;

use credlog_core::store::projections::{self, Changes, Replay, Tree, Trees};
use credlog_core::store::StoreError;

use crate::{int, load_tree, pg, read_page, retention, write, APPEND_LOCK, LOG_PAGE, PAGE};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The lock migrations hold (for the session: they span transactions).
const MIGRATION_LOCK: i64 = 0x6372_6564_6c6f_6703;

/// What one migration does.
enum Migration {
    /// Statements, run as they are.
    Sql(&'static str),
    /// The projections rebuilt from the log under this build's rules
    /// ([`rebuild_projections`]).
    Rebuild,
}

/// Migration N brings version N - 1 to N.
const MIGRATIONS: &[Migration] = &[
    // 1: the log, the projections, the login sessions.
    Migration::Sql(
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
    ),
    // 2: the sign-in throttle's counts, shared by every node.
    Migration::Sql(
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
    ),
    // 3: retention (DESIGN.md rule 7): the archive of retired `Verified`
    // records, and the marks housekeeping keeps (below which sequence
    // number every retirable record has left the live log).
    Migration::Sql(
        "CREATE TABLE credlog_archive (
         seq bigint PRIMARY KEY,
         record bytea NOT NULL
     );
     CREATE TABLE credlog_mark (
         name text PRIMARY KEY,
         value bigint NOT NULL
     );",
    ),
    // 4: the rules gained `Tree::DeviceExpiry`: a device code nobody
    // approved leaves the projections once it expires (CONTRACT.md "Users
    // and sessions"). A previous release indexed none of its codes and
    // swept none, so a replay (`check`) would differ from its rows, and
    // its codes would never leave.
    Migration::Rebuild,
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
        return Err(StoreError::Backend(
            format!(
            "the database holds credlog schema version {version}, newer than this credlog knows \
             ({SCHEMA_VERSION}): run a credlog at least as new as the one that wrote it"
        )
            .into(),
        ));
    }
    while version < SCHEMA_VERSION {
        let txn = client.transaction().await.map_err(pg)?;
        match &MIGRATIONS[version as usize] {
            Migration::Sql(statements) => txn.batch_execute(statements).await.map_err(pg)?,
            Migration::Rebuild => rebuild_projections(&txn).await?,
        }
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

/// Brings the stored projections to what a replay of the log gives under
/// this build's rules, as `check` replays it (the stored nonce floor, the
/// retention's mark), writing only the keys that differ; in `txn`, the
/// migration's, so a crash leaves the old rows with the old version or
/// the new rows with the new one.
///
/// Other nodes of this build wait on the migration lock meanwhile. A node
/// of the previous release still serving waits on the append lock (its
/// appends go on after the commit) and its retention passes skip while
/// the retirement lock is held, so the log read and the rows written are
/// those of one moment. Such a node is to be stopped for the upgrade all
/// the same: what it appends after this follows its own rules. Memory
/// holds the rebuilt projections and one stored tree at a time, as a
/// `check` does.
async fn rebuild_projections(txn: &deadpool_postgres::Transaction<'_>) -> Result<(), StoreError> {
    for lock in [APPEND_LOCK, retention::RETIRE_LOCK] {
        txn.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
            .await
            .map_err(pg)?;
    }
    let mut meta = Trees::new();
    load_tree(txn, Tree::Meta, &mut meta).await?;
    let floor = projections::nonce_floor(&meta).map_err(crate::store_error)?;
    let mut replay = Replay::new(floor, retention::retired_below(txn).await?);
    let mut next = 1;
    loop {
        let page = read_page(txn, LOG_PAGE, next, PAGE).await?;
        let Some(last) = page.last() else { break };
        next = int(last.seq)? + 1;
        for record in &page {
            replay.apply(record)?;
        }
    }
    let (rebuilt, records) = replay.finish()?;
    let mut changed = 0;
    for &tree in Tree::PROJECTIONS {
        let mut stored = Trees::new();
        load_tree(txn, tree, &mut stored).await?;
        let changes = differences(tree, &rebuilt, &stored);
        changed += changes.values().map(|entries| entries.len()).sum::<usize>();
        write(txn, changes).await?;
    }
    tracing::info!(
        records,
        changed,
        "rebuilt the projections from the log for this version's rules"
    );
    Ok(())
}

/// What turns `stored`'s `tree` into `rebuilt`'s: each key whose value is
/// new or differs, set, and each key `rebuilt` lacks, removed.
fn differences(tree: Tree, rebuilt: &Trees, stored: &Trees) -> Changes {
    let old: BTreeMap<&[u8], &[u8]> = stored.entries(tree).collect();
    let new: BTreeMap<&[u8], &[u8]> = rebuilt.entries(tree).collect();
    let set = new
        .iter()
        .filter(|(key, value)| old.get(*key) != Some(*value))
        .map(|(key, value)| (key.to_vec(), Some(value.to_vec())));
    let removed = old
        .keys()
        .filter(|key| !new.contains_key(*key))
        .map(|key| (key.to_vec(), None));
    let entries: BTreeMap<_, _> = set.chain(removed).collect();
    let mut changes = Changes::new();
    if !entries.is_empty() {
        changes.insert(tree, entries);
    }
    changes
}
