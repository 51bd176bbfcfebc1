//! Users and clients: what `credlog user add`, `credlog client add`, the
//! login form and `POST /clients` share. Passwords are argon2-hashed
//! (DESIGN.md rule 4). Clients are registered by core
//! ([`credlog_core::rfc7591`]) for owners who are users here; a client's
//! secret is kept plain because OAuth 1 signs with it, and shown once.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use credlog_core::rfc6749::{HostError, Oauth2Server, OwnerCheckError};
use credlog_core::rfc7591::RegistrationError;
use credlog_core::store::{
    AppendError, ClientState, CredentialKind, CredentialStore, Event, Issued, Precondition, Secret,
    StoreError, UserRecord,
};
use credlog_core::throttle::{Attempt, Verdict};
use credlog_core::Response;

use crate::app::App;
use crate::pages;

pub use credlog_core::rfc7591::{registration_json, ClientMetadata, ParsedMetadata, Registered};

/// Why a user or client could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The user name is empty, too long, or holds spaces or control characters.
    #[error("user names are 1 to 64 characters with no spaces or control characters")]
    InvalidUserName,
    /// The password is empty.
    #[error("the password must not be empty")]
    EmptyPassword,
    /// A user of that name exists.
    #[error("user {0:?} already exists")]
    UserExists(String),
    /// The owner named for a client does not exist.
    #[error("user {0:?} does not exist; add it first with `credlog user add`")]
    UnknownOwner(String),
    /// The client's metadata was refused (RFC 7591 3.2.2).
    #[error(transparent)]
    Registration(RegistrationError),
    /// The password could not be hashed: argon2 failed, or the task it ran
    /// on did not finish.
    #[error("the password could not be hashed: {0}")]
    PasswordHashing(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccountError {
    /// The RFC 7591 3.2.2 error code of a registration refused for its metadata.
    pub fn registration_error(&self) -> Option<&'static str> {
        match self {
            AccountError::Registration(error) => error.error_code(),
            _ => None,
        }
    }
}

/// A store failure stays a store failure; the rest is the metadata's.
impl From<RegistrationError> for AccountError {
    fn from(error: RegistrationError) -> Self {
        match error {
            RegistrationError::Store(error) => AccountError::Store(error),
            refused => AccountError::Registration(refused),
        }
    }
}

fn refused_or_store(error: AppendError, on_refusal: AccountError) -> AccountError {
    match error {
        AppendError::Refused(_) => on_refusal,
        AppendError::Store(error) => AccountError::Store(error),
    }
}

/// Hashes a password with argon2 (slow on purpose: run it off the async threads).
pub fn hash_password(password: &str) -> Result<Secret, AccountError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| AccountError::PasswordHashing(error.to_string()))?;
    Ok(Secret::Argon2(hash.to_string()))
}

/// Whether `password` is the one `secret` was hashed from.
pub fn verify_password(secret: &Secret, password: &str) -> bool {
    let Secret::Argon2(phc) = secret else {
        return false;
    };
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Creates a user account.
pub async fn add_user(
    store: &dyn CredentialStore,
    name: &str,
    password: &str,
    now: u64,
) -> Result<(), AccountError> {
    if !valid_user_name(name) {
        return Err(AccountError::InvalidUserName);
    }
    if password.is_empty() {
        return Err(AccountError::EmptyPassword);
    }
    let owned = password.to_owned();
    let password = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|error| AccountError::PasswordHashing(format!("its task failed: {error}")))??;
    let absent = Precondition::Absent {
        kind: CredentialKind::User,
        id: name.to_owned(),
    };
    let user = UserRecord {
        name: name.to_owned(),
        password,
    };
    store
        .append(&[absent], vec![Event::Issued(Issued::User(user))], now)
        .await
        .map_err(|error| refused_or_store(error, AccountError::UserExists(name.to_owned())))?;
    Ok(())
}

/// Why a password job (an argon2 hash or check) did not run to its end.
#[derive(Debug, thiserror::Error)]
enum PasswordJobError {
    /// No permit could be had: the checks were closed.
    #[error("the password checks stopped: {0}")]
    Stopped(tokio::sync::AcquireError),
    /// The blocking task panicked or was cancelled.
    #[error("the argon2 task failed: {0}")]
    Failed(tokio::task::JoinError),
}

