//! What every route shares: the store, the OAuth 1 provider, the OAuth 2
//! server, the login sessions, the clock and the settings a deployment
//! chooses.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use credlog_core::provider::Provider;
use credlog_core::rfc5849::{Oauth1Config, Oauth1Provider, SignatureMethods};
use credlog_core::rfc6749::{Oauth2Config, Oauth2Server};
use credlog_core::store::{CredentialStore, StoreError};
use credlog_core::Response;

use credlog_core::throttle::{Limits, MemoryThrottle, Throttle};

use crate::pages;
use crate::passwords::Passwords;
use crate::sessions::{SessionLimits, Sessions};

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
    /// How long a token credential works after its exchange, in seconds
    /// (default `None`: until revoked, as RFC 5849 leaves it).
    pub token_lifetime: Option<u64>,
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
    /// The URL clients use, when a proxy in front ends TLS: request URIs
    /// (OAuth 1 base strings), the issuer and every absolute URL are built
    /// on it whatever the `Host` header says, and with `https` the session
    /// cookie is `Secure`. `None`: `http://` and the request's `Host`.
    pub public_url: Option<PublicUrl>,
    /// Whether the listener speaks TLS itself (`--tls-cert`): URLs built
    /// from `Host` are then `https://`, and the cookies `Secure`.
    pub tls: bool,
    /// How much password guessing sign-in allows (CONTRACT.md "Users and sessions").
    pub throttle: Limits,
    /// How many argon2 checks run at once (default: the number of cores).
    pub password_checks: usize,
    /// How long a login may go unused before it ends, in seconds (default
    /// 30 minutes; it may last up to [`crate::sessions::TOUCH_SLACK`] more,
    /// the lag allowed to its recorded last use).
    pub session_idle: u64,
    /// The most logins one user holds at once; signing in again ends the oldest (default 16).
    pub sessions_per_user: usize,
    /// The most logins held in all; past it the oldest ends (default 100,000).
    pub sessions_in_all: usize,
    /// What each scope lets an application do, in words for the consent
    /// pages, by scope name (default none: a scope is shown by its name).
    pub scope_descriptions: BTreeMap<String, String>,
}

/// The origin clients reach the server at (CONTRACT.md "Deployment"):
/// `http` or `https`, a host and an optional port, nothing after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
}

impl PublicUrl {
    /// Reads `url`, e.g. `https://auth.example.com` (a trailing `/` is
    /// dropped). Refused, saying why: another scheme, no host, user info,
    /// a path, a query or a fragment (the routes are at the root).
    pub fn parse(url: &str) -> Result<PublicUrl, String> {
        let trimmed = url.strip_suffix('/').unwrap_or(url);
        let Some((scheme, authority)) = trimmed.split_once("://") else {
            return Err(format!("{url:?} is not an absolute http or https URL"));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("{url:?} must be http or https"));
        }
        if authority.is_empty() {
            return Err(format!("{url:?} has no host"));
        }
        if authority.contains('@') {
            return Err(format!("{url:?} must not hold user info"));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(format!(
                "{url:?} must be an origin alone (no path, query or fragment): credlog's routes are at the root"
            ));
        }
        if authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(format!("{url:?} holds a character a host cannot"));
        }
        Ok(PublicUrl {
            origin: format!("{scheme}://{}", authority.to_ascii_lowercase()),
        })
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether clients reach the server over TLS.
    pub fn is_https(&self) -> bool {
        self.origin.starts_with("https://")
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.origin)
    }
}

/// Written as its origin, e.g. in `credlog serve --print-config`.
impl serde::Serialize for PublicUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.origin)
    }
}

