//! CONTRACT.md "Users and sessions": a scope holds at most 64 tokens of at
//! most 128 characters. A longer one is 400 `invalid_scope` at every
//! endpoint that reads a `scope` (authorize, token, device authorization)
//! and 400 `invalid_client_metadata` at registration (JSON and the form on
//! `/clients`); `credlog client add --scope` refuses it as a usage error.
//! Played as an attacker would, through the `credlog` binary over HTTP.

mod support;

use std::process::{Command, Stdio};

use support::process::{credlog, Running};
use support::*;

/// The 64 tokens a client registers: 63 short ones and one of 128
/// characters, the most the contract allows.
fn sixty_four() -> Vec<String> {
    let mut tokens: Vec<String> = (0..63).map(|n| format!("t{n:02}")).collect();
    tokens.push("x".repeat(128));
    tokens
}

/// The 64 tokens and one more: 65.
fn sixty_five() -> String {
    let mut tokens = sixty_four();
    tokens.push("extra".to_owned());
    tokens.join(" ")
}

/// A token of 129 characters, among tokens the client has.
fn one_too_long() -> String {
    format!("t00 {} t01", "x".repeat(129))
}

/// `n` distinct tokens of one to three characters (base 62), so that
/// thousands of them fit in a request body (64 KiB at most).
fn short_tokens(n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let token = |mut i: usize| {
        let mut token = Vec::new();
        loop {
            token.push(DIGITS[i % 62]);
            i /= 62;
            if i == 0 {
                break;
            }
            i -= 1;
        }
        String::from_utf8(token).expect("ASCII")
    };
    (0..n).map(token).collect::<Vec<_>>().join(" ")
}

