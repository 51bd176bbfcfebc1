//! The projection rules, written once for every key-value backend: how an
//! append checks its preconditions, how each event changes the projection
//! trees, how reads see a credential, and how a replay rebuilds and
//! compares. A backend supplies the trees through [`Projection`] inside its
//! own transaction; [`Trees`] is the in-memory one (the memory backend and
//! every replay use it).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::codec::{self, CodecError};
use super::events::{
    Authenticated, CredentialKind, Event, Issued, Record, Seq, TokenRecord, UserRecord,
};
use super::{
    ClientState, CredentialState, Failure, Grant, GrantState, NonceKey, Precondition,
    PreconditionFailed, SigningKeyState, Status, StoreError,
};

/// The trees a key-value backend keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tree {
    /// The log: big-endian sequence number -> encoded [`Record`].
    Log,
    /// Counters: the last sequence number, the nonce floor.
    Meta,
    /// Client id -> [`ClientState`].
    Clients,
    /// User name -> [`UserRecord`].
    Users,
    /// Credential id -> [`CredentialState`].
    Credentials,
    /// Nonce uses, keyed by timestamp first so old ones prune as a range.
    Nonces,
    /// Families whose every credential was revoked: family id -> ().
    Families,
    /// Client id + credential id -> (): what was issued to each client.
    ClientIndex,
    /// Parent id + credential id -> (): what was issued from each credential.
    ParentIndex,
    /// User name -> the ids of the clients the user registered, in order.
    OwnerIndex,
    /// User + client id -> [`GrantState`]: what the user granted the client.
    Grants,
    /// User name -> the ids of the clients the user granted, in order.
    UserGrants,
    /// Client id -> the sequence number up to which every credential
    /// issued to it was revoked (big-endian).
    ClientWatermarks,
    /// User name -> its OpenID Connect subject identifier.
    Subjects,
    /// [`SIGNING_KEYS`] -> every signing key, oldest first.
    SigningKeys,
    /// Client id -> the JWK Set it registered (JSON).
    ClientKeys,
    /// Code id -> how its user had signed in ([`Authenticated`]).
    Authentications,
    /// Device codes and user codes by when they expire: the start of each
    /// [`DEVICE_BUCKET`] (big-endian) -> their ids, and [`DEVICE_BUCKETS`]
    /// -> the buckets that hold any, so that [`sweep_devices`] finds the
    /// expired ones without a walk over every credential.
    DeviceExpiry,
}

impl Tree {
    /// Every tree, the log first.
    pub const ALL: [Tree; 18] = [
        Tree::Log,
        Tree::Meta,
        Tree::Clients,
        Tree::Users,
        Tree::Credentials,
        Tree::Nonces,
        Tree::Families,
        Tree::ClientIndex,
        Tree::ParentIndex,
        Tree::OwnerIndex,
        Tree::Grants,
        Tree::UserGrants,
        Tree::ClientWatermarks,
        Tree::Subjects,
        Tree::SigningKeys,
        Tree::ClientKeys,
        Tree::Authentications,
        Tree::DeviceExpiry,
    ];

    /// The projections: every tree but the log.
    pub const PROJECTIONS: &'static [Tree] = Tree::ALL.split_at(1).1;

    /// Its name on disk and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Log => "log",
            Tree::Meta => "meta",
            Tree::Clients => "clients",
            Tree::Users => "users",
            Tree::Credentials => "credentials",
            Tree::Nonces => "nonces",
            Tree::Families => "families",
            Tree::ClientIndex => "client_index",
            Tree::ParentIndex => "parent_index",
            Tree::OwnerIndex => "owner_index",
            Tree::Grants => "grants",
            Tree::UserGrants => "user_grants",
            Tree::ClientWatermarks => "client_watermarks",
            Tree::Subjects => "subjects",
            Tree::SigningKeys => "signing_keys",
            Tree::ClientKeys => "client_keys",
            Tree::Authentications => "authentications",
            Tree::DeviceExpiry => "device_expiry",
        }
    }
}

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

const LAST_SEQ: &[u8] = b"last_seq";

/// The one key of [`Tree::SigningKeys`]: the keys are few, and kept together.
pub const SIGNING_KEYS: &[u8] = b"keys";
const NONCE_FLOOR: &[u8] = b"nonce_floor";

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

fn pair_key(first: &str, second: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + first.len() + second.len());
    push_part(&mut key, first);
    push_part(&mut key, second);
    key
}

/// The two strings of a [`pair_key`].
fn pair_parts(key: &[u8]) -> Option<(String, String)> {
    let part = |rest: &[u8]| -> Option<(String, usize)> {
        let length = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let text = std::str::from_utf8(rest.get(4..4 + length)?).ok()?;
        Some((text.to_owned(), 4 + length))
    };
    let (first, used) = part(key)?;
    let (second, more) = part(&key[used..])?;
    (used + more == key.len()).then_some((first, second))
}

