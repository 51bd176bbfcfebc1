//! The event-sourced credential store (DESIGN.md, "The event log" and
//! "Rules of the store"): the events, their encoding, the
//! [`CredentialStore`] trait every backend implements, and the projection
//! rules that key-value backends share. The store also keeps login
//! sessions, outside the log ([`sessions`]).

pub mod codec;
pub mod events;
pub mod projections;
pub mod sessions;
mod v1;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use codec::CodecError;
pub use events::{
    token_id, AlgKeyCreated, Authenticated, Authorized, ClientKeysRegistered,
    ClientOptionsRegistered, ClientRecord, Constrained, CredentialKind, CredentialsRevoked, Event,
    Exchanged, GrantRevoked, Issued, Pushed, Record, RevocationReason, Revoked, Secret,
    SecretRotated, Seq, SigningKeyCreated, SubjectAssigned, TokenRecord, UserRecord, UserRemoved,
    Verified,
};
pub use projections::Tree;
pub use sessions::{SessionHash, SessionLimits, SessionRecord, TOUCH_SLACK};

/// Where a credential is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Issued and usable (a temporary credential not yet authorized, a live token).
    Issued,
    /// Granted by its resource owner, not yet exchanged.
    Authorized,
    /// Traded for a new credential; it works no more.
    Exchanged,
    /// Ended, by itself, with its family or with its client.
    Revoked,
}

/// A credential as the projections hold it: its record, where it is in
/// its life, and what was added to it since it was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialState {
    /// What was issued.
    pub record: TokenRecord,
    /// Its status, with the revocation of its family or client applied.
    pub status: Status,
    /// The verifier it was authorized with (OAuth 1), hashed.
    pub verifier: Option<Secret>,
    /// The credential its family started from (itself when it has no parent).
    pub family: String,
    /// The record that issued it.
    pub issued_seq: Seq,
}

impl CredentialState {
    /// Whether it has expired at `now` (seconds since the epoch).
    pub fn is_expired(&self, now: u64) -> bool {
        self.record.expires_at.is_some_and(|at| now >= at)
    }

    /// Whether it can still be used at `now`: issued or authorized (not
    /// traded, not revoked) and not expired.
    pub fn works_at(&self, now: u64) -> bool {
        matches!(self.status, Status::Issued | Status::Authorized) && !self.is_expired(now)
    }
}

/// What one resource owner granted one client, as the projections keep it
/// (under the user and the client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantState {
    /// When the user first granted it since the grant was last revoked.
    pub granted_at: u64,
    /// When a credential was last issued under it.
    pub last_granted_at: u64,
    /// The ids of the credentials issued under it that had not ended when
    /// the last one was added.
    pub credentials: Vec<String>,
}

/// What one resource owner granted one client, as a read answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The client.
    pub client_id: String,
    /// When the user first granted it (since it was last revoked).
    pub granted_at: u64,
    /// When a credential was last issued under it.
    pub last_granted_at: u64,
    /// The credentials issued under it that had not ended when the last
    /// one was issued, with revocations applied; a reader judges expiry.
    pub credentials: Vec<CredentialState>,
}

impl Grant {
    /// The credentials that work at `now`: issued or authorized, not expired.
    pub fn live(&self, now: u64) -> impl Iterator<Item = &CredentialState> {
        self.credentials
            .iter()
            .filter(move |state| state.works_at(now))
    }
}

/// A client as the projections hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientState {
    /// What was registered.
    pub record: ClientRecord,
    /// Whether the client was removed.
    pub revoked: bool,
    /// The record that registered it.
    pub issued_seq: Seq,
}

/// One use of an OAuth 1 nonce (RFC 5849 3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NonceKey {
    /// The client.
    pub client_id: String,
    /// The token, if the request carried one.
    pub token: Option<String>,
    /// `oauth_timestamp`.
    pub timestamp: u64,
    /// `oauth_nonce`.
    pub nonce: String,
}

