//! Nonce windows (RFC 5849 3.3): each `Verified` event's nonce use kept
//! under its timestamp, a floor below which uses were forgotten, and the
//! window rebuilt from the log's tail for a backend that holds it in memory.

use super::super::events::{Event, Record, Verified};
use super::super::{NonceKey, StoreError};
use super::keys::{nonce_key, LAST_SEQ, NONCE_FLOOR};
use super::replay::unwrap_store;
use super::values::read_u64;
use super::{Projection, ProjectionError, ProjectionMut, Tree, Trees};

/// The timestamp below which nonces were pruned.
pub fn nonce_floor<P: Projection>(p: &P) -> Result<u64, ProjectionError> {
    read_u64(p, NONCE_FLOOR)
}

/// Records that nonces below `timestamp` are gone (the backend removes them).
pub fn raise_nonce_floor<P: ProjectionMut>(
    p: &mut P,
    timestamp: u64,
) -> Result<(), ProjectionError> {
    if timestamp > nonce_floor(p)? {
        p.insert(Tree::Meta, NONCE_FLOOR, timestamp.to_be_bytes().to_vec())?;
    }
    Ok(())
}

/// Whether a nonce use is recorded.
pub fn nonce_seen<P: Projection>(p: &P, nonce: &NonceKey) -> Result<bool, ProjectionError> {
    Ok(p.get(Tree::Nonces, &nonce_key(nonce))?.is_some())
}

/// A `Verified` event: its nonce use is recorded, unless it is below the
/// floor, already forgotten, as a prune would.
pub(super) fn verified<P: ProjectionMut>(
    p: &mut P,
    verified: &Verified,
) -> Result<(), ProjectionError> {
    if verified.timestamp < nonce_floor(p)? {
        return Ok(());
    }
    p.insert(Tree::Nonces, &nonce_key(&verified.into()), Vec::new())
}

/// How far ahead of its record's time a `Verified` timestamp can be,
/// besides the OAuth 1 timestamp window: a JWT assertion's `jti` is kept
/// under its `exp`, which RFC 7523's rules ([`crate::rfc7523::AssertionRules`])
/// allow up to 300 s away plus 30 s of leeway, and it must be refused
/// until then, across restarts, however short the window.
pub const ASSERTION_REACH: u64 = 330;

/// Rebuilds [`Tree::Meta`] and [`Tree::Nonces`] from the log's records,
/// newest first, for a backend that holds them in memory: the last
/// sequence number, and the nonces at or above the floor: `window` seconds
/// behind the newest record's time, or `pruned` (the floor a prune had
/// raised, when the backend kept it) if that is later. Reads back only as far as a nonce at or
/// above the floor can be: a record's nonces are at most `window` seconds
/// off its time (the validator refuses others), or [`ASSERTION_REACH`]
/// ahead of it for a `jti`, so the walk stops at the first record older
/// than that before the floor. The same trees as [`Trees::replay`] with
/// that floor rebuilds.
pub fn window_from_tail(
    newest_first: impl IntoIterator<Item = Result<Record, StoreError>>,
    window: u64,
    pruned: u64,
) -> Result<Trees, StoreError> {
    let mut trees = Trees::new();
    let mut records = newest_first.into_iter();
    let Some(newest) = records.next().transpose()? else {
        if pruned > 0 {
            raise_nonce_floor(&mut trees, pruned).map_err(unwrap_store)?;
        }
        return Ok(trees);
    };
    let floor = newest.time.saturating_sub(window).max(pruned);
    trees
        .insert(Tree::Meta, LAST_SEQ, newest.seq.to_be_bytes().to_vec())
        .map_err(unwrap_store)?;
    if floor > 0 {
        raise_nonce_floor(&mut trees, floor).map_err(unwrap_store)?;
    }
    for record in std::iter::once(Ok(newest)).chain(records) {
        let record = record?;
        if record.time.saturating_add(window.max(ASSERTION_REACH)) < floor {
            break;
        }
        for event in &record.events {
            if let Event::Verified(verified) = event {
                if verified.timestamp >= floor {
                    let key = nonce_key(&verified.into());
                    trees
                        .insert(Tree::Nonces, &key, Vec::new())
                        .map_err(unwrap_store)?;
                }
            }
        }
    }
    Ok(trees)
}
