//! The server side of RFC 5849: validating a signed request at one of the
//! three endpoints (3.2). Rules that need no storage are checked here; the
//! client, the token secret and the nonce are asked of a
//! [`CredentialSource`], which the store implements.

use std::ops::RangeInclusive;

use async_trait::async_trait;
use rsa::RsaPublicKey;

use super::errors::Oauth1Error;
use super::request::SignedRequest;
use super::signature::{SignatureMethod, SignatureMethods, VerifyingKey};
use crate::request::{is_absolute_uri, Request};
use crate::store::StoreError;

/// How far, in seconds, `oauth_timestamp` may be from the server's clock
/// unless a deployment sets otherwise (RFC 5849 3.3). A store keeps used
/// nonces for exactly this long: a shorter memory would take a replay
/// inside the window for a new request.
pub const DEFAULT_TIMESTAMP_WINDOW: u64 = 300;

/// What a deployment sets for OAuth 1 validation.
#[derive(Debug, Clone)]
pub struct Oauth1Config {
    /// The signature methods accepted (default: HMAC-SHA1 only).
    pub signature_methods: SignatureMethods,
    /// How far, in seconds, `oauth_timestamp` may be from the server's
    /// clock, either way (default [`DEFAULT_TIMESTAMP_WINDOW`]); the store
    /// must keep nonces for the same window.
    pub timestamp_window: u64,
    /// The lengths of `oauth_nonce` accepted (default 1 to 128 characters).
    pub nonce_length: RangeInclusive<usize>,
    /// The realm named in `WWW-Authenticate` challenges.
    pub realm: String,
    /// Whether requests reach this server over TLS (a TLS listener, an
    /// `https` public URL, or loopback in development). A method that
    /// [requires TLS](SignatureMethod::requires_tls), PLAINTEXT, is
    /// refused when they do not, even when it is among
    /// [`Oauth1Config::signature_methods`] (RFC 5849 3.4.4); default `false`.
    pub over_tls: bool,
}

impl Default for Oauth1Config {
    fn default() -> Self {
        Oauth1Config {
            signature_methods: SignatureMethods::default(),
            timestamp_window: DEFAULT_TIMESTAMP_WINDOW,
            nonce_length: 1..=128,
            realm: "credlog".to_owned(),
            over_tls: false,
        }
    }
}

/// The three kinds of signed request (RFC 5849 2.1, 2.3, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Temporary credential request (2.1): needs `oauth_callback`.
    Initiate,
    /// Token request (2.3): needs `oauth_token` (a temporary credential) and `oauth_verifier`.
    Token,
    /// Authenticated resource request (3): needs `oauth_token` (a token credential).
    Resource,
}

impl Endpoint {
    /// The kind of token the endpoint takes in `oauth_token`, if any.
    pub fn token_kind(self) -> Option<TokenKind> {
        match self {
            Endpoint::Initiate => None,
            Endpoint::Token => Some(TokenKind::Temporary),
            Endpoint::Resource => Some(TokenKind::Token),
        }
    }
}

/// The two kinds of token an OAuth 1 request can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A temporary credential (request token, 2.1).
    Temporary,
    /// A token credential (access token, 2.3).
    Token,
}

/// A client as the validator needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The client shared-secret.
    pub secret: String,
    /// The registered RSA public key, for RSA-SHA1.
    pub rsa_public_key: Option<RsaPublicKey>,
    /// The callback URIs registered for the client (matched exactly, 2.1).
    pub callback_uris: Vec<String>,
}

/// One use of a nonce (RFC 5849 3.3): unique per client, token and timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NonceUse<'a> {
    /// The client.
    pub client_key: &'a str,
    /// The token, if the request carried one.
    pub token: Option<&'a str>,
    /// `oauth_timestamp`.
    pub timestamp: u64,
    /// `oauth_nonce`.
    pub nonce: &'a str,
}

