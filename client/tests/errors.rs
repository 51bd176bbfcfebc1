//! The OAuth 1 client's errors that need no credlog server: the network's,
//! answers that are not credentials, and missing or unusable settings.

mod support;

use std::time::{Duration, Instant};

use credlog_client::{ClientError, Method, ProviderConfig};
use credlog_conformance::TEST_RSA_PRIVATE_KEY_PEM;
use credlog_core::rfc5849::TokenCredentials;
use support::*;
use warp::Filter;

#[tokio::test]
async fn a_network_failure_is_a_network_error() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let provider = registry()
        .register("down", stub_config(&base, "/initiate"))
        .unwrap();
    match provider.authorize_redirect("s", CALLBACK).await {
        Err(ClientError::Network { url, why }) => {
            assert_eq!(url, format!("{base}/initiate"));
            assert!(!why.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        provider
            .get("me", Some(&TokenCredentials::new("t", "s")))
            .await,
        Err(ClientError::Network { .. })
    ));

    // A provider that never answers, within the timeout set.
    let slow = stub(
        warp::any()
            .then(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                answer_with("text/plain", "late")
            })
            .boxed(),
    )
    .await;
    let mut config = stub_config(&slow, "/initiate");
    config.client_options.timeout = Some(Duration::from_millis(200));
    let provider = registry().register("slow", config).unwrap();
    let started = Instant::now();
    assert!(matches!(
        provider.authorize_redirect("s", CALLBACK).await,
        Err(ClientError::Network { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn answers_that_are_not_credentials_are_clear_errors() {
    let post = |path: &'static str, content_type: &'static str, body: &'static str| {
        warp::post()
            .and(warp::path(path))
            .and(warp::path::end())
            .map(move || answer_with(content_type, body))
            .boxed()
    };
    let good = "oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true";
    let base = stub(
        post(
            "json",
            "application/json",
            "{\"oauth_token\":\"t\",\"oauth_token_secret\":\"s\",\"oauth_callback_confirmed\":\"true\"}",
        )
        .or(post("html", "text/html", "<html>sign in</html>"))
        .unify()
        .or(post(
            "unconfirmed",
            "application/x-www-form-urlencoded",
            "oauth_token=t&oauth_token_secret=s",
        ))
        .unify()
        .or(post(
            "unconfirmed-false",
            "application/x-www-form-urlencoded",
            "oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=false",
        ))
        .unify()
        .or(post(
            "no-secret",
            "application/x-www-form-urlencoded",
            "oauth_token=t&oauth_callback_confirmed=true",
        ))
        .unify()
        .or(post("initiate", "application/x-www-form-urlencoded", good))
        .unify()
        .or(post("token", "application/json", "{\"oauth_token\":\"t\"}"))
        .unify()
        .or(warp::post()
            .and(warp::path("busy"))
            .map(|| {
                let mut reply = answer_with("text/plain", "try again later");
                *reply.status_mut() = warp::http::StatusCode::SERVICE_UNAVAILABLE;
                reply
            }))
        .unify()
        .boxed(),
    )
    .await;
    let registry = registry();
    let redirect = |path: &'static str| {
        let provider = registry
            .register(path, stub_config(&base, &format!("/{path}")))
            .unwrap();
        async move { provider.authorize_redirect("s", CALLBACK).await }
    };

    match redirect("json").await {
        Err(ClientError::NotForm {
            url,
            content_type,
            body,
        }) => {
            assert_eq!(url, format!("{base}/json"));
            assert_eq!(content_type, "application/json");
            assert!(body.contains("oauth_token"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        redirect("html").await,
        Err(ClientError::NotForm { content_type, .. }) if content_type == "text/html"
    ));
    assert!(matches!(
        redirect("no-secret").await,
        Err(ClientError::NotForm { .. })
    ));
    for path in ["unconfirmed", "unconfirmed-false"] {
        assert_eq!(
            redirect(path).await,
            Err(ClientError::CallbackNotConfirmed {
                url: format!("{base}/{path}")
            })
        );
    }
    match redirect("busy").await {
        Err(ClientError::Provider {
            status,
            error,
            body,
            ..
        }) => {
            assert_eq!(status, 503);
            assert_eq!(error, None);
            assert_eq!(body, "try again later");
        }
        other => panic!("{other:?}"),
    }

    // The token endpoint answering JSON.
    let provider = registry
        .register("json-token", stub_config(&base, "/initiate"))
        .unwrap();
    let url = provider.authorize_redirect("s", CALLBACK).await.unwrap();
    assert_eq!(url, format!("{base}/authorize?oauth_token=t"));
    assert!(matches!(
        provider
            .authorize_access_token("s", "oauth_token=t&oauth_verifier=v")
            .await,
        Err(ClientError::NotForm { url, .. }) if url == format!("{base}/token")
    ));
}

#[tokio::test]
async fn missing_settings_name_their_environment_variable() {
    let registry = registry();
    let full = stub_config("http://provider.test", "/initiate");
    let missing = |provider: &str, setting: &'static str, variable: &str| {
        Err(ClientError::MissingConfig {
            provider: provider.into(),
            setting,
            variable: variable.into(),
        })
    };
    let register = |name: &str, config: ProviderConfig| registry.register(name, config).map(|_| ());

    let error = registry
        .register("credlog", ProviderConfig::default())
        .unwrap_err();
    assert_eq!(
        Err(error.clone()),
        missing("credlog", "client_id", "CREDLOG_CLIENT_ID")
    );
    assert!(error.to_string().contains("CREDLOG_CLIENT_ID"), "{error}");
    assert_eq!(
        register("my-photos.v2", ProviderConfig::default()),
        missing("my-photos.v2", "client_id", "MY_PHOTOS_V2_CLIENT_ID")
    );
    for (setting, key, config) in [
        (
            "client_secret",
            "CLIENT_SECRET",
            ProviderConfig {
                client_secret: None,
                ..full.clone()
            },
        ),
        (
            "request_token_url",
            "REQUEST_TOKEN_URL",
            ProviderConfig {
                request_token_url: None,
                ..full.clone()
            },
        ),
        (
            "access_token_url",
            "ACCESS_TOKEN_URL",
            ProviderConfig {
                access_token_url: None,
                ..full.clone()
            },
        ),
        (
            "authorize_url",
            "AUTHORIZE_URL",
            ProviderConfig {
                authorize_url: None,
                ..full.clone()
            },
        ),
    ] {
        assert_eq!(
            register("credlog", config),
            missing("credlog", setting, &format!("CREDLOG_{key}"))
        );
    }
    // No API base URL is fine until a relative path is called.
    let mut config = full.clone();
    config.api_base_url = None;
    assert_eq!(register("credlog", config), Ok(()));

    // RSA-SHA1 needs no secret, but a key.
    let mut rsa = full.clone();
    rsa.client_secret = None;
    rsa.client_options.signature_method = Some(Method::RsaSha1);
    assert!(matches!(
        register("credlog", rsa.clone()),
        Err(ClientError::MissingConfig { variable, .. }) if variable == "CREDLOG_CLIENT_KWARGS"
    ));
    rsa.client_options.rsa_private_key = Some("not a key".into());
    assert!(matches!(
        register("credlog", rsa.clone()),
        Err(ClientError::InvalidConfig { .. })
    ));
    rsa.client_options.rsa_private_key = Some(TEST_RSA_PRIVATE_KEY_PEM.into());
    assert_eq!(register("credlog", rsa), Ok(()));

    let mut bad_url = full;
    bad_url.request_token_url = Some("/oauth1/initiate".into());
    assert!(matches!(
        register("credlog", bad_url),
        Err(ClientError::InvalidConfig { why, .. }) if why.contains("request_token_url")
    ));

    assert_eq!(
        registry.get("nobody").map(|_| ()),
        Err(ClientError::UnknownProvider("nobody".into()))
    );
    assert_eq!(registry.get("credlog").unwrap().name(), "credlog");
}
