//! A provider's settings, in code or from the environment
//! (`{NAME}_CLIENT_ID` ...), the explicit ones winning.

use std::fmt;
use std::time::Duration;

use credlog_core::rfc5849::encoding::form_decode;
use credlog_core::rfc5849::Transmission;

use crate::error::ClientError;

/// The signature method a provider is called with (RFC 5849 3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// HMAC-SHA1 (3.4.2), the default.
    #[default]
    HmacSha1,
    /// HMAC-SHA256 (an extension many providers accept).
    HmacSha256,
    /// RSA-SHA1 (3.4.3), with the client's private key.
    RsaSha1,
    /// PLAINTEXT (3.4.4), for TLS only.
    Plaintext,
}

impl Method {
    /// The method of its `oauth_signature_method` name.
    pub fn from_name(name: &str) -> Option<Method> {
        match name.to_ascii_uppercase().as_str() {
            "HMAC-SHA1" => Some(Method::HmacSha1),
            "HMAC-SHA256" => Some(Method::HmacSha256),
            "RSA-SHA1" => Some(Method::RsaSha1),
            "PLAINTEXT" => Some(Method::Plaintext),
            _ => None,
        }
    }
}

/// What Authlib calls `client_kwargs`: how requests are signed and sent.
/// From the environment, `{NAME}_CLIENT_KWARGS` is a form-encoded list:
/// `signature_method=RSA-SHA1&signature_type=QUERY&rsa_key_file=key.pem&realm=photos&timeout=10&user_agent=app/1&max_response_bytes=1048576`.
///
/// Its `Debug` shows every option but the RSA private key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// The signature method (HMAC-SHA1 when unset).
    pub signature_method: Option<Method>,
    /// Where the protocol parameters go (the header when unset).
    pub placement: Option<Transmission>,
    /// The RSA private key (PKCS#1 or PKCS#8 PEM), for RSA-SHA1.
    pub rsa_private_key: Option<String>,
    /// The `realm` of the `Authorization` header.
    pub realm: Option<String>,
    /// How long a call may take (30 s when unset).
    pub timeout: Option<Duration>,
    /// The `User-Agent` sent.
    pub user_agent: Option<String>,
    /// The most an API call's answer may hold, in bytes
    /// ([`API_RESPONSE_LIMIT`](crate::provider::API_RESPONSE_LIMIT) when
    /// unset); the credential endpoints' answers are held to
    /// [`CREDENTIAL_RESPONSE_LIMIT`](crate::provider::CREDENTIAL_RESPONSE_LIMIT).
    pub max_response_bytes: Option<usize>,
}

/// What `Debug` shows in place of a secret.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `Some(<redacted>)` for a secret that is set, `None` for one that is not.
fn redacted(secret: &Option<String>) -> Option<Redacted> {
    secret.as_ref().map(|_| Redacted)
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured, so that a new option must be placed here too.
        let ClientOptions {
            signature_method,
            placement,
            rsa_private_key,
            realm,
            timeout,
            user_agent,
            max_response_bytes,
        } = self;
        f.debug_struct("ClientOptions")
            .field("signature_method", signature_method)
            .field("placement", placement)
            .field("rsa_private_key", &redacted(rsa_private_key))
            .field("realm", realm)
            .field("timeout", timeout)
            .field("user_agent", user_agent)
            .field("max_response_bytes", max_response_bytes)
            .finish()
    }
}

