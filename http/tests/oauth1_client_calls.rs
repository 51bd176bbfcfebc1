//! Signed API calls of the OAuth 1 client: paths resolved against the API
//! base URL, every verb and placement, the `fetch_token` hook, and the
//! provider's errors surfacing.

mod support;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use credlog_core::rfc5849::{SignedRequest, Source, TokenCredentials, Transmission};
use credlog_http::client::{
    ClientError, ClientOptions, FetchToken, Method, ProviderConfig, Registry,
};
use serde_json::json;
use support::client::*;
use support::*;

// Signed API calls

#[tokio::test]
async fn relative_paths_resolve_against_the_api_base_url() {
    let with_base = |base: Option<&str>| ProviderConfig {
        client_id: Some("id".into()),
        client_secret: Some("secret".into()),
        request_token_url: Some("http://provider.test/oauth1/initiate".into()),
        access_token_url: Some("http://provider.test/oauth1/token".into()),
        authorize_url: Some("http://provider.test/oauth1/authorize".into()),
        api_base_url: base.map(str::to_owned),
        ..ProviderConfig::default()
    };
    let registry = registry();
    let provider = registry
        .register("slash", with_base(Some("http://provider.test/api/")))
        .unwrap();
    let bare = registry
        .register("bare", with_base(Some("http://provider.test/api")))
        .unwrap();
    // RFC 3986 5.2, as Authlib's urljoin: relative to the base's directory.
    let url = |path: &str| provider.api_url(path).unwrap();
    assert_eq!(url("me"), "http://provider.test/api/me");
    assert_eq!(url("/me"), "http://provider.test/me");
    assert_eq!(url("photos/1"), "http://provider.test/api/photos/1");
    assert_eq!(url("../v2/me"), "http://provider.test/v2/me");
    assert_eq!(
        url("photos?size=large&page=2"),
        "http://provider.test/api/photos?size=large&page=2"
    );
    assert_eq!(
        url("https://elsewhere.test/v2/me"),
        "https://elsewhere.test/v2/me"
    );
    // Without the trailing slash, `api` is a file in `/`.
    assert_eq!(bare.api_url("me").unwrap(), "http://provider.test/me");

    let none = registry.register("no-base", with_base(None)).unwrap();
    assert_eq!(
        none.api_url("me"),
        Err(ClientError::MissingConfig {
            provider: "no-base".into(),
            setting: "api_base_url",
            variable: "NO_BASE_API_BASE_URL".into(),
        })
    );
    assert_eq!(
        none.api_url("http://provider.test/api/me").unwrap(),
        "http://provider.test/api/me"
    );
    assert!(matches!(
        none.get("me", Some(&TokenCredentials::new("t", "s"))).await,
        Err(ClientError::MissingConfig {
            setting: "api_base_url",
            ..
        })
    ));
    assert!(matches!(
        registry.register("bad-base", with_base(Some("api/"))),
        Err(ClientError::InvalidConfig { .. })
    ));
}

/// GET, POST, PUT and DELETE reach the resolved URL, carry their form,
/// and are signed with the client and token secrets, in the placement
/// asked for (a GET or DELETE has no form body: body placement falls back
/// to the query, RFC 5849 3.5.2).
#[tokio::test]
async fn every_verb_is_signed_and_sent_to_the_resolved_path() {
    let recorder = Recorder::start().await;
    let registry = registry();
    let token = TokenCredentials::new("token", "token secret");
    for (method, name) in CLIENT_METHODS {
        for placement in TRANSMISSIONS {
            let label = format!("{name}-{placement:?}");
            let rsa = method == Method::RsaSha1;
            let provider = registry
                .register(
                    "recorded",
                    config_at(
                        &recorder.url(""),
                        "printer",
                        "printer secret",
                        method,
                        placement,
                    ),
                )
                .unwrap();
            let got = provider.get("photos", Some(&token)).await.unwrap();
            assert_eq!((got.status, got.text()), (200, "{\"ok\":true}".into()));
            assert_eq!(got.json().unwrap(), json!({"ok": true}));
            provider
                .post("photos", &[("title", "a b&c=d")], Some(&token))
                .await
                .unwrap();
            provider
                .put("photos/1", &[("title", "new")], Some(&token))
                .await
                .unwrap();
            provider.delete("photos/1", Some(&token)).await.unwrap();

            let requests = recorder.take();
            let seen: Vec<(&str, &str)> = requests
                .iter()
                .map(|r| (r.method.as_str(), r.uri.split('?').next().unwrap()))
                .collect();
            let (photos, photo) = (recorder.url("/api/photos"), recorder.url("/api/photos/1"));
            assert_eq!(
                seen,
                [
                    ("GET", photos.as_str()),
                    ("POST", photos.as_str()),
                    ("PUT", photo.as_str()),
                    ("DELETE", photo.as_str())
                ],
                "{label}"
            );
            for request in &requests {
                let expected = match (placement, request.method.as_str()) {
                    (Transmission::Header, _) => Source::Header,
                    (Transmission::Query, _) | (Transmission::Body, "GET" | "DELETE") => {
                        Source::Query
                    }
                    (Transmission::Body, _) => Source::Body,
                };
                let secret = if rsa { "" } else { "printer secret" };
                assert_eq!(
                    check_signature(request, secret, "token secret"),
                    (expected, true),
                    "{label} {}",
                    request.method
                );
                let signed = SignedRequest::parse(request).unwrap();
                assert_eq!(signed.token(), Some("token"), "{label}");
                assert_eq!(signed.consumer_key(), Some("printer"), "{label}");
                assert_eq!(signed.signature_method(), Some(name), "{label}");
            }
            assert_eq!(
                body_fields(&requests[1]),
                [("title".to_owned(), "a b&c=d".to_owned())],
                "{label}"
            );
            assert_eq!(
                body_fields(&requests[2]),
                [("title".to_owned(), "new".to_owned())],
                "{label}"
            );
            assert!(body_fields(&requests[0]).is_empty());
            assert!(body_fields(&requests[3]).is_empty());
        }
    }
}

