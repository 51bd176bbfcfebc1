//! What the OAuth 1 client's tests share that needs no credlog server: an
//! environment of the test's own, provider configs, stub providers, and a
//! recorder that checks the signatures of the calls it receives.
//!
//! credlog-http's client tests, which run the client against a real credlog
//! server, include this file too (`http/tests/support/client.rs`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use credlog_client::provider::Env;
use credlog_client::{ClientOptions, Method, ProviderConfig, Registry};
use credlog_conformance::TEST_RSA_PRIVATE_KEY_PEM;
use credlog_conformance::TEST_RSA_PUBLIC_KEY_PEM;
use credlog_core::rfc5849::signature::rsa_public_key_from_pem;
use credlog_core::rfc5849::{SignatureMethods, SignedRequest, Source, Transmission, VerifyingKey};
use credlog_core::Request;
use warp::filters::BoxedFilter;
use warp::Filter;

/// The callback every login names.
pub const CALLBACK: &str = "http://127.0.0.1:8000/callback";

/// Every placement of the protocol parameters.
pub const TRANSMISSIONS: [Transmission; 3] = [
    Transmission::Header,
    Transmission::Body,
    Transmission::Query,
];

/// Every signature method of the client, with its name.
pub const CLIENT_METHODS: [(Method, &str); 4] = [
    (Method::HmacSha1, "HMAC-SHA1"),
    (Method::HmacSha256, "HMAC-SHA256"),
    (Method::RsaSha1, "RSA-SHA1"),
    (Method::Plaintext, "PLAINTEXT"),
];

/// An environment holding nothing: tests are deaf to the process's own.
pub fn no_env() -> Env {
    Arc::new(|_: &str| None)
}

/// An environment holding exactly `variables`.
pub fn env_of(variables: &[(&str, &str)]) -> Env {
    let map: HashMap<String, String> = variables
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    Arc::new(move |name: &str| map.get(name).cloned())
}

/// [`env_of`] for owned pairs.
pub fn as_env(variables: &[(String, String)]) -> Env {
    let pairs: Vec<(&str, &str)> = variables
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    env_of(&pairs)
}

/// A registry reading no environment.
pub fn registry() -> Registry {
    Registry::new().with_env(no_env())
}

/// A provider at `base` (credlog's paths: `/oauth1/initiate` ..., API
/// under `/api/`) for this client, signing with `method` in `placement`
/// (RSA-SHA1 with the test key and no secret).
pub fn config_at(
    base: &str,
    id: &str,
    secret: &str,
    method: Method,
    placement: Transmission,
) -> ProviderConfig {
    let rsa = method == Method::RsaSha1;
    ProviderConfig {
        client_id: Some(id.to_owned()),
        client_secret: (!rsa).then(|| secret.to_owned()),
        request_token_url: Some(format!("{base}/oauth1/initiate")),
        access_token_url: Some(format!("{base}/oauth1/token")),
        authorize_url: Some(format!("{base}/oauth1/authorize")),
        api_base_url: Some(format!("{base}/api/")),
        client_options: ClientOptions {
            signature_method: Some(method),
            placement: Some(placement),
            rsa_private_key: rsa.then(|| TEST_RSA_PRIVATE_KEY_PEM.to_owned()),
            ..ClientOptions::default()
        },
        ..ProviderConfig::default()
    }
}

/// A provider at `base` whose temporary credentials come from
/// `request_token_path`, the rest at `/token`, `/authorize` and `/api/`.
pub fn stub_config(base: &str, request_token_path: &str) -> ProviderConfig {
    ProviderConfig {
        client_id: Some("printer".into()),
        client_secret: Some("printer secret".into()),
        request_token_url: Some(format!("{base}{request_token_path}")),
        access_token_url: Some(format!("{base}/token")),
        authorize_url: Some(format!("{base}/authorize")),
        api_base_url: Some(format!("{base}/api/")),
        ..ProviderConfig::default()
    }
}

/// A listener on a free port of 127.0.0.1, and its base URL.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, format!("http://{addr}"))
}