fn read_u64<P: Projection>(p: &P, key: &[u8]) -> Result<u64, ProjectionError> {
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

fn decode_value<T: serde::de::DeserializeOwned>(
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

fn stored<P: Projection, T: serde::de::DeserializeOwned>(
    p: &P,
    tree: Tree,
    key: &str,
) -> Result<Option<T>, ProjectionError> {
    p.get(tree, key.as_bytes())?
        .map(|bytes| decode_value(tree, &bytes))
        .transpose()
}

/// The last sequence number written (0 for an empty log).
pub fn last_seq<P: Projection>(p: &P) -> Result<Seq, ProjectionError> {
    read_u64(p, LAST_SEQ)
}

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

/// A client by id.
pub fn client<P: Projection>(
    p: &P,
    client_id: &str,
) -> Result<Option<ClientState>, ProjectionError> {
    stored(p, Tree::Clients, client_id)
}

/// The clients a user registered, in the order registered.
pub fn clients_owned_by<P: Projection>(
    p: &P,
    owner: &str,
) -> Result<Vec<ClientState>, ProjectionError> {
    let ids: Vec<String> = stored(p, Tree::OwnerIndex, owner)?.unwrap_or_default();
    let mut clients = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(state) = client(p, &id)? {
            clients.push(state);
        }
    }
    Ok(clients)
}

/// A user by name.
pub fn user<P: Projection>(p: &P, name: &str) -> Result<Option<UserRecord>, ProjectionError> {
    stored(p, Tree::Users, name)
}

fn grant_state<P: Projection>(
    p: &P,
    user: &str,
    client_id: &str,
) -> Result<Option<GrantState>, ProjectionError> {
    p.get(Tree::Grants, &pair_key(user, client_id))?
        .map(|bytes| decode_value(Tree::Grants, &bytes))
        .transpose()
}

/// What `user` granted, one [`Grant`] a client in the order first
/// granted, each with its credentials as [`credential`] reads them (a
/// caller judges which still work at its own time). A removed client's
/// grant is not listed: everything under it has ended.
pub fn grants_of<P: Projection>(p: &P, user: &str) -> Result<Vec<Grant>, ProjectionError> {
    let clients: Vec<String> = stored(p, Tree::UserGrants, user)?.unwrap_or_default();
    let mut grants = Vec::with_capacity(clients.len());
    for client_id in clients {
        if client(p, &client_id)?.is_none_or(|state| state.revoked) {
            continue;
        }
        let Some(state) = grant_state(p, user, &client_id)? else {
            continue;
        };
        let mut credentials = Vec::with_capacity(state.credentials.len());
        for id in &state.credentials {
            if let Some(found) = credential(p, id)? {
                credentials.push(found);
            }
        }
        grants.push(Grant {
            client_id,
            granted_at: state.granted_at,
            last_granted_at: state.last_granted_at,
            credentials,
        });
    }
    Ok(grants)
}

/// A credential by id, with the revocation of its family and client applied.
pub fn credential<P: Projection>(
    p: &P,
    id: &str,
) -> Result<Option<CredentialState>, ProjectionError> {
    let Some(mut state) = stored::<_, CredentialState>(p, Tree::Credentials, id)? else {
        return Ok(None);
    };
    if state.status != Status::Revoked {
        let family_revoked = p.get(Tree::Families, state.family.as_bytes())?.is_some();
        let client_revoked = client(p, &state.record.client_id)?.is_some_and(|c| c.revoked);
        let swept = state.issued_seq <= watermark(p, &state.record.client_id)?;
        if family_revoked || client_revoked || swept {
            state.status = Status::Revoked;
        }
    }
    Ok(Some(state))
}

/// The sequence number up to which every credential issued to
/// `client_id` was revoked (0: none was).
fn watermark<P: Projection>(p: &P, client_id: &str) -> Result<Seq, ProjectionError> {
    let Some(bytes) = p.get(Tree::ClientWatermarks, client_id.as_bytes())? else {
        return Ok(0);
    };
    let bytes: [u8; 8] =
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::CorruptProjection {
                tree: Tree::ClientWatermarks.name(),
                error: CodecError::Malformed(format!(
                    "the watermark of {client_id:?} is not 8 bytes"
                )),
            })?;
    Ok(u64::from_be_bytes(bytes))
}

/// Whether a nonce use is recorded.
pub fn nonce_seen<P: Projection>(p: &P, nonce: &NonceKey) -> Result<bool, ProjectionError> {
    Ok(p.get(Tree::Nonces, &nonce_key(nonce))?.is_some())
}

fn check<P: Projection>(
    p: &P,
    precondition: &Precondition,
) -> Result<Option<Failure>, ProjectionError> {
    Ok(match precondition {
        // Below the floor, uses were forgotten: the nonce cannot be vouched for.
        Precondition::NonceUnused(nonce) if nonce.timestamp < nonce_floor(p)? => {
            Some(Failure::NonceTooOld)
        }
        Precondition::NonceUnused(nonce) => nonce_seen(p, nonce)?.then_some(Failure::NonceUsed),
        Precondition::Credential {
            id,
            kind,
            client_id,
            status,
            now,
        } => match credential(p, id)? {
            None => Some(Failure::Missing),
            Some(state) if state.record.kind != *kind => Some(Failure::WrongKind {
                actual: state.record.kind,
            }),
            Some(state) if state.record.client_id != *client_id => Some(Failure::WrongClient),
            Some(state) if state.status != *status => Some(Failure::WrongStatus {
                actual: state.status,
            }),
            Some(state) if state.is_expired(*now) => Some(Failure::Expired),
            Some(_) => None,
        },
        Precondition::VerifierMatches { id, verifier } => match credential(p, id)? {
            None => Some(Failure::Missing),
            Some(state) if state.verifier.as_ref().is_some_and(|v| v.matches(verifier)) => None,
            Some(_) => Some(Failure::VerifierMismatch),
        },
        Precondition::ClientLive { client_id } => match client(p, client_id)? {
            None => Some(Failure::Missing),
            Some(state) if state.revoked => Some(Failure::ClientRevoked),
            Some(_) => None,
        },
        Precondition::UserExists { name } => user(p, name)?.is_none().then_some(Failure::Missing),
        Precondition::Absent { kind, id } => {
            let tree = match kind {
                CredentialKind::Client => Tree::Clients,
                CredentialKind::User => Tree::Users,
                _ => Tree::Credentials,
            };
            p.get(tree, id.as_bytes())?
                .is_some()
                .then_some(Failure::AlreadyExists)
        }
        Precondition::SubjectUnassigned { user } => p
            .get(Tree::Subjects, user.as_bytes())?
            .is_some()
            .then_some(Failure::AlreadyExists),
        Precondition::CurrentSigningKey { kid } => {
            let keys = signing_keys(p)?;
            (keys.last().map(|key| &key.kid) != kid.as_ref()).then_some(Failure::Changed)
        }
    })
}

