//! The example app (`examples/provider`) over real HTTP, as a client and
//! a person using the app's own sign-in walk it: OAuth 1 with HMAC-SHA1,
//! the OAuth 2 code flow with PKCE, refresh, revocation, introspection,
//! client credentials, the password grant, and what the adapter itself
//! answers (body limit, methods, challenges).

#[allow(dead_code)]
#[path = "../examples/provider/app.rs"]
mod app;
#[path = "../examples/provider/consent.rs"]
mod consent;
mod support;
#[path = "../examples/provider/users.rs"]
mod users;

use app::CALLBACK;
use credlog_core::rfc5849::encoding::form_encode;
use serde_json::json;
use support::*;

/// A temporary credential with the callback: token and secret.
async fn initiate(example: &Example) -> (String, String) {
    let signer = example.signer(None);
    let request = example.signed(
        &signer,
        "POST",
        "/oauth1/initiate",
        &[("oauth_callback", CALLBACK)],
    );
    let answer = send(&request).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.form("oauth_callback_confirmed").as_deref(),
        Some("true")
    );
    (
        answer.form("oauth_token").expect("oauth_token"),
        answer.form("oauth_token_secret").expect("its secret"),
    )
}

/// Trades a temporary credential and a verifier at the token endpoint.
async fn exchange(example: &Example, temporary: (&str, &str), verifier: &str) -> Answer {
    let signer = example.signer(Some(temporary));
    let request = example.signed(
        &signer,
        "POST",
        "/oauth1/token",
        &[("oauth_verifier", verifier)],
    );
    send(&request).await
}

fn oauth1_error(answer: &Answer) -> String {
    answer
        .form("error")
        .unwrap_or_else(|| panic!("an error: {}", answer.body))
}

