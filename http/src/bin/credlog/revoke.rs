//! `credlog revoke`: ends a token, every credential issued to a client, or
//! every credential a user granted.

use clap::{ArgGroup, Args};
use credlog_http::operator::{self, Revocation};

use crate::failure::Failure;
use crate::store::{now, DataDir};

/// `credlog revoke`: exactly one of `--token`, `--client`, `--user` (none,
/// or two, is a usage error).
#[derive(Args)]
#[command(group(ArgGroup::new("what").required(true).args(["token", "client", "user"])))]
pub(crate) struct Revoke {
    /// A token and every credential issued from it: an OAuth 1 token
    /// credential's oauth_token, or an OAuth 2 access or refresh token
    /// (which may start with `-`: base64url's alphabet holds it).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    token: Option<String>,
    /// Every credential issued to this client; the client stays.
    #[arg(long, value_name = "ID")]
    client: Option<String>,
    /// Every credential this user granted, to every client.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    #[command(flatten)]
    data: DataDir,
}

/// Runs `credlog revoke`: says on stderr what ended.
pub(crate) async fn run(revoke: Revoke) -> Result<(), Failure> {
    // clap's group lets exactly one through.
    let what = match (&revoke.token, &revoke.client, &revoke.user) {
        (Some(token), None, None) => Revocation::Token(token),
        (None, Some(client), None) => Revocation::Client(client),
        (None, None, Some(user)) => Revocation::User(user),
        _ => return Err(Failure::RevokeWhat),
    };
    let store = revoke.data.open().await?;
    eprintln!("{}", operator::revoke(&*store, what, now()).await?);
    Ok(())
}
