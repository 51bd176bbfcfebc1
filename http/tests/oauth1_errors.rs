//! Every refusal CONTRACT.md lists for OAuth 1, over real HTTP: status
//! code, `error`, and the challenge on a 401. Each case runs against both
//! stores.

mod support;

use credlog_core::rfc5849::Transmission;
use credlog_core::Request;
use support::*;

/// A server with alice signed in and two clients registered to her.
struct World {
    server: TestServer,
    client: TestClient,
    other: TestClient,
    cookie: String,
    _dir: tempfile::TempDir,
}

async fn world(backend: Backend) -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(backend, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "App").await;
    let other = seed(server.store.as_ref(), "alice", "Other app").await;
    let cookie = login(&server, "alice", PASSWORD).await;
    World {
        server,
        client,
        other,
        cookie,
        _dir: dir,
    }
}

impl World {
    async fn stop(self) {
        self.server.stop().await;
    }
}

/// `POST /oauth1/initiate` with this `Authorization` header, as written.
async fn initiate_with_header(w: &World, header: &str) -> Answer {
    let request =
        Request::new("POST", w.server.url("/oauth1/initiate")).with_header("Authorization", header);
    send(&request).await
}

async fn initiate_with(w: &World, client: &TestClient, extra: &[(&str, &str)]) -> Answer {
    signed(
        &w.server,
        &client.signer(None),
        "POST",
        "/oauth1/initiate",
        extra,
    )
    .await
}

/// An initiate request with an out-of-band callback, signed by `client`.
fn signed_initiate(w: &World, client: &TestClient) -> Request {
    client
        .signer(None)
        .sign(
            Request::new("POST", w.server.url("/oauth1/initiate")),
            &[("oauth_callback", "oob")],
        )
        .unwrap()
}

on_both_stores!(world = world; bad_signature);
async fn bad_signature(w: &World) {
    let mut wrong = w.client.clone();
    wrong.secret.push('x');
    for method in ["HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT"] {
        initiate_with(
            w,
            &wrong.with(method, Transmission::Header),
            &[("oauth_callback", "oob")],
        )
        .await
        .assert_oauth1_error(401, "invalid_signature");
    }
    // RSA-SHA1 signed with a key the client did not register.
    let mut request = signed_initiate(w, &w.client.with("RSA-SHA1", Transmission::Header));
    let header = request
        .headers
        .iter_mut()
        .find(|(n, _)| n == "Authorization")
        .unwrap();
    header.1 = header
        .1
        .replacen("oauth_signature=\"", "oauth_signature=\"AAAA", 1);
    send(&request)
        .await
        .assert_oauth1_error(401, "invalid_signature");
}

on_both_stores!(world = world; unknown_client);
async fn unknown_client(w: &World) {
    let mut unknown = w.client.clone();
    unknown.id = "nobody".to_owned();
    initiate_with(w, &unknown, &[("oauth_callback", "oob")])
        .await
        .assert_oauth1_error(401, "invalid_client");
}

on_both_stores!(world = world; replayed_nonce);
async fn replayed_nonce(w: &World) {
    let request = signed_initiate(w, &w.client);
    assert_works_once(&request).await;
}

on_both_stores!(world = world; stale_and_future_timestamps);
async fn stale_and_future_timestamps(w: &World) {
    // Outside the 300 s window by a few seconds: the server reads the wall
    // clock after this test does, so a second that ticks in between must
    // not bring the future timestamp into the window (the exact boundary is
    // tested with an injected clock in conformance/tests/rfc5849_validation.rs).
    for offset in [-305i64, 305] {
        let timestamp = (now() as i64 + offset) as u64;
        let request = w
            .client
            .signer(None)
            .sign_at(
                Request::new("POST", w.server.url("/oauth1/initiate")),
                &[("oauth_callback", "oob")],
                timestamp,
                &format!("nonce{offset}"),
            )
            .unwrap();
        send(&request)
            .await
            .assert_oauth1_error(401, "invalid_timestamp");
    }
    let header = format!(
        "OAuth oauth_consumer_key=\"{}\", oauth_signature_method=\"HMAC-SHA1\", oauth_signature=\"x\", \
         oauth_timestamp=\"soon\", oauth_nonce=\"n\", oauth_callback=\"oob\"",
        w.client.id
    );
    initiate_with_header(w, &header)
        .await
        .assert_oauth1_error(400, "invalid_request");
}

