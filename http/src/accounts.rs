//! Users and clients: what `credlog user add`, `credlog client add`, the
//! login form and `POST /clients` share. Passwords are argon2-hashed
//! (DESIGN.md rule 4); a client's secret is kept plain because OAuth 1
//! signs with it, and shown once, when the client is registered.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use credlog_core::request::is_absolute_uri;
use credlog_core::rfc5849::signature::rsa_public_key_from_pem;
use credlog_core::rfc6749::client_metadata::parse_all;
use credlog_core::rfc6749::{
    ClientAuthMethod, GrantType, MetadataError, Oauth2Server, OwnerCheckError, ResponseType, Scope,
};
use credlog_core::store::{
    AppendError, ClientRecord, CredentialKind, CredentialStore, Event, Failure, Issued,
    Precondition, Secret, StoreError, UserRecord,
};
use credlog_core::Response;
use serde::{Deserialize, Serialize};

use crate::app::{random_token, App};
use crate::pages;

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
    /// A redirect URI is not absolute or has a fragment (RFC 7591 `invalid_redirect_uri`).
    #[error("redirect URI {0:?} must be an absolute URI without a fragment")]
    InvalidRedirectUri(String),
    /// Other metadata is not acceptable (RFC 7591 `invalid_client_metadata`).
    #[error("{0}")]
    InvalidMetadata(String),
    /// A grant type, response type or authentication method is unknown, or
    /// not one the server has (RFC 7591 `invalid_client_metadata`).
    #[error(transparent)]
    Metadata(#[from] MetadataError),
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
            AccountError::InvalidRedirectUri(_) => Some("invalid_redirect_uri"),
            AccountError::InvalidMetadata(_) | AccountError::Metadata(_) => {
                Some("invalid_client_metadata")
            }
            _ => None,
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

/// Checks a user's password; `None` when the user is unknown or the password wrong.
pub async fn authenticate(
    store: &dyn CredentialStore,
    name: &str,
    password: &str,
) -> Result<Option<UserRecord>, OwnerCheckError> {
    let Some(user) = store.user(name).await? else {
        return Ok(None);
    };
    let (secret, password) = (user.password.clone(), password.to_owned());
    let good = tokio::task::spawn_blocking(move || verify_password(&secret, &password))
        .await
        .map_err(|error| OwnerCheckError::Check(format!("the argon2 task failed: {error}")))?;
    Ok(good.then_some(user))
}

/// The answer to a password check that could not run: logged here, a bare
/// 500 page to the user (whose fault it is not), as for a store failure.
pub fn owner_check_failure(app: &App, error: &OwnerCheckError) -> Response {
    match error {
        OwnerCheckError::Store(error) => app.store_failure(error),
        OwnerCheckError::Check(cause) => {
            tracing::error!(%cause, "a password could not be checked");
            pages::error_page(
                500,
                "Server error",
                "The server could not complete the request. Try again later.",
            )
        }
    }
}

/// Client metadata as RFC 7591 2 names it (the subset credlog uses), plus
/// `rsa_public_key` for OAuth 1 RSA-SHA1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    /// A name to show the resource owner.
    pub client_name: String,
    /// Redirect URIs, also the OAuth 1 callbacks the client may use.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Space-separated scopes (default `profile`).
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Grant types (default `authorization_code`).
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Response types (default `code`).
    #[serde(default = "default_response_types")]
    pub response_types: Vec<String>,
    /// How the client authenticates at the token endpoint (default `client_secret_basic`).
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    /// An RSA public key (PEM) for OAuth 1 RSA-SHA1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_public_key: Option<String>,
}

fn default_scope() -> String {
    "profile".to_owned()
}
fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".to_owned()]
}
fn default_response_types() -> Vec<String> {
    vec!["code".to_owned()]
}
fn default_auth_method() -> String {
    "client_secret_basic".to_owned()
}

impl ClientMetadata {
    /// Metadata with this name and the defaults.
    pub fn named(client_name: impl Into<String>) -> Self {
        ClientMetadata {
            client_name: client_name.into(),
            redirect_uris: Vec::new(),
            scope: default_scope(),
            grant_types: default_grant_types(),
            response_types: default_response_types(),
            token_endpoint_auth_method: default_auth_method(),
            rsa_public_key: None,
        }
    }

    /// RFC 7591 2: every value known and well-formed, whatever grants a
    /// server has (see [`ClientMetadata::parse`]).
    pub fn validate(&self) -> Result<(), AccountError> {
        self.parse().map(|_| ())
    }

    /// Parses the metadata (RFC 7591 2): every value known and
    /// well-formed. Whether a server has the grants named is checked at
    /// registration ([`register_client_on`]).
    pub fn parse(&self) -> Result<ParsedMetadata, AccountError> {
        let invalid = |message: String| Err(AccountError::InvalidMetadata(message));
        if self.client_name.trim().is_empty() || self.client_name.chars().count() > 200 {
            return invalid("client_name must be 1 to 200 characters".to_owned());
        }
        if let Some(uri) = self.redirect_uris.iter().find(|uri| !is_absolute_uri(uri)) {
            return Err(AccountError::InvalidRedirectUri(uri.clone()));
        }
        let Ok(scope) = Scope::parse(&self.scope) else {
            return invalid(format!(
                "scope {:?} is not a space-separated list of scope tokens (RFC 6749 3.3)",
                self.scope
            ));
        };
        let grant_types = parse_all(&self.grant_types)?;
        let response_types = parse_all(&self.response_types)?;
        let auth_method = self.token_endpoint_auth_method.parse()?;
        if let Some(pem) = &self.rsa_public_key {
            if rsa_public_key_from_pem(pem).is_err() {
                return invalid("rsa_public_key is not an RSA public key in PEM".to_owned());
            }
        }
        Ok(ParsedMetadata {
            scope,
            grant_types,
            response_types,
            auth_method,
        })
    }
}

