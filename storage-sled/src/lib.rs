//! credlog's credential store on sled: the event log tree, keyed by
//! big-endian sequence number, beside the projection trees (DESIGN.md
//! rules 1 to 3).
//!
//! Appends queue for one writer thread ([`group_commit`]), the only
//! mutator (DESIGN.md rule 6). It checks every append waiting against the
//! projections as the ones before it left them (a refused append writes
//! nothing), writes the batch's records and projection changes at once
//! (one sled batch when only the log changes, as for a signed request;
//! one write-only transaction over the trees that change otherwise), then
//! flushes once and answers them: an append returns once its record is on
//! disk.
//!
//! The nonce window and the counters (the last sequence number, the nonce
//! floor) live in memory, not on disk: `open` rebuilds them from the log's
//! end (the records of the last two timestamp windows), so a signed
//! request costs one log record and nothing else. Old nonces are pruned by
//! a background thread, so the window stays bounded however long the
//! server runs. Login sessions live in trees of their own, outside the log
//! and its projections ([`sessions`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), credlog_core::store::StoreError> {
//! use credlog_core::store::CredentialStore;
//! use credlog_storage_sled::SledStore;
//!
//! let store = SledStore::open("./credlog-data")?;
//! let report = store.check().await?;
//! assert!(report.is_consistent());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod chunks;
pub mod group_commit;
mod live;
pub mod private;
mod pruner;
mod retention;
mod scratch;
pub mod sessions;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use credlog_core::store::projections::{
    self, seq_key, Changes, Entries, Projection, ProjectionError, ProjectionMut, Tree, Trees,
};
use credlog_core::store::{
    AppendError, CheckReport, ClientState, CredentialState, CredentialStore, Event, Grant,
    NonceKey, Precondition, Record, Replayed, Seq, SessionHash, SessionLimits, SessionRecord,
    Sizes, StoreError, UserRecord,
};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use group_commit::GroupCommit;
use live::{Live, Opened};
use pruner::Pruner;
use retention::{Archive, RETIRED_KEY};
pub use retention::{Retention, ARCHIVE_DIR};
use scratch::Scratch;
pub use scratch::SNAPSHOT_DIR;
use sessions::SessionTrees;

/// The key [`CredentialStore::probe`] writes, in sled's default tree.
const PROBE_KEY: &[u8] = b"credlog-probe";

/// Where sled's default tree (outside the log and every projection) keeps
/// the version of the projection rules the stored projections were built by.
const PROJECTIONS_KEY: &[u8] = b"credlog-projections";

/// Where sled's default tree keeps the nonce floor the pruner last raised:
/// open starts the in-memory window at it, or at the newest record's time
/// less the window, whichever is later. Written without a flush of its own
/// (the next batch's carries it): a floor lost in a crash is only lower,
/// and every nonce above it is rebuilt from the log.
const NONCE_FLOOR_KEY: &[u8] = b"credlog-nonce-floor";

/// The projection rules' version: 2 added the grants trees
/// ([`Tree::Grants`], [`Tree::UserGrants`]) and the clients' revocation
/// watermarks ([`Tree::ClientWatermarks`]); 3 keeps [`Tree::Meta`] and
/// [`Tree::Nonces`] in memory (their trees on disk are emptied); 4 indexes
/// device codes by expiry ([`Tree::DeviceExpiry`]), so that those nobody
/// approved leave the projections once expired. A data directory built by
/// an older one is migrated when opened: its projections rebuilt from the
/// log (before 4), its in-memory trees' copies on disk removed (before 3).
const PROJECTIONS_VERSION: u64 = 4;

/// The trees this backend keeps in memory and rebuilds from the log on
/// open (DESIGN.md rule 6).
fn in_memory(tree: Tree) -> bool {
    matches!(tree, Tree::Meta | Tree::Nonces)
}

/// The credential store on sled.
pub struct SledStore {
    // Declared first, dropped first: the pruner and the flusher stop and
    // flush before the database closes.
    pruner: Option<Pruner>,
    housekeeping: Housekeeping,
    commit: GroupCommit,
    live: Arc<Live>,
    archive: Archive,
    path: PathBuf,
    // Declared last, dropped last: waits until sled has let go of the
    // directory, so that it can be opened again at once.
    _released: LockReleased,
}

