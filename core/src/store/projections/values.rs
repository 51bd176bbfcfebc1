//! How the trees' values are read and written: encoded with the store's
//! codec, a value that does not decode reported as a damaged projection.

use super::super::codec::{self, CodecError};
use super::super::StoreError;
use super::{Projection, ProjectionError, ProjectionMut, Tree};

/// The big-endian number under `key` of [`Tree::Meta`] (0 when unset).
pub(super) fn read_u64<P: Projection>(p: &P, key: &[u8]) -> Result<u64, ProjectionError> {
    Ok(match p.get(Tree::Meta, key)? {
        Some(bytes) => {
            let bytes: [u8; 8] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| StoreError::CorruptProjection {
                        tree: Tree::Meta.name(),
                        error: CodecError::Malformed(format!(
                            "{} is not 8 bytes",
                            String::from_utf8_lossy(key)
                        )),
                    })?;
            u64::from_be_bytes(bytes)
        }
        None => 0,
    })
}

/// A value of `tree`, decoded.
pub(super) fn decode_value<T: serde::de::DeserializeOwned>(
    tree: Tree,
    bytes: &[u8],
) -> Result<T, ProjectionError> {
    codec::decode(bytes).map_err(|error| {
        ProjectionError::Store(StoreError::CorruptProjection {
            tree: tree.name(),
            error,
        })
    })
}

/// The values of a tree, decoded (what a backend's scan of [`Tree::Users`]
/// or [`Tree::Clients`] answers).
pub fn decode_all<'a, T: serde::de::DeserializeOwned>(
    tree: Tree,
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<T>, ProjectionError> {
    values.map(|value| decode_value(tree, value)).collect()
}

/// The value under the text key `key` of `tree`, decoded.
pub(super) fn stored<P: Projection, T: serde::de::DeserializeOwned>(
    p: &P,
    tree: Tree,
    key: &str,
) -> Result<Option<T>, ProjectionError> {
    p.get(tree, key.as_bytes())?
        .map(|bytes| decode_value(tree, &bytes))
        .transpose()
}

/// Sets the value under the text key `key` of `tree`, encoded.
pub(super) fn put<P: ProjectionMut, T: serde::Serialize>(
    p: &mut P,
    tree: Tree,
    key: &str,
    value: &T,
) -> Result<(), ProjectionError> {
    p.insert(tree, key.as_bytes(), codec::encode(value))
}
