//! Where `check` rebuilds the projections, and the snapshot it keeps.
//!
//! The rebuild goes to a redb database in the data directory (private, as
//! the directory is: the projections hold client secrets), so that a
//! replay of a long log holds on disk, not in memory, what it rebuilds
//! ([`credlog_core::store::projections::replay_through`]).
//!
//! Snapshots (DESIGN.md rule 7): a check that finds the projections equal
//! to its replay keeps its rebuild as the snapshot, at the last sequence
//! number it replayed. The next check starts from a copy of it and
//! replays only the records after it; `check --full` replays everything
//! (and so also reads every record the snapshot stands for). The snapshot
//! replaces its predecessor by renames: a crash between them leaves no
//! snapshot, and the next check replays from the start.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};

use credlog_core::store::projections::{Changes, Entries, Projection, ProjectionError, Tree};
use credlog_core::store::{Seq, StoreError};
use redb::{Durability, TableDefinition};

/// The rebuild's directory, under the data directory.
const SCRATCH_DIR: &str = "check-scratch";
/// The snapshot's directory, under the data directory.
pub const SNAPSHOT_DIR: &str = "snapshot";
/// Its predecessor while it is replaced.
const OLD_SNAPSHOT_DIR: &str = "snapshot.old";
/// The database file in either directory.
const FILE: &str = "projections.redb";
/// What the snapshot says of itself.
const ABOUT: TableDefinition<&str, u64> = TableDefinition::new("snapshot");
/// The last sequence number the snapshot stands for.
const SNAPSHOT_SEQ: &str = "seq";
/// And the version of the projection rules that built it: a snapshot by
/// other rules is not what a replay by these would rebuild, and is passed
/// over.
const SNAPSHOT_RULES: &str = "rules";

/// The database's page cache: the replay's reads of recent state mostly
/// hit the changes gathered in memory, and the compare reads in order.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;
type ReadTable = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;

fn table(tree: Tree) -> Table {
    TableDefinition::new(tree.name())
}

/// A rebuild under way; removed when dropped unless kept as the snapshot.
pub(crate) struct Scratch {
    db: Option<redb::Database>,
    /// The trees as the last write left them, opened once per write.
    read: RefCell<Vec<ReadTable>>,
    data: PathBuf,
    /// The sequence number of the snapshot it started from.
    pub(crate) from_snapshot: Option<Seq>,
}

/// A failure of the rebuild's database.
fn failed(error: impl Into<redb::Error>) -> StoreError {
    let error = error.into();
    StoreError::backend(format!("the check's rebuild failed: {error}"), error)
}