/// sled releases a directory's lock from its own background thread, a
/// little after the database is dropped; until then, opening the
/// directory again (a restart in the same process) fails as `Locked`.
/// Dropping this waits, up to two seconds, until the lock can be taken.
struct LockReleased {
    db_file: PathBuf,
}

impl Drop for LockReleased {
    fn drop(&mut self) {
        wait_for_lock(&self.db_file, std::time::Duration::from_secs(2));
    }
}

/// Waits, up to `limit`, until sled's lock on `db_file` can be taken.
pub(crate) fn wait_for_lock(db_file: &Path, limit: std::time::Duration) {
    use fs2::FileExt;
    let Ok(file) = std::fs::File::open(db_file) else {
        return;
    };
    let deadline = std::time::Instant::now() + limit;
    while file.try_lock_exclusive().is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let _ = FileExt::unlock(&file);
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The database and its trees, in [`Tree::ALL`] order, and the trees kept
/// in memory ([`in_memory`]).
pub(crate) struct SledTrees {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    memory: RwLock<Trees>,
    /// Held by a retirement pass, and by `check` while it replays: the
    /// log and the retirement mark change together under it.
    retiring: Mutex<()>,
}

impl SledTrees {
    pub(crate) fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
    }

    fn memory(&self) -> RwLockReadGuard<'_, Trees> {
        self.memory.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn memory_mut(&self) -> RwLockWriteGuard<'_, Trees> {
        self.memory.write().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn backend(error: sled::Error) -> StoreError {
    match error {
        sled::Error::Corruption { at: Some(at), .. } => {
            StoreError::Corrupt(format!("sled found damaged data at {at:?}"))
        }
        sled::Error::Corruption { at: None, .. } => {
            StoreError::Corrupt("sled found damaged data".into())
        }
        // A full disk, a read-only directory: sled keeps the error until
        // the database is opened again ([`live`]); try again later.
        sled::Error::Io(error) => {
            StoreError::unavailable(format!("the data directory failed: {error}"), error)
        }
        other => StoreError::backend(other.to_string(), other),
    }
}

impl SledStore {
    /// Opens (or creates) the store in `path`, keeping nonces for the default
    /// OAuth 1 timestamp window.
    ///
    /// Fails at once with [`StoreError::Locked`] when another process holds it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        SledStore::open_with_nonce_window(path, credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW)
    }

    /// Opens the store, keeping nonces `seconds` behind the newest record:
    /// the OAuth 1 timestamp window the server validates with.
    pub fn open_with_nonce_window(
        path: impl AsRef<Path>,
        seconds: u64,
    ) -> Result<Self, StoreError> {
        SledStore::open_observed(path, seconds, &|_, _| {})
    }

    /// [`SledStore::open_with_nonce_window`], telling `rebuilding` of each
    /// record replayed (its sequence number, and the last one's) when the
    /// projections must be rebuilt from the log first: for a directory of
    /// a long log, that can take a while, and a command shows its progress.
    pub fn open_observed(
        path: impl AsRef<Path>,
        seconds: u64,
        rebuilding: &dyn Fn(Seq, Seq),
    ) -> Result<Self, StoreError> {
        SledStore::open_retaining(path, seconds, None, Usage::Serving, rebuilding)
    }

    /// [`SledStore::open_observed`], with a retention for `Verified`
    /// records (DESIGN.md rule 7; `None` keeps them for ever), for a
    /// server or a command that reads once ([`Usage`]).
    pub fn open_retaining(
        path: impl AsRef<Path>,
        seconds: u64,
        retention: Option<Retention>,
        usage: Usage,
        rebuilding: &dyn Fn(Seq, Seq),
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        private::prepare(&path).map_err(|error| unprepared(&path, error))?;
        let opened = open_trees(&path, seconds, usage, rebuilding)?;
        let live = Arc::new(Live::new(opened, &path, seconds, usage));
        let commit = GroupCommit::start(Arc::clone(&live))
            .map_err(|e| StoreError::backend(e.to_string(), e))?;
        let archive = Archive::in_data_dir(&path);
        let housekeeping = Housekeeping {
            window: seconds,
            retention: retention.map(|retention| (retention, archive.clone())),
        };
        let pruner = Pruner::start(Arc::clone(&live), housekeeping.clone())
            .map_err(|e| StoreError::backend(e.to_string(), e))?;
        Ok(SledStore {
            pruner: Some(pruner),
            commit,
            live,
            archive,
            housekeeping,
            _released: LockReleased {
                db_file: path.join("db"),
            },
            path,
        })
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Does at once what a background thread does every few seconds:
    /// prunes the nonces outside the window and, with a retention, retires
    /// the `Verified` records older than it. Answers how many records left
    /// the live log.
    pub fn housekeep(&self) -> Result<u64, StoreError> {
        pruner::prune_once(&*self.live.trees()?, &self.housekeeping)
    }
}

/// Opens sled in `path` (prepared) and its trees, brings the projections
/// up to date and rebuilds the in-memory trees (nonces kept `seconds`).
pub(crate) fn open_trees(
    path: &Path,
    seconds: u64,
    usage: Usage,
    rebuilding: &dyn Fn(Seq, Seq),
) -> Result<Opened, StoreError> {
    let db = open_db(path, usage)?;
    // The files sled has just made, with the process umask.
    private::tighten(path).map_err(|error| unprepared(path, error))?;
    let trees = Tree::ALL
        .iter()
        .map(|tree| db.open_tree(tree.name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let sessions = SessionTrees::open(&db)?;
    let trees = Arc::new(SledTrees {
        db,
        trees,
        memory: RwLock::new(Trees::new()),
        retiring: Mutex::new(()),
    });
    trees.bring_projections_up_to_date(rebuilding)?;
    trees.rebuild_memory(seconds)?;
    Ok(Opened {
        trees,
        sessions: Arc::new(sessions),
    })
}

impl SledStore {
    fn check_sled(
        &self,
        from_snapshot: bool,
        replayed: Replayed<'_>,
    ) -> Result<CheckReport, StoreError> {
        let trees = self.live.trees()?;
        let _only = trees.retiring.lock().unwrap_or_else(|e| e.into_inner());
        let retired = trees.stored_u64(RETIRED_KEY, "the retirement mark")?;
        let floor = projections::nonce_floor(&*trees).map_err(store_error)?;
        let scratch = Scratch::open(&self.path, from_snapshot)?;
        scratch.prune_nonces(floor)?;
        let from = scratch.from_snapshot.map_or(1, |seq| seq + 1);
        let mut last = from - 1;
        let records = trees.records_from(from).inspect(|record| {
            if let Ok(record) = record {
                last = record.seq;
                replayed(record.seq);
            }
        });
        let records = projections::replay_through(
            records,
            floor,
            retired,
            from,
            &scratch,
            |changes| scratch.write(changes),
            REPLAY_BUDGET,
        )?;
        let memory = trees.memory();
        let stored = |tree| -> Entries<'_> {
            if in_memory(tree) {
                return memory.owned_entries(tree);
            }
            sled_entries(trees.tree(tree))
        };
        let mismatches = projections::compare_trees(|tree| scratch.entries(tree), stored, 100)?;
        let snapshot = scratch.from_snapshot;
        if mismatches.is_empty() {
            scratch.keep_as_snapshot(last)?;
        }
        Ok(CheckReport {
            records,
            snapshot,
            mismatches,
        })
    }
}

/// What the background housekeeping runs with: the nonce window, and the
/// retention with the archive it moves records to.
#[derive(Clone)]
pub(crate) struct Housekeeping {
    pub(crate) window: u64,
    pub(crate) retention: Option<(Retention, Archive)>,
}

fn unprepared(path: &Path, error: std::io::Error) -> StoreError {
    let message = format!(
        "cannot make the data directory {} private: {error}",
        path.display()
    );
    StoreError::backend(message, error)
}

/// Who opens the store, which decides how much of it sled keeps in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A server, looking credentials up for as long as it runs: sled's
    /// own cache (1 GiB).
    Serving,
    /// A command that reads what it needs once (`credlog check`, `log`,
    /// `revoke`, ...): a small cache. sled's memory grows past its cache
    /// with what it has read (its issue 1093: a page read and evicted
    /// stays in memory as a stub); with sled's default, `check` of a
    /// 10M-event log peaked at 1.2 GiB, with this at 0.6 GiB.
    Once,
}

/// sled's cache for [`Usage::Once`].
const ONCE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Opens sled, turning "another process holds the lock" into a clear
/// error. A damaged directory can make sled 0.34 panic on open; that is
/// caught and reported too.
fn open_db(path: &Path, usage: Usage) -> Result<sled::Db, StoreError> {
    let mut config = sled::Config::new()
        .path(path)
        .mode(sled::Mode::HighThroughput);
    if usage == Usage::Once {
        config = config.cache_capacity(ONCE_CACHE_BYTES);
    }
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(sled::Error::Io(error))) if error.to_string().contains("could not acquire lock") => {
            Err(StoreError::Locked {
                path: path.display().to_string(),
            })
        }
        // sled reads a damaged configuration as one from an old version.
        Ok(Err(sled::Error::Unsupported(reason))) => Err(StoreError::Corrupt(format!(
            "{} cannot be opened ({reason}); restore it from a backup",
            path.display()
        ))),
        Ok(Err(error)) => Err(backend(error)),
        Err(_) => Err(StoreError::Corrupt(format!(
            "{} could not be opened",
            path.display()
        ))),
    }
}

