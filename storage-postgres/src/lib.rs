//! credlog's credential store on PostgreSQL: the event log in one table,
//! the projections in another, and any number of credlog nodes on one
//! database (DESIGN.md rule 8).
//!
//! Every append is written in a database transaction that first takes a
//! transaction-scoped advisory lock every append of every node takes, so
//! appends are serialised across nodes: the preconditions are checked
//! against the projections as the appends before left them, and the log
//! record and the projections' changes commit together or not at all.
//! Two nodes racing for one authorization code, nonce or refresh token
//! therefore cannot both win (DESIGN.md rule 1), whatever the isolation
//! level of the readers. The commit returns once PostgreSQL has made it
//! durable (rule 2, with the server's `synchronous_commit`). A node's
//! appends that arrive while its last transaction runs share the next one
//! (group commit, `writer.rs`).
//!
//! The projections are the same trees, keys and values as on sled and in
//! memory, one row a key (`credlog_projection (tree, key, value)`), so
//! the same rules ([`credlog_core::store::projections`]) check, apply and
//! replay them. Those rules read a key at a time, synchronously; a store
//! call runs them in rounds (`rounds.rs`), each round's reads fetched in
//! one query, so a call costs as many queries as its longest chain of
//! reads.
//!
//! Login sessions are a table of their own, outside the log, admitted
//! under a second advisory lock so the per-user and overall bounds hold
//! however many nodes sign users in at once.
//!
//! The driver is tokio-postgres with a deadpool-postgres pool: async, the
//! binary protocol with cached prepared statements, and no compile-time
//! database (sqlx's checked queries would need one at build time). The
//! URL's `sslmode` and `sslrootcert` mean what they mean to libpq
//! (`tls.rs`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod errors;
mod retention;
mod rounds;
mod schema;
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
mod throttle;
pub mod tls;
mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use credlog_core::store::projections::{
    self, Changes, Entries, Overlay, ProjectionError, Replay, Tree, Trees,
};
use credlog_core::store::sessions;
use credlog_core::store::{
    AppendError, CheckReport, ClientState, CredentialState, CredentialStore, Event, Grant,
    NonceKey, Precondition, Record, Replayed, Retention, Seq, SessionHash, SessionLimits,
    SessionRecord, Sizes, StoreError, UserRecord,
};
use deadpool_postgres::{GenericClient, ManagerConfig, Pool, RecyclingMethod};
use errors::causes;
use rounds::Rounds;
use tls::PostgresUrl;

pub use errors::sqlstate;
pub(crate) use errors::{pg, pool_error};
pub use schema::SCHEMA_VERSION;
pub use throttle::PostgresThrottle;

/// The advisory lock every append takes for its transaction.
const APPEND_LOCK: i64 = 0x6372_6564_6c6f_6701;
/// The one every admission of a login session takes.
const SESSION_LOCK: i64 = 0x6372_6564_6c6f_6702;
/// How many appends pass between two prunings of old nonces.
const PRUNE_EVERY: u64 = 1024;
/// Connections a node keeps to the database at most.
const POOL_SIZE: usize = 16;
/// Log records a check reads a query.
const PAGE: i64 = 4096;
/// How often a serving node's housekeeping runs.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(5);
/// How long a new connection (TCP, TLS, start-up) may take before the
/// request that needed it is answered [`StoreError::Unavailable`].
const CONNECT_WITHIN: Duration = Duration::from_secs(5);

/// The sessions' columns, in the order [`session_of`] reads them.
macro_rules! sessions {
    () => {
        "SELECT hash, user_name, csrf_token, created, last_used FROM credlog_session"
    };
}

/// The credential store on a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    /// The writer every append of this node goes through (group commit).
    appends: tokio::sync::mpsc::UnboundedSender<writer::Pending>,
    nonce_window: u64,
    retention: Option<Retention>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("nonce_window", &self.nonce_window)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