/// The signing keys, oldest first.
pub fn signing_keys<P: Projection>(p: &P) -> Result<Vec<SigningKeyState>, ProjectionError> {
    Ok(match p.get(Tree::SigningKeys, SIGNING_KEYS)? {
        Some(bytes) => decode_value(Tree::SigningKeys, &bytes)?,
        None => Vec::new(),
    })
}

/// RFC-free rule 1 of the store: checks every precondition, then writes
/// the events as the next record. Returns the record's sequence number, or
/// the first precondition that failed (and writes nothing).
pub fn append<P: ProjectionMut>(
    p: &mut P,
    preconditions: &[Precondition],
    events: &[Event],
    time: u64,
) -> Result<Result<Seq, PreconditionFailed>, ProjectionError> {
    for precondition in preconditions {
        if let Some(failure) = check(p, precondition)? {
            return Ok(Err(PreconditionFailed {
                precondition: precondition.clone(),
                failure,
            }));
        }
    }
    let seq = last_seq(p)? + 1;
    let record = Record {
        seq,
        time,
        events: events.to_vec(),
    };
    p.insert(Tree::Log, &seq_key(seq), codec::encode_record(&record))?;
    p.insert(Tree::Meta, LAST_SEQ, seq.to_be_bytes().to_vec())?;
    apply(p, &record)?;
    Ok(Ok(seq))
}

fn put<P: ProjectionMut, T: serde::Serialize>(
    p: &mut P,
    tree: Tree,
    key: &str,
    value: &T,
) -> Result<(), ProjectionError> {
    p.insert(tree, key.as_bytes(), codec::encode(value))
}