impl Projection for SledTrees {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        if in_memory(tree) {
            return self.memory().get(tree, key);
        }
        let value = self.tree(tree).get(key).map_err(backend)?;
        Ok(value.map(|v| v.to_vec()))
    }
}

/// The records of one log entry as sled's iterator gives it ([`chunks`]),
/// or the one error reading or unpacking it met.
fn entry_records(entry: sled::Result<(sled::IVec, sled::IVec)>) -> Vec<Result<Record, StoreError>> {
    let records = entry
        .map_err(backend)
        .and_then(|(key, bytes)| chunks::unpack(&key, &bytes));
    match records {
        Ok(records) => records.into_iter().map(Ok).collect(),
        Err(error) => vec![Err(error)],
    }
}

/// One tree's changes as a sled batch: each key set or removed.
pub(crate) fn batch_of(
    entries: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (key, value) in entries {
        match value {
            Some(value) => batch.insert(key, value),
            None => batch.remove(key),
        }
    }
    batch
}

/// A sled tree's entries, in key order.
pub(crate) fn sled_entries(tree: &sled::Tree) -> Entries<'_> {
    Box::new(tree.iter().map(|entry| {
        entry
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .map_err(backend)
    }))
}

/// How many events' changes `check` gathers in memory before it writes
/// them to its scratch database: some tens of megabytes at most.
const REPLAY_BUDGET: usize = 32_768;