fn store_error(error: ProjectionError) -> StoreError {
    match error {
        ProjectionError::Store(error) => error,
        ProjectionError::Conflict => StoreError::Backend("unexpected conflict".into()),
    }
}

/// The servers `config` names, `host:port` each, for a message.
fn servers(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let hosts = config.get_hosts().iter().enumerate().map(|(i, host)| {
        let host = match host {
            tokio_postgres::config::Host::Tcp(host) => host.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        };
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        format!("{host}:{port}")
    });
    hosts.collect::<Vec<_>>().join(",")
}

/// A number PostgreSQL keeps as `bigint`.
fn int(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|error| StoreError::backend(format!("{value} is too large to store"), error))
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`),
    /// applies the schema migrations it lacks, and keeps nonces for the
    /// default OAuth 1 timestamp window.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        PostgresStore::open_with_nonce_window(url, credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW)
            .await
    }

    /// [`PostgresStore::open`], keeping nonces `seconds` behind the newest
    /// record: the OAuth 1 timestamp window the server validates with.
    /// The URL's `sslmode` and `sslrootcert` are libpq's ([`tls`]).
    pub async fn open_with_nonce_window(url: &str, seconds: u64) -> Result<Self, StoreError> {
        let url = PostgresUrl::parse(url)
            .map_err(|error| StoreError::backend(error.to_string(), error))?;
        PostgresStore::connect_to(url, seconds).await
    }

    /// [`PostgresStore::open_with_nonce_window`] with a parsed configuration
    /// (TLS as its `ssl_mode` says, the certificate not checked).
    pub async fn connect(config: tokio_postgres::Config, seconds: u64) -> Result<Self, StoreError> {
        PostgresStore::connect_to(PostgresUrl::from_config(config), seconds).await
    }

    /// [`PostgresStore::open_with_nonce_window`] with a URL read. A first
    /// connection is made at once: one that cannot be (the server down,
    /// its certificate refused, no TLS where `sslmode` requires it) fails
    /// here, in one line naming the server, the `sslmode` and the cause.
    pub async fn connect_to(url: PostgresUrl, seconds: u64) -> Result<Self, StoreError> {
        let manager = url
            .manager(ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            })
            .map_err(|error| StoreError::backend(format!("PostgreSQL TLS: {error}"), error))?;
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(CONNECT_WITHIN))
            .build()
            .map_err(|error| StoreError::backend(format!("PostgreSQL pool: {error}"), error))?;
        let mut client = pool.get().await.map_err(|error| {
            let at = format!(
                "PostgreSQL at {} (sslmode={})",
                servers(&url.config),
                url.mode.name()
            );
            match error {
                deadpool_postgres::PoolError::Backend(error) => {
                    StoreError::unavailable(format!("{at}: {}", causes(&error)), error)
                }
                other => StoreError::unavailable(format!("{at}: {}", causes(&other)), other),
            }
        })?;
        schema::migrate(&mut client).await?;
        Ok(PostgresStore {
            appends: writer::start(pool.clone(), seconds),
            pool,
            nonce_window: seconds,
            retention: None,
        })
    }

    /// This store, its housekeeping retiring old `Verified` records as
    /// `retention` says (none: every record stays).
    pub fn retaining(mut self, retention: Option<Retention>) -> Self {
        self.retention = retention;
        self
    }

    /// One round of housekeeping, as a serving node runs it every few
    /// seconds ([`PostgresStore::keep_house`]): the nonces older than the
    /// window behind the newest record are forgotten and, with a
    /// retention, the records older than it allows retired; answers how
    /// many records were retired.
    pub async fn housekeep(&self) -> Result<u64, StoreError> {
        let newest = {
            let client = self.pool.get().await.map_err(pool_error)?;
            retention::newest(&client).await?
        };
        let Some(newest) = newest else {
            return Ok(0);
        };
        self.prune_nonces(newest.time.saturating_sub(self.nonce_window))
            .await?;
        let Some(retention) = self.retention else {
            return Ok(0);
        };
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let retired = retention::retire(&mut client, retention, self.nonce_window)
            .await
            .inspect_err(|error| tracing::warn!(%error, "retiring old Verified records failed"))?;
        if retired > 0 {
            tracing::debug!(retired, "retired old Verified records");
        }
        Ok(retired)
    }

    /// Runs [`PostgresStore::housekeep`] every few seconds until the store
    /// is dropped. A round that fails is left for the next: housekeeping
    /// is never correctness.
    pub fn keep_house(self: &Arc<Self>) {
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                let Some(store) = store.upgrade() else { return };
                let _ = store.housekeep().await;
            }
        });
    }

    /// The throttle with `limits` (sign-in, user codes, client
    /// authentication, device requests), its counts in this database:
    /// every node on it counts the same guesses and requests.
    pub fn throttle(&self, limits: credlog_core::throttle::Limits) -> PostgresThrottle {
        PostgresThrottle {
            pool: self.pool.clone(),
            limits,
            failures: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Writes records another store's log holds, as they were (`credlog
    /// migrate`): each must be the next record here (the first into an
    /// empty database is record 1), or nothing of the batch is written.
    /// The events are applied as an append applies them, and the nonces
    /// below the window behind the batch's last record are pruned.
    pub async fn import(&self, records: Vec<Record>) -> Result<(), StoreError> {
        let Some(last) = records.last() else {
            return Ok(());
        };
        let floor = last.time.saturating_sub(self.nonce_window);
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let txn = locked(&mut client, APPEND_LOCK).await?;
        let changes = Rounds::run(&txn, |p| {
            let mut overlay = Overlay::new(p);
            for record in &records {
                let seq = projections::append(&mut overlay, &[], &record.events, record.time)
                    .map_err(store_error)?
                    .map_err(|refused| StoreError::backend(refused.to_string(), refused))?;
                if seq != record.seq {
                    return Err(StoreError::Backend(format!(
                        "record {} would be record {seq} here: records are missing before it \
                         (a retention without an archive dropped them), or the database was not empty",
                        record.seq
                    )
                    .into()));
                }
            }
            Ok(overlay.into_changes())
        })
        .await??;
        write(&txn, changes).await?;
        prune_in(&txn, floor).await?;
        txn.commit().await.map_err(pg)
    }

    /// Runs the projection rules' reads `read` on a connection.
    async fn read<T>(
        &self,
        read: impl Fn(&Rounds) -> Result<T, ProjectionError> + Send,
    ) -> Result<T, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        Rounds::run(&client, read).await?.map_err(store_error)
    }

    /// Every value of one projection, in key order.
    async fn values(&self, tree: Tree) -> Result<Vec<Vec<u8>>, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let rows = client
            .query(
                "SELECT value FROM credlog_projection WHERE tree = $1 ORDER BY key",
                &[&tree.name()],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Every session kept, by hash.
    async fn all_sessions(
        client: &impl GenericClient,
    ) -> Result<BTreeMap<SessionHash, SessionRecord>, StoreError> {
        let rows = client.query(sessions!(), &[]).await.map_err(pg)?;
        rows.iter()
            .map(|row| {
                let record = session_of(row)?;
                Ok((record.hash, record))
            })
            .collect()
    }
}

