//! What `credlog user`, `credlog client` and `credlog revoke` do to a
//! store (CONTRACT.md "Command line"), apart from reading the command line
//! and opening the store: each answers what the command prints. The rules
//! are core's ([`credlog_core::manage`], one event an action, so `credlog
//! check` stays clean); this module adds what an operator reads (lines
//! escaped as `credlog log` escapes them, registrations without secrets)
//! and the password hashing core leaves to its callers.

use credlog_core::manage::{self, ManageError};
use credlog_core::store::{CredentialStore, StoreError};
use serde_json::{json, Value};

use crate::accounts::{client_issued_at, registration_json, AccountError, Passwords};
use crate::audit::{escaped, kind_name};

/// Why a command did nothing.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// No such user, client or token; a public client has no secret; or
    /// the store failed.
    #[error(transparent)]
    Manage(#[from] ManageError),
    /// The new password is empty, or could not be hashed.
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<StoreError> for OperatorError {
    fn from(error: StoreError) -> Self {
        OperatorError::Manage(ManageError::Store(error))
    }
}

fn no_user(name: &str) -> OperatorError {
    OperatorError::Manage(ManageError::NotFound {
        what: "user",
        id: name.to_owned(),
    })
}

/// `credlog user list`: every user's name, one a line, by name.
pub async fn user_lines(store: &dyn CredentialStore) -> Result<Vec<String>, StoreError> {
    let users = store.users().await?;
    Ok(users
        .iter()
        .map(|user| escaped(&user.name).into_owned())
        .collect())
}

/// `credlog user passwd`: a new password for `name`, whose sessions end
/// (whoever knew the old one keeps none). The user is looked up first, so
/// an unknown name is told at once rather than after a hash.
pub async fn change_password(
    store: &dyn CredentialStore,
    name: &str,
    password: &str,
    now: u64,
) -> Result<(), OperatorError> {
    if password.is_empty() {
        return Err(AccountError::EmptyPassword.into());
    }
    if store.user(name).await?.is_none() {
        return Err(no_user(name));
    }
    let hashed = Passwords::new(1)
        .hash(password)
        .await
        .map_err(AccountError::from)?;
    manage::change_password(store, name, hashed, now).await?;
    Ok(())
}

/// `credlog client list`: one line a client, `ID OWNER NAME`, each
/// escaped (a name with a space is quoted, a control character written
/// out), so a line splits at its spaces and never moves the cursor.
/// Removed clients are left out: they work nowhere, and `credlog log`
/// keeps their history. With `owner`, only that user's (an unknown user
/// is an error, not an empty list).
pub async fn client_lines(
    store: &dyn CredentialStore,
    owner: Option<&str>,
) -> Result<Vec<String>, OperatorError> {
    let clients = match owner {
        Some(owner) => {
            if store.user(owner).await?.is_none() {
                return Err(no_user(owner));
            }
            store.clients_owned_by(owner).await?
        }
        None => store.clients().await?,
    };
    Ok(clients
        .iter()
        .filter(|client| !client.revoked)
        .map(|client| {
            let record = &client.record;
            format!(
                "{} {} {}",
                escaped(&record.client_id),
                escaped(&record.owner),
                escaped(&record.name)
            )
        })
        .collect())
}

/// `credlog client show`: the client's registration as `POST /clients`
/// answered it, and its owner, but never its secret.
pub async fn client_registration(
    store: &dyn CredentialStore,
    client_id: &str,
) -> Result<Value, OperatorError> {
    let client = manage::live_client(store, client_id).await?;
    let issued_at = client_issued_at(store, &client).await?;
    let mut json = registration_json(&client.record, None, issued_at);
    json["owner"] = client.record.owner.as_str().into();
    Ok(json)
}

/// `credlog client rotate-secret`: `{"client_id", "client_secret"}`, the
/// new secret shown this once; the old one stopped working with the append.
pub async fn rotate_secret(
    store: &dyn CredentialStore,
    client_id: &str,
    now: u64,
) -> Result<Value, OperatorError> {
    let secret = manage::rotate_secret(store, client_id, now).await?;
    Ok(json!({"client_id": client_id, "client_secret": secret}))
}

/// What `credlog revoke` ends: exactly one of its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation<'a> {
    /// `--token`: one credential and everything issued from it, by its id
    /// (an OAuth 1 token) or its value (an OAuth 2 token or code).
    Token(&'a str),
    /// `--client`: every credential issued to the client, which stays.
    Client(&'a str),
    /// `--user`: every credential the user granted, to every client.
    User(&'a str),
}

/// `credlog revoke`: ends what `what` names; answers the line saying what
/// ended. The line never repeats a token: an OAuth 2 one is a bearer secret.
pub async fn revoke(
    store: &dyn CredentialStore,
    what: Revocation<'_>,
    now: u64,
) -> Result<String, OperatorError> {
    Ok(match what {
        Revocation::Token(token) => {
            let kind = manage::revoke_token(store, token, now).await?;
            format!(
                "revoked the {} and every credential issued from it",
                kind_name(kind).replace('_', " ")
            )
        }
        Revocation::Client(client_id) => {
            manage::revoke_client_credentials(store, client_id, now).await?;
            format!(
                "revoked every credential issued to client {} (the client stays)",
                escaped(client_id)
            )
        }
        Revocation::User(user) => {
            let clients = manage::revoke_user_grants(store, user, now).await?;
            format!(
                "revoked every credential {} granted ({clients} client{})",
                escaped(user),
                if clients == 1 { "" } else { "s" }
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{add_user, register_client, ClientMetadata};
    use credlog_storage_memory::MemoryStore;

    async fn client(store: &MemoryStore, owner: &str, name: &str) -> String {
        let mut metadata = ClientMetadata::named(name);
        metadata.redirect_uris = vec!["https://app.example/cb".to_owned()];
        register_client(store, owner, metadata, None, 1)
            .await
            .unwrap()
            .record
            .client_id
    }

    #[tokio::test]
    async fn client_lines_escape_what_owners_typed_and_leave_removed_ones_out() {
        let store = MemoryStore::new();
        add_user(&store, "alice", "pw", 1).await.unwrap();
        add_user(&store, "bob", "pw", 1).await.unwrap();
        let evil = client(&store, "alice", "Evil\u{1b}[2J app").await;
        let plain = client(&store, "bob", "Printer").await;
        let gone = client(&store, "bob", "Gone").await;
        manage::remove_client(&store, &gone, 2).await.unwrap();

        let mut lines = client_lines(&store, None).await.unwrap();
        lines.sort();
        let mut wanted = vec![
            format!("{evil} alice \"Evil\\u{{1b}}[2J app\""),
            format!("{plain} bob Printer"),
        ];
        wanted.sort();
        assert_eq!(lines, wanted);
        assert_eq!(
            client_lines(&store, Some("bob")).await.unwrap(),
            [format!("{plain} bob Printer")]
        );
        let unknown = client_lines(&store, Some("carol")).await.unwrap_err();
        assert_eq!(unknown.to_string(), "no user \"carol\"");
    }

    #[tokio::test]
    async fn a_registration_is_shown_without_its_secret() {
        let store = MemoryStore::new();
        add_user(&store, "alice", "pw", 1).await.unwrap();
        let id = client(&store, "alice", "Printer").await;
        let shown = client_registration(&store, &id).await.unwrap();
        assert_eq!(shown["client_id"], id.as_str());
        assert_eq!(shown["owner"], "alice");
        assert_eq!(shown["client_id_issued_at"], 1);
        assert!(shown.get("client_secret").is_none(), "{shown}");
        manage::remove_client(&store, &id, 2).await.unwrap();
        let removed = client_registration(&store, &id).await.unwrap_err();
        assert_eq!(removed.to_string(), format!("no client {id:?}"));
    }

    #[tokio::test]
    async fn an_empty_password_or_an_unknown_user_changes_nothing() {
        let store = MemoryStore::new();
        add_user(&store, "alice", "pw", 1).await.unwrap();
        let before = store.last_seq().await.unwrap();
        assert!(matches!(
            change_password(&store, "alice", "", 2).await,
            Err(OperatorError::Account(AccountError::EmptyPassword))
        ));
        let unknown = change_password(&store, "bob", "new", 2).await.unwrap_err();
        assert_eq!(unknown.to_string(), "no user \"bob\"");
        assert_eq!(store.last_seq().await.unwrap(), before);
    }
}