pub(crate) fn store_error(error: ProjectionError) -> StoreError {
    match error {
        ProjectionError::Store(error) => error,
        ProjectionError::Conflict => StoreError::Backend("a read met a conflict".into()),
    }
}

impl SledTrees {
    /// Migrates a data directory an older version of the projection rules
    /// built (DESIGN.md rule 6): before 4, every projection is rebuilt from
    /// the log (a tree those rules did not have would be empty, and
    /// `check` would find it so); before 3, the copies of the in-memory
    /// trees on disk go. Runs before the writer starts, so nothing appends
    /// meanwhile, and says what it did in one line.
    fn bring_projections_up_to_date(
        &self,
        rebuilding: &dyn Fn(Seq, Seq),
    ) -> Result<(), StoreError> {
        let version = self.stored_u64(PROJECTIONS_KEY, "the projections' version")?;
        if version >= PROJECTIONS_VERSION {
            return Ok(());
        }
        let last = self.newest()?.map_or(0, |record| record.seq);
        if version < 4 && last > 0 {
            let floor = self
                .tree(Tree::Meta)
                .get(b"nonce_floor")
                .map_err(backend)?
                .and_then(|bytes| bytes.as_ref().try_into().ok().map(u64::from_be_bytes))
                .unwrap_or(0);
            let replayed = self.records_from(1).inspect(|record| {
                if let Ok(record) = record {
                    rebuilding(record.seq, last);
                }
            });
            let (rebuilt, _) = Trees::replay(replayed, floor, 0)?;
            for &tree in Tree::PROJECTIONS.iter().filter(|tree| !in_memory(**tree)) {
                let on_disk = self.tree(tree);
                on_disk.clear().map_err(backend)?;
                for (key, value) in rebuilt.entries(tree) {
                    on_disk.insert(key, value).map_err(backend)?;
                }
            }
        }
        for tree in [Tree::Meta, Tree::Nonces] {
            self.tree(tree).clear().map_err(backend)?;
        }
        if last > 0 {
            tracing::info!(
                records = last,
                from = version,
                to = PROJECTIONS_VERSION,
                rebuilt = version < 4,
                "migrated the data directory's projections to this version"
            );
        }
        self.db
            .insert(PROJECTIONS_KEY, &PROJECTIONS_VERSION.to_be_bytes())
            .map_err(backend)?;
        self.flush()
    }

