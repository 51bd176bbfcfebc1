//! CONTRACT.md "Users and sessions", played by an attacker against the
//! `credlog` binary over real HTTP: client secrets guessed at the token,
//! revocation, introspection and device authorization endpoints (10 in a
//! row for one client, 60 a minute from one address: then 429
//! `temporarily_unavailable` with `Retry-After`, even for the right
//! secret), the device authorization endpoint's request rate (60 a minute
//! per client and per address), and user codes guessed between typings of
//! one's own code (the count is never reset by a right code). On
//! PostgreSQL two servers on one database count the same guesses.

mod support;

use std::process::Stdio;

use credlog_core::rfc8628::DEVICE_CODE_GRANT;
use support::process::{credlog, Running};
use support::*;

on_both_stores!(
    backend;
    ten_wrong_secrets_lock_the_client_at_every_endpoint,
    sixty_failed_client_authentications_lock_the_address,
    device_authorization_allows_sixty_requests_a_minute,
    one_device_client_gets_sixty_codes_a_minute_from_any_address,
    a_right_user_code_does_not_reset_the_guess_count,
);

/// What a server's store lives in, kept while it runs.
type Keep = (
    tempfile::TempDir,
    Option<credlog_storage_postgres::testing::TestDatabase>,
);

/// A running `credlog serve --demo` and what the tests need of it.
struct Node {
    _running: Running,
    server: TestServer,
    /// The confidential demo client (`client_secret_basic`).
    client: (String, String),
    /// The RSA demo client, also `client_secret_basic`: another client.
    other: (String, String),
}

/// Where a node's store is: a fresh one of `backend`'s kind, or (for a
/// second node) the PostgreSQL database of the first.
fn store_args(backend: Backend, keep: &Keep) -> Vec<String> {
    match backend {
        Backend::Memory => vec!["--memory".into()],
        Backend::Sled => vec![
            "--data".into(),
            keep.0.path().join("data").display().to_string(),
        ],
        Backend::Postgres => vec![
            "--postgres".into(),
            keep.1.as_ref().expect("a database").url(),
        ],
    }
}

async fn keep_for(backend: Backend) -> Keep {
    let dir = tempfile::tempdir().unwrap();
    let database = match backend {
        Backend::Postgres => Some(
            credlog_storage_postgres::testing::TestDatabase::create()
                .await
                .expect("PostgreSQL answers"),
        ),
        _ => None,
    };
    (dir, database)
}

/// `credlog serve --demo` on a free port over the store `keep` holds.
fn start(backend: Backend, keep: &Keep) -> Node {
    start_with(backend, keep, &[])
}

/// [`start`] with the environment variables `env` set.
fn start_with(backend: Backend, keep: &Keep, env: &[(&str, &str)]) -> Node {
    let mut command = credlog();
    command
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .args(store_args(backend, keep))
        .envs(env.iter().copied())
        .env("CREDLOG_LOG", "warn");
    let running = Running::spawn(command.stderr(Stdio::null()));
    let base = running.base();
    let mut clients = Vec::new();
    while clients.len() < 2 {
        let line = running.line();
        assert!(!line.is_empty(), "the demo clients were not printed");
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|field| field.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        };
        if let (Some(id), Some(secret)) = (field("client_id"), field("client_secret")) {
            clients.push((id, secret));
        }
    }
    Node {
        _running: running,
        server: TestServer::remote(&base),
        other: clients.pop().unwrap(),
        client: clients.pop().unwrap(),
    }
}

