//! The OAuth 1 client (RFC 5849, client side): a [`Registry`] of the
//! providers an app calls, the login dance (temporary credential,
//! authorization redirect, token credential), and signed API calls; the
//! counterpart of Authlib's Flask OAuth 1 client integration, built on
//! `credlog_core::rfc5849::Signer` and sent with reqwest.
//!
//! Signing a user in and calling the provider's API on their behalf:
//!
//! ```no_run
//! use credlog_client::{ClientError, ProviderConfig, Registry};
//!
//! # async fn run(session_id: &str, callback_query: &str) -> Result<(), ClientError> {
//! let registry = Registry::new();
//! // Everything not set here comes from CREDLOG_CLIENT_ID, CREDLOG_CLIENT_SECRET, ...
//! let credlog = registry.register("credlog", ProviderConfig {
//!     api_base_url: Some("http://127.0.0.1:8080/api/".into()),
//!     ..ProviderConfig::default()
//! })?;
//! // Send the user to this URL; the temporary credential waits for their session.
//! let url = credlog.authorize_redirect(session_id, "http://127.0.0.1:8000/callback").await?;
//! // ... the provider sends the user back to the callback with a query ...
//! let token = credlog.authorize_access_token(session_id, callback_query).await?;
//! let me = credlog.get("me", Some(&token)).await?;
//! println!("{}", me.text());
//! # let _ = url; Ok(()) }
//! ```
//!
//! A provider `NAME` reads every setting left unset in code from
//! `{NAME}_CLIENT_ID`, `{NAME}_CLIENT_SECRET`, `{NAME}_REQUEST_TOKEN_URL` ...
//! (see [`ProviderConfig::from_env`]).
//!
//! Temporary credentials wait in a [`TemporaryCache`] under a key bound to
//! the user's browser session, so that one user's temporary secret is never
//! handed to another. With the `warp` feature, `credlog_client::warp` has
//! the filters a warp app needs for that session and the redirects.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
pub mod config;
pub mod error;
pub mod provider;
#[cfg(feature = "warp")]
pub mod warp;

pub use cache::{MemoryCache, TemporaryCache};
pub use config::{ClientOptions, Method, ProviderConfig};
pub use error::ClientError;
pub use provider::{ApiResponse, FetchToken, Provider, Registry};
