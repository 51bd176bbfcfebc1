//! The OAuth 1 client's errors that need no credlog server: the network's,
//! answers that are not credentials or too long, and missing or unusable
//! settings.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_client::provider::CREDENTIAL_RESPONSE_LIMIT;
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
            "{\"oauth_token\":\"t\",\"oauth_token_secret\":\"jsonTokenSecret\",\"oauth_callback_confirmed\":\"true\"}",
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

    let error = redirect("json").await.unwrap_err();
    let ClientError::NotForm {
        url,
        content_type,
        body,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(url, &format!("{base}/json"));
    assert_eq!(content_type, "application/json");
    assert!(body.contains("jsonTokenSecret"), "{body}");
    // The body is the app's to read, not its logs': it may hold the secret
    // of a credential in a form the client does not take.
    let shown = format!("{error:?}");
    assert!(!shown.contains("jsonTokenSecret"), "{shown}");
    assert!(shown.contains("application/json"), "{shown}");
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

/// A provider on a port of 127.0.0.1 that answers every request 200 with
/// a chunked form body that never ends (64 KiB every 5 ms, until the
/// client hangs up); and how many bytes of body it has sent.
async fn endless_provider() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut request = [0u8; 65536];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\n\
                            Content-Type: application/x-www-form-urlencoded\r\n\
                            Transfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut chunk = b"10000\r\n".to_vec();
                chunk.extend(std::iter::repeat_n(b'a', 0x10000));
                chunk.extend_from_slice(b"\r\n");
                while socket.write_all(&chunk).await.is_ok() {
                    counter.fetch_add(0x10000, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
        }
    });
    (base, sent)
}

/// A `200` form of exactly `length` bytes (a `Content-Length` the client
/// sees before it reads any).
fn form_of_length(length: usize) -> warp::reply::Response {
    let mut body = "oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true&x=".to_owned();
    body.extend(std::iter::repeat_n('a', length - body.len()));
    let mut reply = warp::reply::Response::new(body.into());
    reply.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    reply
}

/// A hostile provider cannot make the client hold an endless answer: it
/// reads up to its limit, then gives up with an error that says so.
#[tokio::test]
async fn an_answer_longer_than_the_limit_is_refused_without_reading_it_all() {
    // The temporary credential endpoint: an endless body, streamed.
    let (endless, sent) = endless_provider().await;
    let mut config = stub_config(&endless, "/initiate");
    // Without a limit, the client would read for this long, then fail.
    config.client_options.timeout = Some(Duration::from_secs(3));
    let provider = registry().register("endless", config).unwrap();
    let started = Instant::now();
    let error = provider
        .authorize_redirect("s", CALLBACK)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ClientError::ResponseTooLarge {
            url: format!("{endless}/initiate"),
            limit: CREDENTIAL_RESPONSE_LIMIT,
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        error.to_string(),
        format!("{endless}/initiate answered more than 1048576 bytes, the most this client reads from it")
    );
    let page = credlog_client::warp::failure(&error);
    assert_eq!(page.status(), 502);
    // It hung up: the provider stops sending soon after (what it sent
    // beyond the limit sat in the sockets' buffers).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped_at = sent.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sent.load(Ordering::Relaxed), stopped_at);

    // The token endpoint, endless too.
    let good = stub(
        warp::post()
            .and(warp::path("initiate"))
            .map(|| form_of_length(100))
            .boxed(),
    )
    .await;
    let mut config = stub_config(&good, "/initiate");
    config.access_token_url = Some(format!("{endless}/token"));
    config.client_options.timeout = Some(Duration::from_secs(3));
    let provider = registry().register("endless-token", config).unwrap();
    provider.authorize_redirect("s", CALLBACK).await.unwrap();
    assert_eq!(
        provider
            .authorize_access_token("s", "oauth_token=t&oauth_verifier=v")
            .await,
        Err(ClientError::ResponseTooLarge {
            url: format!("{endless}/token"),
            limit: CREDENTIAL_RESPONSE_LIMIT,
        })
    );

    // A body that announces its length: up to the limit is read, one byte
    // more is refused.
    let sized = stub(warp::path!(usize).map(form_of_length).boxed()).await;
    let at = |length: usize| {
        let provider = registry()
            .register("sized", stub_config(&sized, &format!("/{length}")))
            .unwrap();
        async move { provider.authorize_redirect("s", CALLBACK).await }
    };
    assert!(at(CREDENTIAL_RESPONSE_LIMIT).await.is_ok());
    assert_eq!(
        at(CREDENTIAL_RESPONSE_LIMIT + 1).await,
        Err(ClientError::ResponseTooLarge {
            url: format!("{sized}/{}", CREDENTIAL_RESPONSE_LIMIT + 1),
            limit: CREDENTIAL_RESPONSE_LIMIT,
        })
    );

    // API calls, up to `max_response_bytes`, streamed or announced.
    let mut config = stub_config(&sized, "/initiate");
    config.client_options.max_response_bytes = Some(4096);
    let provider = registry().register("api", config).unwrap();
    let token = TokenCredentials::new("t", "s");
    assert_eq!(
        provider
            .get("/4096", Some(&token))
            .await
            .unwrap()
            .body
            .len(),
        4096
    );
    assert_eq!(
        provider.get("/4097", Some(&token)).await,
        Err(ClientError::ResponseTooLarge {
            url: format!("{sized}/4097"),
            limit: 4096,
        })
    );
    // The default limit, 16 MiB, takes a second or so to stream.
    let mut config = stub_config(&endless, "/initiate");
    config.client_options.timeout = Some(Duration::from_secs(10));
    let provider = registry().register("endless-api", config).unwrap();
    assert_eq!(
        provider.get("me", Some(&token)).await,
        Err(ClientError::ResponseTooLarge {
            url: format!("{endless}/api/me"),
            limit: credlog_client::provider::API_RESPONSE_LIMIT,
        })
    );
}