#[tokio::test]
async fn the_oauth1_three_legged_flow_reaches_the_api() {
    let example = Example::start().await;
    let (token, secret) = initiate(&example).await;
    let path = format!("/oauth1/authorize?oauth_token={token}");
    let cookie = example.sign_in_for(&path, "alice", "wonderland").await;

    let page = example.get(&path, Some(&cookie)).await;
    assert_eq!(
        element_text(&page.body, "client").as_deref(),
        Some("Example app")
    );
    // A form without the page's CSRF token is not an answer.
    let forged = example
        .post_form(
            "/oauth1/authorize",
            Some(&cookie),
            &[
                ("oauth_token".to_owned(), token.clone()),
                ("confirm".to_owned(), "yes".to_owned()),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    // Nor is one another site sent.
    let cross_site = http()
        .post(example.url("/oauth1/authorize"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&[("oauth_token", token.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);

    let granted = example.decide(&path, &cookie, "yes").await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    assert_eq!(
        granted.redirect_query(CALLBACK, "oauth_token"),
        Some(token.clone())
    );
    let verifier = granted
        .redirect_query(CALLBACK, "oauth_verifier")
        .expect("a verifier");

    let answer = exchange(&example, (&token, &secret), &verifier).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let access = answer.form("oauth_token").expect("a token credential");
    let access_secret = answer.form("oauth_token_secret").expect("its secret");
    // The temporary credential is spent.
    let again = exchange(&example, (&token, &secret), &verifier).await;
    assert_eq!(again.status, 401);

    let signer = example.signer(Some((&access, &access_secret)));
    let me = example.signed(&signer, "GET", "/api/me", &[]);
    let answer = send(&me).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"user": "alice", "client_id": example.clients.confidential.id, "scope": "openid profile email"})
    );
    // The same signed request, nonce and all, works once.
    let replay = send(&me).await;
    assert_eq!(replay.status, 401);
    assert_eq!(oauth1_error(&replay), "invalid_nonce");
}

#[tokio::test]
async fn denying_or_a_wrong_verifier_gets_no_oauth1_token() {
    let example = Example::start().await;
    let (token, secret) = initiate(&example).await;
    let path = format!("/oauth1/authorize?oauth_token={token}");
    let cookie = example.sign_in_for(&path, "bob", "builder").await;
    let denied = example.decide(&path, &cookie, "no").await;
    assert_eq!(denied.status, 302);
    assert_eq!(
        denied.redirect_query(CALLBACK, "denied"),
        Some(token.clone())
    );
    assert_eq!(
        exchange(&example, (&token, &secret), "any").await.status,
        401
    );

    let (token, secret) = initiate(&example).await;
    let path = format!("/oauth1/authorize?oauth_token={token}");
    let granted = example.decide(&path, &cookie, "yes").await;
    let verifier = granted
        .redirect_query(CALLBACK, "oauth_verifier")
        .expect("a verifier");
    let wrong = exchange(&example, (&token, &secret), "not-the-verifier").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(oauth1_error(&wrong), "invalid_verifier");
    // No second guess: the right verifier no longer works either.
    let right = exchange(&example, (&token, &secret), &verifier).await;
    assert_eq!(right.status, 401, "{}", right.body);
}

/// The public client's authorization request, with PKCE S256.
fn code_request(client_id: &str, verifier: &str, scope: &str) -> String {
    let challenge = credlog_core::rfc7636::s256(verifier);
    let query = form_encode([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "s-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    format!("/oauth2/authorize?{query}")
}

/// The code the signed-in owner of `cookie` grants at `path`.
async fn code_for(example: &Example, path: &str, cookie: &str) -> String {
    let granted = example.decide(path, cookie, "yes").await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    assert_eq!(
        granted.redirect_query(CALLBACK, "state").as_deref(),
        Some("s-1")
    );
    granted.redirect_query(CALLBACK, "code").expect("a code")
}

#[tokio::test]
async fn the_code_flow_with_pkce_reaches_the_api_until_revoked() {
    let example = Example::start().await;
    let public = example.clients.public.id.clone();
    let verifier = code_verifier();
    let path = code_request(&public, &verifier, "profile");
    let cookie = example.sign_in_for(&path, "bob", "builder").await;
    let code = code_for(&example, &path, &cookie).await;

    // The wrong verifier is refused.
    let wrong = example
        .post(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("client_id", &public),
                ("code_verifier", &code_verifier()),
            ],
        )
        .await;
    wrong.assert_error(400, "invalid_grant");

    let code = code_for(&example, &path, &cookie).await;
    let tokens = example
        .post(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("client_id", &public),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .tokens();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "profile");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    let me = example.me(access).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        json!({"user": "bob", "client_id": public, "scope": "profile"})
    );

    let refreshed = example
        .post(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", &public),
            ],
        )
        .await
        .tokens();
    let access = refreshed["access_token"].as_str().unwrap();
    let refresh = refreshed["refresh_token"].as_str().unwrap_or(refresh);
    assert_eq!(example.me(access).await.status, 200);

    // Revoking the refresh token ends its whole grant (RFC 7009 2.1).
    let revoked = example
        .post(
            "/oauth2/revoke",
            &[("token", refresh), ("client_id", &public)],
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let me = example.me(access).await;
    assert_eq!(me.status, 401);
    let challenge = me.header("www-authenticate").expect("a challenge");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test]
async fn client_credentials_introspect_until_revoked() {
    let example = Example::start().await;
    let tokens = example
        .post_as_app(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("scope", "profile")],
        )
        .await
        .tokens();
    let access = tokens["access_token"].as_str().unwrap();
    let me = example.me(access).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        json!({"user": null, "client_id": example.clients.confidential.id, "scope": "profile"})
    );

    let introspected = example
        .post_as_app("/oauth2/introspect", &[("token", access)])
        .await;
    assert_eq!(introspected.status, 200, "{}", introspected.body);
    let introspected = introspected.json();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["client_id"], example.clients.confidential.id);
    assert_eq!(introspected["scope"], "profile");

    let revoked = example
        .post_as_app("/oauth2/revoke", &[("token", access)])
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let introspected = example
        .post_as_app("/oauth2/introspect", &[("token", access)])
        .await;
    assert_eq!(introspected.json(), json!({"active": false}));
    assert_eq!(example.me(access).await.status, 401);

    // A token without `profile` may not read /api/me.
    let narrow = example
        .post_as_app(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("scope", "email")],
        )
        .await
        .tokens();
    let me = example.me(narrow["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 403, "{}", me.body);
    let challenge = me.header("www-authenticate").expect("a challenge");
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
}

#[tokio::test]
async fn the_password_grant_checks_the_apps_own_users() {
    let example = Example::start().await;
    let grant = |password: &'static str| {
        [
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", password),
            ("scope", "profile"),
        ]
    };
    let wrong = example.post_as_app("/oauth2/token", &grant("not-it")).await;
    wrong.assert_error(400, "invalid_grant");
    let tokens = example
        .post_as_app("/oauth2/token", &grant("wonderland"))
        .await
        .tokens();
    let access = tokens["access_token"].as_str().unwrap();
    let introspected = example
        .post_as_app("/oauth2/introspect", &[("token", access)])
        .await
        .json();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["username"], "alice");
}

#[tokio::test]
async fn the_adapter_limits_bodies_names_methods_and_challenges() {
    let example = Example::start().await;
    let large = http()
        .post(example.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 65 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), 413);

    let wrong_method = example.get("/oauth2/token", None).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));

    let anonymous = example.get("/api/me", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header("x-content-type-options"), Some("nosniff"));
    let challenges = anonymous.header_all("www-authenticate");
    assert!(
        challenges.iter().any(|c| c.starts_with("OAuth realm=")),
        "{challenges:?}"
    );
    assert!(
        challenges.iter().any(|c| c.starts_with("Bearer realm=")),
        "{challenges:?}"
    );
    // The users the example prints, as it prints them.
    assert_eq!(users::listing(), "alice / wonderland\nbob / builder");
    // Paths the provider does not serve are the app's (here: none).
    assert_eq!(example.get("/oauth2/nothing", None).await.status, 404);
}

#[tokio::test]
async fn on_sled_what_was_issued_outlives_a_restart() {
    use credlog_storage_sled::SledStore;
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("data")).unwrap();
    let example = Example::on(std::sync::Arc::new(store), dir).await;
    let tokens = example
        .post_as_app(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("scope", "profile")],
        )
        .await
        .tokens();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let first = example.clients.confidential.id.clone();
    let dir = example.stop().await;

    let store = SledStore::open(dir.path().join("data")).unwrap();
    let example = Example::on(std::sync::Arc::new(store), dir).await;
    let me = example.me(&access).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["client_id"], first.as_str());
    // The users are still the app's: alice signs in again.
    let path = code_request(&example.clients.public.id, &code_verifier(), "profile");
    example.sign_in_for(&path, "alice", "wonderland").await;
}