/// One provider's settings. Unset ones are taken from the environment
/// when the provider is registered.
///
/// Its `Debug` shows every setting but the client secret and the RSA
/// private key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The client identifier (`oauth_consumer_key`).
    pub client_id: Option<String>,
    /// The client shared-secret (may be empty for RSA-SHA1).
    pub client_secret: Option<String>,
    /// The temporary credential request URL (RFC 5849 2.1).
    pub request_token_url: Option<String>,
    /// Extra parameters sent with it (in the body or query, signed).
    pub request_token_params: Vec<(String, String)>,
    /// The token request URL (2.3).
    pub access_token_url: Option<String>,
    /// Extra parameters sent with it.
    pub access_token_params: Vec<(String, String)>,
    /// The resource owner authorization URL (2.2).
    pub authorize_url: Option<String>,
    /// Extra parameters added to the authorization redirect.
    pub authorize_params: Vec<(String, String)>,
    /// What relative API paths are resolved against.
    pub api_base_url: Option<String>,
    /// How requests are signed and sent.
    pub client_options: ClientOptions,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ProviderConfig {
            client_id,
            client_secret,
            request_token_url,
            request_token_params,
            access_token_url,
            access_token_params,
            authorize_url,
            authorize_params,
            api_base_url,
            client_options,
        } = self;
        f.debug_struct("ProviderConfig")
            .field("client_id", client_id)
            .field("client_secret", &redacted(client_secret))
            .field("request_token_url", request_token_url)
            .field("request_token_params", request_token_params)
            .field("access_token_url", access_token_url)
            .field("access_token_params", access_token_params)
            .field("authorize_url", authorize_url)
            .field("authorize_params", authorize_params)
            .field("api_base_url", api_base_url)
            .field("client_options", client_options)
            .finish()
    }
}

/// The environment variable of a provider's setting: `{NAME}_{KEY}`, the
/// name upper-cased with anything but letters and digits as `_`.
pub fn variable(provider: &str, key: &str) -> String {
    let name: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}_{key}")
}

fn pairs(provider: &str, key: &str, text: &str) -> Result<Vec<(String, String)>, ClientError> {
    form_decode(text)
        .map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .map_err(|_| ClientError::InvalidConfig {
            provider: provider.to_owned(),
            why: format!("{} is not form-encoded (a=1&b=2)", variable(provider, key)),
        })
}

impl ClientOptions {
    /// Reads `{NAME}_CLIENT_KWARGS`.
    fn from_env_text(provider: &str, text: &str) -> Result<ClientOptions, ClientError> {
        let invalid = |why: String| ClientError::InvalidConfig {
            provider: provider.to_owned(),
            why: format!("{}: {why}", variable(provider, "CLIENT_KWARGS")),
        };
        let mut options = ClientOptions::default();
        for (name, value) in pairs(provider, "CLIENT_KWARGS", text)? {
            match name.as_str() {
                "signature_method" => {
                    options.signature_method = Some(
                        Method::from_name(&value)
                            .ok_or_else(|| invalid(format!("no signature method {value:?}")))?,
                    )
                }
                "signature_type" => {
                    options.placement = Some(match value.to_ascii_uppercase().as_str() {
                        "HEADER" => Transmission::Header,
                        "BODY" => Transmission::Body,
                        "QUERY" => Transmission::Query,
                        _ => {
                            return Err(invalid(format!(
                                "signature_type {value:?} is not HEADER, BODY or QUERY"
                            )))
                        }
                    })
                }
                "rsa_key" => options.rsa_private_key = Some(value),
                "rsa_key_file" => {
                    options.rsa_private_key =
                        Some(std::fs::read_to_string(&value).map_err(|error| {
                            invalid(format!("cannot read rsa_key_file {value:?}: {error}"))
                        })?)
                }
                "realm" => options.realm = Some(value),
                "timeout" => {
                    let seconds: f64 = value
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| {
                            invalid(format!("timeout {value:?} is not a number of seconds"))
                        })?;
                    options.timeout = Some(Duration::from_secs_f64(seconds));
                }
                "user_agent" => options.user_agent = Some(value),
                "max_response_bytes" => {
                    let bytes = value.parse().ok().filter(|n: &usize| *n > 0);
                    options.max_response_bytes = Some(bytes.ok_or_else(|| {
                        invalid(format!(
                            "max_response_bytes {value:?} is not a positive number"
                        ))
                    })?);
                }
                other => return Err(invalid(format!("unknown option {other:?}"))),
            }
        }
        Ok(options)
    }

    /// These options, each unset one taken from `fallback`.
    fn or(self, fallback: ClientOptions) -> ClientOptions {
        ClientOptions {
            signature_method: self.signature_method.or(fallback.signature_method),
            placement: self.placement.or(fallback.placement),
            rsa_private_key: self.rsa_private_key.or(fallback.rsa_private_key),
            realm: self.realm.or(fallback.realm),
            timeout: self.timeout.or(fallback.timeout),
            user_agent: self.user_agent.or(fallback.user_agent),
            max_response_bytes: self.max_response_bytes.or(fallback.max_response_bytes),
        }
    }
}

