//! `credlog serve --demo`: a ready user and one client of each kind, so a
//! newcomer can run a flow at once. Created when absent; on later starts
//! the same credentials are printed again.

use std::path::Path;

use credlog_core::rfc6749::Oauth2Server;
use credlog_core::store::{CredentialStore, Secret};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

use crate::accounts::{add_user, register_client_on, AccountError, ClientMetadata};

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The demo user or a demo client could not be added.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The RSA-SHA1 client's key pair could not be made or written.
    #[error("{what}: {cause}")]
    Key {
        /// What was being done.
        what: String,
        /// Why it failed.
        cause: String,
    },
}

/// The demo user's name and password.
pub const USER: (&str, &str) = ("demo", "demo");

/// The callbacks every demo client registers (plus `oob`, always allowed in OAuth 1).
pub const REDIRECT_URIS: [&str; 2] = [
    "http://127.0.0.1:8000/callback",
    "http://localhost:8000/callback",
];

/// A demo client as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoClient {
    /// What it shows.
    pub label: &'static str,
    /// Its id.
    pub client_id: String,
    /// Its secret (none for the public client).
    pub client_secret: Option<String>,
    /// The RSA private key file, for the RSA-SHA1 client.
    pub private_key: Option<String>,
}

fn metadata(
    name: &str,
    auth_method: &str,
    grant_types: &[&str],
    response_types: &[&str],
) -> ClientMetadata {
    ClientMetadata {
        redirect_uris: REDIRECT_URIS.iter().map(|uri| uri.to_string()).collect(),
        scope: "profile email".to_owned(),
        grant_types: grant_types.iter().map(|g| g.to_string()).collect(),
        response_types: response_types.iter().map(|r| r.to_string()).collect(),
        token_endpoint_auth_method: auth_method.to_owned(),
        ..ClientMetadata::named(name)
    }
}

/// One demo client, as registered and as printed.
struct Kind {
    label: &'static str,
    client_id: &'static str,
    name: &'static str,
    auth_method: &'static str,
    grant_types: &'static [&'static str],
    rsa: bool,
}

const ALL_GRANTS: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
];

const KINDS: [Kind; 3] = [
    Kind {
        label:
            "confidential: OAuth 1 HMAC-SHA1, HMAC-SHA256, PLAINTEXT; OAuth 2 client_secret_basic",
        client_id: "demo-confidential",
        name: "Demo app",
        auth_method: "client_secret_basic",
        grant_types: ALL_GRANTS,
        rsa: false,
    },
    Kind {
        label: "RSA-SHA1: OAuth 1 with the private key file",
        client_id: "demo-rsa",
        name: "Demo RSA app",
        auth_method: "client_secret_basic",
        grant_types: ALL_GRANTS,
        rsa: true,
    },
    Kind {
        label: "public: OAuth 2 with PKCE, no secret",
        client_id: "demo-public",
        name: "Demo public app",
        auth_method: "none",
        grant_types: &["authorization_code", "refresh_token", "implicit"],
        rsa: false,
    },
];

/// Creates what is missing of the demo and returns every demo client,
/// registered for what `server` (the one about to serve) has. The RSA-SHA1
/// client's private key is written to `key_file` when the client is created.
pub async fn ensure(
    server: &Oauth2Server,
    store: &dyn CredentialStore,
    key_file: &Path,
    now: u64,
) -> Result<Vec<DemoClient>, DemoError> {
    if store
        .user(USER.0)
        .await
        .map_err(AccountError::from)?
        .is_none()
    {
        if let Err(error) = add_user(store, USER.0, USER.1, now).await {
            // Another server on the same database may have added it first.
            if store
                .user(USER.0)
                .await
                .map_err(AccountError::from)?
                .is_none()
            {
                return Err(error.into());
            }
        }
    }
    let mut clients = Vec::new();
    for kind in KINDS {
        let record = match store
            .client(kind.client_id)
            .await
            .map_err(AccountError::from)?
        {
            Some(state) => state.record,
            None => {
                let mut wanted = metadata(
                    kind.name,
                    kind.auth_method,
                    kind.grant_types,
                    &["code", "token"],
                );
                if kind.rsa {
                    wanted.rsa_public_key = Some(write_key_pair(key_file)?);
                }
                let client_id = Some(kind.client_id.to_owned());
                match register_client_on(server, store, USER.0, wanted, client_id, now).await {
                    Ok(registered) => registered.record,
                    // Another server on the same database registered it
                    // first, with its own key: this one's is of no use.
                    Err(error) => match store
                        .client(kind.client_id)
                        .await
                        .map_err(AccountError::from)?
                    {
                        Some(state) => {
                            if kind.rsa {
                                let _ = std::fs::remove_file(key_file);
                            }
                            state.record
                        }
                        None => return Err(error.into()),
                    },
                }
            }
        };
        clients.push(DemoClient {
            label: kind.label,
            client_id: record.client_id,
            client_secret: match record.secret {
                Secret::Plain(secret) => Some(secret),
                _ => None,
            },
            // A server without a data directory (PostgreSQL) has the key
            // only if it registered the client itself.
            private_key: (kind.rsa && key_file.exists()).then(|| key_file.display().to_string()),
        });
    }
    Ok(clients)
}

/// Generates a 2048-bit RSA key pair, writes the private key (PKCS#8 PEM,
/// readable by its owner only) and returns the public key (SPKI PEM).
fn write_key_pair(path: &Path) -> Result<String, DemoError> {
    let failed = |what: &str, error: &dyn std::fmt::Display| DemoError::Key {
        what: what.to_owned(),
        cause: error.to_string(),
    };
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|e| failed("generating the demo RSA key", &e))?;
    let private_pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| failed("encoding the demo RSA key", &e))?;
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| failed("encoding the demo RSA key", &e))?;
    write_private(path, private_pem.as_bytes())
        .map_err(|e| failed(&format!("writing {}", path.display()), &e))?;
    Ok(public_pem)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