/// A session from its row.
fn session_of(row: &tokio_postgres::Row) -> Result<SessionRecord, StoreError> {
    let damaged = || StoreError::Corrupt("a stored session's hash or time is out of range".into());
    let hash: Vec<u8> = row.get(0);
    let hash = SessionHash(hash.try_into().map_err(|_| damaged())?);
    let time = |i: usize| u64::try_from(row.get::<_, i64>(i)).map_err(|_| damaged());
    Ok(SessionRecord {
        hash,
        user: row.get(1),
        csrf_token: row.get(2),
        created: time(3)?,
        last_used: time(4)?,
    })
}

/// Writes an append's changes in its transaction: the log record, then
/// every projection key set or removed, one statement each.
async fn write(
    txn: &deadpool_postgres::Transaction<'_>,
    changes: Changes,
) -> Result<(), StoreError> {
    let (mut seqs, mut records) = (Vec::new(), Vec::new());
    let (mut set_trees, mut set_keys, mut set_values) = (Vec::new(), Vec::new(), Vec::new());
    let (mut gone_trees, mut gone_keys) = (Vec::new(), Vec::new());
    for (tree, entries) in changes {
        for (key, value) in entries {
            match (tree, value) {
                (Tree::Log, Some(record)) => {
                    let seq = <[u8; 8]>::try_from(&key[..]).map(u64::from_be_bytes);
                    seqs.push(int(seq.unwrap_or_default())?);
                    records.push(record);
                }
                (Tree::Log, None) => {}
                (tree, Some(value)) => {
                    set_trees.push(tree.name());
                    set_keys.push(key);
                    set_values.push(value);
                }
                (tree, None) => {
                    gone_trees.push(tree.name());
                    gone_keys.push(key);
                }
            }
        }
    }
    if !seqs.is_empty() {
        let statement = txn
            .prepare_cached(
                "INSERT INTO credlog_log (seq, record) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
            )
            .await
            .map_err(pg)?;
        txn.execute(&statement, &[&seqs, &records])
            .await
            .map_err(pg)?;
    }
    if !set_trees.is_empty() {
        let statement = txn
            .prepare_cached(
                "INSERT INTO credlog_projection (tree, key, value) \
                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[]) \
                 ON CONFLICT (tree, key) DO UPDATE SET value = excluded.value",
            )
            .await
            .map_err(pg)?;
        txn.execute(&statement, &[&set_trees, &set_keys, &set_values])
            .await
            .map_err(pg)?;
    }
    if !gone_trees.is_empty() {
        // One delete by the whole key each, pipelined (see `rounds.rs`:
        // a join with the array could be planned as a scan of the table).
        let statement = txn
            .prepare_cached("DELETE FROM credlog_projection WHERE tree = $1 AND key = $2")
            .await
            .map_err(pg)?;
        let deletes = gone_trees.iter().zip(&gone_keys).map(|(tree, key)| {
            let statement = &statement;
            async move { txn.execute(statement, &[tree, key]).await }
        });
        futures::future::try_join_all(deletes).await.map_err(pg)?;
    }
    Ok(())
}