/// `POST path` with `form`, `Authorization: Basic` from `basic` and `headers`.
async fn post(
    node: &Node,
    path: &str,
    basic: Option<(&str, &str)>,
    headers: &[(&str, &str)],
    form: &[(&str, &str)],
) -> Answer {
    let mut request = http()
        .post(node.server.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(credlog_core::rfc5849::encoding::form_encode(
            form.iter().copied(),
        ));
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Answer::from(request.send().await.unwrap()).await
}

/// The four endpoints where a client authenticates, each with a form it accepts.
const ENDPOINTS: [(&str, &[(&str, &str)]); 4] = [
    ("/oauth2/token", &[("grant_type", "client_credentials")]),
    ("/oauth2/revoke", &[("token", "no-such-token")]),
    ("/oauth2/introspect", &[("token", "no-such-token")]),
    ("/oauth2/device_authorization", &[]),
];

/// 429 `temporarily_unavailable` with a `Retry-After` of 1 to `most`
/// seconds; returns the `Retry-After`.
fn assert_locked(answer: &Answer, most: u64, what: &str) -> u64 {
    assert_eq!(answer.status, 429, "{what}: {}", answer.body);
    assert_eq!(
        answer.json()["error"],
        "temporarily_unavailable",
        "{what}: {}",
        answer.body
    );
    let retry_after: u64 = answer
        .header("retry-after")
        .unwrap_or_else(|| panic!("{what}: no Retry-After"))
        .parse()
        .unwrap();
    assert!((1..=most).contains(&retry_after), "{what}: {retry_after}");
    retry_after
}

/// Ten wrong secrets for one client (spread over the four endpoints and,
/// on PostgreSQL, over two servers) are each 401; the eleventh attempt,
/// and then the right secret, get 429 at token, revocation and
/// introspection on every server. Another client goes on.
async fn ten_wrong_secrets_lock_the_client_at_every_endpoint(backend: Backend) {
    let keep = keep_for(backend).await;
    let first = start(backend, &keep);
    let second = (backend == Backend::Postgres).then(|| start(backend, &keep));
    let nodes: Vec<&Node> = [Some(&first), second.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    let (id, secret) = first.client.clone();
    for n in 0..10 {
        let node = nodes[n % nodes.len()];
        let (path, form) = ENDPOINTS[n % ENDPOINTS.len()];
        let answer = post(node, path, Some((&id, "wrong secret")), &[], form).await;
        assert_eq!(answer.status, 401, "guess {n} at {path}: {}", answer.body);
    }
    let eleventh = post(
        nodes[0],
        "/oauth2/token",
        Some((&id, "wrong")),
        &[],
        ENDPOINTS[0].1,
    )
    .await;
    let retry_after = assert_locked(&eleventh, 60, "the 11th wrong secret");
    eprintln!("client lock: 429 from the 11th attempt, Retry-After {retry_after}");
    for node in &nodes {
        for (path, form) in &ENDPOINTS[..3] {
            let right = post(node, path, Some((&id, &secret)), &[], form).await;
            assert_locked(&right, 60, &format!("the right secret at {path}"));
        }
    }
    // Another client, from the same address, is not locked.
    let (other_id, other_secret) = first.other.clone();
    for node in &nodes {
        let answer = post(
            node,
            "/oauth2/token",
            Some((&other_id, &other_secret)),
            &[],
            ENDPOINTS[0].1,
        )
        .await;
        assert_eq!(answer.status, 200, "another client: {}", answer.body);
    }
}

/// Sixty failed client authentications from one address in a minute,
/// each for another client id: each is 401, then the address is locked,
/// even for a client that never failed, with its right secret.
async fn sixty_failed_client_authentications_lock_the_address(backend: Backend) {
    let keep = keep_for(backend).await;
    let node = start(backend, &keep);
    for n in 0..60 {
        let (path, form) = ENDPOINTS[n % ENDPOINTS.len()];
        let guessed = format!("guessed-client-{n}");
        let answer = post(&node, path, Some((&guessed, "secret")), &[], form).await;
        assert_eq!(answer.status, 401, "failure {n} at {path}: {}", answer.body);
    }
    let (id, secret) = node.client.clone();
    let answer = post(
        &node,
        "/oauth2/token",
        Some((&id, &secret)),
        &[],
        ENDPOINTS[0].1,
    )
    .await;
    let retry_after = assert_locked(&answer, 60, "the 61st request from the address");
    eprintln!("address lock: 429 from the 61st request, Retry-After {retry_after}");
}

/// Registers a public device client owned by demo, over `POST /clients`.
async fn device_client(node: &Node) -> String {
    let cookie = login(&node.server, "demo", "demo").await;
    let registered = Answer::from(
        http()
            .post(node.server.url("/clients"))
            .header("Cookie", &cookie)
            .header("Content-Type", "application/json")
            .body(
                serde_json::json!({
                    "client_name": "Living-room TV",
                    "redirect_uris": [],
                    "grant_types": [DEVICE_CODE_GRANT],
                    "response_types": [],
                    "token_endpoint_auth_method": "none",
                    "scope": "profile",
                })
                .to_string(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    registered.json()["client_id"].as_str().unwrap().to_owned()
}

/// A public device client asks for codes 60 times in a minute (200 each);
/// the 61st is 429 with `Retry-After`.
async fn device_authorization_allows_sixty_requests_a_minute(backend: Backend) {
    let keep = keep_for(backend).await;
    let node = start(backend, &keep);
    let client = device_client(&node).await;
    for n in 0..60 {
        let answer = post(
            &node,
            "/oauth2/device_authorization",
            None,
            &[],
            &[("client_id", &client)],
        )
        .await;
        assert_eq!(answer.status, 200, "request {n}: {}", answer.body);
    }
    let answer = post(
        &node,
        "/oauth2/device_authorization",
        None,
        &[],
        &[("client_id", &client)],
    )
    .await;
    let retry_after = assert_locked(&answer, 60, "the 61st device authorization");
    eprintln!("device authorization: 429 from the 61st request, Retry-After {retry_after}");
}

/// Behind a trusted proxy, one device client asking from 60 addresses in
/// a minute has had its 60: the 61st, from yet another address, is 429.
/// Another client, from an address that asked once, goes on.
async fn one_device_client_gets_sixty_codes_a_minute_from_any_address(backend: Backend) {
    let keep = keep_for(backend).await;
    let node = start_with(
        backend,
        &keep,
        &[("CREDLOG_CONNECTIONS_TRUSTED_PROXIES", "127.0.0.1/32")],
    );
    let tv = device_client(&node).await;
    let radio = device_client(&node).await;
    let ask = |client: String, from: String| {
        let node = &node;
        async move {
            post(
                node,
                "/oauth2/device_authorization",
                None,
                &[("X-Forwarded-For", &from)],
                &[("client_id", &client)],
            )
            .await
        }
    };
    for n in 0..60 {
        let answer = ask(tv.clone(), format!("198.51.100.{n}")).await;
        assert_eq!(answer.status, 200, "request {n}: {}", answer.body);
    }
    let answer = ask(tv.clone(), "203.0.113.1".to_owned()).await;
    let retry_after = assert_locked(&answer, 60, "the client's 61st request");
    eprintln!("device authorization per client: 429 from the 61st, Retry-After {retry_after}");
    let answer = ask(radio, "198.51.100.0".to_owned()).await;
    assert_eq!(answer.status, 200, "another client: {}", answer.body);
}

/// The person signed in types wrong user codes, and their own pending
/// code between them: the wrong ones still add up, and after five the
/// page answers 429 (for the right code too).
async fn a_right_user_code_does_not_reset_the_guess_count(backend: Backend) {
    let keep = keep_for(backend).await;
    let node = start(backend, &keep);
    let client = device_client(&node).await;
    let codes = post(
        &node,
        "/oauth2/device_authorization",
        None,
        &[],
        &[("client_id", &client)],
    )
    .await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    let own = codes.json()["user_code"].as_str().unwrap().to_owned();
    let cookie = login(&node.server, "demo", "demo").await;
    let form = get_page(&node.server, "/device", Some(&cookie)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let fields = hidden_inputs(&form.body);
    let type_code = |typed: String| {
        let mut fields = fields.clone();
        fields.push(("user_code".to_owned(), typed));
        let (server, cookie) = (&node.server, cookie.clone());
        async move { post_form(server, "/device", Some(&cookie), &fields).await }
    };
    // Well-formed codes nobody was given.
    let wrong = [
        "BCDF-GHJK",
        "LMNP-QRST",
        "VWXZ-BCDF",
        "GHJK-LMNP",
        "QRST-VWXZ",
    ];
    for (n, guess) in wrong.iter().enumerate() {
        let answer = type_code(guess.to_string()).await;
        assert_eq!(answer.status, 400, "wrong code {n}: {}", answer.body);
        let right = type_code(own.clone()).await;
        if n < 4 {
            assert_eq!(right.status, 200, "own code after {n}: {}", right.body);
        } else {
            assert_eq!(right.status, 429, "own code after 5 wrong: {}", right.body);
            let retry_after: u64 = right
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry_after), "{retry_after}");
            eprintln!("user codes: 429 after the 5th wrong code, Retry-After {retry_after}");
        }
    }
    let after = type_code("BCDF-BCDF".to_owned()).await;
    assert_eq!(after.status, 429, "{}", after.body);
}
