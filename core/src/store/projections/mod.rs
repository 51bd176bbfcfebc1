//! The projection rules, written once for every key-value backend: how an
//! append checks its preconditions, how each event changes the projection
//! trees, how reads see a credential, and how a replay rebuilds and
//! compares. A backend supplies the trees through [`Projection`] inside its
//! own transaction; [`Trees`] is the in-memory one (the memory backend and
//! every replay use it).
//!
//! One idea a file: the trees ([`Tree`]) and their keys and values; the
//! reads; [`append`] and its preconditions; [`apply`], which hands each
//! event to the file of its kind (issued, authorized, exchanged, revoked
//! and its cascades, grants, updates, nonce windows) and runs the device
//! expiry sweep; and the replay, the overlay of a batch's changes, the
//! comparison `check` makes, and the retention's bounds.

mod append;
mod apply;
mod authorized;
mod compare;
mod devices;
mod exchanged;
mod grants;
mod issued;
mod keys;
mod nonces;
mod overlay;
mod projection;
mod reads;
mod replay;
mod retention;
mod revoked;
mod tree;
mod trees;
mod updates;
mod values;

pub use append::append;
pub use apply::apply;
pub use compare::{compare_trees, Entries, Entry};
pub use devices::{sweep_devices, DEVICE_BUCKET, DEVICE_BUCKETS, DEVICE_SWEEP_GRACE};
pub use grants::grants_of;
pub use keys::{nonce_key, nonce_key_timestamp, seq_key, SIGNING_KEYS};
pub use nonces::{nonce_floor, nonce_seen, raise_nonce_floor, window_from_tail, ASSERTION_REACH};
pub use overlay::{Changes, Overlay};
pub use projection::{Projection, ProjectionError, ProjectionMut};
pub use reads::{
    alg_signing_keys, client, clients_owned_by, credential, last_seq, signing_keys, user,
};
pub use replay::{replay_through, Replay};
pub use retention::{retention_cutoff, retirable, shortest_retention};
pub use tree::Tree;
pub use trees::Trees;
pub use values::decode_all;
