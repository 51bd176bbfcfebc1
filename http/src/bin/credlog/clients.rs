//! `credlog client`: register, list, show, rotate the secret of and remove
//! clients.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use credlog_core::rfc6749::Scope;
use credlog_http::accounts::{register_client_on, ClientMetadata};
use credlog_http::operator;
use credlog_storage_sled::Usage;

use crate::failure::Failure;
use crate::serve::served_oauth2;
use crate::store::{now, open, DataDir};

#[derive(Subcommand)]
pub(crate) enum ClientCommand {
    /// Registers a client and prints its registration (with the secret, shown once) as JSON.
    Add {
        #[command(flatten)]
        registration: Registration,
        #[command(flatten)]
        data: DataDir,
    },
    /// Prints one line a client, `ID OWNER NAME` (escaped as `credlog log`
    /// escapes them); removed clients are left out.
    List {
        /// Only this user's clients.
        #[arg(long, value_name = "NAME")]
        owner: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Prints a client's registration as JSON (never its secret).
    Show {
        /// The client id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Gives a client a new secret and prints it, once, as JSON; the old one stops working.
    RotateSecret {
        /// The client id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Removes a client: it and every credential issued to it end.
    Remove {
        /// The client id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(clap::Args)]
pub(crate) struct Registration {
    /// The user who owns it.
    #[arg(long)]
    owner: String,
    /// Its name, shown on consent pages.
    #[arg(long)]
    name: String,
    /// A redirect URI (OAuth 2) and callback (OAuth 1); repeat for more.
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    redirect_uris: Vec<String>,
    /// Its scope, space-separated.
    #[arg(long)]
    scope: Option<String>,
    /// A grant type; repeat for more.
    #[arg(long = "grant-type", value_name = "T")]
    grant_types: Vec<String>,
    /// client_secret_basic, client_secret_post, none or private_key_jwt
    /// (which needs --jwks).
    #[arg(long = "auth-method", value_name = "M")]
    auth_method: Option<String>,
    /// An RSA public key (PEM file) for OAuth 1 RSA-SHA1.
    #[arg(long = "rsa-public-key", value_name = "FILE.pem")]
    rsa_public_key: Option<PathBuf>,
    /// The client's public keys, a JWK Set in JSON (RFC 7517 5), for
    /// private_key_jwt and the JWT bearer grant (RFC 7523).
    #[arg(long, value_name = "FILE.json")]
    jwks: Option<PathBuf>,
}

impl Registration {
    /// The client's metadata, its files read; a bad `--scope` or a file
    /// that is not a JWK Set is a usage error.
    fn metadata(self) -> Result<ClientMetadata, Failure> {
        let mut metadata = ClientMetadata::named(self.name);
        metadata.redirect_uris = self.redirect_uris;
        if let Some(scope) = self.scope {
            // CONTRACT.md "Users and sessions": at most 64 tokens of
            // 128 characters; a scope past them is a bad flag.
            scope.parse::<Scope>().map_err(Failure::Scope)?;
            metadata.scope = scope;
        }
        if !self.grant_types.is_empty() {
            metadata.grant_types = self.grant_types;
        }
        if let Some(method) = self.auth_method {
            metadata.token_endpoint_auth_method = method;
        }
        if let Some(path) = self.rsa_public_key {
            metadata.rsa_public_key = Some(read(&path)?);
        }
        if let Some(path) = self.jwks {
            let text = read(&path)?;
            let set =
                serde_json::from_str(&text).map_err(|source| Failure::Jwks { path, source })?;
            metadata.jwks = Some(set);
        }
        Ok(metadata)
    }
}

/// The text of a file a flag names.
fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|source| Failure::Read {
        path: path.to_owned(),
        source,
    })
}

/// Runs `credlog client ...`.
pub(crate) async fn run(command: ClientCommand) -> Result<(), Failure> {
    match command {
        ClientCommand::Add { registration, data } => {
            let owner = registration.owner.clone();
            let metadata = registration.metadata()?;
            let config = data.config()?;
            let settings = config.settings();
            let store = open(&config, &settings, Usage::Once).await?;
            let server = served_oauth2(&settings);
            let registered =
                register_client_on(&server, &*store, &owner, metadata, None, now()).await?;
            println!("{}", registered.response_json());
        }
        ClientCommand::List { owner, data } => {
            let store = data.open().await?;
            for line in operator::client_lines(&*store, owner.as_deref()).await? {
                println!("{line}");
            }
        }
        ClientCommand::Show { id, data } => {
            let store = data.open().await?;
            println!("{}", operator::client_registration(&*store, &id).await?);
        }
        ClientCommand::RotateSecret { id, data } => {
            let store = data.open().await?;
            println!("{}", operator::rotate_secret(&*store, &id, now()).await?);
        }
        ClientCommand::Remove { id, data } => {
            let store = data.open().await?;
            credlog_core::manage::remove_client(&*store, &id, now()).await?;
            eprintln!("removed client {id} and every credential issued to it");
        }
    }
    Ok(())
}
