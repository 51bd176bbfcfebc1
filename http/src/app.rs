//! What every route shares: the store, the OAuth 1 provider, the OAuth 2
//! server, the login sessions, the clock and the settings a deployment
//! chooses.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use credlog_core::rfc5849::{Oauth1Config, Oauth1Provider, SignatureMethods};
use credlog_core::rfc6749::{Oauth2Config, Oauth2Server};
use credlog_core::store::{CredentialStore, StoreError};
use credlog_core::Response;

use crate::pages;
use crate::sessions::Sessions;

/// The server's clock: seconds since the Unix epoch. Tests inject their own.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
    })
}

pub use credlog_core::random::random_token;

/// What a deployment sets.
#[derive(Debug, Clone)]
pub struct Settings {
    /// OAuth 1 validation: signature methods (all four built-in ones by
    /// default), timestamp window, realm.
    pub oauth1: Oauth1Config,
    /// How long a temporary credential may wait for its grant and
    /// exchange, in seconds (default 600).
    pub temporary_lifetime: u64,
    /// How long a login lasts, in seconds (default 12 hours).
    pub session_lifetime: u64,
    /// The largest request body read, in bytes (default 64 KiB); larger
    /// ones are refused with 413.
    pub body_limit: u64,
    /// The token that opens `GET /admin/log` (off when `None`, the default).
    pub admin_token: Option<AdminToken>,
    /// OAuth 2: lifetimes, token generators, refresh tokens, client
    /// authentication per grant, allowed scopes, error URIs.
    pub oauth2: Oauth2Config,
    /// The issuer URL of the OAuth 2 metadata (RFC 8414 2), e.g.
    /// `http://127.0.0.1:8080`; `None` takes `http://` and the request's `Host`.
    pub issuer: Option<String>,
}

/// The admin token; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(pub String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            oauth1: Oauth1Config {
                signature_methods: SignatureMethods::all_builtin(),
                ..Oauth1Config::default()
            },
            temporary_lifetime: 600,
            session_lifetime: 12 * 60 * 60,
            body_limit: 64 * 1024,
            admin_token: None,
            oauth2: Oauth2Config::default(),
            issuer: None,
        }
    }
}

/// The state every route shares; cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn CredentialStore>,
    oauth1: Oauth1Provider,
    oauth2: Oauth2Server,
    sessions: Sessions,
    clock: Clock,
    settings: Settings,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app over `store` with these settings and the wall clock.
    pub fn new(store: Arc<dyn CredentialStore>, settings: Settings) -> Self {
        App::with_clock(store, settings, system_clock())
    }

    /// An app with its own clock.
    pub fn with_clock(store: Arc<dyn CredentialStore>, settings: Settings, clock: Clock) -> Self {
        let oauth2 = Oauth2Server::new(settings.oauth2.clone());
        App::with_oauth2(store, settings, clock, oauth2)
    }

    /// An app whose OAuth 2 server the deployment built itself (to register
    /// its own grants, or drop some); `settings.oauth2` is then unused.
    pub fn with_oauth2(
        store: Arc<dyn CredentialStore>,
        settings: Settings,
        clock: Clock,
        oauth2: Oauth2Server,
    ) -> Self {
        App {
            inner: Arc::new(Inner {
                store,
                oauth1: Oauth1Provider::new(settings.oauth1.clone(), settings.temporary_lifetime),
                oauth2,
                sessions: Sessions::new(settings.session_lifetime),
                clock,
                settings,
            }),
        }
    }

    /// The credential store.
    pub fn store(&self) -> &(dyn CredentialStore + 'static) {
        self.inner.store.as_ref()
    }

    /// The OAuth 1 provider.
    pub fn oauth1(&self) -> &Oauth1Provider {
        &self.inner.oauth1
    }

    /// The OAuth 2 server.
    pub fn oauth2(&self) -> &Oauth2Server {
        &self.inner.oauth2
    }

    /// The login sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Now, by the app's clock.
    pub fn now(&self) -> u64 {
        (self.inner.clock)()
    }

    /// The answer to a failure of the store: logged here, a bare 500 to
    /// the client (whose fault it is not).
    pub fn store_failure(&self, error: &StoreError) -> Response {
        tracing::error!(%error, "the credential store failed");
        pages::server_error()
    }
}
