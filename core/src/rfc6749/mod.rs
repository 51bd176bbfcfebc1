//! OAuth 2.0 (RFC 6749): the authorization server's rules, sans-IO.
//!
//! - [`params`]: request parameters and scopes (3.1, 3.3);
//! - [`client_auth`]: client authentication (2.3);
//! - [`client_throttle`]: client authentication throttled (CONTRACT.md);
//! - [`client_metadata`]: a client's registered grant and response types (RFC 7591 2);
//! - [`redirect`]: redirection URIs (3.1.2);
//! - [`authorization`]: the authorization endpoint (3.1, 4.1.1, 4.2.1);
//! - [`authorize`]: its two requests, with the host's [`crate::consent::Consent`];
//! - [`grants`]: the five grants and the [`Grant`] trait for more (RFC 8628's
//!   device grant is one, in [`crate::rfc8628`]);
//! - [`server`]: the token endpoint (3.2) and issuing (5.1);
//! - [`token_response`]: the token response (5.1, 4.2.2) and its [`TokenType`];
//! - [`config`]: what a deployment sets;
//! - [`errors`]: every refusal, as RFC 6749 5.2 reports it.

pub mod authorization;
pub mod authorize;
pub mod client_auth;
pub mod client_metadata;
pub mod client_throttle;
pub mod config;
pub mod errors;
pub mod grants;
pub mod params;
pub mod redirect;
pub mod server;
pub mod token_response;

pub use authorization::{AuthorizationError, AuthorizationRequest};
pub use client_auth::ClientAuthMethod;
pub use client_metadata::{GrantType, MetadataError, ResponseType};
pub use client_throttle::{Caller, Guarded};
pub use config::{GrantSettings, Oauth2Config, RandomTokens, TokenGenerator};
pub use errors::{HostError, Oauth2Error};
pub use grants::{Grant, Issue, IssueError, OwnerCheckError, ResourceOwners, TokenContext};
pub use params::{Params, Scope};
pub use redirect::ResponseMode;
pub use server::Oauth2Server;
pub use token_response::{TokenResponse, TokenType};
