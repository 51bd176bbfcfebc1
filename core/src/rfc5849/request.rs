//! A request seen through OAuth 1: its parameters from all three places and
//! its protocol parameters (RFC 5849 3.1) picked out by name.

use super::base_string::{signature_base_string, UriError};
use super::parameters::{ParameterError, RequestParameters};
use crate::request::Request;

/// A request with its OAuth parameters collected (RFC 5849 3.4.1.3.1).
#[derive(Debug, Clone)]
pub struct SignedRequest<'r> {
    request: &'r Request,
    parameters: RequestParameters<'r>,
}

impl<'r> SignedRequest<'r> {
    /// Collects the parameters of a request; fails on a malformed header,
    /// query or form body, or a protocol parameter given twice.
    pub fn parse(request: &'r Request) -> Result<Self, ParameterError> {
        Ok(SignedRequest {
            request,
            parameters: RequestParameters::collect(request)?,
        })
    }

    /// The request this view reads.
    pub fn request(&self) -> &Request {
        self.request
    }

    /// Every parameter, from header, body and query.
    pub fn parameters(&self) -> &RequestParameters<'r> {
        &self.parameters
    }

    /// The value of a protocol parameter such as `oauth_nonce`.
    pub fn protocol(&self, name: &str) -> Option<&str> {
        self.parameters.protocol(name)
    }

    /// `oauth_consumer_key`.
    pub fn consumer_key(&self) -> Option<&str> {
        self.protocol("oauth_consumer_key")
    }

    /// `oauth_token`.
    pub fn token(&self) -> Option<&str> {
        self.protocol("oauth_token")
    }

    /// `oauth_signature_method`.
    pub fn signature_method(&self) -> Option<&str> {
        self.protocol("oauth_signature_method")
    }

    /// `oauth_signature`, decoded.
    pub fn signature(&self) -> Option<&str> {
        self.protocol("oauth_signature")
    }

    /// `oauth_timestamp`, as sent.
    pub fn timestamp(&self) -> Option<&str> {
        self.protocol("oauth_timestamp")
    }

    /// `oauth_nonce`.
    pub fn nonce(&self) -> Option<&str> {
        self.protocol("oauth_nonce")
    }

    /// `oauth_callback`.
    pub fn callback(&self) -> Option<&str> {
        self.protocol("oauth_callback")
    }

    /// `oauth_verifier`.
    pub fn verifier(&self) -> Option<&str> {
        self.protocol("oauth_verifier")
    }

    /// `oauth_version`.
    pub fn version(&self) -> Option<&str> {
        self.protocol("oauth_version")
    }

    /// The header's `realm`.
    pub fn realm(&self) -> Option<&str> {
        self.parameters.realm
    }

    /// RFC 5849 3.4.1: the signature base string of this request.
    pub fn base_string(&self) -> Result<String, UriError> {
        signature_base_string(
            &self.request.method,
            &self.request.uri,
            self.parameters
                .parameters
                .iter()
                .map(|p| (p.name.as_ref(), p.value.as_ref())),
        )
    }
}