/// What [`ClientMetadata::parse`] read: the metadata a client record holds typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMetadata {
    /// `scope`.
    pub scope: Scope,
    /// `grant_types`.
    pub grant_types: Vec<GrantType>,
    /// `response_types`.
    pub response_types: Vec<ResponseType>,
    /// `token_endpoint_auth_method`.
    pub auth_method: ClientAuthMethod,
}

/// A client just registered: its record and, for a confidential client,
/// the secret (shown this once).
#[derive(Debug, Clone)]
pub struct Registered {
    /// What the store holds.
    pub record: ClientRecord,
    /// The client secret; `None` for a public client.
    pub secret: Option<String>,
    /// When it was registered (seconds since the epoch).
    pub issued_at: u64,
}

/// The RFC 7591 3.2.1 response: `client_id`, `client_secret` (when shown),
/// `client_id_issued_at` and the metadata.
pub fn registration_json(
    record: &ClientRecord,
    secret: Option<&str>,
    issued_at: u64,
) -> serde_json::Value {
    let mut json = serde_json::json!({
        "client_id": record.client_id,
        "client_id_issued_at": issued_at,
        "client_name": record.name,
        "redirect_uris": record.redirect_uris,
        "scope": record.scope,
        "grant_types": record.grant_types,
        "response_types": record.response_types,
        "token_endpoint_auth_method": record.auth_method,
    });
    if let Some(secret) = secret {
        json["client_secret"] = secret.into();
        json["client_secret_expires_at"] = 0.into();
    }
    if let Some(pem) = &record.rsa_public_key {
        json["rsa_public_key"] = pem.as_str().into();
    }
    json
}

/// Registers a client owned by `owner`, with `client_id` (a random one
/// when `None`), for a server with the five RFC 6749 grants (what
/// `credlog serve` runs). A deployment that built its own server registers
/// with [`register_client_on`].
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

/// Registers a client owned by `owner`, with `client_id` (a random one
/// when `None`), refusing grant and response types `server` does not have.
pub async fn register_client_on(
    server: &Oauth2Server,
    store: &dyn CredentialStore,
    owner: &str,
    metadata: ClientMetadata,
    client_id: Option<String>,
    now: u64,
) -> Result<Registered, AccountError> {
    let parsed = metadata.parse()?;
    server.check_registration(&parsed.grant_types, &parsed.response_types)?;
    if store.user(owner).await?.is_none() {
        return Err(AccountError::UnknownOwner(owner.to_owned()));
    }
    let client_id = client_id.unwrap_or_else(random_token);
    let secret = (parsed.auth_method != ClientAuthMethod::None).then(random_token);
    let record = ClientRecord {
        client_id: client_id.clone(),
        secret: secret.clone().map_or(Secret::None, Secret::Plain),
        owner: owner.to_owned(),
        name: metadata.client_name,
        redirect_uris: metadata.redirect_uris,
        scope: parsed.scope,
        grant_types: parsed.grant_types,
        response_types: parsed.response_types,
        auth_method: parsed.auth_method,
        rsa_public_key: metadata.rsa_public_key,
    };
    let absent = Precondition::Absent {
        kind: CredentialKind::Client,
        id: client_id.clone(),
    };
    store
        .append(
            &[absent],
            vec![Event::Issued(Issued::Client(record.clone()))],
            now,
        )
        .await
        .map_err(|error| {
            let taken =
                matches!(&error, AppendError::Refused(r) if r.failure == Failure::AlreadyExists);
            refused_or_store(
                error,
                AccountError::InvalidMetadata(if taken {
                    format!("client id {client_id:?} is taken")
                } else {
                    "the client could not be registered".to_owned()
                }),
            )
        })?;
    Ok(Registered {
        record,
        secret,
        issued_at: now,
    })
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

    #[test]
    fn metadata_is_validated_as_rfc_7591_says() {
        let mut metadata = ClientMetadata::named("App");
        metadata.redirect_uris = vec!["https://app.example/cb".into()];
        assert!(metadata.validate().is_ok());

        for bad in [
            "/relative",
            "https://app.example/cb#frag",
            "app.example/cb",
            "",
        ] {
            let mut with_bad = metadata.clone();
            with_bad.redirect_uris.push(bad.into());
            let error = with_bad.validate().unwrap_err();
            assert_eq!(
                error.registration_error(),
                Some("invalid_redirect_uri"),
                "{bad}"
            );
        }
        let mut bad_grant = metadata.clone();
        bad_grant.grant_types = vec!["magic".into()];
        assert_eq!(
            bad_grant.validate().unwrap_err().registration_error(),
            Some("invalid_client_metadata")
        );
        let mut extension = metadata.clone();
        extension.grant_types = vec!["urn:ietf:params:oauth:grant-type:device_code".into()];
        assert!(extension.validate().is_ok());
        let mut bad_key = metadata.clone();
        bad_key.rsa_public_key = Some("not a key".into());
        assert!(bad_key.validate().is_err());
        let mut bad_scope = metadata;
        bad_scope.scope = "a  b".into();
        assert!(bad_scope.validate().is_err());
    }

    #[tokio::test]
    async fn registration_is_checked_against_the_servers_grants() {
        use credlog_core::rfc6749::Oauth2Config;
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
            AccountError::Metadata(MetadataError::GrantTypeUnavailable(GrantType::Implicit))
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