/// Serves `routes` on a free port until the test ends; returns its base URL.
pub async fn stub(routes: BoxedFilter<(warp::reply::Response,)>) -> String {
    let (listener, base) = listen().await;
    tokio::spawn(warp::serve(routes).incoming(listener).run());
    base
}

/// A `200` with this content type and body.
pub fn answer_with(content_type: &'static str, body: &'static str) -> warp::reply::Response {
    let mut reply = warp::reply::Response::new(body.into());
    reply.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static(content_type),
    );
    reply
}

/// A stub provider that keeps every request it gets, as a core request,
/// and answers each with the same `200`.
pub struct Recorder {
    pub base: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Recorder {
    /// A recorder answering `{"ok":true}`.
    pub async fn start() -> Recorder {
        Recorder::answering("application/json", "{\"ok\":true}").await
    }

    /// A recorder answering this content type and body.
    pub async fn answering(content_type: &'static str, answer: &'static str) -> Recorder {
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let kept = Arc::clone(&requests);
        let (listener, base) = listen().await;
        let origin = base.clone();
        let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
        let routes = warp::method()
            .and(warp::path::full())
            .and(raw_query)
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      query: String,
                      headers: warp::http::HeaderMap,
                      body: warp::hyper::body::Bytes| {
                    let mut uri = format!("{origin}{}", path.as_str());
                    if !query.is_empty() {
                        uri = format!("{uri}?{query}");
                    }
                    let mut request = Request::new(method.as_str(), uri);
                    for (name, value) in &headers {
                        request = request.with_header(name.as_str(), value.to_str().unwrap());
                    }
                    request.body = body.to_vec();
                    kept.lock().unwrap().push(request);
                    answer_with(content_type, answer)
                },
            );
        tokio::spawn(warp::serve(routes).incoming(listener).run());
        Recorder { base, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The requests received so far, forgotten.
    pub fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// Where the protocol parameters of `request` travelled (all in one place),
/// and whether its signature holds for these secrets (and the test RSA key).
pub fn check_signature(
    request: &Request,
    client_secret: &str,
    token_secret: &str,
) -> (Source, bool) {
    let signed = SignedRequest::parse(request).unwrap();
    let sources: Vec<Source> = signed
        .parameters()
        .parameters
        .iter()
        .filter(|p| p.name.starts_with("oauth_"))
        .map(|p| p.source)
        .collect();
    assert!(!sources.is_empty(), "unsigned: {request:?}");
    assert!(
        sources.iter().all(|s| *s == sources[0]),
        "protocol parameters scattered: {sources:?}"
    );
    let public = rsa_public_key_from_pem(TEST_RSA_PUBLIC_KEY_PEM).unwrap();
    let key = VerifyingKey {
        client_secret,
        token_secret,
        rsa_public_key: Some(&public),
    };
    let methods = SignatureMethods::all_builtin();
    let method = methods.find(signed.signature_method().unwrap()).unwrap();
    let holds = method.verify(
        &signed.base_string().unwrap(),
        signed.signature().unwrap(),
        &key,
    );
    (sources[0], holds)
}

/// The form fields of `request`'s body that are not protocol parameters.
pub fn body_fields(request: &Request) -> Vec<(String, String)> {
    let body = std::str::from_utf8(&request.body).unwrap();
    credlog_core::rfc5849::encoding::form_decode(body)
        .unwrap()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("oauth_"))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// The value of `name` in a form-encoded `text`.
pub fn field(text: &str, name: &str) -> Option<String> {
    credlog_core::rfc5849::encoding::form_decode(text)
        .unwrap()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// Replaces the value of `name` in a form-encoded `query`.
pub fn with_field(query: &str, name: &str, value: &str) -> String {
    let pairs: Vec<(String, String)> = credlog_core::rfc5849::encoding::form_decode(query)
        .unwrap()
        .into_iter()
        .map(|(n, v)| {
            let v = if n == name { value.into() } else { v };
            (n.into_owned(), v.into_owned())
        })
        .collect();
    credlog_core::rfc5849::encoding::form_encode(
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
