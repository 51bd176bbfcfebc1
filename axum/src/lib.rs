//! credlog's whole provider in an axum service: every protocol endpoint
//! (OAuth 1's three, OAuth 2's authorize, token, revoke and introspect,
//! both metadata documents, the JWK Set, UserInfo, the device flow) as one
//! [`axum::Router`], and [`Authorized`], the extractor that hands a
//! protected handler the credential its request carried.
//!
//! The application keeps its own users, sign-in and pages: it tells credlog
//! who is signed in and shows the consent page through
//! [`credlog_core::provider::Host`], made for each request by a
//! [`MakeHost`].
//!
//! ```
//! # use std::net::IpAddr;
//! # use async_trait::async_trait;
//! # use credlog_core::consent::{CodeForm, Consent, Page, Prompt};
//! # use credlog_core::form::Fields;
//! # use credlog_core::rfc6749::{OwnerCheckError, ResourceOwners};
//! # use credlog_core::throttle::Throttle;
//! # use credlog_core::{Request, Response};
//! use std::sync::Arc;
//!
//! use axum::http::request::Parts;
//! use axum::routing::get;
//! use axum::{Extension, Json, Router};
//! use credlog_axum::{Authorized, Credlog, MakeHost, RequireScope};
//! use credlog_core::provider::{Host, Provider};
//! use credlog_core::rfc5849::{Oauth1Config, Oauth1Provider};
//! use credlog_core::rfc6749::Oauth2Server;
//! use credlog_core::throttle::{Limits, MemoryThrottle};
//! use credlog_storage_memory::MemoryStore;
//!
//! /// The application's side: its users and throttle, shared.
//! struct MyApp {
//!     throttle: MemoryThrottle,
//! }
//!
//! /// The host for one request: what the application knows of it.
//! struct Visit<'a> {
//!     app: &'a MyApp,
//!     address: Option<IpAddr>,
//! }
//! # #[async_trait]
//! # impl Consent for Visit<'_> {
//! #     type Owner = ();
//! #     async fn owner(&self, _: &Request) -> Option<()> { None }
//! #     fn user<'o>(&self, _: &'o ()) -> &'o str { "" }
//! #     fn sign_in(&self, to: &str) -> Response { Response::redirect(303, to) }
//! #     fn ask(&self, _: &(), _: &Prompt<'_>) -> Response { Response::redirect(303, "/") }
//! #     fn answer(&self, _: &(), _: &Fields) -> Result<bool, Response> { Ok(false) }
//! #     fn own_fields(&self) -> &[&str] { &[] }
//! #     fn genuine(&self, _: &(), _: &Fields) -> Result<(), Response> { Ok(()) }
//! #     fn enter_code(&self, _: &(), _: &CodeForm<'_>) -> Response { Response::redirect(303, "/") }
//! #     fn show(&self, _: &Page<'_>) -> Response { Response::redirect(303, "/") }
//! # }
//! # #[async_trait]
//! # impl ResourceOwners for Visit<'_> {
//! #     async fn authenticate(&self, _: &str, _: &str) -> Result<bool, OwnerCheckError> { Ok(false) }
//! # }
//! // ... `Consent` and `ResourceOwners` for `Visit`: the sign-in and
//! // consent pages, the password check (see `credlog_core::provider`).
//!
//! impl Host for Visit<'_> {
//!     fn throttle(&self) -> &dyn Throttle { &self.app.throttle }
//!     fn address(&self) -> Option<IpAddr> { self.address }
//! }
//!
//! impl MakeHost for MyApp {
//!     type Host<'a> = Visit<'a>;
//!     fn host<'a>(&'a self, _parts: &Parts, address: Option<IpAddr>) -> Visit<'a> {
//!         Visit { app: self, address }
//!     }
//! }
//!
//! /// A protected route: the credential, or the challenge the client needs.
//! async fn me(Authorized(credential): Authorized) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "user": credential.user(), "client_id": credential.client_id() }))
//! }
//!
//! let provider = Provider::new(
//!     Oauth1Provider::new(Oauth1Config::default(), 600),
//!     Oauth2Server::default(),
//! );
//! let credlog = Credlog::new(provider, Arc::new(MemoryStore::new()))
//!     .with_public_origin("https://auth.example.com");
//! let app = MyApp { throttle: MemoryThrottle::new(Limits::default()) };
//! let router: Router = credlog
//!     .router(app)
//!     .route(
//!         "/api/me",
//!         get(me).layer(Extension(RequireScope::new("profile"))),
//!     )
//!     .with_state(credlog.clone());
//! // axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
//! # let _ = router;
//! ```
//!
//! The provider's routes are at the issuer's root: merge them into the
//! application's router (`Router::merge`), or use the router as it is.
//! Nesting under a prefix is not supported: the endpoints' paths are the
//! issuer's, and an OAuth 1 signature covers the path the client reached.
//! Served with `into_make_service_with_connect_info::<SocketAddr>()`, the
//! host learns each client's address (what the throttle counts by).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod convert;
mod protect;
mod router;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use credlog_core::provider::Provider;
use credlog_core::store::CredentialStore;

pub use convert::Reply;
pub use protect::{Authorized, RequireScope};
pub use router::MakeHost;

/// The largest request body the provider reads by default, in bytes
/// (larger: 413).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The time in seconds since the Unix epoch, as the provider reads it.
type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The provider, its store and how requests reach it: what the router and
/// [`Authorized`] share. Cheap to clone.
#[derive(Clone)]
pub struct Credlog {
    provider: Arc<Provider>,
    store: Arc<dyn CredentialStore>,
    clock: Clock,
    public_origin: Option<Arc<str>>,
    body_limit: usize,
}

impl std::fmt::Debug for Credlog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credlog")
            .field("provider", &self.provider)
            .field("public_origin", &self.public_origin)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl Credlog {
    /// `provider` over `store`, on the system clock, with request URIs
    /// built from the `Host` header (see [`Credlog::with_public_origin`])
    /// and bodies of at most [`DEFAULT_BODY_LIMIT`].
    pub fn new(provider: Provider, store: Arc<dyn CredentialStore>) -> Self {
        Credlog {
            provider: Arc::new(provider),
            store,
            clock: Arc::new(system_now),
            public_origin: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The origin clients reach the server at (`https://auth.example.com`):
    /// what OAuth 1 signatures are checked against and, unless the OAuth 2
    /// server has an issuer set, the issuer, whatever the `Host` header
    /// says. Without one, the origin is `http://` and the `Host` header
    /// (development, or a server reached directly).
    pub fn with_public_origin(mut self, origin: &str) -> Self {
        self.public_origin = Some(origin.trim_end_matches('/').into());
        self
    }

    /// Reads the time (seconds since the Unix epoch) from `clock` instead
    /// of the system's: for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Refuses request bodies over `bytes` with 413.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The provider.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The credential store.
    pub fn store(&self) -> &dyn CredentialStore {
        self.store.as_ref()
    }

    /// The time now, in seconds since the Unix epoch, by this clock.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }
}

/// The system's time in seconds since the Unix epoch.
fn system_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