/// Read as [`PublicUrl::parse`] reads it, saying why one is refused.
impl<'de> serde::Deserialize<'de> for PublicUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PublicUrl::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
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
            token_lifetime: None,
            session_lifetime: 12 * 60 * 60,
            body_limit: 64 * 1024,
            admin_token: None,
            oauth2: Oauth2Config::default(),
            issuer: None,
            public_url: None,
            tls: false,
            throttle: Limits::default(),
            password_checks: std::thread::available_parallelism().map_or(2, |cores| cores.get()),
            session_idle: 30 * 60,
            sessions_per_user: 16,
            sessions_in_all: 100_000,
            scope_descriptions: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// These settings for a server listening on `listener` that clients
    /// reach at `public_url` (or at the listener itself when `None`), as
    /// CONTRACT.md "Deployment" says: the issuer is the public URL or the
    /// listener's address, and PLAINTEXT is accepted only over TLS (an
    /// `https` public URL, or a listener with [`Settings::tls`]) or, in
    /// development, on a loopback listener.
    pub fn reached_at(mut self, listener: SocketAddr, public_url: Option<PublicUrl>) -> Self {
        self.oauth1.over_tls = match &public_url {
            Some(url) => url.is_https(),
            None => self.tls || listener.ip().is_loopback(),
        };
        self.issuer = Some(match &public_url {
            Some(url) => url.origin().to_owned(),
            None => format!("{}://{listener}", self.scheme()),
        });
        self.public_url = public_url;
        self
    }

    /// Whether the session cookie is `Secure`: clients reach the server over `https`.
    pub fn secure_cookies(&self) -> bool {
        match &self.public_url {
            Some(url) => url.is_https(),
            None => self.tls,
        }
    }

    /// The listener's scheme: `https` with [`Settings::tls`], else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// The origin a request with this `Host` reached: the public URL's,
    /// or the listener's scheme and the host.
    pub fn origin_for(&self, host: &str) -> String {
        match &self.public_url {
            Some(url) => url.origin().to_owned(),
            None => format!("{}://{host}", self.scheme()),
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
    provider: Provider,
    sessions: Sessions,
    passwords: Passwords,
    throttle: Arc<dyn Throttle>,
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

/// Builds an [`App`], each part given once: the store and settings, then
/// whatever the deployment supplies itself, in the manner of rustls's
/// `ServerConfig::builder()`.
///
/// ```
/// use std::sync::Arc;
/// use credlog_http::{App, Settings};
/// use credlog_storage_memory::MemoryStore;
///
/// let app = App::builder(Arc::new(MemoryStore::new()), Settings::default())
///     .clock(Arc::new(|| 1_700_000_000))
///     .build();
/// assert_eq!(app.now(), 1_700_000_000);
/// ```
#[must_use]
pub struct AppBuilder {
    store: Arc<dyn CredentialStore>,
    settings: Settings,
    clock: Option<Clock>,
    oauth2: Option<Oauth2Server>,
    throttle: Option<Arc<dyn Throttle>>,
}

impl AppBuilder {
    /// The app's clock (default: the wall clock). Tests inject their own.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// An OAuth 2 server the deployment built itself, to register its own
    /// grants or drop some (default: one built from `settings.oauth2`,
    /// which is then unused).
    pub fn oauth2(mut self, oauth2: Oauth2Server) -> Self {
        self.oauth2 = Some(oauth2);
        self
    }

    /// Where sign-in, client-authentication and user-code attempts are
    /// counted, when several servers share one (default: in memory, with
    /// `settings.throttle`'s limits, which are then unused).
    pub fn throttle(mut self, throttle: Arc<dyn Throttle>) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// The app.
    pub fn build(self) -> App {
        let AppBuilder {
            store,
            settings,
            clock,
            oauth2,
            throttle,
        } = self;
        let clock = clock.unwrap_or_else(system_clock);
        let oauth2 = oauth2.unwrap_or_else(|| Oauth2Server::new(settings.oauth2.clone()));
        let throttle = throttle.unwrap_or_else(|| Arc::new(MemoryThrottle::new(settings.throttle)));
        App::from_parts(store, settings, clock, oauth2, throttle)
    }
}

impl App {
    /// An app over `store` with these settings and the wall clock.
    pub fn new(store: Arc<dyn CredentialStore>, settings: Settings) -> Self {
        App::builder(store, settings).build()
    }

    /// An app over `store` with these settings, and what [`AppBuilder`]
    /// is then told.
    pub fn builder(store: Arc<dyn CredentialStore>, settings: Settings) -> AppBuilder {
        AppBuilder {
            store,
            settings,
            clock: None,
            oauth2: None,
            throttle: None,
        }
    }

    fn from_parts(
        store: Arc<dyn CredentialStore>,
        settings: Settings,
        clock: Clock,
        oauth2: Oauth2Server,
        throttle: Arc<dyn Throttle>,
    ) -> Self {
        let mut oauth2 = oauth2;
        if oauth2.issuer().is_none() {
            oauth2.set_issuer(settings.issuer.clone());
        }
        let sessions = Sessions::new(
            Arc::clone(&store),
            SessionLimits {
                lifetime: settings.session_lifetime,
                idle: settings.session_idle,
                per_user: settings.sessions_per_user,
                in_all: settings.sessions_in_all,
            },
        );
        App {
            inner: Arc::new(Inner {
                store,
                provider: Provider::new(
                    Oauth1Provider::new(settings.oauth1.clone(), settings.temporary_lifetime)
                        .with_token_lifetime(settings.token_lifetime),
                    oauth2,
                ),
                sessions,
                passwords: Passwords::new(settings.password_checks),
                throttle,
                clock,
                settings,
            }),
        }
    }

    /// The credential store.
    pub fn store(&self) -> &(dyn CredentialStore + 'static) {
        self.inner.store.as_ref()
    }

    /// The protocol endpoints behind one dispatch: the OAuth 1 provider
    /// and the OAuth 2 / OpenID Connect server.
    pub fn provider(&self) -> &Provider {
        &self.inner.provider
    }

    /// The OAuth 1 provider.
    pub fn oauth1(&self) -> &Oauth1Provider {
        self.inner.provider.oauth1()
    }

    /// The OAuth 2 server.
    pub fn oauth2(&self) -> &Oauth2Server {
        self.inner.provider.oauth2()
    }

    /// The login sessions (kept in the store).
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The password checks.
    pub fn passwords(&self) -> &Passwords {
        &self.inner.passwords
    }

    /// The sign-in throttle.
    pub fn throttle(&self) -> &dyn Throttle {
        self.inner.throttle.as_ref()
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
    /// the client (whose fault it is not), or 503 while the store cannot
    /// be reached.
    pub fn store_failure(&self, error: &StoreError) -> Response {
        tracing::error!(%error, "the credential store failed");
        match error.status() {
            503 => pages::unavailable(),
            _ => pages::server_error(),
        }
    }
}
