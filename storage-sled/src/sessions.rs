//! Login sessions on sled ([`credlog_core::store::sessions`]): four trees
//! of their own, beside the log and its projections and never part of
//! them. They are not events, the group commit never sees them, and
//! `credlog check` does not look at them.
//!
//! - `sessions`: the SHA-256 of the id -> the encoded [`SessionRecord`];
//! - `sessions_by_created`: creation time (big-endian) + hash -> (), for
//!   the lifetime and for the oldest of all;
//! - `sessions_by_use`: last use (big-endian) + hash -> (), for the idle time;
//! - `sessions_by_user`: length-prefixed user + creation time + hash -> (),
//!   for a user's oldest and for signing a user out everywhere.
//!
//! Every change is one sled transaction over the four trees, so the indexes
//! never disagree with the records, even after a crash. Changes are made
//! one at a time under a lock (one process holds the directory), which
//! also keeps the count of sessions: the bounds hold however many sign-ins
//! race. A creation and a removal are flushed before they return (by the
//! group commit's writer, sharing the fsync of the appends waiting there),
//! so a new session survives a restart, even a crash, and a removed one
//! stays removed; a touch is not (sled writes it within half a second
//! anyway), since a lost last use only ends a session up to [`TOUCH_SLACK`]
//! early.
//!
//! [`TOUCH_SLACK`]: credlog_core::store::TOUCH_SLACK

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use credlog_core::store::codec::{self, CodecError};
use credlog_core::store::{SessionHash, SessionLimits, SessionRecord, StoreError};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::backend;

/// The session trees and the lock every change takes.
pub(crate) struct SessionTrees {
    records: sled::Tree,
    by_created: sled::Tree,
    by_use: sled::Tree,
    by_user: sled::Tree,
    /// Held by every change; the number of sessions kept.
    count: Mutex<usize>,
}

fn damaged(what: impl Into<String>) -> StoreError {
    StoreError::CorruptSession(CodecError::Malformed(what.into()))
}

fn time_key(time: u64, hash: &SessionHash) -> Vec<u8> {
    let mut key = Vec::with_capacity(40);
    key.extend_from_slice(&time.to_be_bytes());
    key.extend_from_slice(&hash.0);
    key
}

fn user_prefix(user: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + user.len() + 40);
    key.extend_from_slice(&(user.len() as u32).to_be_bytes());
    key.extend_from_slice(user.as_bytes());
    key
}

fn user_key(session: &SessionRecord) -> Vec<u8> {
    let mut key = user_prefix(&session.user);
    key.extend_from_slice(&time_key(session.created, &session.hash));
    key
}

/// The time an index key starts with.
fn time_of(key: &[u8]) -> Result<u64, StoreError> {
    let time: [u8; 8] = key
        .get(..8)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| damaged("an index key is too short"))?;
    Ok(u64::from_be_bytes(time))
}

/// The hash an index key ends with.
fn hash_of(key: &[u8]) -> Result<SessionHash, StoreError> {
    let start = key
        .len()
        .checked_sub(32)
        .ok_or_else(|| damaged("an index key is too short"))?;
    let hash: [u8; 32] = key[start..]
        .try_into()
        .map_err(|_| damaged("an index key is too short"))?;
    Ok(SessionHash(hash))
}

