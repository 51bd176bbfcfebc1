//! The registry of providers, the login dance (RFC 5849 2), and signed
//! calls to a provider's API.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::signature::{
    rsa_private_key_from_pem, HmacSha1, HmacSha256, Plaintext, RsaSha1, SignatureMethod,
};
use credlog_core::rfc5849::{ClientCredentials, Signer, TokenCredentials, Transmission};
use credlog_core::rfc6749::redirect::{self, ResponseMode};
use credlog_core::Request;

use subtle::ConstantTimeEq;

use crate::cache::{MemoryCache, TemporaryCache};
use crate::config::{variable, Method, ProviderConfig};
use crate::error::ClientError;
use credlog_core::form::Fields;

/// How long a temporary credential waits for its callback by default.
pub const TEMPORARY_LIFETIME: Duration = Duration::from_secs(600);

/// The most a credential endpoint's answer (RFC 5849 2.1, 2.3) may hold:
/// 1 MiB. A credential form is a few hundred bytes; the rest is room for
/// an error page. The client stops reading there, so a hostile or broken
/// provider cannot make it hold an endless body.
pub const CREDENTIAL_RESPONSE_LIMIT: usize = 1 << 20;

/// The most an API call's answer may hold unless `max_response_bytes`
/// says otherwise: 16 MiB, which the call holds in memory whole.
pub const API_RESPONSE_LIMIT: usize = 16 << 20;

/// Finds the token credential of an API call made without one (the
/// counterpart of Authlib's `fetch_token(name)`): typically the signed-in
/// user's token, from the app's own storage.
#[async_trait]
pub trait FetchToken: Send + Sync {
    /// The token credential to call provider `name` with, if any.
    async fn fetch_token(&self, name: &str) -> Option<TokenCredentials>;
}

/// The environment a registry reads settings from.
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The providers an app calls, by name.
///
/// ```no_run
/// use credlog_client::{ProviderConfig, Registry};
///
/// # async fn run(session_id: &str, callback_query: &str) -> Result<(), credlog_client::ClientError> {
/// let registry = Registry::new();
/// // Everything else from CREDLOG_CLIENT_ID, CREDLOG_CLIENT_SECRET, ...
/// let credlog = registry.register("credlog", ProviderConfig {
///     api_base_url: Some("http://127.0.0.1:8080/api/".into()),
///     ..ProviderConfig::default()
/// })?;
/// let send_user_to = credlog.authorize_redirect(session_id, "http://127.0.0.1:8000/callback").await?;
/// // ... the user comes back to the callback ...
/// let token = credlog.authorize_access_token(session_id, callback_query).await?;
/// let me = credlog.get("me", Some(&token)).await?;
/// println!("{}", me.text());
/// # let _ = send_user_to; Ok(()) }
/// ```
pub struct Registry {
    providers: RwLock<HashMap<String, Arc<Provider>>>,
    http: reqwest::Client,
    cache: Arc<dyn TemporaryCache>,
    fetch_token: Option<Arc<dyn FetchToken>>,
    env: Env,
    temporary_lifetime: Duration,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.read().keys().cloned().collect();
        f.debug_struct("Registry")
            .field("providers", &names)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry: the process environment, an in-memory cache,
    /// no `fetch_token` hook.
    pub fn new() -> Self {
        Registry {
            providers: RwLock::new(HashMap::new()),
            http: reqwest::Client::new(),
            cache: Arc::new(MemoryCache::new()),
            fetch_token: None,
            env: Arc::new(|name: &str| std::env::var(name).ok()),
            temporary_lifetime: TEMPORARY_LIFETIME,
        }
    }