on_both_stores!(world = world; missing_or_unregistered_callback);
async fn missing_or_unregistered_callback(w: &World) {
    initiate_with(w, &w.client, &[])
        .await
        .assert_oauth1_error(400, "missing_required_parameter");
    initiate_with(
        w,
        &w.client,
        &[("oauth_callback", "https://evil.example/cb")],
    )
    .await
    .assert_oauth1_error(400, "invalid_request");
    initiate_with(w, &w.client, &[("oauth_callback", "not a uri")])
        .await
        .assert_oauth1_error(400, "invalid_request");
}

on_both_stores!(world = world; a_verifier_works_once);
async fn a_verifier_works_once(w: &World) {
    let (token, secret) = initiate(&w.server, &w.client, CALLBACK).await;
    let verifier = grant(&w.server, &w.cookie, &token).await;
    assert_eq!(
        exchange(&w.server, &w.client, (&token, &secret), &verifier)
            .await
            .status,
        200
    );
    exchange(&w.server, &w.client, (&token, &secret), &verifier)
        .await
        .assert_oauth1_error(401, "invalid_token");
}

on_both_stores!(world = world; a_wrong_verifier_ends_the_temporary_credential);
async fn a_wrong_verifier_ends_the_temporary_credential(w: &World) {
    let (token, secret) = initiate(&w.server, &w.client, CALLBACK).await;
    let verifier = grant(&w.server, &w.cookie, &token).await;
    exchange(&w.server, &w.client, (&token, &secret), "guess")
        .await
        .assert_oauth1_error(401, "invalid_verifier");
    // No second guess, even with the right verifier.
    exchange(&w.server, &w.client, (&token, &secret), &verifier)
        .await
        .assert_oauth1_error(401, "invalid_token");
}

on_both_stores!(world = world; an_unanswered_request_has_no_verifier);
async fn an_unanswered_request_has_no_verifier(w: &World) {
    let (token, secret) = initiate(&w.server, &w.client, CALLBACK).await;
    exchange(&w.server, &w.client, (&token, &secret), "early")
        .await
        .assert_oauth1_error(401, "invalid_verifier");
    // It can still be granted and exchanged.
    let verifier = grant(&w.server, &w.cookie, &token).await;
    assert_eq!(
        exchange(&w.server, &w.client, (&token, &secret), &verifier)
            .await
            .status,
        200
    );
}

on_both_stores!(world = world; duplicated_parameter);
async fn duplicated_parameter(w: &World) {
    let request = w.client.signer(None).sign(
        Request::new("POST", w.server.url("/oauth1/initiate?oauth_nonce=again")),
        &[("oauth_callback", "oob")],
    );
    // The signer refuses to sign it; send the header plus the query by hand.
    assert!(request.is_err());
    let signed = signed_initiate(w, &w.client);
    let mut duplicated = signed.clone();
    duplicated.uri.push_str("?oauth_callback=oob");
    send(&duplicated)
        .await
        .assert_oauth1_error(400, "duplicated_oauth_protocol_parameter");
}

on_both_stores!(world = world; unsupported_signature_method);
async fn unsupported_signature_method(w: &World) {
    let header = format!(
        "OAuth oauth_consumer_key=\"{}\", oauth_signature_method=\"HMAC-MD5\", oauth_signature=\"x\", \
         oauth_timestamp=\"{}\", oauth_nonce=\"n\", oauth_callback=\"oob\"",
        w.client.id,
        now()
    );
    initiate_with_header(w, &header)
        .await
        .assert_oauth1_error(400, "unsupported_signature_method");
}

