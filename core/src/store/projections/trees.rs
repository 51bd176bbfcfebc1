//! [`Trees`]: key-value trees in memory, the memory backend's store and
//! what a replay rebuilds.

use std::collections::BTreeMap;

use super::super::events::{Record, Seq};
use super::super::StoreError;
use super::{compare_trees, Entries, Projection, ProjectionError, ProjectionMut, Replay, Tree};

/// Key-value trees in memory: the memory backend's store, and what a
/// replay rebuilds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trees {
    trees: BTreeMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl Trees {
    /// Empty trees.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry of a tree, in key order.
    pub fn entries(&self, tree: Tree) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.trees
            .get(&tree)
            .into_iter()
            .flat_map(|t| t.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
    }

    /// [`Trees::entries`] as a backend's reads give them, for
    /// [`compare_trees`].
    pub fn owned_entries(&self, tree: Tree) -> Entries<'_> {
        Box::new(
            self.entries(tree)
                .map(|(k, v)| Ok((k.to_vec(), v.to_vec()))),
        )
    }

    /// How many entries a tree holds.
    pub fn len(&self, tree: Tree) -> usize {
        self.trees.get(&tree).map_or(0, BTreeMap::len)
    }

    /// Entries of a tree from `start` on.
    pub fn range_from(&self, tree: Tree, start: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
        let start = start.to_vec();
        self.trees.get(&tree).into_iter().flat_map(move |t| {
            t.range(start.clone()..)
                .map(|(k, v)| (k.as_slice(), v.as_slice()))
        })
    }

    /// Removes the nonces with a timestamp below `timestamp`; answers how many.
    pub fn prune_nonces(&mut self, timestamp: u64) -> u64 {
        let Some(nonces) = self.trees.get_mut(&Tree::Nonces) else {
            return 0;
        };
        let kept = nonces.split_off(timestamp.to_be_bytes().as_slice());
        let removed = nonces.len() as u64;
        *nonces = kept;
        removed
    }

    /// Rebuilds the projections from log records, as a replay does: each
    /// record applied in order, nonces below `nonce_floor` pruned.
    ///
    /// Records below `retired_below` may be missing: a retention took them
    /// out of the live log (DESIGN.md rule 7), and it takes only records
    /// of `Verified` events older than the nonce floor, which a replay
    /// would forget again. Any other gap is damage.
    pub fn replay(
        records: impl IntoIterator<Item = Result<Record, StoreError>>,
        nonce_floor: u64,
        retired_below: Seq,
    ) -> Result<(Trees, u64), StoreError> {
        let mut replay = Replay::new(nonce_floor, retired_below);
        for record in records {
            replay.apply(&record?)?;
        }
        replay.finish()
    }

    /// Compares these (rebuilt) projections with stored ones, tree by tree;
    /// one line per difference, at most `limit` lines.
    pub fn compare<'a>(
        &'a self,
        stored: impl Fn(Tree) -> Entries<'a>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        compare_trees(|tree| self.owned_entries(tree), stored, limit)
    }
}

impl Projection for Trees {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        Ok(self.trees.get(&tree).and_then(|t| t.get(key)).cloned())
    }
}

impl ProjectionMut for Trees {
    fn insert(&mut self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), ProjectionError> {
        self.trees
            .entry(tree)
            .or_default()
            .insert(key.to_vec(), value);
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), ProjectionError> {
        if let Some(entries) = self.trees.get_mut(&tree) {
            entries.remove(key);
        }
        Ok(())
    }
}
