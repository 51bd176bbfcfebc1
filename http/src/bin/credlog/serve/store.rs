//! The store `credlog serve` runs on: in memory, on PostgreSQL or in the
//! data directory, with the sign-in throttle and the demo key's file that
//! go with it.

use std::path::PathBuf;
use std::sync::Arc;

use credlog_core::rfc6749::Oauth2Server;
use credlog_core::store::CredentialStore;
use credlog_core::throttle::Throttle;
use credlog_http::config::Config;
use credlog_http::{App, Settings};
use credlog_storage_memory::MemoryStore;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::Usage;

use crate::failure::Failure;
use crate::store::open;

/// The store a server runs on, and what goes with it.
pub(super) struct ServedStore {
    /// The store.
    pub(super) store: Arc<dyn CredentialStore>,
    /// On PostgreSQL the sign-in throttle counts there too, so that every
    /// server sharing the database counts the same guesses; `None`: in
    /// this process's memory.
    throttle: Option<Arc<dyn Throttle>>,
    /// Where `--demo` writes the RSA-SHA1 client's private key.
    pub(super) demo_key: PathBuf,
}

impl ServedStore {
    /// Opens the store `config` names, keeping nonces for the timestamp
    /// window of `settings`.
    pub(super) async fn open(config: &Config, settings: &Settings) -> Result<Self, Failure> {
        let window = settings.oauth1.timestamp_window;
        if config.memory {
            return Ok(ServedStore {
                store: Arc::new(MemoryStore::with_nonce_window(window)),
                throttle: None,
                demo_key: own_key_file(),
            });
        }
        if let Some(url) = &config.postgres {
            let store = PostgresStore::open_with_nonce_window(url, window).await?;
            let throttle: Arc<dyn Throttle> = Arc::new(store.throttle(settings.throttle));
            let store = Arc::new(store.retaining(config.retention()));
            store.keep_house();
            return Ok(ServedStore {
                store,
                throttle: Some(throttle),
                demo_key: own_key_file(),
            });
        }
        let demo_key = config.data.join("demo-rsa-private.pem");
        let store = open(config, settings, Usage::Serving).await?;
        Ok(ServedStore {
            store: Arc::from(store),
            throttle: None,
            demo_key,
        })
    }

    /// The app serving this store: when it is dropped, so is the store.
    pub(super) fn into_app(self, settings: Settings, oauth2: Oauth2Server) -> App {
        let app = App::builder(self.store, settings).oauth2(oauth2);
        match self.throttle {
            Some(throttle) => app.throttle(throttle).build(),
            None => app.build(),
        }
    }
}

/// Whether the server runs on a data directory (neither `--memory` nor
/// PostgreSQL): the directory is then this process's alone.
pub(super) fn on_data_dir(config: &Config) -> bool {
    !config.memory && config.postgres.is_none()
}

/// Without a data directory the demo key is written beside none: to a
/// file of this process's own in the temporary directory.
fn own_key_file() -> PathBuf {
    let name = format!("credlog-demo-rsa-private-{}.pem", std::process::id());
    std::env::temp_dir().join(name)
}
