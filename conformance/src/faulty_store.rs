//! [`FaultyStore`]: any store, with faults injected on demand, for testing
//! what a server does when its store fails (a full disk, a lost database,
//! a write that never returns) without breaking a real one.

use std::sync::Mutex;

use async_trait::async_trait;
use credlog_core::store::{
    AppendError, CheckReport, ClientState, CredentialState, CredentialStore, Event, Grant,
    NonceKey, Precondition, Record, Replayed, Seq, SessionHash, SessionLimits, SessionRecord,
    Sizes, StoreError, Tree, UserRecord,
};

/// What one part of a [`FaultyStore`] does when called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// It passes the call to the store inside.
    #[default]
    Works,
    /// It answers [`StoreError::Backend`] with this message.
    Fails(&'static str),
    /// It never answers.
    Hangs,
}

impl Fault {
    async fn strike(self) -> Result<(), StoreError> {
        match self {
            Fault::Works => Ok(()),
            Fault::Fails(message) => Err(StoreError::Backend(message.into())),
            Fault::Hangs => std::future::pending().await,
        }
    }
}

/// A store whose writes (appends, pruning, the health probe) and whose
/// login sessions can be made to fail or hang, and be healed, while it is
/// in use; every other read goes to the store inside.
///
/// ```
/// use credlog_conformance::{Fault, FaultyStore};
/// use credlog_core::store::CredentialStore;
/// use credlog_storage_memory::MemoryStore;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::task::{Context, Poll, Waker};
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(Waker::noop())) { return v; } }
/// # }
///
/// let store = FaultyStore::new(MemoryStore::new());
/// store.set_writes(Fault::Fails("no space left on device"));
/// let probed = block_on(store.probe());
/// assert!(probed.unwrap_err().to_string().contains("no space left"));
/// store.set_writes(Fault::Works);
/// assert!(block_on(store.probe()).is_ok());
/// ```
#[derive(Debug, Default)]
pub struct FaultyStore<S> {
    inner: S,
    writes: Mutex<Fault>,
    sessions: Mutex<Fault>,
}

impl<S> FaultyStore<S> {
    /// `inner`, working until told otherwise.
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            writes: Mutex::new(Fault::Works),
            sessions: Mutex::new(Fault::Works),
        }
    }

    /// What appends, pruning and the health probe do from now on.
    pub fn set_writes(&self, fault: Fault) {
        *self.writes.lock().unwrap_or_else(|e| e.into_inner()) = fault;
    }

    /// What every `*_session*` method does from now on.
    pub fn set_sessions(&self, fault: Fault) {
        *self.sessions.lock().unwrap_or_else(|e| e.into_inner()) = fault;
    }

    /// The store inside.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn write(&self) -> Result<(), StoreError> {
        let fault = *self.writes.lock().unwrap_or_else(|e| e.into_inner());
        fault.strike().await
    }

    async fn session_call(&self) -> Result<(), StoreError> {
        let fault = *self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        fault.strike().await
    }
}

#[async_trait]
impl<S: CredentialStore> CredentialStore for FaultyStore<S> {
    async fn append(
        &self,
        preconditions: &[Precondition],
        events: Vec<Event>,
        time: u64,
    ) -> Result<Seq, AppendError> {
        self.write().await?;
        self.inner.append(preconditions, events, time).await
    }
    async fn client(&self, id: &str) -> Result<Option<ClientState>, StoreError> {
        self.inner.client(id).await
    }
    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientState>, StoreError> {
        self.inner.clients_owned_by(owner).await
    }
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.inner.user(name).await
    }
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.inner.users().await
    }
    async fn clients(&self) -> Result<Vec<ClientState>, StoreError> {
        self.inner.clients().await
    }
    async fn grants_of(&self, user: &str) -> Result<Vec<Grant>, StoreError> {
        self.inner.grants_of(user).await
    }
    async fn credential(&self, id: &str) -> Result<Option<CredentialState>, StoreError> {
        self.inner.credential(id).await
    }
    async fn projection_value(
        &self,
        tree: Tree,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.projection_value(tree, key).await
    }
    async fn nonce_seen(&self, nonce: &NonceKey) -> Result<bool, StoreError> {
        self.inner.nonce_seen(nonce).await
    }
    async fn read_log(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.inner.read_log(from, limit).await
    }
    async fn last_seq(&self) -> Result<Seq, StoreError> {
        self.inner.last_seq().await
    }
    async fn check_observed(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError> {
        self.inner.check_observed(replayed).await
    }
    async fn check_from_snapshot(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError> {
        self.inner.check_from_snapshot(replayed).await
    }
    async fn sizes(&self, limits: &SessionLimits, now: u64) -> Result<Sizes, StoreError> {
        self.inner.sizes(limits, now).await
    }
    async fn prune_nonces(&self, before: u64) -> Result<u64, StoreError> {
        self.write().await?;
        self.inner.prune_nonces(before).await
    }
    async fn create_session(
        &self,
        session: SessionRecord,
        limits: &SessionLimits,
    ) -> Result<(), StoreError> {
        self.session_call().await?;
        self.inner.create_session(session, limits).await
    }
    async fn session(
        &self,
        hash: &SessionHash,
        limits: &SessionLimits,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.session_call().await?;
        self.inner.session(hash, limits, now).await
    }
    async fn touch_session(&self, hash: &SessionHash, now: u64) -> Result<(), StoreError> {
        self.session_call().await?;
        self.inner.touch_session(hash, now).await
    }
    async fn remove_session(&self, hash: &SessionHash) -> Result<bool, StoreError> {
        self.session_call().await?;
        self.inner.remove_session(hash).await
    }
    async fn remove_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        self.session_call().await?;
        self.inner.remove_user_sessions(user).await
    }
    async fn probe(&self) -> Result<(), StoreError> {
        self.write().await?;
        self.inner.probe().await
    }
}
