//! Every way an OAuth 1 request can fail, each with its status code and
//! the `error` it carries (names as Authlib's, so clients see familiar words).

use super::base_string::UriError;
use super::parameters::ParameterError;
use crate::response::{quoted, Response};
use crate::store::StoreError;

/// Why an OAuth 1 request was refused. Each variant names the parameter
/// and the rule; [`Oauth1Error::status`] is its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Oauth1Error {
    /// The parameters could not be read (malformed header, query or body,
    /// or a duplicated protocol parameter; RFC 5849 3.5).
    #[error(transparent)]
    Parameters(#[from] ParameterError),
    /// The request URI cannot give a base string URI (3.4.1.2).
    #[error(transparent)]
    Uri(#[from] UriError),
    /// A protected resource was requested with no OAuth credentials at all
    /// (no protocol parameter anywhere): the client must authenticate (3).
    #[error("the request carries no OAuth credentials")]
    MissingCredentials,
    /// A parameter this endpoint requires is missing (3.1, 2.1, 2.3).
    #[error("missing required parameter {name}")]
    MissingParameter {
        /// The missing parameter.
        name: &'static str,
    },
    /// `oauth_version` is present but is not `1.0` (3.1).
    #[error("oauth_version must be \"1.0\", not {version:?}")]
    UnsupportedVersion {
        /// The version sent.
        version: String,
    },
    /// `oauth_signature_method` names a method this server does not allow.
    #[error("signature method {method:?} is not supported")]
    UnsupportedSignatureMethod {
        /// The method sent.
        method: String,
    },
    /// PLAINTEXT sent to a server that is not reached over TLS: the
    /// signature is the secret itself, and a PLAINTEXT request needs no
    /// nonce, so one seen on the wire could be replayed (RFC 5849 3.4.4).
    #[error("PLAINTEXT is accepted only over TLS (https); sign with HMAC-SHA1, HMAC-SHA256 or RSA-SHA1 instead")]
    PlaintextWithoutTls,
    /// `oauth_timestamp` is not a whole number of seconds (3.3).
    #[error("oauth_timestamp {value:?} is not a number of seconds")]
    NonNumericTimestamp {
        /// The value sent.
        value: String,
    },
    /// `oauth_nonce` is shorter or longer than this server accepts (3.3).
    #[error("oauth_nonce must be {min} to {max} characters long")]
    NonceLength {
        /// The shortest length accepted.
        min: usize,
        /// The longest length accepted.
        max: usize,
    },
    /// `oauth_callback` is neither `oob` nor a registered absolute URI (2.1).
    #[error("oauth_callback must be \"oob\" or a callback URI registered for this client")]
    InvalidCallback,
    /// `oauth_timestamp` is outside the window around the server's clock (3.3).
    #[error("oauth_timestamp {timestamp} is more than {window} s away from the server's time")]
    TimestampOutOfWindow {
        /// The timestamp sent.
        timestamp: u64,
        /// The window, in seconds either side of now.
        window: u64,
    },
    /// `oauth_consumer_key` names no client (3.2).
    #[error("unknown client (oauth_consumer_key)")]
    UnknownClient,
    /// `oauth_token` names no credential of this kind held by this client (3.2).
    #[error("unknown, expired or foreign oauth_token")]
    UnknownToken,
    /// `oauth_signature` is wrong (3.2, 3.4).
    #[error("invalid signature")]
    InvalidSignature,
    /// This nonce was already used with this client, token and timestamp (3.3).
    #[error("oauth_nonce was already used")]
    NonceReused,
    /// `oauth_verifier` is not the one the resource owner's grant produced
    /// (2.3), or the temporary credential was not granted yet.
    #[error("oauth_verifier does not match the resource owner's grant")]
    InvalidVerifier,
    /// The credential store failed; not the client's fault.
    #[error("the credential store failed: {0}")]
    Store(#[from] StoreError),
}

impl Oauth1Error {
    /// The HTTP status: 400 for a malformed request, 401 for a bad
    /// credential, signature, timestamp or nonce, 500 for a store failure.
    pub fn status(&self) -> u16 {
        match self {
            Oauth1Error::Parameters(_)
            | Oauth1Error::Uri(_)
            | Oauth1Error::MissingParameter { .. }
            | Oauth1Error::UnsupportedVersion { .. }
            | Oauth1Error::UnsupportedSignatureMethod { .. }
            | Oauth1Error::PlaintextWithoutTls
            | Oauth1Error::NonNumericTimestamp { .. }
            | Oauth1Error::NonceLength { .. }
            | Oauth1Error::InvalidCallback => 400,
            Oauth1Error::MissingCredentials
            | Oauth1Error::TimestampOutOfWindow { .. }
            | Oauth1Error::UnknownClient
            | Oauth1Error::UnknownToken
            | Oauth1Error::InvalidSignature
            | Oauth1Error::NonceReused
            | Oauth1Error::InvalidVerifier => 401,
            Oauth1Error::Store(error) => error.status(),
        }
    }

    /// The `error` value of the response body.
    pub fn error_code(&self) -> &'static str {
        match self {
            Oauth1Error::Parameters(ParameterError::DuplicateParameter { .. }) => {
                "duplicated_oauth_protocol_parameter"
            }
            Oauth1Error::MissingParameter { .. } => "missing_required_parameter",
            Oauth1Error::MissingCredentials => "missing_credentials",
            Oauth1Error::UnsupportedSignatureMethod { .. } => "unsupported_signature_method",
            Oauth1Error::PlaintextWithoutTls => "signature_method_rejected",
            Oauth1Error::Parameters(_)
            | Oauth1Error::Uri(_)
            | Oauth1Error::UnsupportedVersion { .. }
            | Oauth1Error::NonNumericTimestamp { .. }
            | Oauth1Error::NonceLength { .. }
            | Oauth1Error::InvalidCallback => "invalid_request",
            Oauth1Error::TimestampOutOfWindow { .. } => "invalid_timestamp",
            Oauth1Error::UnknownClient => "invalid_client",
            Oauth1Error::UnknownToken => "invalid_token",
            Oauth1Error::InvalidSignature => "invalid_signature",
            Oauth1Error::NonceReused => "invalid_nonce",
            Oauth1Error::InvalidVerifier => "invalid_verifier",
            Oauth1Error::Store(_) => "server_error",
        }
    }

    /// The response: form-encoded `error` and `error_description`, and on a
    /// 401 `WWW-Authenticate: OAuth realm="..."`. A store failure's detail
    /// is not shown to the client.
    pub fn to_response(&self, realm: &str) -> Response {
        let description = match self {
            Oauth1Error::Store(_) => "the server could not complete the request".to_owned(),
            other => other.to_string(),
        };
        let mut response = Response::form(
            self.status(),
            [
                ("error", self.error_code()),
                ("error_description", description.as_str()),
            ],
        );
        if self.status() == 401 {
            response.headers.push((
                "WWW-Authenticate".to_owned(),
                format!("OAuth realm=\"{}\"", quoted(realm)),
            ));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc5849::encoding::form_decode;
    use crate::rfc5849::parameters::Source;

    #[test]
    fn responses_carry_status_error_and_challenge() {
        let response = Oauth1Error::InvalidSignature.to_response("credlog");
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("www-authenticate"),
            Some("OAuth realm=\"credlog\"")
        );
        let body = form_decode(std::str::from_utf8(&response.body).unwrap()).unwrap();
        assert_eq!(body[0], ("error".into(), "invalid_signature".into()));
        assert_eq!(
            body[1],
            ("error_description".into(), "invalid signature".into())
        );

        let duplicate = Oauth1Error::Parameters(ParameterError::DuplicateParameter {
            name: "oauth_nonce".into(),
            first: Source::Header,
            second: Source::Query,
        });
        let response = duplicate.to_response("credlog");
        assert_eq!(response.status, 400);
        assert!(response.header("www-authenticate").is_none());
        let body = String::from_utf8(response.body).unwrap();
        assert!(
            body.starts_with("error=duplicated_oauth_protocol_parameter&"),
            "{body}"
        );
        assert!(body.contains("oauth_nonce"), "{body}");
    }

    #[test]
    fn store_failures_hide_their_detail() {
        let response = Oauth1Error::Store(StoreError::Backend(
            "sled: disk full at /secret/path".into(),
        ))
        .to_response("r");
        assert_eq!(response.status, 500);
        assert!(!String::from_utf8(response.body).unwrap().contains("secret"));
        let response = Oauth1Error::Store(StoreError::Unavailable("10.0.0.7: refused".into()))
            .to_response("r");
        assert_eq!(response.status, 503);
        assert!(!String::from_utf8(response.body)
            .unwrap()
            .contains("10.0.0.7"));
    }
}