/// In an append's transaction: raises the nonce floor to `before` and
/// forgets the nonces below it.
async fn prune_in(
    txn: &deadpool_postgres::Transaction<'_>,
    before: u64,
) -> Result<u64, StoreError> {
    let changes = Rounds::run(txn, |p| {
        let mut overlay = Overlay::new(p);
        projections::raise_nonce_floor(&mut overlay, before).map(|()| overlay.into_changes())
    })
    .await?
    .map_err(store_error)?;
    write(txn, changes).await?;
    txn.execute(
        "DELETE FROM credlog_projection WHERE tree = $1 AND key < $2",
        &[&Tree::Nonces.name(), &&before.to_be_bytes()[..]],
    )
    .await
    .map_err(pg)
}

/// Begins a transaction holding the advisory lock `lock`.
async fn locked(
    client: &mut deadpool_postgres::Client,
    lock: i64,
) -> Result<deadpool_postgres::Transaction<'_>, StoreError> {
    let txn = client.transaction().await.map_err(pg)?;
    txn.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
        .await
        .map_err(pg)?;
    Ok(txn)
}

#[async_trait]
impl CredentialStore for PostgresStore {
    async fn append(
        &self,
        preconditions: &[Precondition],
        events: Vec<Event>,
        time: u64,
    ) -> Result<Seq, AppendError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let pending = writer::Pending {
            preconditions: preconditions.to_vec(),
            events,
            time,
            answer,
        };
        let stopped = || StoreError::Backend("the store's writer stopped".into());
        self.appends.send(pending).map_err(|_| stopped())?;
        answered.await.unwrap_or_else(|_| Err(stopped().into()))
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientState>, StoreError> {
        let client_id = client_id.to_owned();
        self.read(move |p| projections::client(p, &client_id)).await
    }

    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientState>, StoreError> {
        let owner = owner.to_owned();
        self.read(move |p| projections::clients_owned_by(p, &owner))
            .await
    }

    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let name = name.to_owned();
        self.read(move |p| projections::user(p, &name)).await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let values = self.values(Tree::Users).await?;
        projections::decode_all(Tree::Users, values.iter().map(Vec::as_slice)).map_err(store_error)
    }

    async fn clients(&self) -> Result<Vec<ClientState>, StoreError> {
        let values = self.values(Tree::Clients).await?;
        projections::decode_all(Tree::Clients, values.iter().map(Vec::as_slice))
            .map_err(store_error)
    }

    async fn grants_of(&self, user: &str) -> Result<Vec<Grant>, StoreError> {
        let user = user.to_owned();
        self.read(move |p| projections::grants_of(p, &user)).await
    }

    async fn projection_value(
        &self,
        tree: Tree,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_vec();
        self.read(move |p| projections::Projection::get(p, tree, &key))
            .await
    }

    async fn credential(&self, id: &str) -> Result<Option<CredentialState>, StoreError> {
        let id = id.to_owned();
        self.read(move |p| projections::credential(p, &id)).await
    }

    async fn nonce_seen(&self, nonce: &NonceKey) -> Result<bool, StoreError> {
        let nonce = nonce.clone();
        self.read(move |p| projections::nonce_seen(p, &nonce)).await
    }

    async fn read_log(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read_page(&client, LOG_PAGE, int(from)?, limit).await
    }

    async fn read_archive(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read_page(&client, ARCHIVE_PAGE, int(from)?, limit).await
    }

    async fn last_seq(&self) -> Result<Seq, StoreError> {
        self.read(projections::last_seq).await
    }

    async fn check_observed(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        // One snapshot of the database for the whole check.
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(pg)?;
        let checked = async {
            let mut stored = Trees::new();
            for &tree in Tree::PROJECTIONS {
                load_tree(&client, tree, &mut stored).await?;
            }
            let floor = projections::nonce_floor(&stored).map_err(store_error)?;
            let mut replay = Replay::new(floor, retention::retired_below(&client).await?);
            let mut next = 1;
            // A page at a time: the log is never all in memory.
            loop {
                let page = read_page(&client, LOG_PAGE, next, PAGE).await?;
                let Some(last) = page.last() else { break };
                next = int(last.seq)? + 1;
                for record in &page {
                    replay.apply(record)?;
                    replayed(record.seq);
                }
            }
            let (rebuilt, count) = replay.finish()?;
            let stored = &stored;
            let mismatches =
                rebuilt.compare(|tree| -> Entries<'_> { stored.owned_entries(tree) }, 100)?;
            Ok(CheckReport {
                records: count,
                snapshot: None,
                mismatches,
            })
        }
        .await;
        client.batch_execute("ROLLBACK").await.map_err(pg)?;
        checked
    }

    async fn sizes(&self, limits: &SessionLimits, now: u64) -> Result<Sizes, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let row = client
            .query_one(
                "SELECT count(*) FROM credlog_projection WHERE tree = $1",
                &[&Tree::Nonces.name()],
            )
            .await
            .map_err(pg)?;
        let nonces = u64::try_from(row.get::<_, i64>(0)).unwrap_or_default();
        let sessions = PostgresStore::all_sessions(&client).await?;
        let live_sessions = sessions
            .values()
            .filter(|session| limits.is_live(session, now))
            .count() as u64;
        Ok(Sizes {
            nonces,
            live_sessions,
        })
    }

    async fn prune_nonces(&self, before_timestamp: u64) -> Result<u64, StoreError> {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let txn = locked(&mut client, APPEND_LOCK).await?;
        let removed = prune_in(&txn, before_timestamp).await?;
        txn.commit().await.map_err(pg)?;
        Ok(removed)
    }

    async fn create_session(
        &self,
        session: SessionRecord,
        limits: &SessionLimits,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let txn = locked(&mut client, SESSION_LOCK).await?;
        let mut kept = PostgresStore::all_sessions(&txn).await?;
        let before: Vec<SessionHash> = kept.keys().copied().collect();
        let hash = session.hash;
        sessions::admit(&mut kept, session, limits);
        let gone: Vec<Vec<u8>> = before
            .iter()
            .filter(|old| !kept.contains_key(old) || **old == hash)
            .map(|old| old.0.to_vec())
            .collect();
        if !gone.is_empty() {
            txn.execute("DELETE FROM credlog_session WHERE hash = ANY($1)", &[&gone])
                .await
                .map_err(pg)?;
        }
        let new = &kept[&hash];
        txn.execute(
            "INSERT INTO credlog_session (hash, user_name, csrf_token, created, last_used) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &&new.hash.0[..],
                &new.user,
                &new.csrf_token,
                &int(new.created)?,
                &int(new.last_used)?,
            ],
        )
        .await
        .map_err(pg)?;
        txn.commit().await.map_err(pg)
    }

    async fn session(
        &self,
        hash: &SessionHash,
        limits: &SessionLimits,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let row = client
            .query_opt(concat!(sessions!(), " WHERE hash = $1"), &[&&hash.0[..]])
            .await
            .map_err(pg)?;
        let session = row.as_ref().map(session_of).transpose()?;
        Ok(session.filter(|session| limits.is_live(session, now)))
    }

    async fn touch_session(&self, hash: &SessionHash, now: u64) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        client
            .execute(
                "UPDATE credlog_session SET last_used = greatest(last_used, $2) WHERE hash = $1",
                &[&&hash.0[..], &int(now)?],
            )
            .await
            .map_err(pg)?;
        Ok(())
    }

    async fn remove_session(&self, hash: &SessionHash) -> Result<bool, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let removed = client
            .execute(
                "DELETE FROM credlog_session WHERE hash = $1",
                &[&&hash.0[..]],
            )
            .await
            .map_err(pg)?;
        Ok(removed > 0)
    }

    async fn remove_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        client
            .execute("DELETE FROM credlog_session WHERE user_name = $1", &[&user])
            .await
            .map_err(pg)
    }
}

