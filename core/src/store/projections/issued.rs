//! `Issued`: a client, a user, or a credential comes to be. A credential
//! joins its parent's family, the client's and parent's indexes, its
//! user's grant, and the device expiry index if it is a device or user code.

use super::super::events::{Issued, Record, TokenRecord};
use super::super::{ClientState, CredentialState, Status};
use super::devices::index_device_expiry;
use super::grants::add_to_grant;
use super::keys::pair_key;
use super::values::{put, stored};
use super::{ProjectionError, ProjectionMut, Tree};

/// Applies an `Issued` event of `record`.
pub(super) fn issued<P: ProjectionMut>(
    p: &mut P,
    issued: &Issued,
    record: &Record,
) -> Result<(), ProjectionError> {
    match issued {
        Issued::Client(client) => {
            let state = ClientState {
                record: client.clone(),
                revoked: false,
                issued_seq: record.seq,
            };
            put(p, Tree::Clients, &client.client_id, &state)?;
            let mut owned: Vec<String> =
                stored(p, Tree::OwnerIndex, &client.owner)?.unwrap_or_default();
            owned.push(client.client_id.clone());
            put(p, Tree::OwnerIndex, &client.owner, &owned)
        }
        Issued::User(user) => put(p, Tree::Users, &user.name, user),
        Issued::Token(token) => token_issued(p, token, record),
    }
}

/// A credential issued by `record`: in its family (its parent's, or one
/// of its own), indexed under its client and parent, and added to its
/// user's grant when it has a user.
fn token_issued<P: ProjectionMut>(
    p: &mut P,
    token: &TokenRecord,
    record: &Record,
) -> Result<(), ProjectionError> {
    let family = match &token.parent {
        Some(parent) => match stored::<_, CredentialState>(p, Tree::Credentials, parent)? {
            Some(parent) => parent.family,
            None => parent.clone(),
        },
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
    if let Some(user) = &token.user {
        add_to_grant(p, user, &token.client_id, &token.id, record.time)?;
    }
    Ok(())
}
