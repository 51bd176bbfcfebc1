//! What a command can fail with: one line for stderr, an exit status (2 for
//! a usage error, 1 for any other), and the cause kept as the error's
//! `source()`.
//!
//! The line is the one `credlog` has always printed, so a foreign cause's
//! own words are in it (`cannot read FILE: No such file or directory`);
//! `main` prints that line alone, never the chain below it.

use std::net::SocketAddr;
use std::path::PathBuf;

use credlog_core::manage::ManageError;
use credlog_core::oidc::keys::KeyError;
use credlog_core::rfc6749::params::ScopeError;
use credlog_core::store::StoreError;
use credlog_http::accounts::AccountError;
use credlog_http::admin::SERVE_FILE;
use credlog_http::config::ConfigError;
use credlog_http::demo::DemoError;
use credlog_http::operator::OperatorError;

/// Why a command failed. The binary's own type: not a public API, so it
/// is not `#[non_exhaustive]`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// A setting (a flag, a `CREDLOG_*` variable or the settings file) is
    /// bad. A usage error.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// `credlog client add --scope` is not a scope (CONTRACT.md "Users and
    /// sessions": at most 64 tokens of 128 characters). A usage error.
    #[error("--scope: {0}")]
    Scope(#[source] ScopeError),
    /// `credlog client add --jwks` names a file that is not a JWK Set. A
    /// usage error.
    #[error("{} is not a JSON JWK Set: {source}", path.display())]
    Jwks {
        /// The file.
        path: PathBuf,
        /// Why it is not one.
        source: serde_json::Error,
    },
    /// `credlog revoke` was given none, or more than one, of its flags
    /// (clap's group lets exactly one through). A usage error.
    #[error("give exactly one of --token, --client, --user")]
    RevokeWhat,
    /// The async runtime cannot start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `credlog serve --print-config` cannot write the settings as TOML.
    #[error("{0}")]
    PrintConfig(#[from] toml::ser::Error),
    /// A file named by a flag cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The serve file (`serve.json`) cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A listener cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key cannot be used (the line names which).
    #[error("{0}")]
    Tls(String),
    /// The metrics recorder cannot be installed.
    #[error("{0}")]
    Metrics(String),
    /// The data directory is held by a running credlog server.
    #[error("the data directory {path} is in use by a running credlog server; stop the server first, then run this again")]
    HeldByServer {
        /// The directory.
        path: String,
    },
    /// The data directory is held by another process.
    #[error("the data directory {path} is in use by another process; stop it first, then run this again")]
    HeldByOther {
        /// The directory.
        path: String,
    },
    /// `credlog log`: the data directory is held by a process that left
    /// no serve file to read the log through.
    #[error("the data directory {path} is in use by another process that left no {SERVE_FILE}; stop it to read the log")]
    HeldWithoutServeFile {
        /// The directory.
        path: String,
    },
    /// `credlog migrate`: the target database already holds records.
    #[error("the database already holds {held} records; migrate into an empty one")]
    NotEmpty {
        /// How many.
        held: u64,
    },
    /// `credlog check`: the projections differ from a replay of the log
    /// (each mismatch was printed on stdout).
    #[error("{count} mismatches between the log and the projections")]
    Mismatches {
        /// How many.
        count: usize,
    },
    /// `credlog migrate`: a check after the migration found mismatches
    /// (printed on stdout).
    #[error("the check of {store} after the migration found mismatches")]
    MigrationMismatches {
        /// Which store: "the data directory" or "PostgreSQL".
        store: &'static str,
    },
    /// `credlog log`: the server holding the data directory cannot be reached.
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable {
        /// The admin listener's base URL.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// `credlog log`: the server refused the log request.
    #[error("the server at {url} answered {status} to the log request")]
    Refused {
        /// The admin listener's base URL.
        url: String,
        /// Its answer.
        status: reqwest::StatusCode,
    },
    /// `credlog log`: the server's answer could not be read.
    #[error("the server's log page could not be read: {0}")]
    LogPageBody(#[source] reqwest::Error),
    /// `credlog log`: the server's answer is not a log page.
    #[error("the server's log page could not be read: {0}")]
    LogPageJson(#[source] serde_json::Error),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A user or client could not be added.
    #[error("{0}")]
    Account(#[from] AccountError),
    /// An operator command did nothing.
    #[error("{0}")]
    Operator(#[from] OperatorError),
    /// A user or client could not be removed.
    #[error("{0}")]
    Manage(#[from] ManageError),
    /// The signing keys could not be had or rotated.
    #[error("{0}")]
    Key(#[from] KeyError),
    /// The demo could not be set up.
    #[error("{0}")]
    Demo(#[from] DemoError),
}

impl Failure {
    /// 2 for a usage error (like a bad flag), 1 for any other.
    pub(crate) fn exit_status(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Scope(_) | Failure::Jwks { .. } | Failure::RevokeWhat => {
                2
            }
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn a_foreign_cause_is_the_source_and_its_words_the_line() {
        let cause = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let failure = Failure::Read {
            path: PathBuf::from("key.pem"),
            source: cause,
        };
        assert_eq!(failure.to_string(), "cannot read key.pem: no such file");
        assert_eq!(failure.exit_status(), 1);
        let source = failure
            .source()
            .and_then(|e| e.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn a_store_failure_says_what_the_store_said() {
        let failure = Failure::from(StoreError::Backend("disk full".into()));
        assert_eq!(failure.to_string(), "storage failed: disk full");
        assert_eq!(failure.exit_status(), 1);
        let source = failure
            .source()
            .and_then(|e| e.downcast_ref::<StoreError>());
        assert_eq!(source, Some(&StoreError::Backend("disk full".into())));
    }

    #[test]
    fn usage_errors_exit_2() {
        assert_eq!(Failure::RevokeWhat.exit_status(), 2);
        let scope = "a  b".parse::<credlog_core::rfc6749::Scope>();
        let failure = Failure::Scope(scope.expect_err("two spaces are no scope"));
        assert!(failure.to_string().starts_with("--scope: "));
        assert_eq!(failure.exit_status(), 2);
    }
}
