//! How each event changes the projections: one handler an event, in the
//! file of its kind, and the device sweep after every record.

use super::super::events::{Event, Record};
use super::{
    authorized, exchanged, grants, issued, nonces, retirable, revoked, sweep_devices, updates,
    ProjectionError, ProjectionMut,
};

/// How each event changes the projections. Total and deterministic: an
/// event about something unknown changes nothing, so a replay of the log
/// always rebuilds what the appends built.
pub fn apply<P: ProjectionMut>(p: &mut P, record: &Record) -> Result<(), ProjectionError> {
    for event in &record.events {
        match event {
            Event::Issued(issued) => issued::issued(p, issued, record)?,
            Event::Verified(verified) => nonces::verified(p, verified)?,
            Event::Authorized(authorized) => {
                authorized::authorized(p, authorized, record.time)?;
            }
            Event::Exchanged(exchanged) => exchanged::exchanged(p, exchanged)?,
            Event::Revoked(revoked) => revoked::revoked(p, revoked)?,
            Event::CredentialsRevoked(revoked) => {
                revoked::credentials_revoked(p, revoked, record.seq)?;
            }
            Event::UserRemoved(removed) => revoked::user_removed(p, removed)?,
            Event::GrantRevoked(revoked) => {
                grants::end_grant(p, &revoked.user, &revoked.client_id)?
            }
            Event::SecretRotated(rotated) => updates::secret_rotated(p, rotated)?,
            Event::PasswordChanged(changed) => updates::password_changed(p, changed)?,
            Event::SubjectAssigned(assigned) => updates::subject_assigned(p, assigned)?,
            Event::SigningKeyCreated(created) => {
                updates::signing_key_created(p, created, record.time)?;
            }
            Event::ClientKeysRegistered(registered) => {
                updates::client_keys_registered(p, registered)?;
            }
            Event::Authenticated(authenticated) => updates::authenticated(p, authenticated)?,
            Event::Constrained(constrained) => updates::constrained(p, constrained)?,
            Event::ClientOptionsRegistered(registered) => {
                updates::client_options_registered(p, registered)?;
            }
            Event::Pushed(pushed) => updates::pushed(p, pushed)?,
            Event::AlgKeyCreated(created) => updates::alg_key_created(p, created, record.time)?,
        }
    }
    if !retirable(record) {
        sweep_devices(p, record.time)?;
    }
    Ok(())
}
