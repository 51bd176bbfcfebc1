//! The three-legged OAuth 1 flow over real HTTP, for every signature method
//! and every transmission, with a callback and `oob`, against both stores;
//! and how long its token credentials work (their lifetime, a revocation).

mod support;

use credlog_core::rfc5849::client::random_nonce;
use credlog_core::rfc5849::Transmission;
use credlog_core::Request;
use credlog_http::App;
use support::clock::TestClock;
use support::*;

on_both_stores!(backend; every_method_and_transmission);
async fn every_method_and_transmission(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(backend, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    for method in METHODS {
        for transmission in TRANSMISSIONS {
            let client = client.with(method, transmission);
            let token = three_legged(&server, &client, &cookie).await;
            let answer = me(&server, &client, (&token.0, &token.1)).await;
            assert_eq!(
                answer.status, 200,
                "{method} {transmission:?}: {}",
                answer.body
            );
            assert_eq!(
                answer.json(),
                serde_json::json!({"user": "alice", "client_id": client.id, "scope": "profile email"}),
                "{method} {transmission:?}"
            );
        }
    }
    server.stop().await;
}

on_both_stores!(backend; out_of_band);
async fn out_of_band(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(backend, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Desk app").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let (token, secret) = initiate(&server, &client, "oob").await;
    let page = consent(&server, &cookie, &token, "yes").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let verifier = element_text(&page.body, "verifier").expect("the verifier on the page");
    let answer = exchange(&server, &client, (&token, &secret), &verifier).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token = (
        answer.form("oauth_token").unwrap(),
        answer.form("oauth_token_secret").unwrap(),
    );
    let me = me(&server, &client, (&token.0, &token.1)).await;
    assert_eq!(me.json()["user"], "alice");
    server.stop().await;
}

#[tokio::test]
async fn the_flow_is_audited_event_by_event() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Sled, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Audited app").await;
    let before = server.store.last_seq().await.unwrap();
    let cookie = login(&server, "alice", PASSWORD).await;
    let token = three_legged(&server, &client, &cookie).await;
    me(&server, &client, (&token.0, &token.1)).await;

    let records = server.store.read_log(before + 1, 100).await.unwrap();
    let kinds: Vec<&str> = records
        .iter()
        .flat_map(|record| &record.events)
        .map(|event| match event {
            credlog_core::store::Event::Issued(_) => "issued",
            credlog_core::store::Event::Verified(_) => "verified",
            credlog_core::store::Event::Authorized(_) => "authorized",
            credlog_core::store::Event::Exchanged(_) => "exchanged",
            credlog_core::store::Event::Revoked(_) => "revoked",
            other => panic!("a sign-in flow appended {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "verified",
            "issued",
            "authorized",
            "verified",
            "exchanged",
            "issued",
            "verified"
        ]
    );
    assert!(server.store.check().await.unwrap().is_consistent());
    server.stop().await;
}

#[tokio::test]
async fn a_denied_request_redirects_with_denied_and_is_dead() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Memory, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Nosy app").await;
    let cookie = login(&server, "alice", PASSWORD).await;

    let (token, secret) = initiate(&server, &client, CALLBACK).await;
    let answer = consent(&server, &cookie, &token, "no").await;
    assert_eq!(answer.status, 302);
    assert_eq!(
        location_query(&answer),
        [("denied".to_owned(), token.clone())]
    );
    // The temporary credential is dead: no consent page, no exchange.
    let page = get_page(
        &server,
        &format!("/oauth1/authorize?oauth_token={token}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 400);
    exchange(&server, &client, (&token, &secret), "anything")
        .await
        .assert_oauth1_error(401, "invalid_token");

    let (token, _) = initiate(&server, &client, "oob").await;
    let page = consent(&server, &cookie, &token, "no").await;
    assert_eq!(page.status, 200);
    assert!(
        element_text(&page.body, "denied").is_some(),
        "{}",
        page.body
    );
    assert!(element_text(&page.body, "verifier").is_none());
    server.stop().await;
}

#[tokio::test]
async fn plaintext_may_omit_timestamp_and_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Memory, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Plain app").await;
    let client = client.with("PLAINTEXT", Transmission::Header);
    let request = credlog_core::Request::new("POST", server.url("/oauth1/initiate"));
    let header = format!(
        "OAuth oauth_consumer_key=\"{}\", oauth_signature_method=\"PLAINTEXT\", \
         oauth_signature=\"{}%26\", oauth_callback=\"oob\"",
        client.id, client.secret
    );
    let answer = send(&request.with_header("Authorization", header)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.form("oauth_token").is_some());
    server.stop().await;
}

/// `GET /api/me` signed with a token credential at `at` (the server's
/// clock, which the test moves past the wall clock's window).
async fn me_at(server: &TestServer, client: &TestClient, token: (&str, &str), at: u64) -> Answer {
    let request = client
        .signer(Some(token))
        .sign_at(
            Request::new("GET", server.url("/api/me")),
            &[],
            at,
            &random_nonce(),
        )
        .unwrap();
    send(&request).await
}

on_both_stores!(backend; a_token_credential_works_until_its_lifetime_ends);
async fn a_token_credential_works_until_its_lifetime_ends(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::starting_now();
    let app_clock = clock.clock();
    let server = TestServer::start_with(backend, &dir, |store| {
        let mut settings = loopback_settings();
        settings.token_lifetime = Some(3600);
        App::builder(store, settings).clock(app_clock).build()
    })
    .await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let token = three_legged(&server, &client, &cookie).await;
    let token = (token.0.as_str(), token.1.as_str());

    clock.advance(3599);
    let answer = me_at(&server, &client, token, clock.now()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    clock.advance(1);
    me_at(&server, &client, token, clock.now())
        .await
        .assert_oauth1_error(401, "invalid_token");
    server.stop().await;
}

on_both_stores!(backend; a_revoked_token_credential_is_refused);
async fn a_revoked_token_credential_is_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(backend, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let token = three_legged(&server, &client, &cookie).await;
    assert_eq!(me(&server, &client, (&token.0, &token.1)).await.status, 200);

    credlog_core::manage::revoke_token(server.store.as_ref(), &token.0, now())
        .await
        .unwrap();
    me(&server, &client, (&token.0, &token.1))
        .await
        .assert_oauth1_error(401, "invalid_token");
    server.stop().await;
}
