//! Events that add to what exists: a client's new secret and registered
//! keys, a user's new password and subject identifier, how a code's user
//! signed in, and the server's signing keys. Each changes nothing when
//! what it is about is unknown.

use super::super::codec;
use super::super::events::{
    AlgKeyCreated, Authenticated, ClientKeysRegistered, ClientOptionsRegistered, Constrained,
    Pushed, Secret, SecretRotated, SigningKeyCreated, SubjectAssigned, UserRecord,
};
use super::super::SigningKeyState;
use super::keys::SIGNING_KEYS;
use super::values::put;
use super::{alg_signing_keys, client, signing_keys, user, ProjectionError, ProjectionMut, Tree};

/// Applies a `SecretRotated` event: the client's secret is replaced.
pub(super) fn secret_rotated<P: ProjectionMut>(
    p: &mut P,
    rotated: &SecretRotated,
) -> Result<(), ProjectionError> {
    if let Some(mut state) = client(p, &rotated.client_id)? {
        state.record.secret = rotated.secret.clone();
        put(p, Tree::Clients, &rotated.client_id, &state)?;
    }
    Ok(())
}

/// Applies a `PasswordChanged` event: the user's record is replaced.
pub(super) fn password_changed<P: ProjectionMut>(
    p: &mut P,
    changed: &UserRecord,
) -> Result<(), ProjectionError> {
    if user(p, &changed.name)?.is_some() {
        put(p, Tree::Users, &changed.name, changed)?;
    }
    Ok(())
}

/// Applies a `SubjectAssigned` event: the user's subject identifier.
pub(super) fn subject_assigned<P: ProjectionMut>(
    p: &mut P,
    assigned: &SubjectAssigned,
) -> Result<(), ProjectionError> {
    if user(p, &assigned.user)?.is_some() {
        put(p, Tree::Subjects, &assigned.user, &assigned.sub)?;
    }
    Ok(())
}

/// Applies a `SigningKeyCreated` event of a record written at `time`: the
/// new key becomes the current one, the one before retired at `time`.
pub(super) fn signing_key_created<P: ProjectionMut>(
    p: &mut P,
    created: &SigningKeyCreated,
    time: u64,
) -> Result<(), ProjectionError> {
    let keys = succeeded(signing_keys(p)?, &created.kid, &created.private_key, time);
    p.insert(Tree::SigningKeys, SIGNING_KEYS, codec::encode(&keys))
}

/// Applies an `AlgKeyCreated` event of a record written at `time`: the
/// new key becomes its algorithm's current one, the one before retired.
pub(super) fn alg_key_created<P: ProjectionMut>(
    p: &mut P,
    created: &AlgKeyCreated,
    time: u64,
) -> Result<(), ProjectionError> {
    let keys = alg_signing_keys(p, &created.alg)?;
    let keys = succeeded(keys, &created.kid, &created.private_key, time);
    p.insert(
        Tree::AlgSigningKeys,
        created.alg.as_bytes(),
        codec::encode(&keys),
    )
}

/// `keys` with a new current key made at `time`, the one before it
/// retired then.
fn succeeded(
    mut keys: Vec<SigningKeyState>,
    kid: &str,
    private_key: &Secret,
    time: u64,
) -> Vec<SigningKeyState> {
    if let Some(current) = keys.last_mut() {
        current.retired_at.get_or_insert(time);
    }
    keys.push(SigningKeyState {
        kid: kid.to_owned(),
        private_key: private_key.clone(),
        created_at: time,
        retired_at: None,
    });
    keys
}

/// Keeps `value` under `client_id` in `tree` if that client exists.
fn for_client<P: ProjectionMut, T: serde::Serialize>(
    p: &mut P,
    tree: Tree,
    client_id: &str,
    value: &T,
) -> Result<(), ProjectionError> {
    if client(p, client_id)?.is_some() {
        put(p, tree, client_id, value)?;
    }
    Ok(())
}

/// Keeps `value` under the credential `id` in `tree` if it exists.
fn for_credential<P: ProjectionMut, T: serde::Serialize>(
    p: &mut P,
    tree: Tree,
    id: &str,
    value: &T,
) -> Result<(), ProjectionError> {
    if p.get(Tree::Credentials, id.as_bytes())?.is_some() {
        put(p, tree, id, value)?;
    }
    Ok(())
}

/// Applies a `ClientKeysRegistered` event: the client's JWK Set.
pub(super) fn client_keys_registered<P: ProjectionMut>(
    p: &mut P,
    registered: &ClientKeysRegistered,
) -> Result<(), ProjectionError> {
    let ClientKeysRegistered { client_id, jwks } = registered;
    for_client(p, Tree::ClientKeys, client_id, jwks)
}

/// Applies a `ClientOptionsRegistered` event: the client's options.
pub(super) fn client_options_registered<P: ProjectionMut>(
    p: &mut P,
    registered: &ClientOptionsRegistered,
) -> Result<(), ProjectionError> {
    let ClientOptionsRegistered { client_id, options } = registered;
    for_client(p, Tree::ClientOptions, client_id, options)
}

/// Applies an `Authenticated` event: how the user who granted the code
/// had signed in.
pub(super) fn authenticated<P: ProjectionMut>(
    p: &mut P,
    authenticated: &Authenticated,
) -> Result<(), ProjectionError> {
    for_credential(p, Tree::Authentications, &authenticated.id, authenticated)
}

/// Applies a `Constrained` event: what the credential is bound to.
pub(super) fn constrained<P: ProjectionMut>(
    p: &mut P,
    constrained: &Constrained,
) -> Result<(), ProjectionError> {
    for_credential(p, Tree::Constraints, &constrained.id, constrained)
}

/// Applies a `Pushed` event: the parameters of a pushed request.
pub(super) fn pushed<P: ProjectionMut>(p: &mut P, pushed: &Pushed) -> Result<(), ProjectionError> {
    for_credential(p, Tree::PushedRequests, &pushed.id, pushed)
}
