//! `credlog serve --config FILE` (CONTRACT.md "Deployment"): every setting
//! that has a flag of `serve`, plus the protocol settings, as one TOML
//! document. [`Config`] is that document; [`load`] reads it from its
//! layers (flags over `CREDLOG_*` environment variables over the file over
//! the defaults); [`Config::settings`] and [`Config::limits`] hand its
//! values to the app and the server.
//!
//! Durations are whole seconds, in keys named `..._seconds`. The repo's
//! `credlog.example.toml` documents every key with its default.
//!
//! ```
//! use credlog_http::config::Config;
//!
//! let config: Config = toml::from_str("[oauth1]\ntimestamp_window_seconds = 60\n").unwrap();
//! assert_eq!(config.settings().oauth1.timestamp_window, 60);
//! assert_eq!(config.addr, Config::default().addr);
//! ```

mod load;

pub use load::{env_names, load, ConfigError, Flags};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use credlog_core::domain::{AccessTokenFormat, Profile};
use credlog_core::rfc5849::signature::{HmacSha1, HmacSha256, Plaintext, RsaSha1};
use credlog_core::rfc5849::SignatureMethods;
use credlog_core::rfc6749::{ClientAuthMethod, GrantSettings, Oauth2Config, Oauth2Server, Scope};
use credlog_core::throttle;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::app::{PublicUrl, Settings};
use crate::client_addr::{ProxyNet, TrustedProxies};
use crate::limits::Limits;

/// Everything `credlog serve` runs with. Missing keys take their defaults;
/// an unknown key is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `--addr`: the address to listen on; port 0 picks a free one.
    pub addr: SocketAddr,
    /// `--data`: the data directory (embedded sled).
    pub data: PathBuf,
    /// `--memory`: keep nothing on disk (`data` is then unused).
    pub memory: bool,
    /// `--postgres`: the PostgreSQL database (a URL) the store is kept in,
    /// in place of `data`; any number of servers may share one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<String>,
    /// `--demo`: create the demo user and clients, and print them.
    pub demo: bool,
    /// `--public-url`: the URL clients use when a proxy in front ends TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<PublicUrl>,
    /// `--tls-cert`: speak HTTPS with this certificate chain (PEM); needs `tls_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`: the certificate's private key (PEM); needs `tls_cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// `--admin-addr`: the operators' listener (`/healthz`, `/metrics`,
    /// `/admin/log`), an ip:port or a bare port for `127.0.0.1:PORT`
    /// ([`parse_admin_addr`]). Absent: a server on a data directory still
    /// answers `/admin/log` on loopback at a free port, for `credlog log`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_admin_addr"
    )]
    pub admin_addr: Option<SocketAddr>,
    /// `--log-format`: how the logs on stderr are written.
    pub log_format: LogFormat,
    /// How many argon2 checks run at once (absent: the number of cores).
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_count"
    )]
    pub password_checks: Option<usize>,
    /// OAuth 1 validation and the lifetimes of its credentials.
    pub oauth1: Oauth1Section,
    /// The OAuth 2 server.
    pub oauth2: Oauth2Section,
    /// Login sessions.
    pub sessions: SessionsSection,
    /// Sign-in throttling.
    pub throttle: ThrottleSection,
    /// What one connection may send and take.
    pub connections: ConnectionsSection,
    /// The data directory's log.
    pub store: StoreSection,
    /// `[scopes]`: what each scope lets an application do, by scope name,
    /// in words the consent pages show beside it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scopes: BTreeMap<String, String>,
}

/// `[oauth1]`: RFC 5849 validation and credential lifetimes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Oauth1Section {
    /// How far `oauth_timestamp` may be from the server's clock, either
    /// way (RFC 5849 3.3); used nonces are kept as long.
    #[serde(deserialize_with = "seconds")]
    pub timestamp_window_seconds: u64,
    /// The signature methods accepted (PLAINTEXT only over TLS all the same).
    pub signature_methods: Vec<SignatureMethodName>,
    /// How long a temporary credential may wait for its grant and exchange.
    #[serde(deserialize_with = "seconds")]
    pub temporary_lifetime_seconds: u64,
    /// How long a token credential works after its exchange (absent: until revoked).
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_seconds"
    )]
    pub token_lifetime_seconds: Option<u64>,
    /// The realm named in `WWW-Authenticate` challenges.
    pub realm: String,
}

