//! credlog's credential store held in memory, for tests and `serve --memory`.
//!
//! It keeps the same trees as the sled backend, under one lock, and runs
//! the same projection rules ([`credlog_core::store::projections`]), so the
//! two answer alike; nothing survives the process. Login sessions sit in a
//! map of their own, by hash, under a second lock: they are not in the log
//! or its projections ([`credlog_core::store::sessions`]).
//!
//! ```
//! use credlog_core::store::{CredentialKind, CredentialStore, Event, Issued, Precondition, Secret, UserRecord};
//! use credlog_storage_memory::MemoryStore;
//!
//! let store = MemoryStore::new();
//! let user = UserRecord { name: "demo".into(), password: Secret::None };
//! let absent = Precondition::Absent { kind: CredentialKind::User, id: "demo".into() };
//! let seq = futures_lite_block_on(store.append(&[absent.clone()], vec![Event::Issued(Issued::User(user.clone()))], 0));
//! assert_eq!(seq, Ok(1));
//! // The same user cannot be created twice.
//! assert!(futures_lite_block_on(store.append(&[absent], vec![Event::Issued(Issued::User(user))], 0)).is_err());
//! # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     use std::task::{Context, Poll, Waker};
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(Waker::noop())) { return v; } }
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use credlog_core::store::codec::decode_record;
use credlog_core::store::projections::{self, seq_key, ProjectionError, Tree, Trees};
use credlog_core::store::sessions;
use credlog_core::store::{
    AppendError, CheckReport, ClientState, CredentialState, CredentialStore, Event, Grant,
    NonceKey, Precondition, Record, Replayed, Seq, SessionHash, SessionLimits, SessionRecord,
    Sizes, StoreError, UserRecord,
};

/// How many appends pass between two prunings of old nonces.
const PRUNE_EVERY: u64 = 1024;

/// The credential store in memory.
#[derive(Debug)]
pub struct MemoryStore {
    trees: RwLock<Trees>,
    sessions: RwLock<BTreeMap<SessionHash, SessionRecord>>,
    nonce_window: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// An empty store keeping nonces for the default OAuth 1 timestamp window.
    pub fn new() -> Self {
        MemoryStore::with_nonce_window(credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW)
    }