/// How each event changes the projections. Total and deterministic: an
/// event about something unknown changes nothing, so a replay of the log
/// always rebuilds what the appends built.
pub fn apply<P: ProjectionMut>(p: &mut P, record: &Record) -> Result<(), ProjectionError> {
    for event in &record.events {
        match event {
            Event::Issued(Issued::Client(client)) => {
                let state = ClientState {
                    record: client.clone(),
                    revoked: false,
                    issued_seq: record.seq,
                };
                put(p, Tree::Clients, &client.client_id, &state)?;
                let mut owned: Vec<String> =
                    stored(p, Tree::OwnerIndex, &client.owner)?.unwrap_or_default();
                owned.push(client.client_id.clone());
                put(p, Tree::OwnerIndex, &client.owner, &owned)?;
            }
            Event::Issued(Issued::User(user)) => put(p, Tree::Users, &user.name, user)?,
            Event::Issued(Issued::Token(token)) => {
                let family = match &token.parent {
                    Some(parent) => {
                        match stored::<_, CredentialState>(p, Tree::Credentials, parent)? {
                            Some(parent) => parent.family,
                            None => parent.clone(),
                        }
                    }
                    None => token.id.clone(),
                };
                if let Some(parent) = &token.parent {
                    p.insert(Tree::ParentIndex, &pair_key(parent, &token.id), Vec::new())?;
                }
                p.insert(
                    Tree::ClientIndex,
                    &pair_key(&token.client_id, &token.id),
                    Vec::new(),
                )?;
                let state = CredentialState {
                    record: token.clone(),
                    status: Status::Issued,
                    verifier: None,
                    family,
                    issued_seq: record.seq,
                };
                put(p, Tree::Credentials, &token.id, &state)?;
                index_device_expiry(p, token)?;
            }
            // A use below the floor is already forgotten, as a prune would.
            Event::Verified(verified) if verified.timestamp < nonce_floor(p)? => {}
            Event::Verified(verified) => {
                p.insert(Tree::Nonces, &nonce_key(&verified.into()), Vec::new())?;
            }
            Event::Authorized(authorized) => {
                if let Some(mut state) =
                    stored::<_, CredentialState>(p, Tree::Credentials, &authorized.id)?
                {
                    state.status = Status::Authorized;
                    state.record.user = Some(authorized.user.clone());
                    state.verifier = authorized.verifier.clone();
                    put(p, Tree::Credentials, &authorized.id, &state)?;
                }
            }
            Event::Exchanged(exchanged) => {
                if let Some(mut state) =
                    stored::<_, CredentialState>(p, Tree::Credentials, &exchanged.id)?
                {
                    state.status = Status::Exchanged;
                    put(p, Tree::Credentials, &exchanged.id, &state)?;
                }
            }
            Event::Revoked(revoked) if revoked.kind == CredentialKind::Client => {
                if let Some(mut state) = client(p, &revoked.id)? {
                    state.revoked = true;
                    put(p, Tree::Clients, &revoked.id, &state)?;
                }
            }
            Event::Revoked(revoked) => end_credential(p, &revoked.id, revoked.whole_family)?,
            Event::SecretRotated(rotated) => {
                if let Some(mut state) = client(p, &rotated.client_id)? {
                    state.record.secret = rotated.secret.clone();
                    put(p, Tree::Clients, &rotated.client_id, &state)?;
                }
            }
            Event::PasswordChanged(changed) => {
                if user(p, &changed.name)?.is_some() {
                    put(p, Tree::Users, &changed.name, changed)?;
                }
            }
            Event::GrantRevoked(revoked) => end_grant(p, &revoked.user, &revoked.client_id)?,
            // Read through `credential`: what was issued up to this record is revoked.
            Event::CredentialsRevoked(revoked) => p.insert(
                Tree::ClientWatermarks,
                revoked.client_id.as_bytes(),
                record.seq.to_be_bytes().to_vec(),
            )?,
            Event::UserRemoved(removed) => {
                let name = removed.name.as_str();
                let owned: Vec<String> = stored(p, Tree::OwnerIndex, name)?.unwrap_or_default();
                for client_id in owned {
                    if let Some(mut state) = client(p, &client_id)? {
                        state.revoked = true;
                        put(p, Tree::Clients, &client_id, &state)?;
                    }
                }
                let granted: Vec<String> = stored(p, Tree::UserGrants, name)?.unwrap_or_default();
                for client_id in granted {
                    end_grant(p, name, &client_id)?;
                }
                for tree in [
                    Tree::Users,
                    Tree::OwnerIndex,
                    Tree::UserGrants,
                    Tree::Subjects,
                ] {
                    p.remove(tree, name.as_bytes())?;
                }
            }
            Event::SubjectAssigned(assigned) => {
                if user(p, &assigned.user)?.is_some() {
                    put(p, Tree::Subjects, &assigned.user, &assigned.sub)?;
                }
            }
            Event::SigningKeyCreated(created) => {
                let mut keys = signing_keys(p)?;
                if let Some(current) = keys.last_mut() {
                    current.retired_at.get_or_insert(record.time);
                }
                keys.push(SigningKeyState {
                    kid: created.kid.clone(),
                    private_key: created.private_key.clone(),
                    created_at: record.time,
                    retired_at: None,
                });
                p.insert(Tree::SigningKeys, SIGNING_KEYS, codec::encode(&keys))?;
            }
            Event::ClientKeysRegistered(registered) => {
                if client(p, &registered.client_id)?.is_some() {
                    put(p, Tree::ClientKeys, &registered.client_id, &registered.jwks)?;
                }
            }
            Event::Authenticated(authenticated) => {
                let Authenticated { id, .. } = authenticated;
                if p.get(Tree::Credentials, id.as_bytes())?.is_some() {
                    put(p, Tree::Authentications, id, authenticated)?;
                }
            }
        }
        match event {
            Event::Issued(Issued::Token(TokenRecord {
                id,
                client_id,
                user: Some(user),
                ..
            })) => add_to_grant(p, user, client_id, id, record.time)?,
            Event::Authorized(authorized) => {
                if let Some(state) =
                    stored::<_, CredentialState>(p, Tree::Credentials, &authorized.id)?
                {
                    let client_id = &state.record.client_id;
                    add_to_grant(p, &authorized.user, client_id, &authorized.id, record.time)?;
                }
            }
            _ => {}
        }
    }
    if !retirable(record) {
        sweep_devices(p, record.time)?;
    }
    Ok(())
}

/// Ends a credential, and with `whole_family` every credential of its family.
fn end_credential<P: ProjectionMut>(
    p: &mut P,
    id: &str,
    whole_family: bool,
) -> Result<(), ProjectionError> {
    if let Some(mut state) = stored::<_, CredentialState>(p, Tree::Credentials, id)? {
        state.status = Status::Revoked;
        if whole_family {
            p.insert(Tree::Families, state.family.as_bytes(), Vec::new())?;
        }
        put(p, Tree::Credentials, id, &state)?;
    }
    Ok(())
}

/// Records that `user` granted `client_id` the credential `id` at `time`.
/// The grant lists only credentials that may still work: those ended or
/// expired by `time` leave it here, so it stays as small as what the
/// client holds.
fn add_to_grant<P: ProjectionMut>(
    p: &mut P,
    user: &str,
    client_id: &str,
    id: &str,
    time: u64,
) -> Result<(), ProjectionError> {
    let mut grant = match grant_state(p, user, client_id)? {
        Some(grant) => grant,
        None => {
            let mut granted: Vec<String> = stored(p, Tree::UserGrants, user)?.unwrap_or_default();
            granted.push(client_id.to_owned());
            put(p, Tree::UserGrants, user, &granted)?;
            GrantState {
                granted_at: time,
                last_granted_at: time,
                credentials: Vec::new(),
            }
        }
    };
    let mut live = Vec::with_capacity(grant.credentials.len() + 1);
    for kept in grant.credentials.drain(..) {
        let works = credential(p, &kept)?.is_some_and(|state| state.works_at(time));
        if works && kept != id {
            live.push(kept);
        }
    }
    live.push(id.to_owned());
    grant.credentials = live;
    grant.last_granted_at = time;
    p.insert(
        Tree::Grants,
        &pair_key(user, client_id),
        codec::encode(&grant),
    )
}

