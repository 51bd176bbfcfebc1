//! Revocations and their cascades: a credential ends (with its family
//! when asked), a client ends with everything issued to it, every
//! credential issued to a client up to a record ends, and a removed user
//! takes the clients they registered and the grants they gave.

use super::super::events::{CredentialKind, CredentialsRevoked, Revoked, Seq, UserRemoved};
use super::super::{CredentialState, Status};
use super::grants::end_grant;
use super::values::{put, stored};
use super::{client, ProjectionError, ProjectionMut, Tree};

/// Applies a `Revoked` event: a client, or a credential.
pub(super) fn revoked<P: ProjectionMut>(
    p: &mut P,
    revoked: &Revoked,
) -> Result<(), ProjectionError> {
    if revoked.kind == CredentialKind::Client {
        revoke_client(p, &revoked.id)
    } else {
        end_credential(p, &revoked.id, revoked.whole_family)
    }
}

/// Marks a client removed; [`credential`](super::credential) reads every
/// credential issued to it as revoked.
fn revoke_client<P: ProjectionMut>(p: &mut P, client_id: &str) -> Result<(), ProjectionError> {
    if let Some(mut state) = client(p, client_id)? {
        state.revoked = true;
        put(p, Tree::Clients, client_id, &state)?;
    }
    Ok(())
}

/// Ends a credential, and with `whole_family` every credential of its family.
pub(super) fn end_credential<P: ProjectionMut>(
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

/// Applies a `CredentialsRevoked` event of record `seq`: read through
/// [`credential`](super::credential), what was issued up to this record
/// is revoked.
pub(super) fn credentials_revoked<P: ProjectionMut>(
    p: &mut P,
    revoked: &CredentialsRevoked,
    seq: Seq,
) -> Result<(), ProjectionError> {
    p.insert(
        Tree::ClientWatermarks,
        revoked.client_id.as_bytes(),
        seq.to_be_bytes().to_vec(),
    )
}

/// Applies a `UserRemoved` event: the user's clients are removed, their
/// grants end, and the user is forgotten.
pub(super) fn user_removed<P: ProjectionMut>(
    p: &mut P,
    removed: &UserRemoved,
) -> Result<(), ProjectionError> {
    let name = removed.name.as_str();
    let owned: Vec<String> = stored(p, Tree::OwnerIndex, name)?.unwrap_or_default();
    for client_id in owned {
        revoke_client(p, &client_id)?;
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
    Ok(())
}
