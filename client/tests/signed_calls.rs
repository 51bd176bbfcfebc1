//! Signed API calls of the OAuth 1 client, against a stub provider: paths
//! resolved against the API base URL, every verb, method and placement,
//! the realm and the user agent.

mod support;

use credlog_client::{ClientError, ClientOptions, Method, ProviderConfig};
use credlog_core::rfc5849::{SignedRequest, Source, TokenCredentials, Transmission};
use serde_json::json;
use support::*;

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
