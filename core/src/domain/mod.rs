//! The domain types both the store and the protocol modules use: scopes,
//! and what a client registers (grant types, response types, its
//! authentication method). They sit below both (DESIGN.md, "The core
//! decides"): this module imports no protocol module and no store, so
//! the store's records never reach up into an RFC module.
//!
//! Each is also found where its RFC's module has always offered it
//! (`rfc6749::Scope`, `rfc6749::GrantType`, `rfc6749::ClientAuthMethod`).

pub mod client_metadata;
pub mod client_options;
pub mod scope;

pub use client_metadata::{parse_all, ClientAuthMethod, GrantType, MetadataError, ResponseType};
pub use client_options::{AccessTokenFormat, ClientOptions, OptionError, Profile, SIGNING_ALGS};
pub use scope::{Scope, ScopeError, MAX_SCOPE_TOKENS, MAX_SCOPE_TOKEN_CHARS};
