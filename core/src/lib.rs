//! credlog's protocol engines, sans-IO: no socket, no storage engine, no
//! runtime. An adapter turns an HTTP request into a [`Request`], calls an
//! engine, and writes the engine's [`Response`] back out.
//!
//! Signing a request as a client and validating it as the server:
//!
//! ```
//! use credlog_core::Request;
//! use credlog_core::rfc5849::{ClientCredentials, Endpoint, Oauth1Server, SignedRequest, Signer};
//!
//! let client = ClientCredentials::new("dpf43f3p2l4k3l03", "kd94hf93k423kf44");
//! let request = Signer::new(client)
//!     .sign_at(
//!         Request::new("POST", "https://photos.example.net/initiate"),
//!         &[("oauth_callback", "http://printer.example.com/ready")],
//!         137131200,
//!         "wIjqoS",
//!     )
//!     .unwrap();
//!
//! let signed = SignedRequest::parse(&request).unwrap();
//! assert_eq!(signed.signature(), Some("74KNZJeDHnMBp0EMJ9ZHt/XKycU="));
//!
//! // The checks that need no storage; `Oauth1Server::verify` adds the
//! // client, token and nonce look-ups through a `CredentialSource`.
//! let server = Oauth1Server::default();
//! let (_, verified) = server.check_parameters(&signed, Endpoint::Initiate, 137131230).unwrap();
//! assert_eq!(verified.callback.as_deref(), Some("http://printer.example.com/ready"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod consent;
pub mod domain;
pub mod form;
pub mod jose;
pub mod manage;
pub mod oidc;
pub mod provider;
pub mod random;
pub mod request;
pub mod resource;
pub mod response;
pub mod rfc5849;
pub mod rfc6749;
pub mod rfc6750;
pub mod rfc7009;
pub mod rfc7523;
pub mod rfc7591;
pub mod rfc7636;
pub mod rfc7662;
pub mod rfc8414;
pub mod rfc8628;
pub mod rfc8707;
pub mod rfc9068;
pub mod rfc9126;
pub mod rfc9449;
pub mod store;
pub mod throttle;

pub use provider::{Host, Provider};
pub use request::Request;
pub use response::Response;
