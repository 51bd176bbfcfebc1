//! What owners and operators change: a client's secret rotated, a client
//! removed, a grant or a token revoked, a password changed, a user
//! removed. Decided here, once, so the pages, the CLI and any other
//! adapter append the same events under the same preconditions; each
//! action is one append, in the log for `credlog log` and `credlog check`.
//!
//! Who may do what (a client's owner, an operator) is the adapter's to
//! check; this module checks what the store must hold.

use crate::random::random_token;
use crate::store::{
    token_id, AppendError, ClientState, CredentialKind, CredentialStore, CredentialsRevoked, Event,
    Failure, GrantRevoked, Precondition, RevocationReason, Revoked, Secret, SecretRotated,
    StoreError, UserRecord, UserRemoved,
};

/// Why an action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// No such client, user, token or grant (or, for a client, removed).
    #[error("no {what} {id:?}")]
    NotFound {
        /// What was looked for: `client`, `user`, `token`, `grant`.
        what: &'static str,
        /// The id or name given.
        id: String,
    },
    /// A client that presents no secret (`token_endpoint_auth_method`
    /// `none` or `private_key_jwt`) has none to rotate.
    #[error("client {0:?} authenticates without a secret: it has none to rotate")]
    NoSecret(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn not_found(what: &'static str, id: &str) -> ManageError {
    ManageError::NotFound {
        what,
        id: id.to_owned(),
    }
}

/// Appends, reading a refused precondition as "not found" (every
/// precondition here says that something exists).
async fn append(
    store: &dyn CredentialStore,
    preconditions: Vec<Precondition>,
    events: Vec<Event>,
    now: u64,
    what: &'static str,
    id: &str,
) -> Result<(), ManageError> {
    match store.append(&preconditions, events, now).await {
        Ok(_) => Ok(()),
        Err(AppendError::Refused(refused))
            if matches!(refused.failure, Failure::Missing | Failure::ClientRevoked) =>
        {
            Err(not_found(what, id))
        }
        Err(AppendError::Refused(refused)) => Err(StoreError::backend(
            format!("the store refused the change: {:?}", refused.failure),
            refused,
        )
        .into()),
        Err(AppendError::Store(error)) => Err(error.into()),
    }
}

/// A client that is registered and not removed.
pub async fn live_client(
    store: &dyn CredentialStore,
    client_id: &str,
) -> Result<ClientState, ManageError> {
    match store.client(client_id).await? {
        Some(state) if !state.revoked => Ok(state),
        _ => Err(not_found("client", client_id)),
    }
}

fn client_is_live(client_id: &str) -> Precondition {
    Precondition::ClientLive {
        client_id: client_id.to_owned(),
    }
}

/// Gives a confidential client a new secret and answers it (shown once);
/// the old one stops working with this append.
pub async fn rotate_secret(
    store: &dyn CredentialStore,
    client_id: &str,
    now: u64,
) -> Result<String, ManageError> {
    let client = live_client(store, client_id).await?;
    if !client.record.auth_method.presents_secret() {
        return Err(ManageError::NoSecret(client_id.to_owned()));
    }
    let secret = random_token();
    // Plain, as at registration: OAuth 1 signs with it (DESIGN.md rule 4).
    let event = Event::SecretRotated(SecretRotated {
        client_id: client_id.to_owned(),
        secret: Secret::Plain(secret.clone()),
    });
    let live = vec![client_is_live(client_id)];
    append(store, live, vec![event], now, "client", client_id).await?;
    Ok(secret)
}

/// Removes a client: it and every credential issued to it end.
pub async fn remove_client(
    store: &dyn CredentialStore,
    client_id: &str,
    now: u64,
) -> Result<(), ManageError> {
    let event = Event::Revoked(Revoked {
        id: client_id.to_owned(),
        kind: CredentialKind::Client,
        reason: RevocationReason::Requested,
        whole_family: false,
    });
    let live = vec![client_is_live(client_id)];
    append(store, live, vec![event], now, "client", client_id).await
}

/// Ends every credential issued to a client so far; the client stays.
pub async fn revoke_client_credentials(
    store: &dyn CredentialStore,
    client_id: &str,
    now: u64,
) -> Result<(), ManageError> {
    let event = Event::CredentialsRevoked(CredentialsRevoked {
        client_id: client_id.to_owned(),
    });
    let live = vec![client_is_live(client_id)];
    append(store, live, vec![event], now, "client", client_id).await
}

/// Ends everything `user` granted `client_id` (RFC 7009's revocation, by
/// the resource owner): its OAuth 1 token credentials, OAuth 2 codes,
/// access and refresh tokens, and whatever their families would issue.
pub async fn revoke_grant(
    store: &dyn CredentialStore,
    user: &str,
    client_id: &str,
    now: u64,
) -> Result<(), ManageError> {
    let granted = store.grants_of(user).await?;
    if !granted.iter().any(|grant| grant.client_id == client_id) {
        return Err(not_found("grant", client_id));
    }
    let event = Event::GrantRevoked(GrantRevoked {
        user: user.to_owned(),
        client_id: client_id.to_owned(),
    });
    append(store, vec![], vec![event], now, "grant", client_id).await
}

/// Ends everything `user` granted, every client at once; answers how
/// many clients held a grant.
pub async fn revoke_user_grants(
    store: &dyn CredentialStore,
    user: &str,
    now: u64,
) -> Result<usize, ManageError> {
    let exists = Precondition::UserExists {
        name: user.to_owned(),
    };
    let events: Vec<Event> = store
        .grants_of(user)
        .await?
        .into_iter()
        .map(|grant| {
            Event::GrantRevoked(GrantRevoked {
                user: user.to_owned(),
                client_id: grant.client_id,
            })
        })
        .collect();
    let count = events.len();
    if count == 0 {
        // Nothing to end: no record (an empty one would only be a gap in the log).
        return match store.user(user).await? {
            Some(_) => Ok(0),
            None => Err(not_found("user", user)),
        };
    }
    append(store, vec![exists], events, now, "user", user).await?;
    Ok(count)
}

/// Revokes one credential and its family, found by its id (an OAuth 1
/// token, a stored id) or by the OAuth 2 token or code itself; answers
/// its kind.
pub async fn revoke_token(
    store: &dyn CredentialStore,
    token: &str,
    now: u64,
) -> Result<CredentialKind, ManageError> {
    let found = match store.credential(token).await? {
        Some(state) => state,
        None => store
            .credential(&token_id(token))
            .await?
            .ok_or_else(|| not_found("token", token))?,
    };
    let kind = found.record.kind;
    let event = Event::Revoked(Revoked {
        id: found.record.id.clone(),
        kind,
        reason: RevocationReason::Requested,
        whole_family: true,
    });
    append(store, vec![], vec![event], now, "token", token).await?;
    Ok(kind)
}

/// Replaces a user's password (already hashed by the caller) and signs the
/// user out everywhere: whoever knew the old one keeps no session.
pub async fn change_password(
    store: &dyn CredentialStore,
    name: &str,
    password: Secret,
    now: u64,
) -> Result<(), ManageError> {
    let exists = Precondition::UserExists {
        name: name.to_owned(),
    };
    let event = Event::PasswordChanged(UserRecord {
        name: name.to_owned(),
        password,
    });
    append(store, vec![exists], vec![event], now, "user", name).await?;
    store.remove_user_sessions(name).await?;
    Ok(())
}

/// Removes a user: every client it owns and every credential it granted
/// end, its sessions end, and its name is free again.
pub async fn remove_user(
    store: &dyn CredentialStore,
    name: &str,
    now: u64,
) -> Result<(), ManageError> {
    let exists = Precondition::UserExists {
        name: name.to_owned(),
    };
    let event = Event::UserRemoved(UserRemoved {
        name: name.to_owned(),
    });
    append(store, vec![exists], vec![event], now, "user", name).await?;
    store.remove_user_sessions(name).await?;
    Ok(())
}