/// The scopes no endpoint may accept.
fn over_the_caps() -> [(&'static str, String); 2] {
    [
        ("65 tokens", sixty_five()),
        ("a token of 129 characters", one_too_long()),
    ]
}

/// Whether an error description says which cap was passed, as a user
/// reading it would want.
fn names_the_cap(description: &str) -> bool {
    description.contains("64 tokens") || description.contains("128 characters")
}

/// `credlog serve --memory --demo` on a free port, and the demo user's session.
async fn demo_server() -> (Running, TestServer, String) {
    let mut command = credlog();
    command.args(["serve", "--memory", "--demo", "--addr", "127.0.0.1:0"]);
    let running = Running::spawn(command.stderr(Stdio::null()));
    let server = TestServer::remote(&running.base());
    let session = login(&server, "demo", "demo").await;
    (running, server, session)
}

/// `POST /clients` with JSON metadata naming `scope`.
async fn register_json(server: &TestServer, session: &str, scope: &str) -> Answer {
    let metadata = serde_json::json!({
        "client_name": "Scope test",
        "redirect_uris": [CALLBACK],
        "scope": scope,
        "grant_types": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let request = http()
        .post(server.url("/clients"))
        .header("Cookie", session)
        .header("Content-Type", "application/json")
        .body(metadata.to_string());
    Answer::from(request.send().await.unwrap()).await
}

/// `POST /clients` from the page's own form, naming `scope`.
async fn register_form(server: &TestServer, session: &str, scope: &str) -> Answer {
    let page = get_page(server, "/clients", Some(session)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut form = hidden_inputs(&page.body);
    for (name, value) in [
        ("client_name", "Scope form test"),
        ("redirect_uris", CALLBACK),
        ("scope", scope),
        ("grant_types", "authorization_code"),
        ("token_endpoint_auth_method", "client_secret_basic"),
    ] {
        form.push((name.to_owned(), value.to_owned()));
    }
    post_form(server, "/clients", Some(session), &form).await
}

/// The JSON error of a refused request.
fn assert_refused(answer: &Answer, error: &str, what: &str) {
    assert_eq!(answer.status, 400, "{what}: {}", answer.body);
    let json = answer.json();
    assert_eq!(json["error"], error, "{what}: {}", answer.body);
    let description = json["error_description"].as_str().unwrap_or_default();
    assert!(names_the_cap(description), "{what}: {description}");
}

#[tokio::test]
async fn registration_refuses_a_scope_over_the_caps_with_invalid_client_metadata() {
    let (_running, server, session) = demo_server().await;
    let accepted = register_json(&server, &session, &sixty_four().join(" ")).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(
        accepted.json()["scope"]
            .as_str()
            .map(|s| s.split(' ').count()),
        Some(64)
    );

    let mut refused = over_the_caps().to_vec();
    refused.push(("15,000 tokens", short_tokens(15_000)));
    for (what, scope) in &refused {
        let answer = register_json(&server, &session, scope).await;
        assert_refused(&answer, "invalid_client_metadata", what);
    }

    let from_form = register_form(&server, &session, &sixty_four().join(" ")).await;
    assert_eq!(from_form.status, 201, "{}", from_form.body);
    for (what, scope) in &over_the_caps() {
        let answer = register_form(&server, &session, scope).await;
        assert_eq!(answer.status, 400, "form, {what}: {}", answer.body);
        assert!(names_the_cap(&answer.body), "form, {what}: {}", answer.body);
    }

    // Only the two accepted registrations exist.
    let list = http()
        .get(server.url("/clients"))
        .header("Cookie", &session)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let list = Answer::from(list).await;
    let names: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|client| {
            client["client_name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|name| name.starts_with("Scope"))
        .collect();
    assert_eq!(names.len(), 2, "{}", list.body);
}

/// A registered client with the 64 tokens: its id and secret.
async fn client_with_sixty_four(server: &TestServer, session: &str) -> (String, String) {
    let answer = register_json(server, session, &sixty_four().join(" ")).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let json = answer.json();
    (
        json["client_id"].as_str().unwrap().to_owned(),
        json["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// `POST path` as the client (HTTP Basic) with `fields`.
async fn post_as(
    server: &TestServer,
    path: &str,
    client: &(String, String),
    fields: &[(&str, &str)],
) -> Answer {
    let body = credlog_core::rfc5849::encoding::form_encode(fields.iter().copied());
    post_body_as(server, path, client, body).await
}

/// `POST path` as the client (HTTP Basic) with this form body.
async fn post_body_as(
    server: &TestServer,
    path: &str,
    (id, secret): &(String, String),
    body: String,
) -> Answer {
    let request = http()
        .post(server.url(path))
        .basic_auth(id, Some(secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    Answer::from(request.send().await.unwrap()).await
}

#[tokio::test]
async fn every_grant_taking_a_scope_refuses_one_over_the_caps_with_invalid_scope() {
    let (_running, server, session) = demo_server().await;
    let client = client_with_sixty_four(&server, &session).await;
    let all = sixty_four().join(" ");

    // client_credentials, password and refresh_token each take `scope`.
    let credentials = [("grant_type", "client_credentials")];
    let password = [
        ("grant_type", "password"),
        ("username", "demo"),
        ("password", "demo"),
    ];
    let issued = post_as(
        &server,
        "/oauth2/token",
        &client,
        &[password.as_slice(), &[("scope", all.as_str())]].concat(),
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_eq!(issued.json()["scope"].as_str(), Some(all.as_str()));
    let refresh_token = issued.json()["refresh_token"].as_str().unwrap().to_owned();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
    ];
    for (grant, fields) in [
        ("client_credentials", credentials.as_slice()),
        ("password", password.as_slice()),
        ("refresh_token", refresh.as_slice()),
    ] {
        for (what, scope) in over_the_caps() {
            let with_scope = [fields, &[("scope", scope.as_str())]].concat();
            let answer = post_as(&server, "/oauth2/token", &client, &with_scope).await;
            assert_refused(&answer, "invalid_scope", &format!("{grant}, {what}"));
        }
        let with_scope = [fields, &[("scope", all.as_str())]].concat();
        let answer = post_as(&server, "/oauth2/token", &client, &with_scope).await;
        assert_eq!(answer.status, 200, "{grant}, 64 tokens: {}", answer.body);
    }
}

#[tokio::test]
async fn device_authorization_refuses_a_scope_over_the_caps_with_invalid_scope() {
    let (_running, server, session) = demo_server().await;
    let client = client_with_sixty_four(&server, &session).await;
    let path = "/oauth2/device_authorization";
    for (what, scope) in over_the_caps() {
        let answer = post_as(&server, path, &client, &[("scope", scope.as_str())]).await;
        assert_refused(&answer, "invalid_scope", what);
    }
    // The finding's request: a body of nearly 64 KiB, all scope tokens.
    let body = format!("scope={}", short_tokens(15_000).replace(' ', "+"));
    assert!(body.len() > 55_000 && body.len() < 65_536, "{}", body.len());
    let answer = post_body_as(&server, path, &client, body).await;
    assert_refused(&answer, "invalid_scope", "15,000 tokens");

    let all = sixty_four().join(" ");
    let answer = post_as(&server, path, &client, &[("scope", all.as_str())]).await;
    assert_eq!(answer.status, 200, "64 tokens: {}", answer.body);
}

#[tokio::test]
async fn authorize_redirects_a_scope_over_the_caps_back_with_invalid_scope() {
    let (_running, server, session) = demo_server().await;
    let (client_id, _) = client_with_sixty_four(&server, &session).await;
    let authorize = |scope: &str| {
        let query = credlog_core::rfc5849::encoding::form_encode([
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", scope),
            ("state", "s1"),
        ]);
        let path = format!("/oauth2/authorize?{query}");
        let (server, session) = (&server, session.as_str());
        async move { get_page(server, &path, Some(session)).await }
    };
    for (what, scope) in over_the_caps() {
        let answer = authorize(&scope).await;
        // RFC 6749 4.1.2.1: the client and its redirect URI are good, so
        // the error goes back to the client.
        assert!(
            matches!(answer.status, 302 | 303),
            "{what}: {} {}",
            answer.status,
            answer.body
        );
        let location = answer.header("location").unwrap_or_default();
        assert!(location.starts_with(CALLBACK), "{what}: {location}");
        let query = location_query(&answer);
        let field = |name: &str| {
            query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(field("error"), Some("invalid_scope"), "{what}: {location}");
        assert_eq!(field("state"), Some("s1"), "{what}: {location}");
        assert!(
            names_the_cap(field("error_description").unwrap_or_default()),
            "{what}: {location}"
        );
    }
    let consent = authorize(&sixty_four().join(" ")).await;
    assert_eq!(consent.status, 200, "64 tokens: {}", consent.body);
}

/// `credlog client add --scope SCOPE` on a data directory holding user alice.
fn client_add(data: &std::path::Path, scope: &str) -> std::process::Output {
    credlog()
        .args(["client", "add", "--owner", "alice", "--name", "App"])
        .args(["--redirect-uri", "https://app.example/cb", "--scope", scope])
        .arg("--data")
        .arg(data)
        .output()
        .unwrap()
}

#[test]
fn client_add_refuses_a_scope_over_the_caps_as_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let added = Command::new(env!("CARGO_BIN_EXE_credlog"))
        .args([
            "user",
            "add",
            "alice",
            "--password",
            "alice's password",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    for (what, scope) in over_the_caps() {
        let refused = client_add(&data, &scope);
        assert_eq!(refused.status.code(), Some(2), "{what}: {refused:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr}");
        assert!(stderr.contains("--scope"), "{what}: {stderr}");
        assert!(names_the_cap(&stderr), "{what}: {stderr}");
        assert!(refused.stdout.is_empty(), "{what}");
    }
    let listed = credlog()
        .args(["client", "list", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    assert!(listed.stdout.is_empty(), "no client was added");

    let accepted = client_add(&data, &sixty_four().join(" "));
    assert!(accepted.status.success(), "{accepted:?}");
}