/// The password checks of one server: argon2 runs at most a few at once
/// (each takes about 19 MiB for its ~20 ms), so a flood of sign-ins waits
/// for its turn instead of taking memory; and a user name nobody has is
/// checked against a dummy hash, so a wrong password takes as long for
/// it as for a real one (no user enumeration by timing).
#[derive(Debug)]
pub struct Passwords {
    permits: tokio::sync::Semaphore,
    dummy: tokio::sync::OnceCell<Secret>,
}

impl Passwords {
    /// Checks that run `at_once` argon2 hashes at most (at least one).
    pub fn new(at_once: usize) -> Self {
        Passwords {
            permits: tokio::sync::Semaphore::new(at_once.max(1)),
            dummy: tokio::sync::OnceCell::new(),
        }
    }

    /// Runs `work` (an argon2 hash or check) on a blocking thread once a
    /// permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordJobError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(PasswordJobError::Stopped)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(PasswordJobError::Failed)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<Secret, AccountError> {
        let owned = password.to_owned();
        self.run(move || hash_password(&owned))
            .await
            .map_err(|error| AccountError::PasswordHashing(error.to_string()))?
    }

    /// Whether `password` is the one `secret` was hashed from; with no
    /// secret (an unknown user), the same work against a dummy hash, and `false`.
    pub async fn verify(
        &self,
        secret: Option<&Secret>,
        password: &str,
    ) -> Result<bool, OwnerCheckError> {
        let (secret, real) = match secret {
            Some(secret) => (secret.clone(), true),
            None => (self.dummy().await?, false),
        };
        let password = password.to_owned();
        let good = self
            .run(move || verify_password(&secret, &password))
            .await
            .map_err(|error| OwnerCheckError::Check(HostError::new(error)))?;
        Ok(good && real)
    }

    /// A hash of a random password, made once, with the parameters real
    /// hashes have.
    async fn dummy(&self) -> Result<Secret, OwnerCheckError> {
        self.dummy
            .get_or_try_init(|| async {
                let random = crate::app::random_token();
                self.run(move || hash_password(&random))
                    .await
                    .map_err(|error| OwnerCheckError::Check(HostError::new(error)))?
                    .map_err(|error| OwnerCheckError::Check(HostError::new(error)))
            })
            .await
            .cloned()
    }
}

/// Checks a user's password for a sign-in (the login form or the password
/// grant), throttled: `None` when the user is unknown or the password
/// wrong; [`OwnerCheckError::Throttled`] when this name or address has
/// failed too often, before any check.
pub async fn sign_in(
    app: &App,
    attempt: &Attempt<'_>,
    password: &str,
) -> Result<Option<UserRecord>, OwnerCheckError> {
    let now = app.now();
    if let Verdict::Wait(retry_after) = app.throttle().verdict(attempt, now).await? {
        crate::metrics::record_throttled_sign_in();
        return Err(OwnerCheckError::Throttled { retry_after });
    }
    let name = attempt.name.unwrap_or_default();
    let user = app.store().user(name).await?;
    let good = app
        .passwords()
        .verify(user.as_ref().map(|user| &user.password), password)
        .await?;
    if good {
        app.throttle().succeeded(attempt, now).await?;
        Ok(user)
    } else {
        app.throttle().failed(attempt, now).await?;
        // An unknown name is not logged: it may be a password typed into
        // the wrong field.
        let named = if user.is_some() { name } else { "(unknown)" };
        tracing::info!(user = named, address = ?attempt.address, "a sign-in failed");
        Ok(None)
    }
}

/// The answer to a password check that could not run: logged here, a bare
/// 500 page to the user (whose fault it is not), as for a store failure.
pub fn owner_check_failure(app: &App, error: &OwnerCheckError) -> Response {
    match error {
        OwnerCheckError::Store(error) => app.store_failure(error),
        OwnerCheckError::Check(cause) => {
            tracing::error!(%cause, "a password could not be checked");
            pages::server_error()
        }
        OwnerCheckError::Throttled { retry_after } => throttled_page(*retry_after),
    }
}