/// Ends every credential `user` granted `client_id`, families included,
/// and forgets the grant.
fn end_grant<P: ProjectionMut>(
    p: &mut P,
    user: &str,
    client_id: &str,
) -> Result<(), ProjectionError> {
    let Some(grant) = grant_state(p, user, client_id)? else {
        return Ok(());
    };
    for id in &grant.credentials {
        end_credential(p, id, true)?;
    }
    p.remove(Tree::Grants, &pair_key(user, client_id))?;
    let mut granted: Vec<String> = stored(p, Tree::UserGrants, user)?.unwrap_or_default();
    granted.retain(|kept| kept != client_id);
    if granted.is_empty() {
        p.remove(Tree::UserGrants, user.as_bytes())
    } else {
        put(p, Tree::UserGrants, user, &granted)
    }
}

/// Seconds of expiry times one key of [`Tree::DeviceExpiry`] gathers.
pub const DEVICE_BUCKET: u64 = 10;

/// How long past its bucket's end an expired device code nobody approved
/// stays in the projections: meanwhile a poll with it answers
/// `expired_token` (RFC 8628 3.5) on every node; once swept, it is unknown
/// (`invalid_grant`, which RFC 6749 5.2 gives for an expired grant too).
pub const DEVICE_SWEEP_GRACE: u64 = 20;

/// The key of [`Tree::DeviceExpiry`] listing its buckets, in order.
pub const DEVICE_BUCKETS: &[u8] = b"buckets";

/// The key of [`Tree::DeviceExpiry`] for the bucket starting at `start`.
fn device_bucket_key(start: u64) -> [u8; 8] {
    start.to_be_bytes()
}

/// Notes a device code or user code under the bucket of its expiry, for
/// [`sweep_devices`].
fn index_device_expiry<P: ProjectionMut>(
    p: &mut P,
    token: &TokenRecord,
) -> Result<(), ProjectionError> {
    let (CredentialKind::DeviceCode | CredentialKind::UserCode) = token.kind else {
        return Ok(());
    };
    let Some(expires_at) = token.expires_at else {
        return Ok(());
    };
    let start = expires_at - expires_at % DEVICE_BUCKET;
    let key = device_bucket_key(start);
    let mut ids: Vec<String> = match p.get(Tree::DeviceExpiry, &key)? {
        Some(bytes) => decode_value(Tree::DeviceExpiry, &bytes)?,
        None => {
            let mut buckets = device_buckets(p)?;
            if let Err(at) = buckets.binary_search(&start) {
                buckets.insert(at, start);
            }
            p.insert(Tree::DeviceExpiry, DEVICE_BUCKETS, codec::encode(&buckets))?;
            Vec::new()
        }
    };
    ids.push(token.id.clone());
    p.insert(Tree::DeviceExpiry, &key, codec::encode(&ids))
}

fn device_buckets<P: Projection>(p: &P) -> Result<Vec<u64>, ProjectionError> {
    match p.get(Tree::DeviceExpiry, DEVICE_BUCKETS)? {
        Some(bytes) => decode_value(Tree::DeviceExpiry, &bytes),
        None => Ok(Vec::new()),
    }
}

/// CONTRACT.md "Users and sessions": a device code nobody approved is gone
/// from the projections once it expires (the log keeps its record). Run
/// as each record is applied, with the record's time, so that a replay of
/// the log sweeps exactly where the appends swept: every bucket whose
/// codes all expired [`DEVICE_SWEEP_GRACE`] or more before `time` is
/// emptied, each device code in it that no one approved (no user: still
/// pending, or denied) leaving with its user code. An approved or traded
/// code stays (its family may hold tokens), as does its user code.
/// Records of `Verified` events alone do not sweep: a retention may take
/// them out of the live log, and a replay without them must sweep alike.
pub fn sweep_devices<P: ProjectionMut>(p: &mut P, time: u64) -> Result<(), ProjectionError> {
    let buckets = device_buckets(p)?;
    let due = buckets.partition_point(|start| {
        start
            .saturating_add(DEVICE_BUCKET)
            .saturating_add(DEVICE_SWEEP_GRACE)
            <= time
    });
    if due == 0 {
        return Ok(());
    }
    for start in &buckets[..due] {
        let key = device_bucket_key(*start);
        let ids: Vec<String> = match p.get(Tree::DeviceExpiry, &key)? {
            Some(bytes) => decode_value(Tree::DeviceExpiry, &bytes)?,
            None => Vec::new(),
        };
        for id in &ids {
            sweep_device_credential(p, id)?;
        }
        p.remove(Tree::DeviceExpiry, &key)?;
    }
    let kept = &buckets[due..];
    if kept.is_empty() {
        p.remove(Tree::DeviceExpiry, DEVICE_BUCKETS)
    } else {
        p.insert(Tree::DeviceExpiry, DEVICE_BUCKETS, codec::encode(&kept))
    }
}

