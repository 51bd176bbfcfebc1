//! `credlog`: the server and its operator commands (CONTRACT.md, "Command line").
//!
//! Exit status: 0 on success, 1 on a runtime error, 2 on a usage error,
//! with one line on stderr saying what failed.
//!
//! One module a command: [`serve`], [`users`], [`clients`], [`revoke`],
//! [`log`], [`check`], [`migrate`], [`keys`]; [`store`] is how every
//! operator command finds and opens its store, [`failure`] what a command
//! can fail with.
#![forbid(unsafe_code)]

/// mimalloc: the signed request path allocates small strings for every
/// request across two worker threads; under 64-connection load it served
/// about 25% more signed requests a second than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod check;
mod clients;
mod failure;
mod keys;
mod log;
mod migrate;
mod revoke;
mod serve;
mod store;
mod users;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::Failure;

#[derive(Parser)]
#[command(
    name = "credlog",
    version,
    about = "An OAuth provider whose every credential lives in an audited event log"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the OAuth endpoints, pages and /api/me until Ctrl-C or SIGTERM.
    Serve(serve::Serve),
    /// Manages resource owners.
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// Manages clients.
    Client {
        #[command(subcommand)]
        command: clients::ClientCommand,
    },
    /// Revokes a token, every credential issued to a client, or every
    /// credential a user granted.
    Revoke(revoke::Revoke),
    /// Prints the audit trail, one event a line (never a secret).
    Log(log::Log),
    /// Replays the log, rebuilds the projections and compares; exits 1 on a mismatch.
    Check(check::Check),
    /// Replays a data directory's log into an empty PostgreSQL database.
    Migrate(migrate::Migrate),
    /// Manages the keys ID tokens are signed with (OpenID Connect).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

fn main() -> ExitCode {
    // Whatever the operator's umask, every file credlog writes (sled's
    // files and snapshots, the demo key, the serve file) is its user's
    // alone: they hold client and token secrets (CONTRACT.md "Deployment").
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return failed(&Failure::Runtime(error)),
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failed(&failure),
    }
}

/// Says on stderr what failed, in one line, and answers the exit status.
fn failed(failure: &Failure) -> ExitCode {
    eprintln!("credlog: {failure}");
    ExitCode::from(failure.exit_status())
}

/// Runs one command to its end.
async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve(serve) => serve::run(serve).await,
        Command::User { command } => users::run(command).await,
        Command::Client { command } => clients::run(command).await,
        Command::Revoke(revoke) => revoke::run(revoke).await,
        Command::Log(log) => log::run(log).await,
        Command::Check(check) => check::run(check).await,
        Command::Migrate(migrate) => migrate::run(migrate).await,
        Command::Keys { command } => keys::run(command).await,
    }
}