    /// Keeps temporary credentials in `cache` (shared by the providers
    /// registered after this call).
    pub fn with_cache(mut self, cache: Arc<dyn TemporaryCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Finds tokens for API calls made without one.
    pub fn with_fetch_token(mut self, hook: Arc<dyn FetchToken>) -> Self {
        self.fetch_token = Some(hook);
        self
    }

    /// Reads settings from `env` instead of the process environment.
    pub fn with_env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// How long a temporary credential waits for its callback (600 s by default).
    pub fn with_temporary_lifetime(mut self, lifetime: Duration) -> Self {
        self.temporary_lifetime = lifetime;
        self
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Provider>>> {
        self.providers.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers (or replaces) provider `name`: `config`, with every unset
    /// setting taken from the environment (`{NAME}_CLIENT_ID` ...).
    pub fn register(
        &self,
        name: &str,
        config: ProviderConfig,
    ) -> Result<Arc<Provider>, ClientError> {
        // A variable the explicit config already covers is not read at all,
        // so a stale or malformed one cannot fail the registration.
        let env = Arc::clone(&self.env);
        let covered: Vec<String> = config
            .explicit_keys()
            .into_iter()
            .map(|key| variable(name, key))
            .collect();
        let unread = move |key: &str| {
            if covered.iter().any(|c| c == key) {
                None
            } else {
                env(key)
            }
        };
        let config = config.or(ProviderConfig::from_env(name, &unread)?);
        let provider = Arc::new(Provider::new(
            name,
            config,
            self.http.clone(),
            Arc::clone(&self.cache),
            self.fetch_token.clone(),
            self.temporary_lifetime,
        )?);
        self.providers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), Arc::clone(&provider));
        Ok(provider)
    }

    /// The provider registered as `name`.
    pub fn get(&self, name: &str) -> Result<Arc<Provider>, ClientError> {
        self.read()
            .get(name)
            .cloned()
            .ok_or_else(|| ClientError::UnknownProvider(name.to_owned()))
    }
}

/// An answer from a provider's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// The status (2xx: errors are [`ClientError::Provider`]).
    pub status: u16,
    /// The content type, if any.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// One registered provider: its settings, resolved and checked.
pub struct Provider {
    name: String,
    client: ClientCredentials,
    method: Arc<dyn SignatureMethod>,
    placement: Transmission,
    realm: Option<String>,
    request_token_url: String,
    request_token_params: Vec<(String, String)>,
    access_token_url: String,
    access_token_params: Vec<(String, String)>,
    authorize_url: String,
    authorize_params: Vec<(String, String)>,
    api_base_url: Option<String>,
    timeout: Duration,
    user_agent: Option<String>,
    api_response_limit: usize,
    http: reqwest::Client,
    cache: Arc<dyn TemporaryCache>,
    fetch_token: Option<Arc<dyn FetchToken>>,
    temporary_lifetime: Duration,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("client_id", &self.client.key)
            .field("method", &self.method.name())
            .field("placement", &self.placement)
            .finish_non_exhaustive()
    }
}

fn url(
    provider: &str,
    setting: &'static str,
    key: &str,
    value: Option<String>,
) -> Result<String, ClientError> {
    let value = value.ok_or_else(|| ClientError::MissingConfig {
        provider: provider.to_owned(),
        setting,
        variable: variable(provider, key),
    })?;
    if reqwest::Url::parse(&value).is_err() {
        return Err(ClientError::InvalidConfig {
            provider: provider.to_owned(),
            why: format!("{setting} {value:?} is not an absolute URL"),
        });
    }
    Ok(value)
}

impl Provider {
    fn new(
        name: &str,
        config: ProviderConfig,
        http: reqwest::Client,
        cache: Arc<dyn TemporaryCache>,
        fetch_token: Option<Arc<dyn FetchToken>>,
        temporary_lifetime: Duration,
    ) -> Result<Provider, ClientError> {
        let missing = |setting, key| ClientError::MissingConfig {
            provider: name.to_owned(),
            setting,
            variable: variable(name, key),
        };
        let options = config.client_options;
        let method = options.signature_method.unwrap_or_default();
        let client_id = config
            .client_id
            .ok_or_else(|| missing("client_id", "CLIENT_ID"))?;
        let secret = match (config.client_secret, method) {
            (Some(secret), _) => secret,
            (None, Method::RsaSha1) => String::new(),
            (None, _) => return Err(missing("client_secret", "CLIENT_SECRET")),
        };
        let mut client = ClientCredentials::new(client_id, secret);
        let method: Arc<dyn SignatureMethod> = match method {
            Method::HmacSha1 => Arc::new(HmacSha1),
            Method::HmacSha256 => Arc::new(HmacSha256),
            Method::Plaintext => Arc::new(Plaintext),
            Method::RsaSha1 => {
                let pem = options
                    .rsa_private_key
                    .ok_or_else(|| missing("an RSA private key (rsa_key_file)", "CLIENT_KWARGS"))?;
                client.rsa_private_key = Some(rsa_private_key_from_pem(&pem).map_err(|error| {
                    ClientError::InvalidConfig {
                        provider: name.to_owned(),
                        why: format!("the RSA private key cannot be read: {error}"),
                    }
                })?);
                Arc::new(RsaSha1)
            }
        };
        if let Some(base) = &config.api_base_url {
            url(name, "api_base_url", "API_BASE_URL", Some(base.clone()))?;
        }
        Ok(Provider {
            name: name.to_owned(),
            client,
            method,
            placement: options.placement.unwrap_or(Transmission::Header),
            realm: options.realm,
            request_token_url: url(
                name,
                "request_token_url",
                "REQUEST_TOKEN_URL",
                config.request_token_url,
            )?,
            request_token_params: config.request_token_params,
            access_token_url: url(
                name,
                "access_token_url",
                "ACCESS_TOKEN_URL",
                config.access_token_url,
            )?,
            access_token_params: config.access_token_params,
            authorize_url: url(name, "authorize_url", "AUTHORIZE_URL", config.authorize_url)?,
            authorize_params: config.authorize_params,
            api_base_url: config.api_base_url,
            timeout: options.timeout.unwrap_or(Duration::from_secs(30)),
            user_agent: options.user_agent,
            api_response_limit: options.max_response_bytes.unwrap_or(API_RESPONSE_LIMIT),
            http,
            cache,
            fetch_token,
            temporary_lifetime,
        })
    }