/// 429 with `Retry-After`: the sign-in is throttled.
pub fn throttled_page(retry_after: u64) -> Response {
    let mut page = pages::error_page(
        429,
        "Too many attempts",
        &format!(
            "Too many failed sign-ins for this user name or from this address. Try again in {retry_after} seconds."
        ),
    );
    page.headers
        .push(("Retry-After".to_owned(), retry_after.to_string()));
    page
}

/// Registers a client owned by `owner`, with `client_id` (a random one
/// when `None`), for a server with the five RFC 6749 grants and the
/// device grant (what `credlog serve` runs). A deployment that built its
/// own server registers with [`register_client_on`].
pub async fn register_client(
    store: &dyn CredentialStore,
    owner: &str,
    metadata: ClientMetadata,
    client_id: Option<String>,
    now: u64,
) -> Result<Registered, AccountError> {
    register_client_on(
        &Oauth2Server::default(),
        store,
        owner,
        metadata,
        client_id,
        now,
    )
    .await
}

/// Registers a client owned by `owner`, a user of credlog's accounts, with
/// `client_id` (a random one when `None`), refusing grant and response
/// types `server` does not have. The registration itself is core's
/// ([`Oauth2Server::register_client`]).
pub async fn register_client_on(
    server: &Oauth2Server,
    store: &dyn CredentialStore,
    owner: &str,
    metadata: ClientMetadata,
    client_id: Option<String>,
    now: u64,
) -> Result<Registered, AccountError> {
    metadata.parse()?;
    if store.user(owner).await?.is_none() {
        return Err(AccountError::UnknownOwner(owner.to_owned()));
    }
    Ok(server
        .register_client(store, owner, metadata, client_id, now)
        .await?)
}

/// When a client was registered (its `client_id_issued_at`): the time of
/// the record that issued it, which the projections do not copy.
pub async fn client_issued_at(
    store: &dyn CredentialStore,
    client: &ClientState,
) -> Result<u64, StoreError> {
    let records = store.read_log(client.issued_seq, 1).await?;
    Ok(records.first().map_or(0, |record| record.time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let secret = hash_password("correct horse").unwrap();
        assert!(verify_password(&secret, "correct horse"));
        assert!(!verify_password(&secret, "correct horse "));
        assert!(!verify_password(
            &Secret::Plain("correct horse".into()),
            "correct horse"
        ));
    }

    #[tokio::test]
    async fn registration_is_checked_against_the_servers_grants() {
        use credlog_core::rfc6749::{GrantType, MetadataError, Oauth2Config, ResponseType};
        let store = credlog_storage_memory::MemoryStore::new();
        add_user(&store, "alice", "pw", 1).await.unwrap();
        let mut server = Oauth2Server::new(Oauth2Config::default());
        server.unregister("implicit");
        let mut implicit = ClientMetadata::named("SPA");
        implicit.grant_types = vec!["implicit".into()];
        implicit.response_types = vec!["token".into()];
        let refused = register_client_on(&server, &store, "alice", implicit.clone(), None, 1)
            .await
            .unwrap_err();
        assert!(matches!(
            refused,
            AccountError::Registration(RegistrationError::Metadata(
                MetadataError::GrantTypeUnavailable(GrantType::Implicit)
            ))
        ));
        assert_eq!(
            refused.registration_error(),
            Some("invalid_client_metadata")
        );
        assert!(store.clients_owned_by("alice").await.unwrap().is_empty());

        // The server credlog serve runs has it.
        let registered = register_client(&store, "alice", implicit, None, 1)
            .await
            .unwrap();
        assert_eq!(registered.record.grant_types, [GrantType::Implicit]);
        assert_eq!(registered.record.response_types, [ResponseType::Token]);
        let json = registration_json(&registered.record, None, 1);
        assert_eq!(json["grant_types"], serde_json::json!(["implicit"]));
        assert_eq!(json["response_types"], serde_json::json!(["token"]));
        assert_eq!(json["scope"], "profile");
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
    }
}