on_both_stores!(world = world; a_token_is_useless_to_another_client);
async fn a_token_is_useless_to_another_client(w: &World) {
    let token = three_legged(&w.server, &w.client, &w.cookie).await;
    me(&w.server, &w.other, (&token.0, &token.1))
        .await
        .assert_oauth1_error(401, "invalid_token");
    // And a temporary credential is no token credential.
    let (temporary, secret) = initiate(&w.server, &w.client, CALLBACK).await;
    me(&w.server, &w.client, (&temporary, &secret))
        .await
        .assert_oauth1_error(401, "invalid_token");
    // Nor can another client exchange it.
    let verifier = grant(&w.server, &w.cookie, &temporary).await;
    exchange(&w.server, &w.other, (&temporary, &secret), &verifier)
        .await
        .assert_oauth1_error(401, "invalid_token");
}

on_both_stores!(world = world; malformed_header);
async fn malformed_header(w: &World) {
    for header in [
        "OAuth oauth_consumer_key=\"unterminated",
        "OAuth oauth_consumer_key=unquoted",
        "OAuth oauth_consumer_key=\"a\" oauth_nonce=\"missing comma\"",
        "OAuth oauth_consumer_key=\"%zz\"",
    ] {
        let answer = initiate_with_header(w, header).await;
        assert_eq!(answer.status, 400, "{header}: {}", answer.body);
        assert_eq!(
            answer.form("error").as_deref(),
            Some("invalid_request"),
            "{header}"
        );
    }
}

on_both_stores!(world = world; resources_need_credentials);
async fn resources_need_credentials(w: &World) {
    let answer = get_page(&w.server, "/api/me", None).await;
    answer.assert_oauth1_error(401, "missing_credentials");
    let token = three_legged(&w.server, &w.client, &w.cookie).await;
    let mut wrong = (token.0.clone(), token.1.clone());
    wrong.1.push('x');
    me(&w.server, &w.client, (&wrong.0, &wrong.1))
        .await
        .assert_oauth1_error(401, "invalid_signature");
    let request = w
        .client
        .signer(Some((&token.0, &token.1)))
        .sign(Request::new("GET", w.server.url("/api/me")), &[])
        .unwrap();
    assert_works_once(&request).await;
}

on_both_stores!(world = world; http_level_mistakes_get_clear_statuses);
async fn http_level_mistakes_get_clear_statuses(w: &World) {
    assert_eq!(get_page(&w.server, "/no/such/page", None).await.status, 404);
    assert_eq!(get_page(&w.server, "/oauth1/token", None).await.status, 405);
    let big = vec![("padding".to_owned(), "x".repeat(70 * 1024))];
    assert_eq!(
        post_form(&w.server, "/oauth1/initiate", None, &big)
            .await
            .status,
        413
    );
    // A body of unknown length is limited too.
    let chunks = futures::stream::iter((0..100).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 1024])));
    let answer = http()
        .post(w.server.url("/oauth1/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 413);
}

on_both_stores!(world = world; thousands_of_parameters_are_refused_before_the_signature);
async fn thousands_of_parameters_are_refused_before_the_signature(w: &World) {
    // Signed with the callback alone (the signer itself refuses to sign
    // thousands of parameters), then sent with 6,000 more in the body: the
    // count is refused, 400, before the signature would have been (401).
    let names: Vec<String> = (0..6000).map(|i| format!("p{i}")).collect();
    let flood: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    let signed = signed_initiate(w, &w.client);
    let mut flooded = Request::new("POST", w.server.url("/oauth1/initiate")).with_form(&flood);
    flooded.headers.extend(
        signed
            .headers
            .into_iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("authorization")),
    );
    send(&flooded)
        .await
        .assert_oauth1_error(400, "invalid_request");
    // A request within the limit is served as before.
    let mut within: Vec<(&str, &str)> = flood[..200].to_vec();
    within.push(("oauth_callback", "oob"));
    let answer = initiate_with(w, &w.client, &within).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}