#[tokio::test]
async fn realm_and_user_agent_go_with_every_call() {
    let recorder = Recorder::start().await;
    let provider = registry()
        .register(
            "recorded",
            ProviderConfig {
                client_id: Some("printer".into()),
                client_secret: Some("printer secret".into()),
                request_token_url: Some(recorder.url("/initiate")),
                access_token_url: Some(recorder.url("/token")),
                authorize_url: Some(recorder.url("/authorize")),
                api_base_url: Some(recorder.url("/api/")),
                client_options: ClientOptions {
                    realm: Some("photos".into()),
                    user_agent: Some("printer/1.0".into()),
                    ..ClientOptions::default()
                },
                ..ProviderConfig::default()
            },
        )
        .unwrap();
    let token = TokenCredentials::new("token", "token secret");
    provider.get("me?fields=name", Some(&token)).await.unwrap();
    let requests = recorder.take();
    let request = &requests[0];
    assert_eq!(request.uri, recorder.url("/api/me?fields=name"));
    assert_eq!(
        check_signature(request, "printer secret", "token secret"),
        (Source::Header, true)
    );
    let signed = SignedRequest::parse(request).unwrap();
    assert_eq!(signed.realm(), Some("photos"));
    assert_eq!(signed.signature_method(), Some("HMAC-SHA1"));
    assert_eq!(
        request.header_values("user-agent").collect::<Vec<_>>(),
        ["printer/1.0"]
    );
}

/// The hook of the registry: asked, by provider name, for the token of a
/// call made without one.
struct Tokens {
    token: Option<TokenCredentials>,
    asked: Mutex<Vec<String>>,
}

#[async_trait]
impl FetchToken for Tokens {
    async fn fetch_token(&self, name: &str) -> Option<TokenCredentials> {
        self.asked.lock().unwrap().push(name.to_owned());
        self.token.clone()
    }
}

#[tokio::test]
async fn calls_reach_credlog_signed_and_its_errors_surface() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Memory, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let alice = Browser::sign_in(&server, "alice").await;
    let config = config(&server, &client, Method::HmacSha1, Transmission::Body);
    let provider = registry().register("credlog", config.clone()).unwrap();
    let token = alice.log_in(&server, &provider).await;

    // credlog only answers GET /api/me: a signed POST, PUT or DELETE
    // reaches it and its 405 comes back as the provider's error.
    for (verb, result) in [
        (
            "POST",
            provider.post("me", &[("x", "1")], Some(&token)).await,
        ),
        ("PUT", provider.put("me", &[("x", "1")], Some(&token)).await),
        ("DELETE", provider.delete("me", Some(&token)).await),
    ] {
        match result {
            Err(ClientError::Provider {
                url, status, body, ..
            }) => {
                assert!(url.starts_with(&server.url("/api/me")), "{verb}: {url}");
                assert_eq!(status, 405, "{verb}");
                assert!(body.contains("Method not allowed"), "{verb}: {body}");
            }
            other => panic!("{verb}: {other:?}"),
        }
    }

    // A call signed with a token credlog does not know: its 401 and error.
    let forged = TokenCredentials::new("forged", "forged secret");
    match provider.get("me", Some(&forged)).await {
        Err(ClientError::Provider {
            status,
            error,
            description,
            body,
            ..
        }) => {
            assert_eq!(status, 401);
            assert_eq!(error.as_deref(), Some("invalid_token"));
            assert!(description.is_some());
            assert!(body.contains("error=invalid_token"), "{body}");
        }
        other => panic!("{other:?}"),
    }

    // Without a token and without a hook.
    assert_eq!(
        provider.get("me", None).await,
        Err(ClientError::NoToken("credlog".into()))
    );

    // The hook supplies it.
    let hook = Arc::new(Tokens {
        token: Some(token.clone()),
        asked: Mutex::default(),
    });
    let hooked = Registry::new()
        .with_env(no_env())
        .with_fetch_token(hook.clone())
        .register("credlog", config.clone())
        .unwrap();
    let me = hooked.get("me", None).await.unwrap();
    assert_eq!(me.json().unwrap(), me_of("alice", &client));
    assert_eq!(*hook.asked.lock().unwrap(), ["credlog"]);
    // A token given wins over the hook.
    assert!(matches!(
        hooked.get("me", Some(&forged)).await,
        Err(ClientError::Provider { status: 401, .. })
    ));
    assert_eq!(hook.asked.lock().unwrap().len(), 1);

    // A hook that has none.
    let empty = Registry::new()
        .with_env(no_env())
        .with_fetch_token(Arc::new(Tokens {
            token: None,
            asked: Mutex::default(),
        }))
        .register("credlog", config)
        .unwrap();
    assert_eq!(
        empty.get("me", None).await,
        Err(ClientError::NoToken("credlog".into()))
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