impl SessionTrees {
    /// Opens the session trees of `db`.
    pub(crate) fn open(db: &sled::Db) -> Result<SessionTrees, StoreError> {
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        let records = tree("sessions")?;
        let count = records.len();
        Ok(SessionTrees {
            records,
            by_created: tree("sessions_by_created")?,
            by_use: tree("sessions_by_use")?,
            by_user: tree("sessions_by_user")?,
            count: Mutex::new(count),
        })
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        // The count changes only after a transaction went through.
        self.count.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session with this hash, live or not.
    pub(crate) fn get(&self, hash: &SessionHash) -> Result<Option<SessionRecord>, StoreError> {
        self.records
            .get(hash.0)
            .map_err(backend)?
            .map(|bytes| codec::decode(&bytes).map_err(StoreError::CorruptSession))
            .transpose()
    }

    /// Removes the sessions `removed` and inserts `inserted`, index entries
    /// and all, in one transaction; adjusts the count.
    fn change(
        &self,
        count: &mut usize,
        removed: &[SessionRecord],
        inserted: &[SessionRecord],
    ) -> Result<(), StoreError> {
        let trees = [&self.records, &self.by_created, &self.by_use, &self.by_user];
        let written = trees.as_slice().transaction(|view| {
            let [records, by_created, by_use, by_user] = view.as_slice() else {
                unreachable!("four trees give four views");
            };
            for session in removed {
                records.remove(&session.hash.0[..])?;
                by_created.remove(time_key(session.created, &session.hash))?;
                by_use.remove(time_key(session.last_used, &session.hash))?;
                by_user.remove(user_key(session))?;
            }
            for session in inserted {
                records.insert(&session.hash.0[..], codec::encode(session))?;
                by_created.insert(time_key(session.created, &session.hash), Vec::<u8>::new())?;
                by_use.insert(time_key(session.last_used, &session.hash), Vec::<u8>::new())?;
                by_user.insert(user_key(session), Vec::<u8>::new())?;
            }
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        written.map_err(|error| match error {
            TransactionError::Storage(error) => backend(error),
            TransactionError::Abort(()) => StoreError::Backend("a session write aborted".into()),
        })?;
        *count = (*count + inserted.len()).saturating_sub(removed.len());
        Ok(())
    }

    /// Adds to `chosen` the sessions an index lists, from its oldest key
    /// on, while `ended` says the key's time is over.
    fn ended_in(
        &self,
        index: &sled::Tree,
        ended: impl Fn(u64) -> bool,
        chosen: &mut BTreeMap<SessionHash, SessionRecord>,
    ) -> Result<(), StoreError> {
        for key in index.iter().keys() {
            let key = key.map_err(backend)?;
            if !ended(time_of(&key)?) {
                break;
            }
            let hash = hash_of(&key)?;
            if let Some(session) = self.get(&hash)? {
                chosen.insert(hash, session);
            }
        }
        Ok(())
    }

    /// How many sessions are live at `now`: those kept, less those whose
    /// lifetime or idle time is over (not yet forgotten by a sign-in).
    pub(crate) fn live(&self, limits: &SessionLimits, now: u64) -> Result<u64, StoreError> {
        let count = self.lock();
        let mut ended = BTreeMap::new();
        self.ended_in(
            &self.by_created,
            |created| limits.lifetime_over(created, now),
            &mut ended,
        )?;
        self.ended_in(&self.by_use, |used| limits.idle_over(used, now), &mut ended)?;
        Ok(count.saturating_sub(ended.len()) as u64)
    }

    /// Keeps `session`, first forgetting what has ended and what is past
    /// the bounds (see [`credlog_core::store::CredentialStore::create_session`]).
    pub(crate) fn create(
        &self,
        session: SessionRecord,
        limits: &SessionLimits,
    ) -> Result<(), StoreError> {
        let now = session.created;
        let mut count = self.lock();
        let mut chosen = BTreeMap::new();
        if let Some(same) = self.get(&session.hash)? {
            chosen.insert(same.hash, same);
        }
        self.ended_in(
            &self.by_created,
            |created| limits.lifetime_over(created, now),
            &mut chosen,
        )?;
        self.ended_in(
            &self.by_use,
            |used| limits.idle_over(used, now),
            &mut chosen,
        )?;

        let mut users = Vec::new();
        for key in self.by_user.scan_prefix(user_prefix(&session.user)).keys() {
            let hash = hash_of(&key.map_err(backend)?)?;
            if !chosen.contains_key(&hash) {
                if let Some(found) = self.get(&hash)? {
                    users.push(found);
                }
            }
        }
        let bound = limits.per_user_bound();
        if users.len() >= bound {
            for oldest in users.drain(..=users.len() - bound) {
                chosen.insert(oldest.hash, oldest);
            }
        }

        let bound = limits.in_all_bound();
        let kept = count.saturating_sub(chosen.len());
        if kept >= bound {
            let mut more = kept + 1 - bound;
            for key in self.by_created.iter().keys() {
                if more == 0 {
                    break;
                }
                let hash = hash_of(&key.map_err(backend)?)?;
                if chosen.contains_key(&hash) {
                    continue;
                }
                if let Some(found) = self.get(&hash)? {
                    chosen.insert(hash, found);
                    more -= 1;
                }
            }
        }
        let removed: Vec<SessionRecord> = chosen.into_values().collect();
        self.change(&mut count, &removed, &[session])
    }

    /// Moves a session's last use forward to `now`.
    pub(crate) fn touch(&self, hash: &SessionHash, now: u64) -> Result<(), StoreError> {
        let mut count = self.lock();
        match self.get(hash)? {
            Some(old) if old.last_used < now => {
                let new = SessionRecord {
                    last_used: now,
                    ..old.clone()
                };
                self.change(&mut count, &[old], &[new])
            }
            _ => Ok(()),
        }
    }

    /// Removes one session; whether it was kept.
    pub(crate) fn remove(&self, hash: &SessionHash) -> Result<bool, StoreError> {
        let mut count = self.lock();
        match self.get(hash)? {
            Some(old) => self.change(&mut count, &[old], &[]).map(|()| true),
            None => Ok(false),
        }
    }

    /// Removes every session of `user`; how many.
    pub(crate) fn remove_user(&self, user: &str) -> Result<u64, StoreError> {
        let mut count = self.lock();
        let mut removed = Vec::new();
        for key in self.by_user.scan_prefix(user_prefix(user)).keys() {
            if let Some(found) = self.get(&hash_of(&key.map_err(backend)?)?)? {
                removed.push(found);
            }
        }
        self.change(&mut count, &removed, &[])?;
        Ok(removed.len() as u64)
    }
}