    /// Its registered name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client identifier it signs as (`oauth_consumer_key`).
    pub fn client_id(&self) -> &str {
        &self.client.key
    }

    /// The signature method's name.
    pub fn signature_method(&self) -> &str {
        self.method.name()
    }

    /// Where the protocol parameters go for `method`: a GET or DELETE has
    /// no form body (RFC 5849 3.5.2), so body placement falls back to the query.
    fn placement_for(&self, method: &str) -> Transmission {
        match (self.placement, method) {
            (Transmission::Body, "GET" | "DELETE") => Transmission::Query,
            (placement, _) => placement,
        }
    }

    fn signer(&self, method: &str, token: Option<&TokenCredentials>) -> Signer {
        let mut signer = Signer::new(self.client.clone())
            .with_shared_method(Arc::clone(&self.method))
            .with_transmission(self.placement_for(method));
        if let Some(realm) = &self.realm {
            signer = signer.with_realm(realm.clone());
        }
        match token {
            Some(token) => signer.with_token(token.clone()),
            None => signer,
        }
    }

    /// Signs and sends `method url` with `form` as its body (or, for a GET,
    /// in its query) and `oauth` as extra protocol parameters; reads at
    /// most `limit` bytes of the answer.
    async fn call(
        &self,
        method: &str,
        url: &str,
        form: &[(String, String)],
        token: Option<&TokenCredentials>,
        oauth: &[(&str, &str)],
        limit: usize,
    ) -> Result<ApiResponse, ClientError> {
        let pairs = form.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let mut request = Request::new(method, url);
        if method == "GET" || method == "DELETE" {
            let pairs: Vec<(&str, &str)> = pairs.collect();
            request.uri = redirect::with_parameters(url, ResponseMode::Query, &pairs);
        } else if !form.is_empty() || self.placement_for(method) == Transmission::Body {
            let pairs: Vec<(&str, &str)> = pairs.collect();
            request = request.with_form(&pairs);
        }
        let signed = self
            .signer(method, token)
            .sign(request, oauth)
            .map_err(|error| ClientError::Signing(error.to_string()))?;
        self.send(url, signed, limit).await
    }

