//! The OAuth 1 client (`credlog_client`) logging users in to a real
//! credlog server started in the test, the browser played with reqwest:
//! every signature method and placement, what goes on the wire, and
//! concurrent users whose logins never mix.

mod support;

use credlog_client::{ClientError, ClientOptions, Method};
use credlog_core::rfc5849::Transmission;
use support::client::*;
use support::*;

// The login dance, for every signature method and placement

async fn every_method_and_placement(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(backend, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let alice = Browser::sign_in(&server, "alice").await;
    let registry = registry();
    for (method, name) in CLIENT_METHODS {
        for placement in TRANSMISSIONS {
            let label = format!("credlog-{name}-{placement:?}").to_lowercase();
            let provider = registry
                .register(&label, config(&server, &client, method, placement))
                .unwrap();
            assert_eq!(provider.signature_method(), name);
            let token = alice.log_in(&server, &provider).await;
            assert_eq!(
                me_through(&provider, &token).await,
                me_of("alice", &client),
                "{label}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn every_method_and_placement_logs_in_and_calls_the_api_over_memory() {
    every_method_and_placement(Backend::Memory).await;
}

#[tokio::test]
async fn a_login_with_the_default_method_and_placement_works_over_sled() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Sled, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let alice = Browser::sign_in(&server, "alice").await;
    let mut config = config(&server, &client, Method::HmacSha1, Transmission::Header);
    config.client_options = ClientOptions::default();
    let provider = registry().register("credlog", config).unwrap();
    assert_eq!(provider.signature_method(), "HMAC-SHA1");
    let token = alice.log_in(&server, &provider).await;
    assert_eq!(me_through(&provider, &token).await, me_of("alice", &client));
    server.stop().await;
}

#[tokio::test]
async fn the_redirect_names_the_temporary_token_and_never_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Memory, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let config = config(&server, &client, Method::HmacSha1, Transmission::Header);
    let provider = registry().register("credlog", config).unwrap();
    let redirect = provider
        .authorize_redirect("session-1", CALLBACK)
        .await
        .unwrap();
    let (url, query) = redirect.split_once('?').unwrap();
    assert_eq!(url, server.url("/oauth1/authorize"));
    let fields = credlog_core::rfc5849::encoding::form_decode(query).unwrap();
    assert_eq!(fields.len(), 1, "{redirect}");
    assert_eq!(fields[0].0, "oauth_token");
    assert_eq!(fields[0].1.len(), 32, "{redirect}");
    server.stop().await;
}

// ---------------------------------------------------------------------------

// Concurrent users

#[tokio::test]
async fn concurrent_logins_never_mix_temporary_credentials() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    credlog_http::accounts::add_user(server.store.as_ref(), "bob", PASSWORD, now())
        .await
        .unwrap();
    let bob = Browser::sign_in(&server, "bob").await;
    let config = config(&server, &client, Method::HmacSha1, Transmission::Header);
    let provider = registry().register("credlog", config).unwrap();

    // Both start at once, and finish in the other order.
    let (to_a, to_b) = tokio::join!(
        provider.authorize_redirect(&alice.session, CALLBACK),
        provider.authorize_redirect(&bob.session, CALLBACK)
    );
    let (to_a, to_b) = (to_a.unwrap(), to_b.unwrap());
    assert_ne!(to_a, to_b);
    let (query_a, query_b) = tokio::join!(
        alice.answer(&server, &to_a, "yes"),
        bob.answer(&server, &to_b, "yes")
    );
    let (token_b, token_a) = tokio::join!(
        provider.authorize_access_token(&bob.session, &query_b),
        provider.authorize_access_token(&alice.session, &query_a)
    );
    let (token_a, token_b) = (token_a.unwrap(), token_b.unwrap());
    assert_ne!(token_a, token_b);
    assert_eq!(
        me_through(&provider, &token_a).await,
        me_of("alice", &client)
    );
    assert_eq!(me_through(&provider, &token_b).await, me_of("bob", &client));

    // Bob's session presenting Alice's callback gets nothing of hers, and
    // leaves both logins waiting.
    let (to_a, to_b) = tokio::join!(
        provider.authorize_redirect(&alice.session, CALLBACK),
        provider.authorize_redirect(&bob.session, CALLBACK)
    );
    let (to_a, to_b) = (to_a.unwrap(), to_b.unwrap());
    let (query_a, query_b) = tokio::join!(
        alice.answer(&server, &to_a, "yes"),
        bob.answer(&server, &to_b, "yes")
    );
    assert_eq!(
        provider
            .authorize_access_token(&bob.session, &query_a)
            .await,
        Err(ClientError::TokenMismatch)
    );
    let fresh = credlog_http::app::random_token();
    assert_eq!(
        provider.authorize_access_token(&fresh, &query_a).await,
        Err(ClientError::NoTemporaryCredential)
    );
    let token_a = provider
        .authorize_access_token(&alice.session, &query_a)
        .await
        .unwrap();
    assert_eq!(
        me_through(&provider, &token_a).await,
        me_of("alice", &client)
    );
    // Bob's own login outlived the callback that was not its own: a forged
    // callback cannot cancel a login.
    let token_b = provider
        .authorize_access_token(&bob.session, &query_b)
        .await
        .unwrap();
    assert_eq!(me_through(&provider, &token_b).await, me_of("bob", &client));
    server.stop().await;
}

#[tokio::test]
async fn many_interleaved_logins_each_get_their_own_user() {
    let Started { server, client, .. } = started().await;
    credlog_http::accounts::add_user(server.store.as_ref(), "bob", PASSWORD, now())
        .await
        .unwrap();
    let config = config(&server, &client, Method::HmacSha1, Transmission::Query);
    let provider = registry().register("credlog", config).unwrap();
    let mut browsers = Vec::new();
    for i in 0..8 {
        let user = if i % 2 == 0 { "alice" } else { "bob" };
        browsers.push(Browser::sign_in(&server, user).await);
    }
    let redirects = futures::future::join_all(
        browsers
            .iter()
            .map(|b| provider.authorize_redirect(&b.session, CALLBACK)),
    )
    .await;
    let queries = futures::future::join_all(
        browsers
            .iter()
            .zip(&redirects)
            .map(|(b, r)| b.answer(&server, r.as_ref().unwrap(), "yes")),
    )
    .await;
    let tokens = futures::future::join_all(
        browsers
            .iter()
            .zip(&queries)
            .rev()
            .map(|(b, q)| provider.authorize_access_token(&b.session, q)),
    )
    .await;
    for (browser, token) in browsers.iter().rev().zip(tokens) {
        let token = token.unwrap();
        assert_eq!(
            me_through(&provider, &token).await,
            me_of(&browser.user, &client)
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn one_session_with_two_providers_keeps_two_logins() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    let second = seed(server.store.as_ref(), "alice", "Photo album").await;
    let registry = registry();
    let printer = registry
        .register(
            "printer",
            config(&server, &client, Method::HmacSha1, Transmission::Header),
        )
        .unwrap();
    let album = registry
        .register(
            "album",
            config(&server, &second, Method::HmacSha1, Transmission::Header),
        )
        .unwrap();
    let (to_printer, to_album) = tokio::join!(
        printer.authorize_redirect(&alice.session, CALLBACK),
        album.authorize_redirect(&alice.session, CALLBACK)
    );
    let query_printer = alice.answer(&server, &to_printer.unwrap(), "yes").await;
    let query_album = alice.answer(&server, &to_album.unwrap(), "yes").await;
    let album_token = album
        .authorize_access_token(&alice.session, &query_album)
        .await
        .unwrap();
    let printer_token = printer
        .authorize_access_token(&alice.session, &query_printer)
        .await
        .unwrap();
    assert_eq!(
        me_through(&album, &album_token).await,
        me_of("alice", &second)
    );
    assert_eq!(
        me_through(&printer, &printer_token).await,
        me_of("alice", &client)
    );
    server.stop().await;
}
