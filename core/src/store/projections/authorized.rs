//! `Authorized`: the resource owner granted a credential (an OAuth 1
//! temporary credential, an OAuth 2 code's consent); it joins the user's
//! grant.

use super::super::events::Authorized;
use super::super::{CredentialState, Status};
use super::grants::add_to_grant;
use super::values::{put, stored};
use super::{ProjectionError, ProjectionMut, Tree};

/// Applies an `Authorized` event of a record written at `time`.
pub(super) fn authorized<P: ProjectionMut>(
    p: &mut P,
    authorized: &Authorized,
    time: u64,
) -> Result<(), ProjectionError> {
    let Some(mut state) = stored::<_, CredentialState>(p, Tree::Credentials, &authorized.id)?
    else {
        return Ok(());
    };
    state.status = Status::Authorized;
    state.record.user = Some(authorized.user.clone());
    state.verifier = authorized.verifier.clone();
    put(p, Tree::Credentials, &authorized.id, &state)?;
    let client_id = &state.record.client_id;
    add_to_grant(p, &authorized.user, client_id, &authorized.id, time)
}
