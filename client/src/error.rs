//! Every way an OAuth 1 client call can fail, each its own variant.

use std::fmt;

/// Why a call to an OAuth 1 provider failed.
///
/// Its `Debug` shows everything but the body of a [`ClientError::NotForm`]:
/// a credential endpoint's answer in a form the client does not read may
/// still hold the credential's shared-secret.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No provider of that name is registered.
    #[error("no OAuth 1 provider named {0:?} is registered")]
    UnknownProvider(String),
    /// A setting the provider needs is neither configured nor in the environment.
    #[error("provider {provider:?} has no {setting}: configure it or set {variable}")]
    MissingConfig {
        /// The provider.
        provider: String,
        /// The setting, e.g. `client_id`.
        setting: &'static str,
        /// The environment variable that would provide it.
        variable: String,
    },
    /// A setting is present but unusable (a bad URL, an unknown method ...).
    #[error("provider {provider:?}: {why}")]
    InvalidConfig {
        /// The provider.
        provider: String,
        /// What is wrong.
        why: String,
    },
    /// The request never got an answer: DNS, connection, TLS, timeout.
    #[error("cannot reach {url}: {why}")]
    Network {
        /// What was called.
        url: String,
        /// What failed.
        why: String,
    },
    /// The provider answered with an error status; its body says why.
    #[error("{url} answered {status}{}", error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Provider {
        /// What was called.
        url: String,
        /// The status.
        status: u16,
        /// The `error` of an OAuth error body, when it has one.
        error: Option<String>,
        /// Its `error_description`.
        description: Option<String>,
        /// The body as text (lossy).
        body: String,
    },
    /// A credential endpoint answered 2xx with something that is not a
    /// form holding `oauth_token` and `oauth_token_secret` (RFC 5849 2.1, 2.3).
    #[error("{url} did not answer a form with oauth_token and oauth_token_secret (content type {content_type:?})")]
    NotForm {
        /// What was called.
        url: String,
        /// The content type it answered with.
        content_type: String,
        /// The body as text (lossy).
        body: String,
    },
    /// The provider's answer is longer than the client reads
    /// ([`CREDENTIAL_RESPONSE_LIMIT`](crate::provider::CREDENTIAL_RESPONSE_LIMIT)
    /// for the credential endpoints, `max_response_bytes` for API calls): it
    /// stopped reading there rather than hold all of it.
    #[error("{url} answered more than {limit} bytes, the most this client reads from it")]
    ResponseTooLarge {
        /// What was called.
        url: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The temporary credential came without `oauth_callback_confirmed=true`
    /// (RFC 5849 2.1): the provider may not honour the callback.
    #[error("{url} did not confirm the callback (oauth_callback_confirmed=true is missing)")]
    CallbackNotConfirmed {
        /// What was called.
        url: String,
    },
    /// The resource owner denied access (the callback carried `denied=`).
    #[error("the resource owner denied access")]
    Denied,
    /// No temporary credential waits for this session: it expired, was
    /// used already, or the login started in another session.
    #[error(
        "no login is waiting for this session (it expired, was finished, or started elsewhere)"
    )]
    NoTemporaryCredential,
    /// The callback's `oauth_token` is not the temporary credential this
    /// session was sent with.
    #[error("the callback's oauth_token is not the one this session was sent to authorize")]
    TokenMismatch,
    /// The callback lacks a parameter.
    #[error("the callback has no {0}")]
    MissingCallbackParameter(&'static str),
    /// The callback's query is not form-encoded.
    #[error("the callback query could not be read")]
    MalformedCallback,
    /// An API call without a token, and no `fetch_token` hook found one.
    #[error("no token credential for provider {0:?}: pass one or install a fetch_token hook")]
    NoToken(String),
    /// The request could not be signed.
    #[error("the request could not be signed: {0}")]
    Signing(String),
}

impl fmt::Debug for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::UnknownProvider(name) => {
                f.debug_tuple("UnknownProvider").field(name).finish()
            }
            ClientError::MissingConfig {
                provider,
                setting,
                variable,
            } => f
                .debug_struct("MissingConfig")
                .field("provider", provider)
                .field("setting", setting)
                .field("variable", variable)
                .finish(),
            ClientError::InvalidConfig { provider, why } => f
                .debug_struct("InvalidConfig")
                .field("provider", provider)
                .field("why", why)
                .finish(),
            ClientError::Network { url, why } => f
                .debug_struct("Network")
                .field("url", url)
                .field("why", why)
                .finish(),
            ClientError::Provider {
                url,
                status,
                error,
                description,
                body,
            } => f
                .debug_struct("Provider")
                .field("url", url)
                .field("status", status)
                .field("error", error)
                .field("description", description)
                .field("body", body)
                .finish(),
            ClientError::NotForm {
                url,
                content_type,
                body,
            } => f
                .debug_struct("NotForm")
                .field("url", url)
                .field("content_type", content_type)
                .field("body", &format_args!("<redacted, {} bytes>", body.len()))
                .finish(),
            ClientError::ResponseTooLarge { url, limit } => f
                .debug_struct("ResponseTooLarge")
                .field("url", url)
                .field("limit", limit)
                .finish(),
            ClientError::CallbackNotConfirmed { url } => f
                .debug_struct("CallbackNotConfirmed")
                .field("url", url)
                .finish(),
            ClientError::Denied => f.write_str("Denied"),
            ClientError::NoTemporaryCredential => f.write_str("NoTemporaryCredential"),
            ClientError::TokenMismatch => f.write_str("TokenMismatch"),
            ClientError::MissingCallbackParameter(name) => f
                .debug_tuple("MissingCallbackParameter")
                .field(name)
                .finish(),
            ClientError::MalformedCallback => f.write_str("MalformedCallback"),
            ClientError::NoToken(name) => f.debug_tuple("NoToken").field(name).finish(),
            ClientError::Signing(why) => f.debug_tuple("Signing").field(why).finish(),
        }
    }
}
