//! Rule 1 of the store (DESIGN.md): an append checks every precondition
//! against the projections, then writes its events as the next record and
//! applies them, or writes nothing.

use super::super::codec;
use super::super::events::{CredentialKind, Event, Record, Seq};
use super::super::{Failure, Precondition, PreconditionFailed};
use super::keys::{seq_key, LAST_SEQ};
use super::{
    alg_signing_keys, apply, client, credential, last_seq, nonce_floor, nonce_seen, signing_keys,
    user, Projection, ProjectionError, ProjectionMut, Tree,
};

/// Why `precondition` does not hold, or `None` when it does.
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
        Precondition::CurrentAlgKey { alg, kid } => {
            let keys = alg_signing_keys(p, alg)?;
            (keys.last().map(|key| &key.kid) != kid.as_ref()).then_some(Failure::Changed)
        }
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