    /// A big-endian number under `key` in sled's default tree (0 when
    /// absent); `what` names it when it is not 8 bytes.
    pub(crate) fn stored_u64(&self, key: &[u8], what: &str) -> Result<u64, StoreError> {
        match self.db.get(key).map_err(backend)? {
            Some(bytes) => bytes
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt(format!("{what} is not 8 bytes"))),
            None => Ok(0),
        }
    }

    /// The log's newest record.
    pub(crate) fn newest(&self) -> Result<Option<Record>, StoreError> {
        match self.tree(Tree::Log).last().map_err(backend)? {
            Some((key, bytes)) => Ok(chunks::unpack(&key, &bytes)?.pop()),
            None => Ok(None),
        }
    }

    /// Rebuilds the in-memory trees from the log's end: the counters, and
    /// the nonces `window` seconds behind the newest record.
    fn rebuild_memory(&self, window: u64) -> Result<(), StoreError> {
        let newest_first = self.tree(Tree::Log).iter().rev().flat_map(|entry| {
            let mut records = entry_records(entry);
            records.reverse();
            records
        });
        let pruned = self.stored_u64(NONCE_FLOOR_KEY, "the stored nonce floor")?;
        // The walk back stops by record time, led by the newest record's
        // time alone; the floor a prune raised is applied after. That floor
        // is later only when the clock was stepped back since, and then
        // older records can hold later nonces: stopping at it forgot them,
        // and a used request was accepted again once the clock came back.
        let mut memory = projections::window_from_tail(newest_first, window, 0)?;
        memory.prune_nonces(pruned);
        projections::raise_nonce_floor(&mut memory, pruned).map_err(store_error)?;
        *self.memory_mut() = memory;
        Ok(())
    }

    /// Every value of a projection tree, in key order.
    fn values(&self, tree: Tree) -> Result<Vec<sled::IVec>, StoreError> {
        self.tree(tree)
            .iter()
            .values()
            .collect::<Result<_, _>>()
            .map_err(backend)
    }

    /// The log's records from `from` on, starting in the entry that holds
    /// it ([`chunks`]).
    fn records_from(&self, from: Seq) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        let log = self.tree(Tree::Log);
        let start = match log.range(..=seq_key(from)).next_back() {
            Some(Ok((key, _))) => key.to_vec(),
            _ => seq_key(from).to_vec(),
        };
        // A retirement pass may rewrite an entry under a later key while
        // this walks: a record seen twice is skipped.
        let mut next = from;
        log.range(start..).flat_map(move |entry| {
            let mut records = entry_records(entry);
            records.retain(|record| match record {
                Ok(record) if record.seq < next => false,
                Ok(record) => {
                    next = record.seq + 1;
                    true
                }
                Err(_) => true,
            });
            records
        })
    }

    /// Writes one batch's changes: those of the trees on disk at once (one
    /// sled batch when only one tree changes, as for a signed request's
    /// log record; one write-only transaction over the trees that change
    /// otherwise), then those of the in-memory trees. A nonce below the
    /// floor the pruner raised meanwhile is already forgotten, as a prune
    /// would forget it.
    pub(crate) fn write(&self, changes: Changes) -> Result<(), StoreError> {
        let mut on_disk = Vec::new();
        let mut held = Vec::new();
        for (tree, entries) in changes {
            if in_memory(tree) {
                held.push((tree, entries));
                continue;
            }
            let batch = if tree == Tree::Log {
                // Only appended to: every value is a new record, in order.
                let mut batch = sled::Batch::default();
                if let Some(first) = entries.keys().next().cloned() {
                    let records: Vec<Vec<u8>> = entries.into_values().flatten().collect();
                    batch.insert(first, chunks::pack(&records));
                }
                batch
            } else {
                batch_of(entries)
            };
            on_disk.push((self.tree(tree), batch));
        }
        match on_disk.len() {
            0 => {}
            1 => {
                let (tree, batch) = on_disk.remove(0);
                tree.apply_batch(batch).map_err(backend)?;
            }
            _ => {
                let trees: Vec<&sled::Tree> = on_disk.iter().map(|(tree, _)| *tree).collect();
                trees
                    .as_slice()
                    .transaction(|view| {
                        for (tree, (_, batch)) in view.iter().zip(&on_disk) {
                            tree.apply_batch(batch)?;
                        }
                        Ok::<_, ConflictableTransactionError<()>>(())
                    })
                    .map_err(|error| match error {
                        TransactionError::Storage(error) => backend(error),
                        TransactionError::Abort(()) => {
                            StoreError::Backend("a batch's write aborted".into())
                        }
                    })?;
            }
        }
        let mut memory = self.memory_mut();
        let floor = projections::nonce_floor(&*memory).map_err(store_error)?;
        for (tree, entries) in held {
            for (key, value) in entries {
                if tree == Tree::Nonces && projections::nonce_key_timestamp(&key) < floor {
                    continue;
                }
                match value {
                    Some(value) => memory.insert(tree, &key, value),
                    None => memory.remove(tree, &key),
                }
                .map_err(store_error)?;
            }
        }
        Ok(())
    }

    /// Makes everything written so far durable.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(|error| match error {
            sled::Error::Io(error) => StoreError::unavailable(
                format!("writing to the data directory failed: {error}"),
                error,
            ),
            other => StoreError::backend(format!("flush failed: {other}"), other),
        })
    }

    /// Writes the probe key (the time in nanoseconds, so each probe
    /// changes a page) and flushes.
    fn probe(&self) -> Result<(), StoreError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        self.db
            .insert(PROBE_KEY, &now.to_be_bytes())
            .map_err(backend)?;
        self.flush()
    }

    /// Removes nonces below `timestamp` and raises the floor; answers how many went.
    fn prune_nonces(&self, timestamp: u64) -> Result<u64, StoreError> {
        let mut memory = self.memory_mut();
        let removed = memory.prune_nonces(timestamp);
        projections::raise_nonce_floor(&mut *memory, timestamp).map_err(store_error)?;
        let floor = projections::nonce_floor(&*memory).map_err(store_error)?;
        self.db
            .insert(NONCE_FLOOR_KEY, &floor.to_be_bytes())
            .map_err(backend)?;
        Ok(removed)
    }
}