/// `[oauth2]`: RFC 6749 and its extensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Oauth2Section {
    /// How long an authorization code lives (at most 600: RFC 6749 4.1.2).
    #[serde(deserialize_with = "seconds")]
    pub code_lifetime_seconds: u64,
    /// How long an access token lives unless its grant says otherwise.
    #[serde(deserialize_with = "seconds")]
    pub access_token_lifetime_seconds: u64,
    /// How long a refresh token lives (absent: until used or revoked).
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_seconds"
    )]
    pub refresh_token_lifetime_seconds: Option<u64>,
    /// How long an OpenID Connect ID token is valid.
    #[serde(deserialize_with = "seconds")]
    pub id_token_lifetime_seconds: u64,
    /// How long a device code and its user code live (RFC 8628 3.2 `expires_in`).
    #[serde(deserialize_with = "seconds")]
    pub device_code_lifetime_seconds: u64,
    /// The least time between a device's polls (RFC 8628 3.2 `interval`).
    #[serde(deserialize_with = "seconds")]
    pub device_poll_interval_seconds: u64,
    /// Whether PKCE's `plain` method is accepted (RFC 7636 4.2; `S256` always is).
    pub allow_plain_pkce: bool,
    /// The scopes this server grants at all, space-separated (absent:
    /// whatever clients registered).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "scope",
        deserialize_with = "some_scope"
    )]
    pub allowed_scopes: Option<Scope>,
    /// Client authentication at the revocation endpoint (RFC 7009 2.1).
    pub revocation_auth_methods: Vec<ClientAuthMethod>,
    /// Client authentication at the introspection endpoint (RFC 7662 2.1).
    pub introspection_auth_methods: Vec<ClientAuthMethod>,
    /// The realm of `WWW-Authenticate` challenges.
    pub realm: String,
    /// How access tokens are issued unless a client registered its own
    /// choice: `"opaque"` (random values) or `"jwt"` (RFC 9068, signed by
    /// the OpenID Provider's key, checkable with the JWK Set).
    pub access_token_format: AccessTokenFormat,
    /// `"fapi2"`: every client follows the FAPI 2.0 Security Profile (PAR,
    /// code flow with S256 only, DPoP-bound tokens, `private_key_jwt` with
    /// PS256 or ES256, codes of 60 s). Absent: each client chooses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// RFC 9126 6: every client must push its authorization requests.
    pub require_pushed_authorization_requests: bool,
    /// How long a pushed request's `request_uri` works (RFC 9126 2.2).
    #[serde(deserialize_with = "seconds")]
    pub pushed_request_lifetime_seconds: u64,
    /// How far a DPoP proof's `iat` may be from now, either way (RFC 9449 11.1).
    #[serde(deserialize_with = "seconds")]
    pub dpop_proof_window_seconds: u64,
    /// RFC 9449 8, 9: DPoP proofs must carry a nonce the server gave
    /// (`DPoP-Nonce`).
    pub dpop_nonces: bool,
    /// Per grant type (`[oauth2.grants.password]` ...): what differs from the defaults.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub grants: BTreeMap<GrantTypeName, GrantSection>,
    /// `error_uri` added to error responses, by error code (`[oauth2.error_uris]`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub error_uris: BTreeMap<String, ErrorUri>,
}

/// `[oauth2.grants.<grant_type>]`: one grant's own settings; absent keys
/// keep the server's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrantSection {
    /// How long an access token from this grant lives.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_seconds"
    )]
    pub access_token_lifetime_seconds: Option<u64>,
    /// Whether this grant issues refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_refresh_token: Option<bool>,
    /// The client authentication methods accepted (only narrows the grant's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_methods: Option<Vec<ClientAuthMethod>>,
}

