//! `credlog keys`: rotate and list the keys ID tokens are signed with, one
//! current key for each algorithm the server signs with.

use clap::Subcommand;
use credlog_core::jose::SignatureAlg;

use crate::failure::Failure;
use crate::store::{now, DataDir};

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Makes a new signing key the current one for its algorithm; the old
    /// one stays in the JWK Set until every token it signed has expired.
    Rotate {
        /// The algorithm whose key to rotate: RS256 (the default), PS256,
        /// ES256 or EdDSA.
        #[arg(long, value_name = "ALG", default_value = "RS256", value_parser = signing_alg)]
        alg: SignatureAlg,
        #[command(flatten)]
        data: DataDir,
    },
    /// Lists the signing keys of an algorithm by key id, oldest first
    /// (never a private key).
    List {
        /// The algorithm whose keys to list: RS256 (the default), PS256,
        /// ES256 or EdDSA.
        #[arg(long, value_name = "ALG", default_value = "RS256", value_parser = signing_alg)]
        alg: SignatureAlg,
        #[command(flatten)]
        data: DataDir,
    },
}

/// `--alg`: one of the algorithms the server signs with, by its JWS name
/// (case-sensitive, RFC 7515 4.1.1). Anything else is a usage error.
fn signing_alg(given: &str) -> Result<SignatureAlg, String> {
    SignatureAlg::from_name(given)
        .filter(|alg| alg.signs())
        .ok_or_else(|| {
            let names: Vec<&str> = SignatureAlg::SIGNING.iter().map(|a| a.name()).collect();
            format!(
                "{given:?} is not an algorithm the server signs with ({})",
                names.join(", ")
            )
        })
}

/// Runs `credlog keys ...`.
pub(crate) async fn run(command: KeysCommand) -> Result<(), Failure> {
    match command {
        KeysCommand::Rotate { alg, data } => {
            let store = data.open().await?;
            let kid = credlog_core::oidc::keys::rotate(&*store, alg, now()).await?;
            println!("{kid}");
            eprintln!("{alg} signing key {kid} is now the current one");
        }
        KeysCommand::List { alg, data } => {
            let store = data.open().await?;
            let keys = match alg {
                SignatureAlg::RS256 => store.signing_keys().await?,
                _ => store.alg_signing_keys(alg.name()).await?,
            };
            for key in keys {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_signing_algorithms_are_accepted() {
        for alg in SignatureAlg::SIGNING {
            assert_eq!(signing_alg(alg.name()), Ok(alg));
        }
        for bad in ["RS384", "es256", "HS256", "none", ""] {
            let error = signing_alg(bad).unwrap_err();
            assert!(error.contains("RS256, PS256, ES256, EdDSA"), "{error}");
        }
    }
}
