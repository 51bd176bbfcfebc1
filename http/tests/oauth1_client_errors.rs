//! Every way a login through the OAuth 1 client against a real credlog
//! server fails: denial, a tampered or replayed callback, expiry in the
//! cache and at the provider, the provider's errors, never showing a
//! secret. (The network's, odd answers' and the config's errors, which
//! need no server: `client/tests/errors.rs`.)

mod support;

use std::time::Duration;

use credlog_client::{ClientError, Method};
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::{Oauth1Config, TokenCredentials, Transmission};
use credlog_http::{App, Settings};
use support::client::*;
use support::clock::TestClock;
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
    // The denial used the login up.
    let accepted = form_encode([("oauth_token", temporary), ("oauth_verifier", "v")]);
    assert_eq!(
        provider
            .authorize_access_token(&alice.session, &accepted)
            .await,
        Err(ClientError::NoTemporaryCredential)
    );
    server.stop().await;
}

/// A callback that does not name the session's temporary credential (a
/// forged one: another `oauth_token`, a denial of another) or lacks a
/// parameter is refused, and leaves the login waiting: anyone able to send
/// the user's browser to the callback could otherwise cancel every login.
#[tokio::test]
async fn a_forged_or_incomplete_callback_is_refused_and_the_login_still_waits() {
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
    let other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let token = field(&query, "oauth_token").unwrap();
    let verifier = field(&query, "oauth_verifier").unwrap();
    for (forged, refusal) in [
        (
            with_field(&query, "oauth_token", other),
            ClientError::TokenMismatch,
        ),
        (form_encode([("denied", other)]), ClientError::TokenMismatch),
        (
            form_encode([("oauth_verifier", verifier.as_str())]),
            ClientError::MissingCallbackParameter("oauth_token"),
        ),
        (
            form_encode([("oauth_token", token.as_str())]),
            ClientError::MissingCallbackParameter("oauth_verifier"),
        ),
    ] {
        assert_eq!(
            provider
                .authorize_access_token(&alice.session, &forged)
                .await,
            Err(refusal),
            "{forged}"
        );
    }
    let token = provider
        .authorize_access_token(&alice.session, &query)
        .await
        .unwrap();
    assert_eq!(me_through(&provider, &token).await, me_of("alice", &client));

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
        let clock = TestClock::starting_now();
        let cache = cache_on(&clock);
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
        clock.advance(lifetime - 1);
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
        clock.advance(lifetime);
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
    let clock = TestClock::starting_now();
    let app_clock = clock.clock();
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
        App::builder(store, settings).clock(app_clock).build()
    })
    .await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let alice = Browser::sign_in(&server, "alice").await;
    let (provider, redirect) = login_started(&server, &client, &alice).await;
    let query = alice.answer(&server, &redirect, "yes").await;
    clock.advance(601);
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
                .map(move || credlog_client::warp::failure(&shown))
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

// ---------------------------------------------------------------------------