/// `[sessions]`: logins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsSection {
    /// How long a login lasts in all.
    #[serde(deserialize_with = "seconds")]
    pub lifetime_seconds: u64,
    /// How long a login may go unused before it ends.
    #[serde(deserialize_with = "seconds")]
    pub idle_seconds: u64,
    /// The most logins one user holds at once; signing in again ends the oldest.
    #[serde(deserialize_with = "count")]
    pub per_user: usize,
    /// The most logins held in all; past it the oldest ends.
    #[serde(deserialize_with = "count")]
    pub in_all: usize,
}

/// `[store]`: how long the data directory's log keeps what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSection {
    /// How long a signed request's `Verified` record stays in the live
    /// log, behind the newest record (absent: for ever). At least two
    /// OAuth 1 timestamp windows.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_seconds"
    )]
    pub retain_verified_seconds: Option<u64>,
    /// Whether the records past `retain_verified_seconds` are kept in
    /// archive segments (`credlog log --archive` reads them) or dropped.
    pub archive_verified: bool,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            retain_verified_seconds: None,
            archive_verified: true,
        }
    }
}

/// `[throttle]`: how much guessing sign-in, user codes and client
/// authentication allow, and how often devices may ask for codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSection {
    /// Wrong passwords in a row for one user name before it is locked.
    #[serde(deserialize_with = "count")]
    pub user_failures: u32,
    /// How long a locked user name waits.
    #[serde(deserialize_with = "seconds")]
    pub user_lockout_seconds: u64,
    /// Failed sign-ins from one address in a window before it is locked.
    #[serde(deserialize_with = "count")]
    pub address_failures: u32,
    /// The window of every per-address and per-client count.
    #[serde(deserialize_with = "seconds")]
    pub address_window_seconds: u64,
    /// Failed client authentications in a row for one client before it is locked.
    #[serde(deserialize_with = "count")]
    pub client_failures: u32,
    /// How long a locked client waits.
    #[serde(deserialize_with = "seconds")]
    pub client_lockout_seconds: u64,
    /// Failed client authentications from one address in a window before it is locked.
    #[serde(deserialize_with = "count")]
    pub client_address_failures: u32,
    /// Device authorization requests per client and per address in a window.
    #[serde(deserialize_with = "count")]
    pub device_requests: u32,
}

/// `[connections]`: what one connection may send and take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionsSection {
    /// A whole request head must arrive within this.
    #[serde(deserialize_with = "seconds")]
    pub head_timeout_seconds: u64,
    /// A whole request body must arrive within this of its head (else 408).
    #[serde(deserialize_with = "seconds")]
    pub body_timeout_seconds: u64,
    /// The largest request head (else 431).
    #[serde(deserialize_with = "count")]
    pub max_head_bytes: usize,
    /// The largest request body read (else 413).
    #[serde(deserialize_with = "count")]
    pub max_body_bytes: u64,
    /// The most connections served at once.
    #[serde(deserialize_with = "count")]
    pub max_connections: usize,
    /// After SIGTERM, how long requests in flight may take to finish.
    #[serde(deserialize_with = "seconds")]
    pub shutdown_grace_seconds: u64,
    /// The proxies (CIDR blocks or addresses) whose `X-Forwarded-For`
    /// names the client's address ([`crate::client_addr`]); none by default.
    pub trusted_proxies: Vec<ProxyNet>,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_defaults(&Settings::default(), &Limits::default())
    }
}

impl Default for Oauth1Section {
    fn default() -> Self {
        Config::default().oauth1
    }
}

impl Default for Oauth2Section {
    fn default() -> Self {
        Config::default().oauth2
    }
}

impl Default for SessionsSection {
    fn default() -> Self {
        Config::default().sessions
    }
}

impl Default for ThrottleSection {
    fn default() -> Self {
        Config::default().throttle
    }
}

impl Default for ConnectionsSection {
    fn default() -> Self {
        Config::default().connections
    }
}