impl From<&Verified> for NonceKey {
    fn from(verified: &Verified) -> Self {
        NonceKey {
            client_id: verified.client_id.clone(),
            token: verified.token.clone(),
            timestamp: verified.timestamp,
            nonce: verified.nonce.clone(),
        }
    }
}

/// What must hold for an append to be written (DESIGN.md rule 1). The
/// store checks them and writes the events in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Precondition {
    /// The nonce was not used with this client, token and timestamp.
    NonceUnused(NonceKey),
    /// The credential exists, is of this kind, was issued to this client,
    /// is in this status and, at `now`, has not expired.
    Credential {
        /// The credential's id.
        id: String,
        /// Its kind.
        kind: CredentialKind,
        /// The client it must belong to.
        client_id: String,
        /// The status it must be in.
        status: Status,
        /// The time to judge expiry by.
        now: u64,
    },
    /// The verifier is the one the credential was authorized with.
    VerifierMatches {
        /// The credential's id.
        id: String,
        /// The verifier presented.
        verifier: String,
    },
    /// The user exists.
    UserExists {
        /// The user name.
        name: String,
    },
    /// The client exists and was not removed.
    ClientLive {
        /// The client's id.
        client_id: String,
    },
    /// Nothing of this kind has this id yet.
    Absent {
        /// The kind.
        kind: CredentialKind,
        /// The id that must be free.
        id: String,
    },
    /// The user has no subject identifier yet.
    SubjectUnassigned {
        /// The user name.
        user: String,
    },
    /// The current signing key is this one (`None`: there is none yet), so
    /// that two servers creating or rotating a key at once make one.
    CurrentSigningKey {
        /// Its key id.
        kid: Option<String>,
    },
    /// The current signing key for `alg` (other than RS256) is this one
    /// (`None`: there is none yet).
    CurrentAlgKey {
        /// The algorithm.
        alg: String,
        /// Its key id.
        kid: Option<String>,
    },
}

/// Why a precondition did not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The nonce was already used in its window.
    #[error("the nonce was already used")]
    NonceUsed,
    /// The nonce's timestamp is below what the store still remembers.
    #[error("the nonce is older than the nonces the store keeps")]
    NonceTooOld,
    /// No such credential or client.
    #[error("it does not exist")]
    Missing,
    /// It is of another kind.
    #[error("it is a {actual}")]
    WrongKind {
        /// What it is.
        actual: CredentialKind,
    },
    /// It belongs to another client.
    #[error("it belongs to another client")]
    WrongClient,
    /// It is in another status.
    #[error("it is {actual:?}")]
    WrongStatus {
        /// The status it is in.
        actual: Status,
    },
    /// It has expired.
    #[error("it has expired")]
    Expired,
    /// The verifier is not the one it was authorized with.
    #[error("the verifier does not match")]
    VerifierMismatch,
    /// The client was removed.
    #[error("the client was removed")]
    ClientRevoked,
    /// The id is taken.
    #[error("the id is taken")]
    AlreadyExists,
    /// What it had to be changed in the meantime.
    #[error("it changed meanwhile")]
    Changed,
}

/// A precondition that did not hold, and why; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("precondition {precondition:?} failed: {failure}")]
pub struct PreconditionFailed {
    /// The precondition.
    pub precondition: Precondition,
    /// Why it failed.
    pub failure: Failure,
}

