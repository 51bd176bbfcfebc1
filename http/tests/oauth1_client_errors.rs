//! Every way a login through the OAuth 1 client fails: denial, a tampered
//! or replayed callback, expiry in the cache and at the provider, the
//! provider's, the network's and the config's errors, never showing a secret.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_conformance::TEST_RSA_PRIVATE_KEY_PEM;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::{Oauth1Config, TokenCredentials, Transmission};
use credlog_http::client::{ClientError, Method, ProviderConfig};
use credlog_http::{App, Settings};
use support::client::*;
use support::*;
use warp::Filter;

// A login that fails

#[tokio::test]
async fn a_denial_is_a_clear_error() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    let (provider, redirect) = login_started(&server, &client, &alice).await;
    let query = alice.answer(&server, &redirect, "no").await;
    let temporary = redirect.split("oauth_token=").nth(1).unwrap();
    assert_eq!(field(&query, "denied").as_deref(), Some(temporary));
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, &query)
            .await,
        Err(ClientError::Denied)
    );
    assert_eq!(
        ClientError::Denied.to_string(),
        "the resource owner denied access"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_tampered_or_incomplete_callback_is_refused() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    let config = config(&server, &client, Method::HmacSha1, Transmission::Header);
    let provider = registry().register("credlog", config).unwrap();
    let begin = || async {
        let redirect = provider
            .authorize_redirect(&alice.session, CALLBACK)
            .await
            .unwrap();
        alice.answer(&server, &redirect, "yes").await
    };

    let query = begin().await;
    let tampered = with_field(&query, "oauth_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, &tampered)
            .await,
        Err(ClientError::TokenMismatch)
    );

    let query = begin().await;
    let without_token = form_encode([(
        "oauth_verifier",
        field(&query, "oauth_verifier").unwrap().as_str(),
    )]);
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, &without_token)
            .await,
        Err(ClientError::MissingCallbackParameter("oauth_token"))
    );

    let query = begin().await;
    let without_verifier = form_encode([(
        "oauth_token",
        field(&query, "oauth_token").unwrap().as_str(),
    )]);
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, &without_verifier)
            .await,
        Err(ClientError::MissingCallbackParameter("oauth_verifier"))
    );

    begin().await;
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, "oauth_token=%zz")
            .await,
        Err(ClientError::MalformedCallback)
    );

    // A wrong verifier goes to credlog, which refuses it.
    let query = begin().await;
    let wrong = with_field(&query, "oauth_verifier", "wrong");
    match provider
        .authorize_access_token(&alice.session, &wrong)
        .await
    {
        Err(ClientError::Provider {
            url,
            status: 401,
            error,
            ..
        }) => {
            assert_eq!(url, server.url("/oauth1/token"));
            assert_eq!(error.as_deref(), Some("invalid_verifier"));
        }
        other => panic!("{other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_callback_works_once() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    let (provider, redirect) = login_started(&server, &client, &alice).await;
    let query = alice.answer(&server, &redirect, "yes").await;
    // The query as a framework hands it over, with its `?`.
    let token = provider
        .authorize_access_token(&alice.session, &format!("?{query}"))
        .await
        .unwrap();
    assert_eq!(me_through(&provider, &token).await, me_of("alice", &client));
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, &query)
            .await,
        Err(ClientError::NoTemporaryCredential)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_temporary_credential_expires_from_the_cache() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    let config = config(&server, &client, Method::HmacSha1, Transmission::Header);
    for (lifetime, registry) in [
        (600, registry()),
        (
            60,
            registry().with_temporary_lifetime(Duration::from_secs(60)),
        ),
    ] {
        let (offset, cache) = movable_clock();
        let provider = registry
            .with_cache(cache)
            .register("credlog", config.clone())
            .unwrap();

        // One second short of its lifetime: still there.
        let redirect = provider
            .authorize_redirect(&alice.session, CALLBACK)
            .await
            .unwrap();
        let query = alice.answer(&server, &redirect, "yes").await;
        *offset.lock().unwrap() += Duration::from_secs(lifetime - 1);
        let token = provider
            .authorize_access_token(&alice.session, &query)
            .await
            .unwrap();
        assert_eq!(me_through(&provider, &token).await, me_of("alice", &client));

        // Its lifetime up: gone.
        let redirect = provider
            .authorize_redirect(&alice.session, CALLBACK)
            .await
            .unwrap();
        let query = alice.answer(&server, &redirect, "yes").await;
        *offset.lock().unwrap() += Duration::from_secs(lifetime);
        assert_eq!(
            provider
                .authorize_access_token(&alice.session, &query)
                .await,
            Err(ClientError::NoTemporaryCredential),
            "lifetime {lifetime}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_temporary_credential_expired_at_the_provider_is_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let skew = Arc::new(AtomicU64::new(0));
    let clock_skew = Arc::clone(&skew);
    let clock: credlog_http::app::Clock =
        Arc::new(move || now() + clock_skew.load(Ordering::SeqCst));
    let server = TestServer::start_with(Backend::Memory, &dir, |store| {
        let defaults = Settings::default();
        assert_eq!(defaults.temporary_lifetime, 600);
        // The client signs with the wall clock: a wide timestamp window
        // lets the server's clock run past the temporary lifetime.
        let settings = Settings {
            oauth1: Oauth1Config {
                timestamp_window: 3600,
                ..defaults.oauth1.clone()
            },
            ..defaults
        };
        App::with_clock(store, settings, clock)
    })
    .await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let alice = Browser::sign_in(&server, "alice").await;
    let (provider, redirect) = login_started(&server, &client, &alice).await;
    let query = alice.answer(&server, &redirect, "yes").await;
    skew.store(601, Ordering::SeqCst);
    match provider
        .authorize_access_token(&alice.session, &query)
        .await
    {
        Err(error @ ClientError::Provider { .. }) => {
            let ClientError::Provider {
                url,
                status,
                error: code,
                description,
                body,
            } = &error
            else {
                unreachable!()
            };
            assert_eq!(url, &server.url("/oauth1/token"));
            assert_eq!(*status, 401);
            assert_eq!(code.as_deref(), Some("invalid_token"));
            assert_eq!(
                description.as_deref(),
                Some("unknown, expired or foreign oauth_token")
            );
            assert!(body.contains("error=invalid_token"), "{body}");
            assert_eq!(
                error.to_string(),
                format!(
                    "{} answered 401: invalid_token",
                    server.url("/oauth1/token")
                )
            );
        }
        other => panic!("{other:?}"),
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------

// Errors of the provider, of the network, of the answer, of the config

#[tokio::test]
async fn a_wrong_client_secret_is_the_providers_invalid_signature() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    let mut config = config(&server, &client, Method::HmacSha1, Transmission::Header);
    config.client_secret = Some("not the secret".into());
    let provider = registry().register("credlog", config).unwrap();
    match provider.authorize_redirect(&alice.session, CALLBACK).await {
        Err(ClientError::Provider {
            url,
            status,
            error,
            description,
            body,
        }) => {
            assert_eq!(url, server.url("/oauth1/initiate"));
            assert_eq!(status, 401);
            assert_eq!(error.as_deref(), Some("invalid_signature"));
            assert_eq!(description.as_deref(), Some("invalid signature"));
            assert!(body.contains("error=invalid_signature"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    // Nothing was kept for the session.
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, "oauth_token=x&oauth_verifier=y")
            .await,
        Err(ClientError::NoTemporaryCredential)
    );
    server.stop().await;
}

/// What a failed call says (its message, and the page an app shows with
/// `client::warp::failure`, which promises that "secrets are never shown")
/// must not carry the client or token shared-secret, even when PLAINTEXT
/// puts them in the query as the signature (RFC 5849 3.4.4).
#[tokio::test]
async fn failures_never_show_the_shared_secrets() {
    let Started { server, client, .. } = started().await;
    let config = config(&server, &client, Method::Plaintext, Transmission::Query);
    let provider = registry().register("credlog", config.clone()).unwrap();
    let forged = TokenCredentials::new("forged", "forgedTokenSecret");
    let refused = provider.get("me", Some(&forged)).await.unwrap_err();
    assert!(matches!(refused, ClientError::Provider { status: 401, .. }));

    let mut wrong = config.clone();
    wrong.client_secret = Some("wrongClientSecret".into());
    let wrong = registry().register("wrong", wrong).unwrap();
    let not_initiated = wrong.authorize_redirect("s", CALLBACK).await.unwrap_err();
    assert!(matches!(
        not_initiated,
        ClientError::Provider { status: 401, .. }
    ));

    let mut down = config;
    down.api_base_url = Some(format!("http://127.0.0.1:{}/api/", closed_port()));
    let down = registry().register("down", down).unwrap();
    let unreachable = down.get("me", Some(&forged)).await.unwrap_err();
    assert!(matches!(unreachable, ClientError::Network { .. }));

    let mut leaks = Vec::new();
    for (case, error) in [
        ("API call refused", refused),
        ("temporary credential refused", not_initiated),
        ("API unreachable", unreachable),
    ] {
        let shown = error.clone();
        let app = stub(
            warp::any()
                .map(move || credlog_http::client::warp::failure(&shown))
                .boxed(),
        )
        .await;
        let page = http().get(&app).send().await.unwrap();
        assert_eq!(page.status(), 502);
        let page = page.text().await.unwrap();
        for (form, shown) in [
            ("Display", error.to_string()),
            ("Debug", format!("{error:?}")),
            ("failure page", page),
        ] {
            for secret in [&client.secret, "forgedTokenSecret", "wrongClientSecret"] {
                if shown.contains(secret) {
                    leaks.push(format!("{case}, {form}: shows {secret:?}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "secrets shown:\n{}", leaks.join("\n"));
    server.stop().await;
}

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

// ---------------------------------------------------------------------------
