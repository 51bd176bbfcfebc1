//! How reads see the projections: the last sequence number, a client, a
//! user, the signing keys, and a credential with the revocation of its
//! family and client applied.

use super::super::codec::CodecError;
use super::super::events::{Seq, UserRecord};
use super::super::{ClientState, CredentialState, SigningKeyState, Status, StoreError};
use super::keys::{LAST_SEQ, SIGNING_KEYS};
use super::values::{decode_value, read_u64, stored};
use super::{Projection, ProjectionError, Tree};

/// The last sequence number written (0 for an empty log).
pub fn last_seq<P: Projection>(p: &P) -> Result<Seq, ProjectionError> {
    read_u64(p, LAST_SEQ)
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

/// The signing keys, oldest first.
pub fn signing_keys<P: Projection>(p: &P) -> Result<Vec<SigningKeyState>, ProjectionError> {
    Ok(match p.get(Tree::SigningKeys, SIGNING_KEYS)? {
        Some(bytes) => decode_value(Tree::SigningKeys, &bytes)?,
        None => Vec::new(),
    })
}

/// Every key for signing with `alg` (other than RS256), oldest first.
pub fn alg_signing_keys<P: Projection>(
    p: &P,
    alg: &str,
) -> Result<Vec<SigningKeyState>, ProjectionError> {
    Ok(match p.get(Tree::AlgSigningKeys, alg.as_bytes())? {
        Some(bytes) => decode_value(Tree::AlgSigningKeys, &bytes)?,
        None => Vec::new(),
    })
}