impl Config {
    /// The defaults are the app's and the server's own (one value for one
    /// fact); only `addr` and `data` are the binary's.
    fn from_defaults(settings: &Settings, limits: &Limits) -> Config {
        let oauth2 = &settings.oauth2;
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./credlog-data"),
            memory: false,
            postgres: None,
            demo: false,
            public_url: None,
            tls_cert: None,
            tls_key: None,
            admin_addr: None,
            log_format: LogFormat::Text,
            password_checks: None,
            oauth1: Oauth1Section {
                timestamp_window_seconds: settings.oauth1.timestamp_window,
                signature_methods: settings
                    .oauth1
                    .signature_methods
                    .names()
                    .filter_map(SignatureMethodName::from_name)
                    .collect(),
                temporary_lifetime_seconds: settings.temporary_lifetime,
                token_lifetime_seconds: settings.token_lifetime,
                realm: settings.oauth1.realm.clone(),
            },
            oauth2: Oauth2Section {
                code_lifetime_seconds: oauth2.code_lifetime,
                access_token_lifetime_seconds: oauth2.access_token_lifetime,
                refresh_token_lifetime_seconds: oauth2.refresh_token_lifetime,
                id_token_lifetime_seconds: oauth2.id_token_lifetime,
                device_code_lifetime_seconds: oauth2.device_code_lifetime,
                device_poll_interval_seconds: oauth2.device_poll_interval,
                allow_plain_pkce: oauth2.allow_plain_pkce,
                allowed_scopes: oauth2.allowed_scopes.clone(),
                revocation_auth_methods: oauth2.revocation_auth_methods.clone(),
                introspection_auth_methods: oauth2.introspection_auth_methods.clone(),
                realm: oauth2.realm.clone(),
                access_token_format: oauth2.access_token_format,
                profile: oauth2.profile,
                require_pushed_authorization_requests: oauth2.require_pushed_authorization_requests,
                pushed_request_lifetime_seconds: oauth2.pushed_request_lifetime,
                dpop_proof_window_seconds: oauth2.dpop_proof_window,
                dpop_nonces: oauth2.dpop_nonces,
                grants: BTreeMap::new(),
                error_uris: BTreeMap::new(),
            },
            sessions: SessionsSection {
                lifetime_seconds: settings.session_lifetime,
                idle_seconds: settings.session_idle,
                per_user: settings.sessions_per_user,
                in_all: settings.sessions_in_all,
            },
            throttle: ThrottleSection {
                user_failures: settings.throttle.user_failures,
                user_lockout_seconds: settings.throttle.user_lockout,
                address_failures: settings.throttle.address_failures,
                address_window_seconds: settings.throttle.address_window,
                client_failures: settings.throttle.client_failures,
                client_lockout_seconds: settings.throttle.client_lockout,
                client_address_failures: settings.throttle.client_address_failures,
                device_requests: settings.throttle.device_requests,
            },
            connections: ConnectionsSection {
                head_timeout_seconds: limits.head_timeout.as_secs(),
                body_timeout_seconds: limits.body_timeout.as_secs(),
                max_head_bytes: limits.max_head_bytes,
                max_body_bytes: settings.body_limit,
                max_connections: limits.max_connections,
                shutdown_grace_seconds: limits.shutdown_grace.as_secs(),
                trusted_proxies: limits.trusted_proxies.nets().map(ProxyNet).collect(),
            },
            store: StoreSection::default(),
            scopes: settings.scope_descriptions.clone(),
        }
    }

    /// The retention the data directory's store runs with, if any.
    pub fn retention(&self) -> Option<credlog_core::store::Retention> {
        self.store
            .retain_verified_seconds
            .map(|seconds| credlog_core::store::Retention {
                seconds,
                archive: self.store.archive_verified,
            })
    }

    /// The app's settings (before [`Settings::reached_at`] sets the issuer
    /// and PLAINTEXT's TLS rule from the listener and `public_url`).
    pub fn settings(&self) -> Settings {
        let defaults = Settings::default();
        let mut oauth1 = defaults.oauth1.clone();
        oauth1.timestamp_window = self.oauth1.timestamp_window_seconds;
        oauth1.signature_methods = self
            .oauth1
            .signature_methods
            .iter()
            .fold(SignatureMethods::none(), |methods, name| {
                name.add_to(methods)
            });
        oauth1.realm = self.oauth1.realm.clone();
        let section = &self.oauth2;
        let oauth2 = Oauth2Config {
            realm: section.realm.clone(),
            code_lifetime: section.code_lifetime_seconds,
            access_token_lifetime: section.access_token_lifetime_seconds,
            refresh_token_lifetime: section.refresh_token_lifetime_seconds,
            id_token_lifetime: section.id_token_lifetime_seconds,
            device_code_lifetime: section.device_code_lifetime_seconds,
            device_poll_interval: section.device_poll_interval_seconds,
            grants: section
                .grants
                .iter()
                .map(|(name, grant)| {
                    let settings = GrantSettings {
                        access_token_lifetime: grant.access_token_lifetime_seconds,
                        issue_refresh_token: grant.issue_refresh_token,
                        auth_methods: grant.auth_methods.clone(),
                    };
                    (name.0.clone(), settings)
                })
                .collect(),
            error_uris: section
                .error_uris
                .iter()
                .map(|(code, uri)| (code.clone(), uri.0.clone()))
                .collect(),
            allowed_scopes: section.allowed_scopes.clone(),
            allow_plain_pkce: section.allow_plain_pkce,
            revocation_auth_methods: section.revocation_auth_methods.clone(),
            introspection_auth_methods: section.introspection_auth_methods.clone(),
            access_token_format: section.access_token_format,
            profile: section.profile,
            require_pushed_authorization_requests: section.require_pushed_authorization_requests,
            pushed_request_lifetime: section.pushed_request_lifetime_seconds,
            dpop_proof_window: section.dpop_proof_window_seconds,
            dpop_nonces: section.dpop_nonces,
            ..defaults.oauth2.clone()
        };
        Settings {
            oauth1,
            temporary_lifetime: self.oauth1.temporary_lifetime_seconds,
            token_lifetime: self.oauth1.token_lifetime_seconds,
            session_lifetime: self.sessions.lifetime_seconds,
            body_limit: self.connections.max_body_bytes,
            oauth2,
            public_url: self.public_url.clone(),
            throttle: throttle::Limits {
                user_failures: self.throttle.user_failures,
                user_lockout: self.throttle.user_lockout_seconds,
                address_failures: self.throttle.address_failures,
                address_window: self.throttle.address_window_seconds,
                client_failures: self.throttle.client_failures,
                client_lockout: self.throttle.client_lockout_seconds,
                client_address_failures: self.throttle.client_address_failures,
                device_requests: self.throttle.device_requests,
            },
            password_checks: self.password_checks.unwrap_or(defaults.password_checks),
            session_idle: self.sessions.idle_seconds,
            sessions_per_user: self.sessions.per_user,
            sessions_in_all: self.sessions.in_all,
            scope_descriptions: self.scopes.clone(),
            ..defaults
        }
    }

    /// The connection limits the server runs under.
    pub fn limits(&self) -> Limits {
        let section = &self.connections;
        Limits {
            head_timeout: Duration::from_secs(section.head_timeout_seconds),
            body_timeout: Duration::from_secs(section.body_timeout_seconds),
            max_head_bytes: section.max_head_bytes,
            max_connections: section.max_connections,
            shutdown_grace: Duration::from_secs(section.shutdown_grace_seconds),
            trusted_proxies: TrustedProxies::new(section.trusted_proxies.iter().map(|net| net.0)),
        }
    }

    /// The rules a type cannot hold: the key and what it must be.
    fn check(&self) -> Result<(), (&'static str, String)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => return Err(("tls_key", "tls_cert needs tls_key too".to_owned())),
            (None, Some(_)) => return Err(("tls_cert", "tls_key needs tls_cert too".to_owned())),
            _ => {}
        }
        let positive = [
            (
                "oauth1.timestamp_window_seconds",
                self.oauth1.timestamp_window_seconds,
            ),
            (
                "oauth1.temporary_lifetime_seconds",
                self.oauth1.temporary_lifetime_seconds,
            ),
            (
                "oauth1.token_lifetime_seconds",
                self.oauth1.token_lifetime_seconds.unwrap_or(1),
            ),
            (
                "oauth2.code_lifetime_seconds",
                self.oauth2.code_lifetime_seconds,
            ),
            (
                "oauth2.access_token_lifetime_seconds",
                self.oauth2.access_token_lifetime_seconds,
            ),
            (
                "oauth2.id_token_lifetime_seconds",
                self.oauth2.id_token_lifetime_seconds,
            ),
            (
                "oauth2.device_code_lifetime_seconds",
                self.oauth2.device_code_lifetime_seconds,
            ),
            (
                "oauth2.device_poll_interval_seconds",
                self.oauth2.device_poll_interval_seconds,
            ),
            ("sessions.lifetime_seconds", self.sessions.lifetime_seconds),
            ("sessions.idle_seconds", self.sessions.idle_seconds),
            ("sessions.per_user", self.sessions.per_user as u64),
            ("sessions.in_all", self.sessions.in_all as u64),
            (
                "throttle.user_failures",
                u64::from(self.throttle.user_failures),
            ),
            (
                "throttle.address_failures",
                u64::from(self.throttle.address_failures),
            ),
            (
                "throttle.address_window_seconds",
                self.throttle.address_window_seconds,
            ),
            (
                "throttle.client_failures",
                u64::from(self.throttle.client_failures),
            ),
            (
                "throttle.client_address_failures",
                u64::from(self.throttle.client_address_failures),
            ),
            (
                "throttle.device_requests",
                u64::from(self.throttle.device_requests),
            ),
            (
                "connections.head_timeout_seconds",
                self.connections.head_timeout_seconds,
            ),
            (
                "connections.body_timeout_seconds",
                self.connections.body_timeout_seconds,
            ),
            (
                "connections.max_head_bytes",
                self.connections.max_head_bytes as u64,
            ),
            (
                "connections.max_connections",
                self.connections.max_connections as u64,
            ),
            (
                "password_checks",
                self.password_checks.map_or(1, |checks| checks as u64),
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err((key, "expected at least 1, found 0".to_owned()));
        }
        for (scope, description) in &self.scopes {
            let one_token = Scope::parse(scope).is_ok_and(|parsed| parsed.tokens().count() == 1);
            if !one_token {
                return Err((
                    "scopes",
                    format!(
                        "expected scope names (RFC 6749 3.3 scope tokens) as keys, found {scope:?}"
                    ),
                ));
            }
            if description.trim().is_empty() {
                return Err(("scopes", format!("the description of {scope:?} is empty")));
            }
        }
        let two_windows = credlog_core::store::projections::shortest_retention(
            self.oauth1.timestamp_window_seconds,
        );
        if let Some(retain) = self.store.retain_verified_seconds {
            if retain < two_windows {
                return Err((
                    "store.retain_verified_seconds",
                    format!(
                        "expected at least {two_windows} (two oauth1.timestamp_window_seconds: used nonces must stay checkable), found {retain}"
                    ),
                ));
            }
        }
        if self.oauth2.code_lifetime_seconds > 600 {
            return Err((
                "oauth2.code_lifetime_seconds",
                format!(
                    "expected at most 600 (RFC 6749 4.1.2), found {}",
                    self.oauth2.code_lifetime_seconds
                ),
            ));
        }
        Ok(())
    }
}