/// Removes the expired device code or user code `id` if no one approved
/// its device code (a user code whose device code is gone goes too).
fn sweep_device_credential<P: ProjectionMut>(p: &mut P, id: &str) -> Result<(), ProjectionError> {
    let Some(state) = stored::<_, CredentialState>(p, Tree::Credentials, id)? else {
        return Ok(());
    };
    let device = match state.record.kind {
        CredentialKind::DeviceCode => Some(state.clone()),
        CredentialKind::UserCode => match &state.record.parent {
            Some(parent) => stored::<_, CredentialState>(p, Tree::Credentials, parent)?,
            None => None,
        },
        _ => return Ok(()),
    };
    let approved = device
        .is_some_and(|device| device.record.user.is_some() || device.status == Status::Exchanged);
    if approved {
        return Ok(());
    }
    let record = &state.record;
    p.remove(Tree::Credentials, id.as_bytes())?;
    p.remove(Tree::ClientIndex, &pair_key(&record.client_id, id))?;
    if let Some(parent) = &record.parent {
        p.remove(Tree::ParentIndex, &pair_key(parent, id))?;
    }
    Ok(())
}

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

/// Whether a retention may take `record` out of the live log once it is
/// old enough (DESIGN.md rule 7): it holds only `Verified` events, which
/// change no credential's state and matter only inside the nonce window.
pub fn retirable(record: &Record) -> bool {
    !record.events.is_empty()
        && record
            .events
            .iter()
            .all(|event| matches!(event, Event::Verified(_)))
}

/// The shortest retention a nonce window of `window` seconds allows: two
/// windows, so that every record the nonce window is rebuilt from on open
/// (see [`window_from_tail`]) stays, and every nonce a retired record held
/// is below the floor already.
pub fn shortest_retention(window: u64) -> u64 {
    window.saturating_mul(2)
}

/// How far behind the newest record's time a retention of `retain`
/// seconds takes records out, for a nonce window of `window` seconds:
/// past [`shortest_retention`] whatever `retain` says.
pub fn retention_cutoff(newest_time: u64, retain: u64, window: u64) -> u64 {
    newest_time.saturating_sub(retain.max(shortest_retention(window).saturating_add(1)))
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

/// Key-value trees in memory: the memory backend's store, and what a
/// replay rebuilds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trees {
    trees: BTreeMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl Trees {
    /// Empty trees.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry of a tree, in key order.
    pub fn entries(&self, tree: Tree) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.trees
            .get(&tree)
            .into_iter()
            .flat_map(|t| t.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
    }

    /// [`Trees::entries`] as a backend's reads give them, for
    /// [`compare_trees`].
    pub fn owned_entries(&self, tree: Tree) -> Entries<'_> {
        Box::new(
            self.entries(tree)
                .map(|(k, v)| Ok((k.to_vec(), v.to_vec()))),
        )
    }

    /// How many entries a tree holds.
    pub fn len(&self, tree: Tree) -> usize {
        self.trees.get(&tree).map_or(0, BTreeMap::len)
    }

    /// Entries of a tree from `start` on.
    pub fn range_from(&self, tree: Tree, start: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
        let start = start.to_vec();
        self.trees.get(&tree).into_iter().flat_map(move |t| {
            t.range(start.clone()..)
                .map(|(k, v)| (k.as_slice(), v.as_slice()))
        })
    }

    /// Removes the nonces with a timestamp below `timestamp`; answers how many.
    pub fn prune_nonces(&mut self, timestamp: u64) -> u64 {
        let Some(nonces) = self.trees.get_mut(&Tree::Nonces) else {
            return 0;
        };
        let kept = nonces.split_off(timestamp.to_be_bytes().as_slice());
        let removed = nonces.len() as u64;
        *nonces = kept;
        removed
    }

    /// Rebuilds the projections from log records, as a replay does: each
    /// record applied in order, nonces below `nonce_floor` pruned.
    ///
    /// Records below `retired_below` may be missing: a retention took them
    /// out of the live log (DESIGN.md rule 7), and it takes only records
    /// of `Verified` events older than the nonce floor, which a replay
    /// would forget again. Any other gap is damage.
    pub fn replay(
        records: impl IntoIterator<Item = Result<Record, StoreError>>,
        nonce_floor: u64,
        retired_below: Seq,
    ) -> Result<(Trees, u64), StoreError> {
        let mut replay = Replay::new(nonce_floor, retired_below);
        for record in records {
            replay.apply(&record?)?;
        }
        replay.finish()
    }

    /// Compares these (rebuilt) projections with stored ones, tree by tree;
    /// one line per difference, at most `limit` lines.
    pub fn compare<'a>(
        &'a self,
        stored: impl Fn(Tree) -> Entries<'a>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        compare_trees(|tree| self.owned_entries(tree), stored, limit)
    }
}

/// [`Trees::replay`] a record at a time, for a backend that reads its log
/// in pages (asynchronously): [`Replay::apply`] each record in order, then
/// [`Replay::finish`].
pub struct Replay {
    trees: Trees,
    order: Order,
    count: u64,
    nonce_floor: u64,
}

impl Replay {
    /// A replay from record 1; records below `retired_below` may be
    /// missing (see [`Trees::replay`]).
    pub fn new(nonce_floor: u64, retired_below: Seq) -> Self {
        Replay {
            trees: Trees::new(),
            order: Order::starting(1, retired_below),
            count: 0,
            nonce_floor,
        }
    }