    /// An empty store keeping nonces `seconds` behind the newest record:
    /// the OAuth 1 timestamp window the server validates with.
    pub fn with_nonce_window(seconds: u64) -> Self {
        MemoryStore {
            trees: RwLock::new(Trees::new()),
            sessions: RwLock::new(BTreeMap::new()),
            nonce_window: seconds,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Trees> {
        // A panic while holding the lock cannot leave half an append: the
        // preconditions are checked before the first write.
        self.trees.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Trees> {
        self.trees.write().unwrap_or_else(|e| e.into_inner())
    }

    fn sessions(&self) -> RwLockReadGuard<'_, BTreeMap<SessionHash, SessionRecord>> {
        // Every change to the map is one call that cannot panic half-way.
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn sessions_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<SessionHash, SessionRecord>> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn store_error(error: ProjectionError) -> StoreError {
    match error {
        ProjectionError::Store(error) => error,
        ProjectionError::Conflict => StoreError::Backend("unexpected conflict in memory".into()),
    }
}

fn prune(trees: &mut Trees, before: u64) -> Result<u64, StoreError> {
    let removed = trees.prune_nonces(before);
    projections::raise_nonce_floor(trees, before).map_err(store_error)?;
    Ok(removed)
}

#[async_trait]
impl CredentialStore for MemoryStore {
    async fn append(
        &self,
        preconditions: &[Precondition],
        events: Vec<Event>,
        time: u64,
    ) -> Result<Seq, AppendError> {
        let mut trees = self.write();
        let seq = projections::append(&mut *trees, preconditions, &events, time)
            .map_err(store_error)??;
        if seq % PRUNE_EVERY == 0 {
            prune(&mut trees, time.saturating_sub(self.nonce_window))?;
        }
        Ok(seq)
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientState>, StoreError> {
        projections::client(&*self.read(), client_id).map_err(store_error)
    }

    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientState>, StoreError> {
        projections::clients_owned_by(&*self.read(), owner).map_err(store_error)
    }

    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        projections::user(&*self.read(), name).map_err(store_error)
    }

    async fn projection_value(
        &self,
        tree: Tree,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        projections::Projection::get(&*self.read(), tree, key).map_err(store_error)
    }

    async fn credential(&self, id: &str) -> Result<Option<CredentialState>, StoreError> {
        projections::credential(&*self.read(), id).map_err(store_error)
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let trees = self.read();
        let users = trees.entries(Tree::Users).map(|(_, value)| value);
        projections::decode_all(Tree::Users, users).map_err(store_error)
    }

    async fn clients(&self) -> Result<Vec<ClientState>, StoreError> {
        let trees = self.read();
        let clients = trees.entries(Tree::Clients).map(|(_, value)| value);
        projections::decode_all(Tree::Clients, clients).map_err(store_error)
    }

    async fn grants_of(&self, user: &str) -> Result<Vec<Grant>, StoreError> {
        projections::grants_of(&*self.read(), user).map_err(store_error)
    }

    async fn nonce_seen(&self, nonce: &NonceKey) -> Result<bool, StoreError> {
        projections::nonce_seen(&*self.read(), nonce).map_err(store_error)
    }

    async fn read_log(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        let trees = self.read();
        let records = trees.range_from(Tree::Log, &seq_key(from));
        records
            .take(limit)
            .map(|(key, bytes)| decode(key, bytes))
            .collect()
    }

    async fn last_seq(&self) -> Result<Seq, StoreError> {
        projections::last_seq(&*self.read()).map_err(store_error)
    }

    async fn check_observed(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError> {
        let trees = self.read();
        let floor = projections::nonce_floor(&*trees).map_err(store_error)?;
        let records = trees
            .entries(Tree::Log)
            .map(|(key, bytes)| decode(key, bytes))
            .inspect(|record| {
                if let Ok(record) = record {
                    replayed(record.seq);
                }
            });
        let (rebuilt, records) = Trees::replay(records, floor, 0)?;
        let mismatches = rebuilt.compare(|tree| trees.owned_entries(tree), 100)?;
        Ok(CheckReport {
            records,
            snapshot: None,
            mismatches,
        })
    }

    async fn prune_nonces(&self, before_timestamp: u64) -> Result<u64, StoreError> {
        prune(&mut self.write(), before_timestamp)
    }

    async fn sizes(&self, limits: &SessionLimits, now: u64) -> Result<Sizes, StoreError> {
        let nonces = self.read().entries(Tree::Nonces).count() as u64;
        let live_sessions = self
            .sessions()
            .values()
            .filter(|session| limits.is_live(session, now))
            .count() as u64;
        Ok(Sizes {
            nonces,
            live_sessions,
        })
    }

    async fn create_session(
        &self,
        session: SessionRecord,
        limits: &SessionLimits,
    ) -> Result<(), StoreError> {
        sessions::admit(&mut self.sessions_mut(), session, limits);
        Ok(())
    }

    async fn session(
        &self,
        hash: &SessionHash,
        limits: &SessionLimits,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .sessions()
            .get(hash)
            .filter(|session| limits.is_live(session, now))
            .cloned())
    }

    async fn touch_session(&self, hash: &SessionHash, now: u64) -> Result<(), StoreError> {
        if let Some(session) = self.sessions_mut().get_mut(hash) {
            session.last_used = session.last_used.max(now);
        }
        Ok(())
    }

    async fn remove_session(&self, hash: &SessionHash) -> Result<bool, StoreError> {
        Ok(self.sessions_mut().remove(hash).is_some())
    }

    async fn remove_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        let mut sessions = self.sessions_mut();
        let before = sessions.len();
        sessions.retain(|_, session| session.user != user);
        Ok((before - sessions.len()) as u64)
    }
}

fn decode(key: &[u8], bytes: &[u8]) -> Result<Record, StoreError> {
    let seq = key.try_into().map(u64::from_be_bytes).unwrap_or_default();
    decode_record(bytes).map_err(|error| StoreError::CorruptRecord { seq, error })
}