impl Scratch {
    /// An empty rebuild, or (with `from_snapshot`, when the data directory
    /// has one by these projection rules) a copy of the snapshot.
    pub(crate) fn open(data: &Path, from_snapshot: bool) -> Result<Scratch, StoreError> {
        let path = data.join(SCRATCH_DIR);
        let io = |what: &str, error: std::io::Error| {
            StoreError::backend(format!("cannot {what} {}: {error}", path.display()), error)
        };
        match fs::remove_dir_all(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("remove", error))
            }
            _ => {}
        }
        let _ = fs::remove_dir_all(data.join(OLD_SNAPSHOT_DIR));
        crate::private::prepare(&path).map_err(|e| io("create", e))?;
        let snapshot = data.join(SNAPSHOT_DIR).join(FILE);
        let copied = from_snapshot && snapshot.exists();
        if copied {
            fs::copy(&snapshot, path.join(FILE)).map_err(|e| io("copy the snapshot to", e))?;
        }
        let db = redb::Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path.join(FILE))
            .map_err(failed)?;
        // The projections hold client secrets: the file is as private as
        // the data directory's own.
        crate::private::tighten(&path).map_err(|e| io("make private", e))?;
        let mut scratch = Scratch {
            db: Some(db),
            read: RefCell::new(Vec::new()),
            data: data.to_path_buf(),
            from_snapshot: None,
        };
        scratch.transaction(|txn| {
            for tree in Tree::ALL {
                txn.open_table(table(tree)).map_err(failed)?;
            }
            txn.open_table(ABOUT).map_err(failed)?;
            Ok(())
        })?;
        if copied {
            let about = scratch.about()?;
            let rules = about(SNAPSHOT_RULES);
            if rules != Some(crate::PROJECTIONS_VERSION) {
                drop(scratch);
                return Scratch::open(data, false);
            }
            scratch.from_snapshot = Some(about(SNAPSHOT_SEQ).ok_or_else(|| {
                StoreError::Corrupt(
                    "the snapshot's sequence number is missing; run credlog check --full".into(),
                )
            })?);
        }
        Ok(scratch)
    }

    fn db(&self) -> &redb::Database {
        self.db
            .as_ref()
            .expect("a scratch database is open until kept")
    }

    /// What the snapshot table holds, by name.
    fn about(&self) -> Result<impl Fn(&str) -> Option<u64>, StoreError> {
        let read = self.db().begin_read().map_err(failed)?;
        let about = read.open_table(ABOUT).map_err(failed)?;
        Ok(move |name: &str| about.get(name).ok().flatten().map(|v| v.value()))
    }

    /// Runs `write` in one write transaction, committed without waiting
    /// for the disk (a crash during a check loses only the check).
    fn transaction(
        &self,
        write: impl FnOnce(&redb::WriteTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut txn = self.db().begin_write().map_err(failed)?;
        txn.set_durability(Durability::Eventual);
        write(&txn)?;
        txn.commit().map_err(failed)?;
        self.read.borrow_mut().clear();
        Ok(())
    }

    /// Removes the nonces below `floor`: a snapshot holds those of its
    /// own time's window.
    pub(crate) fn prune_nonces(&self, floor: u64) -> Result<(), StoreError> {
        let floor = floor.to_be_bytes();
        self.transaction(|txn| {
            let mut nonces = txn.open_table(table(Tree::Nonces)).map_err(failed)?;
            nonces
                .retain_in(..&floor[..], |_, _| false)
                .map_err(failed)?;
            Ok(())
        })
    }

    /// Writes one flush of the replay's changes.
    pub(crate) fn write(&self, changes: Changes) -> Result<(), StoreError> {
        self.transaction(|txn| {
            for (tree, entries) in changes {
                let mut table = txn.open_table(table(tree)).map_err(failed)?;
                for (key, value) in entries {
                    match value {
                        Some(value) => table.insert(&key[..], &value[..]),
                        None => table.remove(&key[..]),
                    }
                    .map_err(failed)?;
                }
            }
            Ok(())
        })
    }

    /// A rebuilt tree's entries, in key order.
    pub(crate) fn entries(&self, tree: Tree) -> Entries<'_> {
        let range = self
            .db()
            .begin_read()
            .map_err(failed)
            .and_then(|read| read.open_table(table(tree)).map_err(failed))
            .and_then(|table| table.range::<&[u8]>(..).map_err(failed));
        match range {
            Ok(range) => Box::new(range.map(|entry| {
                entry
                    .map(|(k, v)| (k.value().to_vec(), v.value().to_vec()))
                    .map_err(failed)
            })),
            Err(error) => Box::new(std::iter::once(Err(error))),
        }
    }

    /// Keeps this rebuild, which stands for the log up to `seq`, as the
    /// data directory's snapshot, in place of the one before.
    pub(crate) fn keep_as_snapshot(mut self, seq: Seq) -> Result<(), StoreError> {
        let mut txn = self.db().begin_write().map_err(failed)?;
        txn.set_durability(Durability::Immediate);
        {
            let mut about = txn.open_table(ABOUT).map_err(failed)?;
            about.insert(SNAPSHOT_SEQ, seq).map_err(failed)?;
            let rules = crate::PROJECTIONS_VERSION;
            about.insert(SNAPSHOT_RULES, rules).map_err(failed)?;
        }
        txn.commit().map_err(failed)?;
        self.read.borrow_mut().clear();
        drop(self.db.take());
        let (scratch, snapshot, old) = (
            self.data.join(SCRATCH_DIR),
            self.data.join(SNAPSHOT_DIR),
            self.data.join(OLD_SNAPSHOT_DIR),
        );
        let replaced = (|| {
            if snapshot.exists() {
                fs::rename(&snapshot, &old)?;
            }
            fs::rename(&scratch, &snapshot)?;
            let _ = fs::remove_dir_all(&old);
            fs::File::open(&self.data)?.sync_all()
        })();
        replaced.map_err(|error| {
            let message = format!(
                "cannot keep the check's rebuild as the snapshot in {}: {error}",
                snapshot.display()
            );
            StoreError::backend(message, error)
        })
    }
}

impl Projection for Scratch {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        let mut read = self.read.borrow_mut();
        if read.is_empty() {
            let txn = self.db().begin_read().map_err(failed)?;
            for tree in Tree::ALL {
                read.push(txn.open_table(table(tree)).map_err(failed)?);
            }
        }
        let table = &read[tree.index()];
        let value = table.get(key).map_err(failed)?;
        Ok(value.map(|v| v.value().to_vec()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.db.take().is_some() {
            self.read.borrow_mut().clear();
            let _ = fs::remove_dir_all(self.data.join(SCRATCH_DIR));
        }
    }
}
