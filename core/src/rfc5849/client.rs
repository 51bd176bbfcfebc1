//! The client side of RFC 5849: signing a request with client (and token)
//! credentials, in any of the three transmissions (3.5).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rsa::RsaPrivateKey;

use super::base_string::UriError;
use super::encoding::{form_decode, form_encode, percent_encode_into};
use super::parameters::ParameterError;
use super::request::SignedRequest;
use super::signature::{HmacSha1, SignError, SignatureMethod, SigningKey};
use crate::request::{Request, FORM_CONTENT_TYPE};

/// Client credentials (RFC 5849 1.1): the identifier (`oauth_consumer_key`)
/// and shared-secret, and for RSA-SHA1 the client's private key.
#[derive(Clone)]
pub struct ClientCredentials {
    /// The client identifier.
    pub key: String,
    /// The client shared-secret.
    pub secret: String,
    /// The private key for RSA-SHA1.
    pub rsa_private_key: Option<RsaPrivateKey>,
}

impl ClientCredentials {
    /// Credentials with a shared-secret and no RSA key.
    pub fn new(key: impl Into<String>, secret: impl Into<String>) -> Self {
        ClientCredentials {
            key: key.into(),
            secret: secret.into(),
            rsa_private_key: None,
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A temporary or token credential (RFC 5849 1.1): `oauth_token` and its
/// shared-secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenCredentials {
    /// The token identifier.
    pub token: String,
    /// The token shared-secret.
    pub secret: String,
}

impl TokenCredentials {
    /// A token and its secret.
    pub fn new(token: impl Into<String>, secret: impl Into<String>) -> Self {
        TokenCredentials {
            token: token.into(),
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for TokenCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCredentials")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// Where the protocol parameters travel (RFC 5849 3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transmission {
    /// The `Authorization: OAuth` header (3.5.1), the default.
    Header,
    /// The form body (3.5.2); the body must be empty or a form.
    Body,
    /// The query (3.5.3).
    Query,
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The signature method failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The request's own query or form body is malformed, or already
    /// carries a protocol parameter the signer adds.
    #[error(transparent)]
    Parameters(#[from] ParameterError),
    /// The request URI is not absolute.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// Body transmission was asked for a body that is not a form.
    #[error("body transmission needs an empty or form-encoded body")]
    BodyNotForm,
}

/// Signs requests for one client and, optionally, one token.
#[derive(Clone)]
pub struct Signer {
    client: ClientCredentials,
    token: Option<TokenCredentials>,
    method: Arc<dyn SignatureMethod>,
    transmission: Transmission,
    realm: Option<String>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("client", &self.client)
            .field("token", &self.token)
            .field("method", &self.method.name())
            .field("transmission", &self.transmission)
            .finish()
    }
}

impl Signer {
    /// A signer for this client: HMAC-SHA1, in the header, no token.
    pub fn new(client: ClientCredentials) -> Self {
        Signer {
            client,
            token: None,
            method: Arc::new(HmacSha1),
            transmission: Transmission::Header,
            realm: None,
        }
    }

    /// Signs with this temporary or token credential too.
    pub fn with_token(mut self, token: TokenCredentials) -> Self {
        self.token = Some(token);
        self
    }

    /// Signs with this method.
    pub fn with_method(mut self, method: impl SignatureMethod + 'static) -> Self {
        self.method = Arc::new(method);
        self
    }

    /// Signs with this shared method.
    pub fn with_shared_method(mut self, method: Arc<dyn SignatureMethod>) -> Self {
        self.method = method;
        self
    }

    /// Carries the protocol parameters here.
    pub fn with_transmission(mut self, transmission: Transmission) -> Self {
        self.transmission = transmission;
        self
    }

    /// Names a realm in the header (header transmission only; not signed).
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Signs `request` now, with a fresh random nonce. `extra` holds further
    /// protocol parameters such as `oauth_callback` or `oauth_verifier`.
    pub fn sign(&self, request: Request, extra: &[(&str, &str)]) -> Result<Request, SigningError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.sign_at(request, extra, now, &random_nonce())
    }

    /// Signs `request` with a given timestamp and nonce (for tests and vectors).
    pub fn sign_at(
        &self,
        request: Request,
        extra: &[(&str, &str)],
        timestamp: u64,
        nonce: &str,
    ) -> Result<Request, SigningError> {
        let timestamp = timestamp.to_string();
        let mut protocol: Vec<(&str, &str)> = vec![
            ("oauth_consumer_key", self.client.key.as_str()),
            ("oauth_signature_method", self.method.name()),
            ("oauth_timestamp", timestamp.as_str()),
            ("oauth_nonce", nonce),
        ];
        if let Some(token) = &self.token {
            protocol.push(("oauth_token", token.token.as_str()));
        }
        protocol.extend_from_slice(extra);

        let unsigned = self.place(request.clone(), &protocol)?;
        let base_string = SignedRequest::parse(&unsigned)?.base_string()?;
        let key = SigningKey {
            client_secret: &self.client.secret,
            token_secret: self.token.as_ref().map_or("", |t| t.secret.as_str()),
            rsa_private_key: self.client.rsa_private_key.as_ref(),
        };
        let signature = self.method.sign(&base_string, &key)?;
        protocol.push(("oauth_signature", signature.as_str()));
        self.place(request, &protocol)
    }

    /// Puts the protocol parameters where the transmission says.
    fn place(
        &self,
        mut request: Request,
        protocol: &[(&str, &str)],
    ) -> Result<Request, SigningError> {
        match self.transmission {
            Transmission::Header => {
                let mut value = String::from("OAuth ");
                if let Some(realm) = &self.realm {
                    value.push_str("realm=\"");
                    value.extend(realm.chars().filter(|c| *c != '"' && *c != '\\'));
                    value.push_str("\", ");
                }
                for (i, (name, parameter)) in protocol.iter().enumerate() {
                    if i > 0 {
                        value.push_str(", ");
                    }
                    percent_encode_into(&mut value, name);
                    value.push_str("=\"");
                    percent_encode_into(&mut value, parameter);
                    value.push('"');
                }
                request.headers.push(("Authorization".to_owned(), value));
            }
            Transmission::Body => {
                if !request.body.is_empty() && !request.has_form_body() {
                    return Err(SigningError::BodyNotForm);
                }
                let body =
                    std::str::from_utf8(&request.body).map_err(|_| SigningError::BodyNotForm)?;
                let mut pairs = form_decode(body).map_err(ParameterError::MalformedBody)?;
                pairs.extend(
                    protocol
                        .iter()
                        .map(|(n, v)| (Cow::Borrowed(*n), Cow::Borrowed(*v))),
                );
                if !request.has_form_body() {
                    request
                        .headers
                        .push(("Content-Type".to_owned(), FORM_CONTENT_TYPE.to_owned()));
                }
                request.body =
                    form_encode(pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))).into_bytes();
            }
            Transmission::Query => {
                let (before_fragment, fragment) = match request.uri.find('#') {
                    Some(i) => request.uri.split_at(i),
                    None => (request.uri.as_str(), ""),
                };
                let mut uri = before_fragment.to_owned();
                let separator = if !uri.contains('?') {
                    "?"
                } else if uri.ends_with('?') || uri.ends_with('&') {
                    ""
                } else {
                    "&"
                };
                uri.push_str(separator);
                uri.push_str(&form_encode(protocol.iter().copied()));
                uri.push_str(fragment);
                request.uri = uri;
            }
        }
        Ok(request)
    }
}

/// A nonce of 128 random bits, hex-encoded.
pub fn random_nonce() -> String {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
