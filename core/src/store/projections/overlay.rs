//! Changes gathered over a backend's trees before they are written: what a
//! batch of appends, or a stretch of a replay, changes.

use std::collections::BTreeMap;

use super::{Projection, ProjectionError, ProjectionMut, Tree};

/// What a batch of appends changes, tree by tree: each key's new value,
/// or `None` where it was removed. Final values, so writing them twice
/// leaves what writing them once did.
pub type Changes = BTreeMap<Tree, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// Changes gathered over a backend's trees without writing them: reads see
/// the changes first, then the trees. A backend whose writer is the only
/// mutator (DESIGN.md rule 6) checks and applies a batch's appends on one,
/// then writes [`Overlay::into_changes`] at once.
pub struct Overlay<'a, P> {
    base: &'a P,
    changes: Changes,
}

impl<'a, P: Projection> Overlay<'a, P> {
    /// No changes yet over `base`.
    pub fn new(base: &'a P) -> Self {
        Overlay {
            base,
            changes: Changes::new(),
        }
    }

    /// What was changed.
    pub fn into_changes(self) -> Changes {
        self.changes
    }
}

impl<P: Projection> Projection for Overlay<'_, P> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        match self.changes.get(&tree).and_then(|changed| changed.get(key)) {
            Some(value) => Ok(value.clone()),
            None => self.base.get(tree, key),
        }
    }
}

impl<P: Projection> ProjectionMut for Overlay<'_, P> {
    fn insert(&mut self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), ProjectionError> {
        let changed = self.changes.entry(tree).or_default();
        changed.insert(key.to_vec(), Some(value));
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), ProjectionError> {
        self.changes
            .entry(tree)
            .or_default()
            .insert(key.to_vec(), None);
        Ok(())
    }
}