/// `--admin-addr` and `admin_addr`: `ip:port`, or a bare port meaning
/// `127.0.0.1:PORT` (an operators' listener is loopback unless asked).
pub fn parse_admin_addr(given: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = given.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    given
        .parse()
        .map_err(|_| format!("{given:?} is neither an ip:port nor a port"))
}

/// How `credlog serve` writes its logs (on stderr; stdout holds only the
/// lines CONTRACT.md names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For a person at a terminal: one line an event, fields as `key=value`.
    #[default]
    Text,
    /// For a log collector: one JSON object a line, the event's fields at
    /// its top level beside `timestamp`, `level`, `target` and `message`.
    Json,
}

/// A built-in OAuth 1 signature method, by its RFC 5849 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethodName {
    /// `HMAC-SHA1` (RFC 5849 3.4.2).
    HmacSha1,
    /// `HMAC-SHA256` (the same over SHA-256).
    HmacSha256,
    /// `RSA-SHA1` (RFC 5849 3.4.3).
    RsaSha1,
    /// `PLAINTEXT` (RFC 5849 3.4.4).
    Plaintext,
}

impl SignatureMethodName {
    const ALL: [(SignatureMethodName, &'static str); 4] = [
        (SignatureMethodName::HmacSha1, "HMAC-SHA1"),
        (SignatureMethodName::HmacSha256, "HMAC-SHA256"),
        (SignatureMethodName::RsaSha1, "RSA-SHA1"),
        (SignatureMethodName::Plaintext, "PLAINTEXT"),
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|(_, known)| *known == name)
            .map(|(method, _)| method)
    }