impl PreconditionFailed {
    /// Why the append was refused, as one of a fixed set of names: what an
    /// operator counts (a metric label), never an id or a value a client sent.
    pub fn reason(&self) -> &'static str {
        let kind = match &self.precondition {
            Precondition::Credential { kind, .. } => Some(*kind),
            _ => None,
        };
        match (&self.failure, kind) {
            (Failure::NonceUsed, _) => "nonce_reused",
            (Failure::NonceTooOld, _) => "nonce_too_old",
            // RFC 6749 10.5: a code presented a second time.
            (
                Failure::WrongStatus {
                    actual: Status::Exchanged,
                },
                Some(CredentialKind::AuthorizationCode),
            ) => "code_replay",
            // RFC 6749 10.4: a rotated refresh token presented again.
            (
                Failure::WrongStatus {
                    actual: Status::Exchanged,
                },
                Some(CredentialKind::RefreshToken),
            ) => "refresh_token_replay",
            (
                Failure::WrongStatus {
                    actual: Status::Revoked,
                },
                _,
            ) => "revoked",
            (Failure::WrongStatus { .. }, _) => "wrong_status",
            (Failure::Missing, _) => "missing",
            (Failure::WrongKind { .. }, _) => "wrong_kind",
            (Failure::WrongClient, _) => "wrong_client",
            (Failure::Expired, _) => "expired",
            (Failure::VerifierMismatch, _) => "verifier_mismatch",
            (Failure::ClientRevoked, _) => "client_revoked",
            (Failure::AlreadyExists, _) => "id_taken",
            (Failure::Changed, _) => "changed",
        }
    }
}

/// A failure of the store itself: never the client's fault.
///
/// A failure of the storage engine ([`StoreError::Backend`],
/// [`StoreError::Unavailable`]) keeps the engine's own error: the
/// variant's [`EngineError`] is the error's
/// [`source`](std::error::Error::source), and the engine's error is
/// that one's (or [`StoreError::cause`] at once), so a caller can read
/// what the one line does not say (PostgreSQL's SQLSTATE, an I/O error's
/// kind).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (I/O, a full disk ...).
    #[error("storage failed: {0}")]
    Backend(#[source] EngineError),
    /// The store cannot be reached for now (a networked database that
    /// does not answer, a connection lost): the request may be retried.
    /// An append is all or nothing, and was not acknowledged; one whose
    /// connection was lost at its commit may be there or not. Answered 503.
    #[error("the store cannot be reached: {0}")]
    Unavailable(#[source] EngineError),
    /// The data directory is held by another process.
    #[error("the data directory {path} is in use by another process; stop it, or choose another --data directory")]
    Locked {
        /// The directory.
        path: String,
    },
    /// A log record cannot be read.
    #[error("log record {seq} is damaged: {error}")]
    CorruptRecord {
        /// Its sequence number.
        seq: Seq,
        /// What is wrong with it.
        error: CodecError,
    },
    /// A projection value cannot be read.
    #[error("the {tree} projection is damaged: {error}")]
    CorruptProjection {
        /// Which projection.
        tree: &'static str,
        /// What is wrong with it.
        error: CodecError,
    },
    /// The data itself is damaged below the record level.
    #[error("the data directory is damaged: {0}")]
    Corrupt(String),
    /// A stored login session cannot be read.
    #[error("a stored session is damaged: {0}")]
    CorruptSession(CodecError),
}

impl StoreError {
    /// The HTTP status a request the store failed answers: 503 while the
    /// store cannot be reached (try again), else 500.
    pub fn status(&self) -> u16 {
        match self {
            StoreError::Unavailable(_) => 503,
            _ => 500,
        }
    }

    /// [`StoreError::Backend`] told by `message`, caused by the engine's
    /// error `cause`.
    pub fn backend(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend(EngineError::caused_by(message, cause))
    }

    /// [`StoreError::Unavailable`] told by `message`, caused by the
    /// engine's error `cause`.
    pub fn unavailable(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Unavailable(EngineError::caused_by(message, cause))
    }

    /// The storage engine's own error behind a [`StoreError::Backend`] or
    /// [`StoreError::Unavailable`], when it had one.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            StoreError::Backend(error) | StoreError::Unavailable(error) => error.cause(),
            _ => None,
        }
    }
}