#[async_trait]
impl CredentialStore for SledStore {
    async fn append(
        &self,
        preconditions: &[Precondition],
        events: Vec<Event>,
        time: u64,
    ) -> Result<Seq, AppendError> {
        self.commit.append(preconditions, events, time).await
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientState>, StoreError> {
        projections::client(&*self.live.trees()?, client_id).map_err(store_error)
    }

    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientState>, StoreError> {
        projections::clients_owned_by(&*self.live.trees()?, owner).map_err(store_error)
    }

    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        projections::user(&*self.live.trees()?, name).map_err(store_error)
    }

    async fn projection_value(
        &self,
        tree: Tree,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        projections::Projection::get(&*self.live.trees()?, tree, key).map_err(store_error)
    }

    async fn credential(&self, id: &str) -> Result<Option<CredentialState>, StoreError> {
        projections::credential(&*self.live.trees()?, id).map_err(store_error)
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let values = self.live.trees()?.values(Tree::Users)?;
        projections::decode_all(Tree::Users, values.iter().map(|v| &v[..])).map_err(store_error)
    }

    async fn clients(&self) -> Result<Vec<ClientState>, StoreError> {
        let values = self.live.trees()?.values(Tree::Clients)?;
        projections::decode_all(Tree::Clients, values.iter().map(|v| &v[..])).map_err(store_error)
    }

