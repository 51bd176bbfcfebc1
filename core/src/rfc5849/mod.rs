//! OAuth 1.0 (RFC 5849): parameters, signatures, request validation, the
//! provider's endpoints ([`provider`]) and the client signer. Each file holds one part of the spec and cites it.

pub mod base_string;
pub mod client;
pub mod encoding;
pub mod errors;
pub mod parameters;
pub mod provider;
pub mod request;
pub mod server;
pub mod signature;
pub mod store_source;

pub use base_string::{base_string_uri, normalized_parameters, signature_base_string, UriError};
pub use client::{ClientCredentials, Signer, SigningError, TokenCredentials, Transmission};
pub use errors::Oauth1Error;
pub use parameters::{parse_authorization_header, ParameterError, RequestParameters, Source};
pub use provider::{
    Accepted, AuthorizeError, Decided, Oauth1Provider, PendingAuthorization, TokenCredentialUse,
};
pub use request::SignedRequest;
pub use server::{
    Client, CredentialSource, Endpoint, NonceUse, Oauth1Config, Oauth1Server, TokenKind,
    VerifiedRequest, DEFAULT_TIMESTAMP_WINDOW,
};
pub use signature::{
    HmacSha1, HmacSha256, Plaintext, RsaSha1, SignatureMethod, SignatureMethods, SigningKey,
    VerifyingKey,
};
pub use store_source::{RsaKeyCache, StoreSource};
