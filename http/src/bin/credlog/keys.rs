//! `credlog keys`: rotate and list the keys ID tokens are signed with.

use clap::Subcommand;

use crate::failure::Failure;
use crate::store::{now, DataDir};

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Makes a new signing key the current one; the old one stays in the
    /// JWK Set until every token it signed has expired.
    Rotate {
        #[command(flatten)]
        data: DataDir,
    },
    /// Lists the signing keys by key id, oldest first (never a private key).
    List {
        #[command(flatten)]
        data: DataDir,
    },
}

/// Runs `credlog keys ...`.
pub(crate) async fn run(command: KeysCommand) -> Result<(), Failure> {
    match command {
        KeysCommand::Rotate { data } => {
            let store = data.open().await?;
            let kid = credlog_core::oidc::keys::rotate(&*store, now()).await?;
            println!("{kid}");
            eprintln!("signing key {kid} is now the current one");
        }
        KeysCommand::List { data } => {
            for key in data.open().await?.signing_keys().await? {
                let state = match key.retired_at {
                    Some(at) => format!("retired_at={at}"),
                    None => "current".to_owned(),
                };
                println!("{} created_at={} {state}", key.kid, key.created_at);
            }
        }
    }
    Ok(())
}
