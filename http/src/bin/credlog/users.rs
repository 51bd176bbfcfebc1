//! `credlog user`: add, list, passwd and remove resource owners.

use clap::Subcommand;
use credlog_http::accounts::add_user;
use credlog_http::operator;

use crate::failure::Failure;
use crate::store::{now, DataDir};

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Adds a user.
    Add {
        /// The user name.
        name: String,
        /// The password.
        #[arg(long)]
        password: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Prints every user's name, one a line.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Gives a user a new password and ends the user's sessions.
    Passwd {
        /// The user name.
        name: String,
        /// The new password.
        #[arg(long)]
        password: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Removes a user: every client it owns and every credential it granted end.
    Remove {
        /// The user name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Runs `credlog user ...`.
pub(crate) async fn run(command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add {
            name,
            password,
            data,
        } => {
            let store = data.open().await?;
            add_user(&*store, &name, &password, now()).await?;
            eprintln!("added user {name}");
        }
        UserCommand::List { data } => {
            for line in operator::user_lines(&*data.open().await?).await? {
                println!("{line}");
            }
        }
        UserCommand::Passwd {
            name,
            password,
            data,
        } => {
            let store = data.open().await?;
            operator::change_password(&*store, &name, &password, now()).await?;
            eprintln!("changed the password of {name}; its sessions ended");
        }
        UserCommand::Remove { name, data } => {
            let store = data.open().await?;
            credlog_core::manage::remove_user(&*store, &name, now()).await?;
            eprintln!("removed user {name}, every client it owned and every credential it granted");
        }
    }
    Ok(())
}