/// Every stored entry of `tree`, into `trees`.
async fn load_tree(
    client: &impl GenericClient,
    tree: Tree,
    trees: &mut Trees,
) -> Result<(), StoreError> {
    let rows = client
        .query(
            "SELECT key, value FROM credlog_projection WHERE tree = $1",
            &[&tree.name()],
        )
        .await
        .map_err(pg)?;
    for row in rows {
        let key: Vec<u8> = row.get(0);
        projections::ProjectionMut::insert(trees, tree, &key, row.get(1)).map_err(store_error)?;
    }
    Ok(())
}

/// A page of the live log: up to `$2` records from `$1` on, in order.
const LOG_PAGE: &str = "SELECT seq, record FROM credlog_log WHERE seq >= $1 ORDER BY seq LIMIT $2";
/// The same of the archive.
const ARCHIVE_PAGE: &str =
    "SELECT seq, record FROM credlog_archive WHERE seq >= $1 ORDER BY seq LIMIT $2";

/// Up to `limit` records from `from` on, in order, of the live log
/// ([`LOG_PAGE`]) or the archive ([`ARCHIVE_PAGE`]).
async fn read_page(
    client: &impl GenericClient,
    page: &str,
    from: i64,
    limit: i64,
) -> Result<Vec<Record>, StoreError> {
    let rows = client.query(page, &[&from, &limit]).await.map_err(pg)?;
    rows.iter().map(retention::decoded).collect()
}