impl ProviderConfig {
    /// The settings `env` holds for `provider` (`env` is
    /// `std::env::var(..).ok()` in an app; tests pass a map).
    pub fn from_env(
        provider: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, ClientError> {
        let get = |key: &str| env(&variable(provider, key)).filter(|v| !v.is_empty());
        let list = |key: &str| match get(key) {
            Some(text) => pairs(provider, key, &text),
            None => Ok(Vec::new()),
        };
        Ok(ProviderConfig {
            client_id: get("CLIENT_ID"),
            client_secret: get("CLIENT_SECRET"),
            request_token_url: get("REQUEST_TOKEN_URL"),
            request_token_params: list("REQUEST_TOKEN_PARAMS")?,
            access_token_url: get("ACCESS_TOKEN_URL"),
            access_token_params: list("ACCESS_TOKEN_PARAMS")?,
            authorize_url: get("AUTHORIZE_URL"),
            authorize_params: list("AUTHORIZE_PARAMS")?,
            api_base_url: get("API_BASE_URL"),
            client_options: match get("CLIENT_KWARGS") {
                Some(text) => ClientOptions::from_env_text(provider, &text)?,
                None => ClientOptions::default(),
            },
        })
    }

    /// The environment keys (`CLIENT_ID` ...) this config sets itself.
    pub fn explicit_keys(&self) -> Vec<&'static str> {
        let options = &self.client_options;
        let all_options = options.signature_method.is_some()
            && options.placement.is_some()
            && options.rsa_private_key.is_some()
            && options.realm.is_some()
            && options.timeout.is_some()
            && options.user_agent.is_some()
            && options.max_response_bytes.is_some();
        [
            ("CLIENT_ID", self.client_id.is_some()),
            ("CLIENT_SECRET", self.client_secret.is_some()),
            ("REQUEST_TOKEN_URL", self.request_token_url.is_some()),
            (
                "REQUEST_TOKEN_PARAMS",
                !self.request_token_params.is_empty(),
            ),
            ("ACCESS_TOKEN_URL", self.access_token_url.is_some()),
            ("ACCESS_TOKEN_PARAMS", !self.access_token_params.is_empty()),
            ("AUTHORIZE_URL", self.authorize_url.is_some()),
            ("AUTHORIZE_PARAMS", !self.authorize_params.is_empty()),
            ("API_BASE_URL", self.api_base_url.is_some()),
            ("CLIENT_KWARGS", all_options),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }

    /// This config, each unset setting taken from `fallback` (explicit
    /// settings win over the environment).
    pub fn or(self, fallback: ProviderConfig) -> ProviderConfig {
        let list = |own: Vec<(String, String)>, other| if own.is_empty() { other } else { own };
        ProviderConfig {
            client_id: self.client_id.or(fallback.client_id),
            client_secret: self.client_secret.or(fallback.client_secret),
            request_token_url: self.request_token_url.or(fallback.request_token_url),
            request_token_params: list(self.request_token_params, fallback.request_token_params),
            access_token_url: self.access_token_url.or(fallback.access_token_url),
            access_token_params: list(self.access_token_params, fallback.access_token_params),
            authorize_url: self.authorize_url.or(fallback.authorize_url),
            authorize_params: list(self.authorize_params, fallback.authorize_params),
            api_base_url: self.api_base_url.or(fallback.api_base_url),
            client_options: self.client_options.or(fallback.client_options),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_the_upper_cased_name_and_key() {
        assert_eq!(variable("credlog", "CLIENT_ID"), "CREDLOG_CLIENT_ID");
        assert_eq!(
            variable("my-photos.v2", "API_BASE_URL"),
            "MY_PHOTOS_V2_API_BASE_URL"
        );
    }
}
