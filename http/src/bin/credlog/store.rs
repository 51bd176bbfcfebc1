//! Where the commands find their store and the protocol settings it is
//! kept under, and how they open it.

use std::path::PathBuf;

use clap::Args;
use credlog_core::store::{CredentialStore, StoreError};
use credlog_http::admin::ServeFile;
use credlog_http::app::system_clock;
use credlog_http::config::{self, Config, Flags};
use credlog_http::Settings;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::{SledStore, Usage};

use crate::failure::Failure;

/// Where the operator commands find their store and the protocol settings
/// it is kept under: the same layers as `credlog serve`'s, so that they
/// open the directory the server runs on.
#[derive(Args)]
pub(crate) struct DataDir {
    /// The data directory (embedded sled) [default: ./credlog-data]. Also
    /// read from CREDLOG_DATA, or the settings file's `data`.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// A PostgreSQL database (postgres://USER@HOST:PORT/DB) in place of the
    /// data directory. Also read from CREDLOG_POSTGRES, or the settings
    /// file's `postgres`.
    #[arg(long, value_name = "URL", conflicts_with = "data")]
    pub(crate) postgres: Option<String>,
    /// The settings file `credlog serve` reads (its `data`, and the
    /// protocol settings the store is kept under). Also read from
    /// CREDLOG_CONFIG.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

impl DataDir {
    /// The settings: `--data` over `CREDLOG_*` over the file over the
    /// defaults, as for `credlog serve`; a bad one is a usage error.
    pub(crate) fn config(&self) -> Result<Config, Failure> {
        let flags = Flags {
            data: self.data.clone(),
            postgres: self.postgres.clone(),
            ..Flags::default()
        };
        Ok(config::load(
            config_file(&self.config).as_deref(),
            env(),
            flags,
        )?)
    }

    /// The store (the data directory, or the PostgreSQL database), under
    /// the settings' timestamp window.
    pub(crate) async fn open(&self) -> Result<Box<dyn CredentialStore>, Failure> {
        let config = self.config()?;
        open(&config, &config.settings(), Usage::Once).await
    }
}

/// The settings file: `--config`, else `CREDLOG_CONFIG`.
pub(crate) fn config_file(flag: &Option<PathBuf>) -> Option<PathBuf> {
    flag.clone()
        .or_else(|| std::env::var_os("CREDLOG_CONFIG").map(PathBuf::from))
}

/// The environment, for [`config::load`] (a variable that is not text
/// cannot be credlog's).
pub(crate) fn env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
}

/// The time now, by the clock the server runs on.
pub(crate) fn now() -> u64 {
    system_clock()()
}

/// The store as every command opens it: the PostgreSQL database when one
/// is set, else the data directory; keeping nonces for the configured
/// timestamp window (a store opened with another would prune nonces the
/// server still needs) and `Verified` records for the configured
/// retention, and showing the progress of a rebuild of its projections on
/// a terminal.
pub(crate) async fn open_store(
    config: &Config,
    settings: &Settings,
    usage: Usage,
) -> Result<Box<dyn CredentialStore>, StoreError> {
    let window = settings.oauth1.timestamp_window;
    if let Some(url) = &config.postgres {
        let store = PostgresStore::open_with_nonce_window(url, window).await?;
        return Ok(Box::new(store.retaining(config.retention())));
    }
    let rebuilding = credlog_http::progress::Rebuilding::default();
    let opened = SledStore::open_retaining(
        &config.data,
        window,
        config.retention(),
        usage,
        &|seq, last| rebuilding.replayed(seq, last),
    );
    rebuilding.finish();
    Ok(Box::new(opened?))
}

/// The data directory's store, keeping nonces for the timestamp window the
/// server validates OAuth 1 requests with (one value for one fact). A
/// directory another process holds is refused at once, saying what to do:
/// a running server (it left its serve file) is to be stopped first, since
/// every change a command makes goes through the one process that holds
/// the store. An old directory whose projections are rebuilt on open shows
/// a progress bar on a terminal.
pub(crate) async fn open(
    config: &Config,
    settings: &Settings,
    usage: Usage,
) -> Result<Box<dyn CredentialStore>, Failure> {
    match open_store(config, settings, usage).await {
        Ok(store) => Ok(store),
        Err(StoreError::Locked { path }) if ServeFile::read(&config.data).is_some() => {
            Err(Failure::HeldByServer { path })
        }
        Err(StoreError::Locked { path }) => Err(Failure::HeldByOther { path }),
        Err(error) => Err(error.into()),
    }
}