/// What validation asks of storage (a failure is the store's, never the
/// client's fault). The store implements it; tests give an in-memory one.
#[async_trait]
pub trait CredentialSource: Send + Sync {
    /// The client with this key, if any.
    async fn client(&self, client_key: &str) -> Result<Option<Client>, StoreError>;

    /// The shared-secret of a live token of this kind held by this client
    /// (`None` if unknown, of another kind, another client's, or ended).
    async fn token_secret(
        &self,
        client_key: &str,
        token: &str,
        kind: TokenKind,
    ) -> Result<Option<String>, StoreError>;

    /// Records a nonce use; `false` when it was already used. Only asked
    /// for once the signature is good.
    async fn use_nonce(&self, nonce: &NonceUse<'_>) -> Result<bool, StoreError>;
}

/// A request that passed every check of RFC 5849 3.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The endpoint it was checked for.
    pub endpoint: Endpoint,
    /// `oauth_consumer_key`.
    pub client_key: String,
    /// `oauth_token`, when the endpoint takes one.
    pub token: Option<String>,
    /// `oauth_signature_method`.
    pub signature_method: String,
    /// `oauth_timestamp` (absent only for PLAINTEXT).
    pub timestamp: Option<u64>,
    /// `oauth_nonce` (absent only for PLAINTEXT).
    pub nonce: Option<String>,
    /// `oauth_callback`, at the initiate endpoint.
    pub callback: Option<String>,
    /// `oauth_verifier`, at the token endpoint; the store checks it.
    pub verifier: Option<String>,
}

/// The OAuth 1 request validator: one configuration, any number of requests.
#[derive(Debug, Clone, Default)]
pub struct Oauth1Server {
    config: Oauth1Config,
}

impl Oauth1Server {
    /// A validator with this configuration.
    pub fn new(config: Oauth1Config) -> Self {
        Oauth1Server { config }
    }

    /// The configuration.
    pub fn config(&self) -> &Oauth1Config {
        &self.config
    }

    /// RFC 5849 3.2: validates a request for an endpoint at time `now`
    /// (seconds since the Unix epoch; the caller owns the clock). On
    /// success the nonce has been recorded through `source`.
    pub async fn verify(
        &self,
        request: &Request,
        endpoint: Endpoint,
        now: u64,
        source: &dyn CredentialSource,
    ) -> Result<VerifiedRequest, Oauth1Error> {
        let signed = SignedRequest::parse(request)?;
        if endpoint == Endpoint::Resource && !signed.parameters().has_protocol_parameters() {
            return Err(Oauth1Error::MissingCredentials);
        }
        let (method, verified) = self.check_parameters(&signed, endpoint, now)?;

        let client = source
            .client(&verified.client_key)
            .await?
            .ok_or(Oauth1Error::UnknownClient)?;
        let token_secret = match (&verified.token, endpoint.token_kind()) {
            (Some(token), Some(kind)) => source
                .token_secret(&verified.client_key, token, kind)
                .await?
                .ok_or(Oauth1Error::UnknownToken)?,
            _ => String::new(),
        };

        let key = VerifyingKey {
            client_secret: &client.secret,
            token_secret: &token_secret,
            rsa_public_key: client.rsa_public_key.as_ref(),
        };
        let base_string = signed.base_string()?;
        let signature = signed.signature().unwrap_or_default();
        if !method.verify(&base_string, signature, &key) {
            return Err(Oauth1Error::InvalidSignature);
        }

        if let Some(callback) = &verified.callback {
            if callback != "oob" && !client.callback_uris.iter().any(|uri| uri == callback) {
                return Err(Oauth1Error::InvalidCallback);
            }
        }

        if let (Some(timestamp), Some(nonce)) = (verified.timestamp, &verified.nonce) {
            let nonce_use = NonceUse {
                client_key: &verified.client_key,
                token: verified.token.as_deref(),
                timestamp,
                nonce,
            };
            if !source.use_nonce(&nonce_use).await? {
                return Err(Oauth1Error::NonceReused);
            }
        }
        Ok(verified)
    }