/// What a storage engine's failure tells ([`StoreError::Backend`],
/// [`StoreError::Unavailable`]): the one line shown, and the engine's
/// own error, when there was one, as its
/// [`source`](std::error::Error::source). The cause is shared, as
/// rustls's `OtherError` shares it, so the error stays `Clone`; two are
/// equal when they tell the same line. It reads as its line (`&str`).
#[derive(Clone)]
pub struct EngineError {
    message: String,
    cause: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl EngineError {
    /// A failure told by `message` alone.
    pub fn new(message: impl Into<String>) -> Self {
        EngineError {
            message: message.into(),
            cause: None,
        }
    }

    /// A failure told by `message`, caused by the engine's error `cause`.
    pub fn caused_by(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        EngineError {
            message: message.into(),
            cause: Some(std::sync::Arc::new(cause)),
        }
    }

    /// The line shown.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The engine's own error, when there was one.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.cause.as_deref()
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::fmt::Debug for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("EngineError");
        debug.field("message", &self.message);
        if let Some(cause) = &self.cause {
            debug.field("cause", cause);
        }
        debug.finish()
    }
}

impl std::error::Error for EngineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for EngineError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for EngineError {}

impl std::ops::Deref for EngineError {
    type Target = str;

    fn deref(&self) -> &str {
        &self.message
    }
}

impl From<String> for EngineError {
    fn from(message: String) -> Self {
        EngineError::new(message)
    }
}

impl From<&str> for EngineError {
    fn from(message: &str) -> Self {
        EngineError::new(message)
    }
}

/// Why an append was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// A precondition did not hold.
    #[error(transparent)]
    Refused(#[from] PreconditionFailed),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How replaying the log compared with the stored projections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckReport {
    /// Records replayed.
    pub records: u64,
    /// The snapshot the replay started from: the last sequence number it
    /// stands for (`None`: the whole log was replayed).
    pub snapshot: Option<Seq>,
    /// Every difference found, one line each; empty when they agree.
    pub mismatches: Vec<String>,
}

impl CheckReport {
    /// Whether the rebuilt projections equal the stored ones.
    pub fn is_consistent(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Counts what a backend's writer answered an append, through the
/// `metrics` facade (a no-op until a recorder is installed):
/// `credlog_store_appends_total{outcome}` (written, refused or failed) and,
/// for a refusal, `credlog_store_appends_refused_total{reason}`.
pub fn count_append(outcome: &Result<Seq, AppendError>) {
    let outcome = match outcome {
        Ok(_) => "written",
        Err(AppendError::Refused(refused)) => {
            metrics::counter!("credlog_store_appends_refused_total", "reason" => refused.reason())
                .increment(1);
            "refused"
        }
        Err(AppendError::Store(_)) => "failed",
    };
    metrics::counter!("credlog_store_appends_total", "outcome" => outcome).increment(1);
}

/// A projection value, decoded.
async fn decoded<S: CredentialStore + ?Sized, T: serde::de::DeserializeOwned>(
    store: &S,
    tree: Tree,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    store
        .projection_value(tree, key)
        .await?
        .map(|bytes| {
            codec::decode(&bytes).map_err(|error| StoreError::CorruptProjection {
                tree: tree.name(),
                error,
            })
        })
        .transpose()
}

/// How long `Verified` records (a signed request's nonce) stay in the
/// live log, and where they go after (DESIGN.md rule 7); every other
/// record stays for ever. A backend's housekeeping applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Seconds behind the newest record's time (at least two nonce
    /// windows are kept whatever this says).
    pub seconds: u64,
    /// Whether retired records are kept in an archive (`credlog log
    /// --archive` reads them) or dropped.
    pub archive: bool,
}

/// Told the sequence number of each record [`CredentialStore::check_observed`]
/// has replayed, in order: what a progress bar counts.
pub type Replayed<'a> = &'a (dyn Fn(Seq) + Send + Sync);

/// What the store holds now that grows with traffic: what an operator
/// watches (the gauges of `GET /metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    /// OAuth 1 nonces kept, for the timestamp window (RFC 5849 3.3).
    pub nonces: u64,
    /// Login sessions live at the time asked about.
    pub live_sessions: u64,
}