    /// Applies the next record.
    pub fn apply(&mut self, record: &Record) -> Result<(), StoreError> {
        replay_record(&mut self.trees, &mut self.order, record)?;
        self.count += 1;
        // Keep memory bounded while replaying a long log.
        if self.count.is_multiple_of(65_536) {
            self.trees.prune_nonces(self.nonce_floor);
        }
        Ok(())
    }

    /// The rebuilt projections, and how many records were replayed.
    pub fn finish(mut self) -> Result<(Trees, u64), StoreError> {
        self.trees.prune_nonces(self.nonce_floor);
        if self.nonce_floor > 0 {
            raise_nonce_floor(&mut self.trees, self.nonce_floor).map_err(unwrap_store)?;
        }
        Ok((self.trees, self.count))
    }
}

/// One key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A tree's entries in key order, as a backend reads them.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + 'a>;

/// Where a replay is in the log: the sequence number it expects next, and
/// below which records may be missing (a retention took them).
struct Order {
    expected: Seq,
    retired_below: Seq,
}

impl Order {
    fn starting(expected: Seq, retired_below: Seq) -> Self {
        Order {
            expected,
            retired_below,
        }
    }

    /// The next record is `seq`: the one expected, or one after a gap a
    /// retention left.
    fn check(&mut self, seq: Seq) -> Result<(), StoreError> {
        let retired = seq > self.expected && seq <= self.retired_below;
        if seq != self.expected && !retired {
            return Err(StoreError::Corrupt(format!(
                "log record {} is missing (found {seq})",
                self.expected
            )));
        }
        self.expected = seq + 1;
        Ok(())
    }
}

/// Replays one record onto `p`, the next in `order`: every replay's step.
fn replay_record<P: ProjectionMut>(
    p: &mut P,
    order: &mut Order,
    record: &Record,
) -> Result<(), StoreError> {
    order.check(record.seq)?;
    p.insert(Tree::Meta, LAST_SEQ, record.seq.to_be_bytes().to_vec())
        .map_err(unwrap_store)?;
    apply(p, record).map_err(unwrap_store)
}

/// [`Trees::replay`] for a log too long to rebuild in memory: the changes
/// of each `budget` events gather over `base` (reads see them first, then
/// `base`) and are handed to `flush`, which writes them to `base`; memory
/// holds one budget's changes. Nonces below the floor are never written.
/// `records` start at `from`: `base` is empty for 1, else the projections
/// as the records before `from` left them (a snapshot, its nonces below
/// the floor removed). `base` then holds what [`Trees::replay`] would
/// return; answers how many records were replayed.
pub fn replay_through<P: Projection>(
    records: impl IntoIterator<Item = Result<Record, StoreError>>,
    nonce_floor: u64,
    retired_below: Seq,
    from: Seq,
    base: &P,
    mut flush: impl FnMut(Changes) -> Result<(), StoreError>,
    budget: usize,
) -> Result<u64, StoreError> {
    let mut overlay = Overlay::new(base);
    if nonce_floor > 0 {
        raise_nonce_floor(&mut overlay, nonce_floor).map_err(unwrap_store)?;
    }
    let mut order = Order::starting(from, retired_below);
    let (mut count, mut pending) = (0, 0);
    for record in records {
        let record = record?;
        replay_record(&mut overlay, &mut order, &record)?;
        count += 1;
        pending += record.events.len();
        if pending >= budget {
            flush(std::mem::replace(&mut overlay, Overlay::new(base)).into_changes())?;
            pending = 0;
        }
    }
    flush(overlay.into_changes())?;
    Ok(count)
}

/// Compares rebuilt projections with stored ones, tree by tree, each read
/// in key order; one line per difference, at most `limit` lines.
pub fn compare_trees<'a>(
    rebuilt: impl Fn(Tree) -> Entries<'a>,
    stored: impl Fn(Tree) -> Entries<'a>,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut mismatches = Vec::new();
    for &tree in Tree::PROJECTIONS {
        let mut rebuilt = rebuilt(tree).peekable();
        let mut stored = stored(tree).peekable();
        loop {
            if mismatches.len() >= limit {
                return Ok(mismatches);
            }
            let order = match (peeked(&mut rebuilt)?, peeked(&mut stored)?) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(new), Some(old)) => {
                    let order = new.0.cmp(&old.0);
                    let differs = new.1 != old.1 && !same_value(tree, &new.1, &old.1);
                    if order == Ordering::Equal && differs {
                        let key = show_key(tree, &new.0);
                        mismatches.push(format!("{}: {key} differs", tree.name()));
                    }
                    order
                }
            };
            let (side, what) = match order {
                Ordering::Equal => {
                    rebuilt.next();
                    stored.next();
                    continue;
                }
                Ordering::Less => (&mut rebuilt, "is in the log but not stored"),
                Ordering::Greater => (&mut stored, "is stored but not in the log"),
            };
            if let Some(Ok((key, _))) = side.next() {
                mismatches.push(format!("{}: {} {what}", tree.name(), show_key(tree, &key)));
            }
        }
    }
    Ok(mismatches)
}