    /// The checks of RFC 5849 3.1-3.3 that need no storage: required
    /// parameters, version, signature method, timestamp window, nonce length.
    pub fn check_parameters<'s>(
        &'s self,
        signed: &SignedRequest<'_>,
        endpoint: Endpoint,
        now: u64,
    ) -> Result<(&'s dyn SignatureMethod, VerifiedRequest), Oauth1Error> {
        let required = |name: &'static str| {
            signed
                .protocol(name)
                .ok_or(Oauth1Error::MissingParameter { name })
        };
        let client_key = required("oauth_consumer_key")?;
        let method_name = required("oauth_signature_method")?;
        required("oauth_signature")?;
        if let Some(version) = signed.version() {
            if version != "1.0" {
                return Err(Oauth1Error::UnsupportedVersion {
                    version: version.to_owned(),
                });
            }
        }
        let method = self
            .config
            .signature_methods
            .find(method_name)
            .ok_or_else(|| Oauth1Error::UnsupportedSignatureMethod {
                method: method_name.to_owned(),
            })?;
        if method.requires_tls() && !self.config.over_tls {
            return Err(Oauth1Error::PlaintextWithoutTls);
        }

        let (callback, token, verifier) = match endpoint {
            Endpoint::Initiate => (Some(required("oauth_callback")?), None, None),
            Endpoint::Token => (
                None,
                Some(required("oauth_token")?),
                Some(required("oauth_verifier")?),
            ),
            Endpoint::Resource => (None, Some(required("oauth_token")?), None),
        };
        if let Some(callback) = callback {
            if callback != "oob" && !is_absolute_uri(callback) {
                return Err(Oauth1Error::InvalidCallback);
            }
        }

        let needs_timestamp = method.requires_timestamp_and_nonce();
        let timestamp = match signed.timestamp() {
            None if needs_timestamp => {
                return Err(Oauth1Error::MissingParameter {
                    name: "oauth_timestamp",
                })
            }
            None => None,
            Some(value) => Some(self.check_timestamp(value, now)?),
        };
        let nonce = match signed.nonce() {
            None if needs_timestamp => {
                return Err(Oauth1Error::MissingParameter {
                    name: "oauth_nonce",
                })
            }
            None => None,
            Some(nonce) => {
                let length = nonce.chars().count();
                if !self.config.nonce_length.contains(&length) {
                    return Err(Oauth1Error::NonceLength {
                        min: *self.config.nonce_length.start(),
                        max: *self.config.nonce_length.end(),
                    });
                }
                Some(nonce.to_owned())
            }
        };
        if timestamp.is_some() != nonce.is_some() {
            let name = if timestamp.is_none() {
                "oauth_timestamp"
            } else {
                "oauth_nonce"
            };
            return Err(Oauth1Error::MissingParameter { name });
        }

        Ok((
            method,
            VerifiedRequest {
                endpoint,
                client_key: client_key.to_owned(),
                token: token.map(str::to_owned),
                signature_method: method_name.to_owned(),
                timestamp,
                nonce,
                callback: callback.map(str::to_owned),
                verifier: verifier.map(str::to_owned),
            },
        ))
    }

    /// RFC 5849 3.3: a positive whole number of seconds within the window.
    fn check_timestamp(&self, value: &str, now: u64) -> Result<u64, Oauth1Error> {
        let non_numeric = || Oauth1Error::NonNumericTimestamp {
            value: value.to_owned(),
        };
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(non_numeric());
        }
        let timestamp: u64 = value.parse().map_err(|_| non_numeric())?;
        if timestamp.abs_diff(now) > self.config.timestamp_window {
            return Err(Oauth1Error::TimestampOutOfWindow {
                timestamp,
                window: self.config.timestamp_window,
            });
        }
        Ok(timestamp)
    }
}