    /// Its RFC 5849 name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .into_iter()
            .find(|(method, _)| *method == self)
            .map_or("", |(_, name)| name)
    }

    fn add_to(self, methods: SignatureMethods) -> SignatureMethods {
        match self {
            SignatureMethodName::HmacSha1 => methods.with(HmacSha1),
            SignatureMethodName::HmacSha256 => methods.with(HmacSha256),
            SignatureMethodName::RsaSha1 => methods.with(RsaSha1),
            SignatureMethodName::Plaintext => methods.with(Plaintext),
        }
    }
}

impl Serialize for SignatureMethodName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SignatureMethodName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        SignatureMethodName::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected HMAC-SHA1, HMAC-SHA256, RSA-SHA1 or PLAINTEXT, found {name:?}"
            ))
        })
    }
}

/// The grant type of a grant `credlog serve` runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GrantTypeName(pub String);

impl<'de> Deserialize<'de> for GrantTypeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let server = Oauth2Server::default();
        if server.has_grant(&name) {
            return Ok(GrantTypeName(name));
        }
        let known: Vec<&str> = server.grants().map(|grant| grant.grant_type()).collect();
        Err(serde::de::Error::custom(format!(
            "expected a grant type ({}), found {name:?}",
            known.join(", ")
        )))
    }
}

