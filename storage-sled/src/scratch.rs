//! Where `check` rebuilds the projections, and the snapshot it keeps.
//!
//! The rebuild goes to a sled database in the data directory (private, as
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

use std::fs;
use std::path::{Path, PathBuf};

use credlog_core::store::projections::{Changes, Entries, Projection, ProjectionError, Tree};
use credlog_core::store::{Seq, StoreError};

use crate::backend;

/// The rebuild's directory, under the data directory.
const SCRATCH_DIR: &str = "check-scratch";
/// The snapshot's directory, under the data directory.
pub const SNAPSHOT_DIR: &str = "snapshot";
/// Its predecessor while it is replaced.
const OLD_SNAPSHOT_DIR: &str = "snapshot.old";
/// Where the snapshot's default tree keeps the last sequence number it
/// stands for.
const SNAPSHOT_SEQ: &[u8] = b"credlog-snapshot-seq";
/// And the version of the projection rules that built it: a snapshot by
/// other rules is not what a replay by these would rebuild, and is passed
/// over.
const SNAPSHOT_RULES: &[u8] = b"credlog-snapshot-rules";

/// sled's cache for the rebuild: the replay's reads of recent state mostly
/// hit the changes gathered in memory.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// A rebuild under way; removed when dropped unless kept as the snapshot.
pub(crate) struct Scratch {
    db: Option<sled::Db>,
    trees: Vec<sled::Tree>,
    data: PathBuf,
    /// The sequence number of the snapshot it started from.
    pub(crate) from_snapshot: Option<Seq>,
}

impl Scratch {
    /// An empty rebuild, or (with `from_snapshot`, when the data directory
    /// has one) a copy of the snapshot.
    pub(crate) fn open(data: &Path, from_snapshot: bool) -> Result<Scratch, StoreError> {
        let path = data.join(SCRATCH_DIR);
        let failed = |what: &str, error: std::io::Error| {
            StoreError::Backend(format!("cannot {what} {}: {error}", path.display()))
        };
        match fs::remove_dir_all(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(failed("remove", error))
            }
            _ => {}
        }
        let _ = fs::remove_dir_all(data.join(OLD_SNAPSHOT_DIR));
        let snapshot = data.join(SNAPSHOT_DIR);
        let copied = from_snapshot && snapshot.exists();
        if copied {
            copy_dir(&snapshot, &path).map_err(|e| failed("copy the snapshot to", e))?;
        }
        let db = sled::Config::new()
            .path(&path)
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(None)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|error| match error {
                sled::Error::Io(error) => failed("open", error),
                other => backend(other),
            })?;
        let trees = Tree::ALL
            .iter()
            .map(|tree| db.open_tree(tree.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        let rules = db.get(SNAPSHOT_RULES).map_err(backend)?;
        let same_rules = rules.as_deref() == Some(&crate::PROJECTIONS_VERSION.to_be_bytes()[..]);
        if copied && !same_rules {
            drop(trees);
            drop(db);
            fs::remove_dir_all(&path).map_err(|e| failed("remove", e))?;
            return Scratch::open(data, false);
        }
        let from_snapshot = match db.get(SNAPSHOT_SEQ).map_err(backend)? {
            Some(bytes) if copied => Some(
                bytes
                    .as_ref()
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| {
                        StoreError::Corrupt(
                            "the snapshot's sequence number is damaged; run credlog check --full"
                                .into(),
                        )
                    })?,
            ),
            _ => None,
        };
        Ok(Scratch {
            db: Some(db),
            trees,
            data: data.to_path_buf(),
            from_snapshot,
        })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[crate::index(tree)]
    }

    /// Removes the nonces below `floor`: a snapshot holds those of its
    /// own time's window.
    pub(crate) fn prune_nonces(&self, floor: u64) -> Result<(), StoreError> {
        let nonces = self.tree(Tree::Nonces);
        let mut batch = sled::Batch::default();
        for key in nonces.range(..floor.to_be_bytes().to_vec()).keys() {
            batch.remove(key.map_err(backend)?);
        }
        nonces.apply_batch(batch).map_err(backend)
    }

    /// Writes one flush of the replay's changes.
    pub(crate) fn write(&self, changes: Changes) -> Result<(), StoreError> {
        for (tree, entries) in changes {
            self.tree(tree)
                .apply_batch(crate::batch_of(entries))
                .map_err(backend)?;
        }
        Ok(())
    }

    /// A rebuilt tree's entries, in key order.
    pub(crate) fn entries(&self, tree: Tree) -> Entries<'_> {
        crate::sled_entries(self.tree(tree))
    }

    /// Keeps this rebuild, which stands for the log up to `seq`, as the
    /// data directory's snapshot, in place of the one before.
    pub(crate) fn keep_as_snapshot(mut self, seq: Seq) -> Result<(), StoreError> {
        let Some(db) = self.db.take() else {
            return Ok(());
        };
        db.insert(SNAPSHOT_SEQ, &seq.to_be_bytes())
            .map_err(backend)?;
        db.insert(SNAPSHOT_RULES, &crate::PROJECTIONS_VERSION.to_be_bytes())
            .map_err(backend)?;
        db.flush().map_err(backend)?;
        self.trees.clear();
        drop(db);
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
            StoreError::Backend(format!(
                "cannot keep the check's rebuild as the snapshot in {}: {error}",
                snapshot.display()
            ))
        })
    }
}

impl Projection for Scratch {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        let value = self.tree(tree).get(key).map_err(backend)?;
        Ok(value.map(|v| v.to_vec()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.db.take().is_some() {
            self.trees.clear();
            let _ = fs::remove_dir_all(self.data.join(SCRATCH_DIR));
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    crate::private::prepare(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