    /// Sends a signed request and reads at most `limit` bytes of the
    /// answer; errors name `url`, the URL as it was before signing (a
    /// signed query can hold a PLAINTEXT signature: the secrets).
    async fn send(
        &self,
        url: &str,
        request: Request,
        limit: usize,
    ) -> Result<ApiResponse, ClientError> {
        let network = |error: reqwest::Error| ClientError::Network {
            url: url.to_owned(),
            why: causes(&error.without_url()),
        };
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            ClientError::Signing(format!("{:?} is not an HTTP method", request.method))
        })?;
        let mut builder = self
            .http
            .request(method, &request.uri)
            .timeout(self.timeout)
            .body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(agent) = &self.user_agent {
            builder = builder.header("User-Agent", agent);
        }
        let response = builder.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = read_at_most(response, limit, url, network).await?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&body).into_owned();
            let fields = form_fields(&text);
            return Err(ClientError::Provider {
                url: url.to_owned(),
                status,
                error: fields.get("error").map(str::to_owned),
                description: fields.get("error_description").map(str::to_owned),
                body: text,
            });
        }
        Ok(ApiResponse {
            status,
            content_type,
            body,
        })
    }

    /// A credential endpoint's answer: a form with `oauth_token` and
    /// `oauth_token_secret` (RFC 5849 2.1, 2.3).
    fn credential_form(
        url: &str,
        response: &ApiResponse,
    ) -> Result<(TokenCredentials, Fields), ClientError> {
        let not_form = || ClientError::NotForm {
            url: url.to_owned(),
            content_type: response.content_type.clone(),
            body: response.text(),
        };
        let media_type = response.content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case(credlog_core::request::FORM_CONTENT_TYPE)
            && !media_type.eq_ignore_ascii_case("text/plain")
            && !media_type.is_empty()
        {
            return Err(not_form());
        }
        let fields = form_fields(&response.text());
        match (fields.get("oauth_token"), fields.get("oauth_token_secret")) {
            (Some(token), Some(secret)) => Ok((TokenCredentials::new(token, secret), fields)),
            _ => Err(not_form()),
        }
    }

    fn cache_key(&self, session: &str) -> String {
        format!("credlog-oauth1:{}:{session}", self.name)
    }

    /// RFC 5849 2.1: a temporary credential for `callback`.
    pub async fn fetch_temporary_credential(
        &self,
        callback: &str,
    ) -> Result<TokenCredentials, ClientError> {
        let url = &self.request_token_url;
        let response = self
            .call(
                "POST",
                url,
                &self.request_token_params,
                None,
                &[("oauth_callback", callback)],
                CREDENTIAL_RESPONSE_LIMIT,
            )
            .await?;
        let (temporary, fields) = Self::credential_form(url, &response)?;
        if fields.get("oauth_callback_confirmed") != Some("true") {
            return Err(ClientError::CallbackNotConfirmed { url: url.clone() });
        }
        Ok(temporary)
    }

    /// The first leg of the login: fetches a temporary credential, keeps it
    /// for `session` (the user's browser session id), and answers the URL
    /// to send the user to (RFC 5849 2.2).
    pub async fn authorize_redirect(
        &self,
        session: &str,
        callback: &str,
    ) -> Result<String, ClientError> {
        let temporary = self.fetch_temporary_credential(callback).await?;
        let kept = form_encode([
            ("oauth_token", temporary.token.as_str()),
            ("oauth_token_secret", temporary.secret.as_str()),
        ]);
        self.cache
            .set(&self.cache_key(session), kept, self.temporary_lifetime)
            .await;
        let mut pairs: Vec<(&str, &str)> = self
            .authorize_params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        pairs.push(("oauth_token", &temporary.token));
        Ok(redirect::with_parameters(
            &self.authorize_url,
            ResponseMode::Query,
            &pairs,
        ))
    }

    /// The last leg: `callback_query` is the query the provider sent the
    /// user back with. Its `oauth_token` must be the temporary credential
    /// this `session` was sent with; that credential and the verifier are
    /// exchanged for the token credential (RFC 5849 2.3).
    ///
    /// A callback works once: the temporary credential is forgotten as soon
    /// as a callback naming it (its `oauth_token` with a verifier, or a
    /// denial) arrives, whatever the provider then answers. A callback that
    /// names another (forged, or another session's) is refused and leaves
    /// the login waiting for the real one.
    pub async fn authorize_access_token(
        &self,
        session: &str,
        callback_query: &str,
    ) -> Result<TokenCredentials, ClientError> {
        let query = callback_query.strip_prefix('?').unwrap_or(callback_query);
        let fields = Fields::parse(query.as_bytes()).ok_or(ClientError::MalformedCallback)?;
        let get = |name: &str| fields.get(name);
        let key = self.cache_key(session);
        let temporary = self.cache.get(&key).await.and_then(|kept| {
            let kept = form_fields(&kept);
            match (kept.get("oauth_token"), kept.get("oauth_token_secret")) {
                (Some(token), Some(secret)) => Some(TokenCredentials::new(token, secret)),
                _ => None,
            }
        });
        // Compared in constant time: how much of a guess matched must not
        // show in how long the refusal takes.
        let names_it = |temporary: &TokenCredentials, returned: &str| {
            bool::from(returned.as_bytes().ct_eq(temporary.token.as_bytes()))
        };
        // A denial names the temporary credential it refuses, as credlog
        // and Twitter send it (`denied=TOKEN`; RFC 5849 defines no denial).
        if let Some(denied) = get("denied") {
            if let Some(temporary) = &temporary {
                if !names_it(temporary, denied) {
                    return Err(ClientError::TokenMismatch);
                }
                self.cache.delete(&key).await;
            }
            return Err(ClientError::Denied);
        }
        let temporary = temporary.ok_or(ClientError::NoTemporaryCredential)?;
        let returned =
            get("oauth_token").ok_or(ClientError::MissingCallbackParameter("oauth_token"))?;
        if !names_it(&temporary, returned) {
            return Err(ClientError::TokenMismatch);
        }
        let verifier =
            get("oauth_verifier").ok_or(ClientError::MissingCallbackParameter("oauth_verifier"))?;
        self.cache.delete(&key).await;
        let url = &self.access_token_url;
        let response = self
            .call(
                "POST",
                url,
                &self.access_token_params,
                Some(&temporary),
                &[("oauth_verifier", verifier)],
                CREDENTIAL_RESPONSE_LIMIT,
            )
            .await?;
        Ok(Self::credential_form(url, &response)?.0)
    }

    /// The absolute URL of `path`, resolved against the API base URL as
    /// RFC 3986 5.2 resolves a reference (as Authlib's `urljoin` does): with
    /// a base of `https://api.example/v1/`, `me` is `https://api.example/v1/me`
    /// and `/me` is `https://api.example/me`; end the base with `/`.
    pub fn api_url(&self, path: &str) -> Result<String, ClientError> {
        if let Ok(absolute) = reqwest::Url::parse(path) {
            return Ok(absolute.into());
        }
        let base = self
            .api_base_url
            .as_deref()
            .ok_or_else(|| ClientError::MissingConfig {
                provider: self.name.clone(),
                setting: "api_base_url",
                variable: variable(&self.name, "API_BASE_URL"),
            })?;
        reqwest::Url::parse(base)
            .and_then(|base| base.join(path))
            .map(String::from)
            .map_err(|error| ClientError::InvalidConfig {
                provider: self.name.clone(),
                why: format!("{path:?} cannot be resolved against {base:?}: {error}"),
            })
    }

    /// A signed API call: `form` goes in the query of a GET or DELETE and
    /// in the body otherwise. Without `token`, the registry's `fetch_token`
    /// hook is asked for one.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
        token: Option<&TokenCredentials>,
    ) -> Result<ApiResponse, ClientError> {
        let fetched;
        let token = match token {
            Some(token) => token,
            None => {
                let hook = self
                    .fetch_token
                    .as_ref()
                    .ok_or_else(|| ClientError::NoToken(self.name.clone()))?;
                fetched = hook
                    .fetch_token(&self.name)
                    .await
                    .ok_or_else(|| ClientError::NoToken(self.name.clone()))?;
                &fetched
            }
        };
        let url = self.api_url(path)?;
        let form: Vec<(String, String)> = form
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        self.call(
            method,
            &url,
            &form,
            Some(token),
            &[],
            self.api_response_limit,
        )
        .await
    }

    /// `GET path`, signed.
    pub async fn get(
        &self,
        path: &str,
        token: Option<&TokenCredentials>,
    ) -> Result<ApiResponse, ClientError> {
        self.request("GET", path, &[], token).await
    }

    /// `POST path` with a form body, signed.
    pub async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        token: Option<&TokenCredentials>,
    ) -> Result<ApiResponse, ClientError> {
        self.request("POST", path, form, token).await
    }

    /// `PUT path` with a form body, signed.
    pub async fn put(
        &self,
        path: &str,
        form: &[(&str, &str)],
        token: Option<&TokenCredentials>,
    ) -> Result<ApiResponse, ClientError> {
        self.request("PUT", path, form, token).await
    }

    /// `DELETE path`, signed.
    pub async fn delete(
        &self,
        path: &str,
        token: Option<&TokenCredentials>,
    ) -> Result<ApiResponse, ClientError> {
        self.request("DELETE", path, &[], token).await
    }
}

/// An error and its causes, outermost first (reqwest's own message rarely
/// says what failed: refused connection, certificate, timeout).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The body of `response`, read a chunk at a time and given up on as soon
/// as it passes `limit` bytes (or announces more in `Content-Length`).
async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
    url: &str,
    network: impl Fn(reqwest::Error) -> ClientError,
) -> Result<Vec<u8>, ClientError> {
    let too_large = || ClientError::ResponseTooLarge {
        url: url.to_owned(),
        limit,
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(&network)? {
        if chunk.len() > limit - body.len() {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The fields of a form-encoded answer (surrounding whitespace ignored);
/// none when it is not one.
fn form_fields(text: &str) -> Fields {
    Fields::parse(text.trim().as_bytes()).unwrap_or_default()
}