/// An absolute URI for `error_uri` (RFC 6749 5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorUri(pub String);

impl<'de> Deserialize<'de> for ErrorUri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let uri = String::deserialize(deserializer)?;
        if credlog_core::request::is_absolute_uri(&uri) {
            Ok(ErrorUri(uri))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected an absolute URI, found {uri:?}"
            )))
        }
    }
}

/// A whole number of seconds.
fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    whole(deserializer, "a whole number of seconds")
}

fn some_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    seconds(deserializer).map(Some)
}

/// A whole number (a count or a size).
fn count<'de, D: Deserializer<'de>, N: TryFrom<u64>>(deserializer: D) -> Result<N, D::Error> {
    let value = whole(deserializer, "a whole number")?;
    N::try_from(value)
        .map_err(|_| serde::de::Error::custom(format!("expected a smaller number, found {value}")))
}

fn some_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    count(deserializer).map(Some)
}

fn whole<'de, D: Deserializer<'de>>(deserializer: D, what: &'static str) -> Result<u64, D::Error> {
    struct Whole(&'static str);
    impl serde::de::Visitor<'_> for Whole {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<u64, E> {
            Ok(value)
        }
        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<u64, E> {
            u64::try_from(value)
                .map_err(|_| E::custom(format!("expected {}, found {value}", self.0)))
        }
    }
    deserializer.deserialize_u64(Whole(what))
}

/// `admin_addr` as text ([`parse_admin_addr`]), or as a bare TOML integer port.
fn some_admin_addr<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    struct AdminAddr;
    impl serde::de::Visitor<'_> for AdminAddr {
        type Value = SocketAddr;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an ip:port or a port")
        }
        fn visit_str<E: serde::de::Error>(self, given: &str) -> Result<SocketAddr, E> {
            parse_admin_addr(given).map_err(E::custom)
        }
        fn visit_i64<E: serde::de::Error>(self, port: i64) -> Result<SocketAddr, E> {
            self.visit_str(&port.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, port: u64) -> Result<SocketAddr, E> {
            self.visit_str(&port.to_string())
        }
    }
    deserializer.deserialize_any(AdminAddr).map(Some)
}

fn scope<S: Serializer>(scope: &Option<Scope>, serializer: S) -> Result<S::Ok, S::Error> {
    match scope {
        Some(scope) => scope.serialize(serializer),
        None => serializer.serialize_none(),
    }
}

/// A scope string, validated (RFC 6749 3.3).
fn some_scope<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Scope>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Scope::parse(&text).map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "expected scope tokens separated by single spaces, found {text:?}"
        ))
    })
}

#[cfg(test)]
mod tests;