/// A key the server signs with, as the projections hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyState {
    /// Its key id.
    pub kid: String,
    /// The private key (PKCS#8 PEM).
    pub private_key: Secret,
    /// When it was created.
    pub created_at: u64,
    /// When the next one replaced it (`None`: it is the current one).
    pub retired_at: Option<u64>,
}

/// The credential store: one atomic, precondition-guarded append of
/// events, and reads from the projections and the log. Implementations
/// write each append in one transaction and, for a durable backend, return
/// only once it is on disk (DESIGN.md rules 1, 2 and 6).
///
/// It also keeps login sessions, beside the log and its projections, not in
/// them ([`sessions`]): the `*_session*` methods append nothing, and
/// [`CredentialStore::check`] does not look at them.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Checks every precondition and, if all hold, writes the events as one
    /// record at `time`, returning its sequence number.
    async fn append(
        &self,
        preconditions: &[Precondition],
        events: Vec<Event>,
        time: u64,
    ) -> Result<Seq, AppendError>;

    /// A client by id.
    async fn client(&self, client_id: &str) -> Result<Option<ClientState>, StoreError>;

    /// The clients a user registered, in the order registered.
    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientState>, StoreError>;

    /// A user by name.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Every user, by name.
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Every client, removed ones included, by id.
    async fn clients(&self) -> Result<Vec<ClientState>, StoreError>;

    /// What `user` granted, one entry a client, in the order first
    /// granted; removed clients left out.
    async fn grants_of(&self, user: &str) -> Result<Vec<Grant>, StoreError>;

    /// The value a projection holds under `key` (its encoding; see
    /// [`codec::decode`]): the one read the typed look-ups below share.
    async fn projection_value(&self, tree: Tree, key: &[u8])
        -> Result<Option<Vec<u8>>, StoreError>;

    /// A user's OpenID Connect subject identifier, once assigned.
    async fn subject(&self, user: &str) -> Result<Option<String>, StoreError> {
        decoded(self, Tree::Subjects, user.as_bytes()).await
    }

    /// The keys the server signs with, oldest first; the last is the
    /// current one.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyState>, StoreError> {
        Ok(decoded(self, Tree::SigningKeys, projections::SIGNING_KEYS)
            .await?
            .unwrap_or_default())
    }

    /// The keys the server signs with for `alg` (other than RS256, whose
    /// are [`CredentialStore::signing_keys`]), oldest first; the last is
    /// the current one.
    async fn alg_signing_keys(&self, alg: &str) -> Result<Vec<SigningKeyState>, StoreError> {
        Ok(decoded(self, Tree::AlgSigningKeys, alg.as_bytes())
            .await?
            .unwrap_or_default())
    }

    /// What a credential is bound to (DPoP key, audience), if anything.
    async fn constraints(&self, id: &str) -> Result<Option<Constrained>, StoreError> {
        decoded(self, Tree::Constraints, id.as_bytes()).await
    }

    /// The options a client registered beyond RFC 7591's fields (a JSON
    /// object), if it registered any.
    async fn client_options(&self, client_id: &str) -> Result<Option<String>, StoreError> {
        decoded(self, Tree::ClientOptions, client_id.as_bytes()).await
    }

    /// The parameters of a pushed authorization request, by its id.
    async fn pushed(&self, id: &str) -> Result<Option<Pushed>, StoreError> {
        decoded(self, Tree::PushedRequests, id.as_bytes()).await
    }

    /// The JWK Set a client registered (JSON), if it registered one.
    async fn client_keys(&self, client_id: &str) -> Result<Option<String>, StoreError> {
        decoded(self, Tree::ClientKeys, client_id.as_bytes()).await
    }

    /// How the user signed in who granted the code that starts the family
    /// `family` (an OpenID Connect request's).
    async fn authentication(&self, family: &str) -> Result<Option<Authenticated>, StoreError> {
        decoded(self, Tree::Authentications, family.as_bytes()).await
    }

    /// A credential by id, with the revocation of its family and client applied.
    async fn credential(&self, id: &str) -> Result<Option<CredentialState>, StoreError>;

    /// Whether this nonce was used (within the window still kept).
    async fn nonce_seen(&self, nonce: &NonceKey) -> Result<bool, StoreError>;

    /// Up to `limit` records from `from` on, in order.
    async fn read_log(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError>;

    /// Up to `limit` records from `from` on that a retention moved out of
    /// the live log into an archive (DESIGN.md rule 7), in order. A store
    /// that archives nothing has none.
    async fn read_archive(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        let _ = (from, limit);
        Ok(Vec::new())
    }

    /// The sequence number of the last record (0 for an empty log).
    async fn last_seq(&self) -> Result<Seq, StoreError>;

    /// Rebuilds every projection from the log alone and compares it with
    /// the stored one (DESIGN.md rule 3).
    async fn check(&self) -> Result<CheckReport, StoreError> {
        self.check_observed(&|_| {}).await
    }

    /// [`CredentialStore::check`], telling `replayed` of each record as it
    /// is replayed, so a long check can show its progress.
    async fn check_observed(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError>;

    /// [`CredentialStore::check_observed`] from the snapshot the last
    /// consistent check kept, where the store keeps one (DESIGN.md rule
    /// 7): only the records after it are replayed, onto it. Without one,
    /// the whole log.
    async fn check_from_snapshot(&self, replayed: Replayed<'_>) -> Result<CheckReport, StoreError> {
        self.check_observed(replayed).await
    }

    /// How many nonces are kept and how many sessions are live at `now`
    /// by `limits`. Reads only; may walk the nonces, so it is for an
    /// operator's scrape, not for a request.
    async fn sizes(&self, limits: &SessionLimits, now: u64) -> Result<Sizes, StoreError>;

    /// Forgets nonces older than `timestamp`: they are outside every
    /// window and can never be presented again.
    async fn prune_nonces(&self, before_timestamp: u64) -> Result<u64, StoreError>;

    /// Keeps a new login session, created at `session.created`. First
    /// forgets every session that has ended by `limits` at that time, then,
    /// while its user holds [`SessionLimits::per_user_bound`] sessions or
    /// more, that user's oldest, then, while the store holds
    /// [`SessionLimits::in_all_bound`] or more, the oldest of all; so
    /// signing in in a loop cannot grow the store. The bounds hold however
    /// many sign-ins race. A durable backend returns once the session is on
    /// disk. Appends nothing to the log.
    async fn create_session(
        &self,
        session: SessionRecord,
        limits: &SessionLimits,
    ) -> Result<(), StoreError>;

    /// The session with this hash, if it is kept and live at `now` by
    /// `limits` ([`SessionLimits::is_live`]).
    async fn session(
        &self,
        hash: &SessionHash,
        limits: &SessionLimits,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Records a use of the session at `now`: its last use moves forward,
    /// never back; an unknown hash changes nothing. Callers touch only a
    /// session they found live, and only when [`SessionRecord::needs_touch`].
    /// Need not be durable at once: a last use lost in a crash only ends
    /// a session up to [`TOUCH_SLACK`] early.
    async fn touch_session(&self, hash: &SessionHash, now: u64) -> Result<(), StoreError>;

    /// Ends a session (signing out); answers whether it was kept. A durable
    /// backend returns once it is gone on disk, so it stays gone after a
    /// restart.
    async fn remove_session(&self, hash: &SessionHash) -> Result<bool, StoreError>;

    /// Ends every session of `user`, durably; answers how many there were.
    async fn remove_user_sessions(&self, user: &str) -> Result<u64, StoreError>;

    /// Proves the store answers a read and a write, changing nothing a
    /// read can see: an operator's health check. By default it reads the
    /// last sequence number and prunes the nonces before timestamp 0 (none);
    /// a backend whose writes reach a disk only when flushed overrides it
    /// with a write that is flushed.
    async fn probe(&self) -> Result<(), StoreError> {
        self.last_seq().await?;
        self.prune_nonces(0).await?;
        Ok(())
    }
}
