//! `Exchanged`: a temporary credential, a code or a refresh token was
//! traded for a new credential, and works no more.

use super::super::events::Exchanged;
use super::super::{CredentialState, Status};
use super::values::{put, stored};
use super::{ProjectionError, ProjectionMut, Tree};

/// Applies an `Exchanged` event.
pub(super) fn exchanged<P: ProjectionMut>(
    p: &mut P,
    exchanged: &Exchanged,
) -> Result<(), ProjectionError> {
    if let Some(mut state) = stored::<_, CredentialState>(p, Tree::Credentials, &exchanged.id)? {
        state.status = Status::Exchanged;
        put(p, Tree::Credentials, &exchanged.id, &state)?;
    }
    Ok(())
}
