//! What each resource owner granted each client: the grant a credential
//! with a user joins as it is issued or authorized, how reads list them,
//! and the grant's end (a resource owner's revocation, a removed user).

use super::super::codec;
use super::super::{Grant, GrantState};
use super::keys::pair_key;
use super::revoked::end_credential;
use super::values::{decode_value, put, stored};
use super::{client, credential, Projection, ProjectionError, ProjectionMut, Tree};

/// What `user` granted `client_id`, as [`Tree::Grants`] keeps it.
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

/// Records that `user` granted `client_id` the credential `id` at `time`.
/// The grant lists only credentials that may still work: those ended or
/// expired by `time` leave it here, so it stays as small as what the
/// client holds.
pub(super) fn add_to_grant<P: ProjectionMut>(
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
/// and forgets the grant (a `GrantRevoked` event, or a removed user).
pub(super) fn end_grant<P: ProjectionMut>(
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
