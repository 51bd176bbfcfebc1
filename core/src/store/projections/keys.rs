//! How the trees' keys are laid out: big-endian numbers, so keys sort as
//! numbers, and length-prefixed strings, so a pair of strings is one key.

use super::super::{NonceKey, Seq};

/// The key of [`Tree::Meta`](super::Tree::Meta) holding the last sequence number.
pub(super) const LAST_SEQ: &[u8] = b"last_seq";

/// The one key of [`Tree::SigningKeys`](super::Tree::SigningKeys): the
/// keys are few, and kept together.
pub const SIGNING_KEYS: &[u8] = b"keys";

/// The key of [`Tree::Meta`](super::Tree::Meta) holding the nonce floor.
pub(super) const NONCE_FLOOR: &[u8] = b"nonce_floor";

/// The log key of a sequence number: big-endian, so keys sort as numbers.
pub fn seq_key(seq: Seq) -> [u8; 8] {
    seq.to_be_bytes()
}

fn push_part(key: &mut Vec<u8>, part: &str) {
    key.extend_from_slice(&(part.len() as u32).to_be_bytes());
    key.extend_from_slice(part.as_bytes());
}

/// The key of a nonce use: the timestamp first (big-endian), then the
/// length-prefixed client, token and nonce.
pub fn nonce_key(nonce: &NonceKey) -> Vec<u8> {
    let mut key = Vec::with_capacity(24 + nonce.client_id.len() + nonce.nonce.len());
    key.extend_from_slice(&nonce.timestamp.to_be_bytes());
    push_part(&mut key, &nonce.client_id);
    match &nonce.token {
        Some(token) => {
            key.push(1);
            push_part(&mut key, token);
        }
        None => key.push(0),
    }
    push_part(&mut key, &nonce.nonce);
    key
}

/// The timestamp a nonce key starts with.
pub fn nonce_key_timestamp(key: &[u8]) -> u64 {
    let mut timestamp = [0u8; 8];
    let n = key.len().min(8);
    timestamp[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(timestamp)
}

/// The key of two strings, each length-prefixed: a grant's user and
/// client, an index's owner and credential.
pub(super) fn pair_key(first: &str, second: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + first.len() + second.len());
    push_part(&mut key, first);
    push_part(&mut key, second);
    key
}

/// The two strings of a [`pair_key`].
pub(super) fn pair_parts(key: &[u8]) -> Option<(String, String)> {
    let part = |rest: &[u8]| -> Option<(String, usize)> {
        let length = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let text = std::str::from_utf8(rest.get(4..4 + length)?).ok()?;
        Some((text.to_owned(), 4 + length))
    };
    let (first, used) = part(key)?;
    let (second, more) = part(&key[used..])?;
    (used + more == key.len()).then_some((first, second))
}
