//! What a backend supplies: the trees as its reads and transactions see
//! them, and why an operation on them did not complete.

use super::Tree;
use crate::store::StoreError;

/// Why a projection operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionError {
    /// The backend's transaction met another and must be retried.
    Conflict,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for ProjectionError {
    fn from(error: StoreError) -> Self {
        ProjectionError::Store(error)
    }
}

/// The trees as a backend's reads, or one of its transactions, see them.
pub trait Projection {
    /// The value under `key`.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError>;
}

/// The trees as one of a backend's transactions writes them.
pub trait ProjectionMut: Projection {
    /// Sets the value under `key`.
    fn insert(&mut self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), ProjectionError>;

    /// Removes whatever is under `key`.
    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), ProjectionError>;
}