/// The next entry of `entries` without taking it; its error taken.
fn peeked<'e>(
    entries: &'e mut std::iter::Peekable<Entries<'_>>,
) -> Result<Option<&'e Entry>, StoreError> {
    if matches!(entries.peek(), Some(Err(_))) {
        return Err(entries
            .next()
            .and_then(Result::err)
            .unwrap_or_else(|| StoreError::Backend("read failed".into())));
    }
    Ok(entries.peek().and_then(|entry| entry.as_ref().ok()))
}

/// Whether two encodings of a projection value mean the same value. A
/// client stored before its metadata was typed may spell its scope with a
/// repeated token, which reads back once (RFC 6749 3.3: a scope is a set):
/// the same client as the one the log rebuilds.
fn same_value(tree: Tree, rebuilt: &[u8], stored: &[u8]) -> bool {
    match tree {
        Tree::Clients => {
            match (
                codec::decode::<ClientState>(rebuilt),
                codec::decode::<ClientState>(stored),
            ) {
                (Ok(rebuilt), Ok(stored)) => rebuilt == stored,
                _ => false,
            }
        }
        _ => false,
    }
}

fn unwrap_store(error: ProjectionError) -> StoreError {
    match error {
        ProjectionError::Store(error) => error,
        ProjectionError::Conflict => {
            StoreError::Backend("an in-memory projection cannot conflict".into())
        }
    }
}

/// A key as a person reads it: text where it is text, hex otherwise.
fn show_key(tree: Tree, key: &[u8]) -> String {
    match (tree, std::str::from_utf8(key)) {
        (Tree::Nonces, _) => format!("nonce at timestamp {}", nonce_key_timestamp(key)),
        (Tree::Grants | Tree::ClientIndex | Tree::ParentIndex, _) => match pair_parts(key) {
            Some((first, second)) => format!("{first:?} + {second:?}"),
            None => key.iter().map(|b| format!("{b:02x}")).collect(),
        },
        (_, Ok(text)) if text.chars().all(|c| !c.is_control()) => format!("{text:?}"),
        _ => key.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

impl Projection for Trees {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        Ok(self.trees.get(&tree).and_then(|t| t.get(key)).cloned())
    }
}

impl ProjectionMut for Trees {
    fn insert(&mut self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), ProjectionError> {
        self.trees
            .entry(tree)
            .or_default()
            .insert(key.to_vec(), value);
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), ProjectionError> {
        if let Some(entries) = self.trees.get_mut(&tree) {
            entries.remove(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientAuthMethod, GrantType, Scope};
    use crate::store::events::{ClientRecord, Secret};

    /// A client as format 1 wrote it: metadata as strings.
    #[derive(serde::Serialize)]
    struct OldClientRecord<'a> {
        client_id: &'a str,
        secret: Secret,
        owner: &'a str,
        name: &'a str,
        redirect_uris: Vec<&'a str>,
        scope: &'a str,
        grant_types: Vec<&'a str>,
        response_types: Vec<&'a str>,
        auth_method: &'a str,
        rsa_public_key: Option<String>,
    }

    /// A client's projection value as format 1 wrote it.
    #[derive(serde::Serialize)]
    struct OldClientState<'a> {
        record: OldClientRecord<'a>,
        revoked: bool,
        issued_seq: u64,
    }

    fn old_client(scope: &str, revoked: bool) -> Vec<u8> {
        codec::encode(&OldClientState {
            record: OldClientRecord {
                client_id: "c1",
                secret: Secret::None,
                owner: "alice",
                name: "App",
                redirect_uris: vec![],
                scope,
                grant_types: vec!["client_credentials"],
                response_types: vec![],
                auth_method: "none",
                rsa_public_key: None,
            },
            revoked,
            issued_seq: 1,
        })
    }

    fn rebuilt() -> Trees {
        let client = ClientRecord {
            client_id: "c1".into(),
            secret: Secret::None,
            owner: "alice".into(),
            name: "App".into(),
            redirect_uris: vec![],
            scope: Scope::parse("profile").unwrap(),
            grant_types: vec![GrantType::ClientCredentials],
            response_types: vec![],
            auth_method: ClientAuthMethod::None,
            rsa_public_key: None,
        };
        let record = Record {
            seq: 1,
            time: 0,
            events: vec![Event::Issued(Issued::Client(client))],
        };
        Trees::replay([Ok(record)], 0, 0).unwrap().0
    }

    fn mismatches(rebuilt: &Trees, stored_client: Vec<u8>) -> Vec<String> {
        let mut stored = rebuilt.clone();
        stored.insert(Tree::Clients, b"c1", stored_client).unwrap();
        rebuilt
            .compare(
                |tree| {
                    let entries: Vec<_> = stored
                        .entries(tree)
                        .map(|(k, v)| Ok((k.to_vec(), v.to_vec())))
                        .collect();
                    Box::new(entries.into_iter())
                },
                10,
            )
            .unwrap()
    }

    #[test]
    fn a_format_1_client_checks_clean_even_with_a_repeated_scope_token() {
        let rebuilt = rebuilt();
        assert_eq!(
            mismatches(&rebuilt, old_client("profile", false)),
            Vec::<String>::new()
        );
        assert_eq!(
            mismatches(&rebuilt, old_client("profile profile", false)),
            Vec::<String>::new()
        );
        // A client that means something else still differs.
        assert_eq!(
            mismatches(&rebuilt, old_client("profile", true)),
            vec!["clients: \"c1\" differs".to_owned()]
        );
    }
}
