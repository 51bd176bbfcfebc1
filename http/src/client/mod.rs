//! The OAuth 1 client (RFC 5849, client side): a [`Registry`] of the
//! providers an app calls, the login dance (temporary credential,
//! authorization redirect, token credential), and signed API calls; the
//! counterpart of Authlib's Flask OAuth 1 client integration, built on
//! `credlog_core::rfc5849::Signer` and sent with reqwest.
//!
//! Temporary credentials wait in a [`TemporaryCache`] under a key bound to
//! the user's browser session, so that one user's temporary secret is never
//! handed to another; [`warp`](self::warp) has the filters an app needs
//! for that session and the redirects.

pub mod cache;
pub mod config;
pub mod error;
pub mod provider;
pub mod warp;

pub use cache::{MemoryCache, TemporaryCache};
pub use config::{ClientOptions, Method, ProviderConfig};
pub use error::ClientError;
pub use provider::{ApiResponse, FetchToken, Provider, Registry};