    async fn grants_of(&self, user: &str) -> Result<Vec<Grant>, StoreError> {
        projections::grants_of(&*self.live.trees()?, user).map_err(store_error)
    }

    async fn nonce_seen(&self, nonce: &NonceKey) -> Result<bool, StoreError> {
        projections::nonce_seen(&*self.live.trees()?, nonce).map_err(store_error)
    }

    async fn read_log(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.live.trees()?.records_from(from).take(limit).collect()
    }

    async fn read_archive(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        let archive = self.archive.clone();
        tokio::task::spawn_blocking(move || archive.read(from, limit))
            .await
            .map_err(|e| {
                StoreError::backend(format!("reading the archive did not finish: {e}"), e)
            })?
    }

    async fn last_seq(&self) -> Result<Seq, StoreError> {
        projections::last_seq(&*self.live.trees()?).map_err(store_error)
    }

    /// Replays the whole log into a rebuild on disk (memory holds a few
    /// tens of megabytes of it at a time), compares, and keeps the rebuild
    /// as the snapshot when they agree.
    async fn check_observed(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError> {
        self.check_sled(false, replayed)
    }

    /// Replays onto a copy of the snapshot only the records after it.
    async fn check_from_snapshot(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError> {
        self.check_sled(true, replayed)
    }

    async fn prune_nonces(&self, before_timestamp: u64) -> Result<u64, StoreError> {
        self.live.trees()?.prune_nonces(before_timestamp)
    }

    /// The nonce window is counted in memory; sessions by walking their
    /// tree, once a scrape, on a blocking thread rather than the runtime's.
    async fn sizes(&self, limits: &SessionLimits, now: u64) -> Result<Sizes, StoreError> {
        let (trees, sessions, limits) = (self.live.trees()?, self.live.sessions()?, *limits);
        tokio::task::spawn_blocking(move || {
            Ok(Sizes {
                nonces: trees.memory().len(Tree::Nonces) as u64,
                live_sessions: sessions.live(&limits, now)?,
            })
        })
        .await
        .map_err(|e| StoreError::backend(format!("counting the store's sizes failed: {e}"), e))?
    }

    async fn create_session(
        &self,
        session: SessionRecord,
        limits: &SessionLimits,
    ) -> Result<(), StoreError> {
        self.live.sessions()?.create(session, limits)?;
        self.commit.flush().await
    }

    async fn session(
        &self,
        hash: &SessionHash,
        limits: &SessionLimits,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let session = self.live.sessions()?.get(hash)?;
        Ok(session.filter(|session| limits.is_live(session, now)))
    }

    async fn touch_session(&self, hash: &SessionHash, now: u64) -> Result<(), StoreError> {
        self.live.sessions()?.touch(hash, now)
    }

    async fn remove_session(&self, hash: &SessionHash) -> Result<bool, StoreError> {
        let removed = self.live.sessions()?.remove(hash)?;
        if removed {
            self.commit.flush().await?;
        }
        Ok(removed)
    }

    async fn remove_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        let removed = self.live.sessions()?.remove_user(user)?;
        if removed > 0 {
            self.commit.flush().await?;
        }
        Ok(removed)
    }

    /// Reads the last sequence number, then writes one key of sled's
    /// default tree (outside every projection and the log, so `check` and
    /// replays never see it) and flushes: sled writes reach the disk only
    /// when flushed, so a full or read-only disk shows here as it would on
    /// the next append.
    async fn probe(&self) -> Result<(), StoreError> {
        self.last_seq().await?;
        let live = Arc::clone(&self.live);
        tokio::task::spawn_blocking(move || {
            live.recover()?;
            let probed = live.trees()?.probe();
            if let Err(error) = &probed {
                live.note(error);
            }
            probed
        })
        .await
        .map_err(|e| StoreError::backend(format!("the probe did not finish: {e}"), e))?
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.pruner.take();
        if let Ok(trees) = self.live.trees() {
            let _ = trees.db.flush();
        }
    }
}
