//! Two `credlog serve --postgres` processes on one database, behind one
//! `--public-url`, behave as one server: a nonce used on one is refused on
//! the other, a token issued on one is seen, and its revocation too, on the
//! other at once, a session made on one signs in on the other, and two
//! nodes racing for one authorization code give it out once.

mod support;

use credlog_core::rfc5849::encoding::form_decode;
use credlog_core::Request;
use credlog_storage_postgres::testing::TestDatabase;
use support::process::{credlog, Running};
use support::{
    get_page, hidden_inputs, http, login, post_form, send, submit_login, Answer, TestClient,
    TestServer,
};

/// The URL clients use, the same for both nodes (a load balancer's).
const PUBLIC: &str = "http://auth.test";
const REDIRECT: &str = "http://127.0.0.1:8000/callback";

/// A node on `database`; `demo` creates the demo user and clients.
fn node(database: &TestDatabase, demo: bool) -> (Running, TestServer) {
    let mut command = credlog();
    command.args(["serve", "--addr", "127.0.0.1:0", "--public-url", PUBLIC]);
    command.args(["--postgres", &database.url()]);
    if demo {
        command.arg("--demo");
    }
    let mut running = Running::spawn(&mut command);
    // Without a data directory the demo key file is the process's own, in
    // the temporary directory; a killed server leaves it.
    let key = format!("credlog-demo-rsa-private-{}.pem", running.id());
    running.remove_on_drop([std::env::temp_dir().join(key)]);
    let base = running.base();
    (running, TestServer::remote(&base))
}

struct Nodes {
    a: TestServer,
    b: TestServer,
    client: TestClient,
    _processes: (Running, Running),
    _database: TestDatabase,
}

async fn two_nodes() -> Option<Nodes> {
    let database = TestDatabase::create().await?;
    let (a_process, a) = node(&database, true);
    let (id, secret) = a_process.demo_confidential();
    let (b_process, b) = node(&database, false);
    Some(Nodes {
        a,
        b,
        client: TestClient {
            id,
            secret,
            method: "HMAC-SHA1",
            transmission: credlog_core::rfc5849::Transmission::Header,
        },
        _processes: (a_process, b_process),
        _database: database,
    })
}

/// `request`, signed for the public URL, sent to `node`.
fn to(node: &TestServer, request: &Request) -> Request {
    let mut request = request.clone();
    request.uri = request.uri.replacen(PUBLIC, &node.base, 1);
    request
}

/// A form POST with client_secret_basic, to `node`.
async fn post_as_client(node: &TestServer, client: &TestClient, path: &str, form: &str) -> Answer {
    let answer = http()
        .post(node.url(path))
        .basic_auth(&client.id, Some(&client.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    Answer::from(answer).await
}

async fn active(node: &TestServer, client: &TestClient, token: &str) -> bool {
    let answer = post_as_client(
        node,
        client,
        "/oauth2/introspect",
        &format!("token={token}"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["active"].as_bool().unwrap()
}

#[tokio::test]
async fn a_nonce_used_on_one_node_is_refused_on_the_other() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let signed = nodes
        .client
        .signer(None)
        .sign(
            Request::new("POST", format!("{PUBLIC}/oauth1/initiate")),
            &[("oauth_callback", "oob")],
        )
        .unwrap();
    let first = send(&to(&nodes.a, &signed)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    send(&to(&nodes.b, &signed))
        .await
        .assert_oauth1_error(401, "invalid_nonce");
}

#[tokio::test]
async fn a_token_and_its_revocation_reach_the_other_node_at_once() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let issued = post_as_client(
        &nodes.a,
        &nodes.client,
        "/oauth2/token",
        "grant_type=client_credentials&scope=profile",
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    assert!(active(&nodes.b, &nodes.client, &token).await);
    let revoked = post_as_client(
        &nodes.a,
        &nodes.client,
        "/oauth2/revoke",
        &format!("token={token}"),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(!active(&nodes.b, &nodes.client, &token).await);
}

/// Signs demo in on `node` and asks for a code for the confidential client:
/// the code from the redirect after consent.
async fn code_from(node: &TestServer, cookie: &str, client: &TestClient) -> String {
    let query = format!(
        "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=profile&state=s",
        client.id,
        credlog_core::rfc5849::encoding::percent_encode(REDIRECT)
    );
    let page = get_page(node, &query, Some(cookie)).await;
    assert_eq!(page.status, 200, "consent page: {}", page.body);
    let mut fields = hidden_inputs(&page.body);
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let answer = post_form(node, "/oauth2/authorize", Some(cookie), &fields).await;
    let location = answer.header("location").unwrap_or_else(|| {
        panic!(
            "no redirect after consent: {} {}",
            answer.status, answer.body
        )
    });
    let query = location.split_once('?').expect("a query").1;
    form_decode(query)
        .unwrap()
        .into_iter()
        .find(|(name, _)| name == "code")
        .expect("a code")
        .1
        .into_owned()
}

/// The token request exchanging `code`.
fn exchange_form(code: &str) -> String {
    format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        credlog_core::rfc5849::encoding::percent_encode(REDIRECT)
    )
}

#[tokio::test]
async fn a_session_and_a_code_work_across_nodes_and_a_code_once_under_a_race() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    // Signed in on A, known on B.
    let cookie = login(&nodes.a, "demo", "demo").await;
    let page = get_page(&nodes.b, "/authorizations", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);

    // A code issued on A is exchanged on B, once.
    let exchange = exchange_form;
    let code = code_from(&nodes.a, &cookie, &nodes.client).await;
    let first = post_as_client(&nodes.b, &nodes.client, "/oauth2/token", &exchange(&code)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = post_as_client(&nodes.a, &nodes.client, "/oauth2/token", &exchange(&code)).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(again.json()["error"], "invalid_grant");

    // Both nodes at once, for codes of their own: each code works once.
    for _ in 0..5 {
        let code = code_from(&nodes.b, &cookie, &nodes.client).await;
        let form = exchange(&code);
        let (on_a, on_b) = tokio::join!(
            post_as_client(&nodes.a, &nodes.client, "/oauth2/token", &form),
            post_as_client(&nodes.b, &nodes.client, "/oauth2/token", &form),
        );
        let statuses = [on_a.status, on_b.status];
        assert_eq!(
            statuses.iter().filter(|&&status| status == 200).count(),
            1,
            "{statuses:?}: {} / {}",
            on_a.body,
            on_b.body
        );
    }
}

#[tokio::test]
async fn wrong_passwords_on_either_node_count_together() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    for n in 0..5 {
        let node = if n % 2 == 0 { &nodes.a } else { &nodes.b };
        let answer = submit_login(node, "/login", "demo", "not the password").await;
        assert_ne!(answer.status, 429, "guess {n}: {}", answer.body);
        assert_ne!(answer.status, 303, "guess {n} signed in");
    }
    // The sixth, even the right password, waits, on both.
    for node in [&nodes.a, &nodes.b] {
        let answer = submit_login(node, "/login", "demo", "demo").await;
        assert_eq!(answer.status, 429, "{}", answer.body);
        assert!(answer.header("retry-after").is_some());
    }
}

#[tokio::test]
async fn a_refresh_token_reused_on_one_node_ends_its_family_on_both() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let cookie = login(&nodes.a, "demo", "demo").await;
    let code = code_from(&nodes.a, &cookie, &nodes.client).await;
    let form = exchange_form(&code);
    let first = post_as_client(&nodes.a, &nodes.client, "/oauth2/token", &form).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let old_refresh = first.json()["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: &str| format!("grant_type=refresh_token&refresh_token={token}");
    let second = post_as_client(
        &nodes.a,
        &nodes.client,
        "/oauth2/token",
        &refresh(&old_refresh),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let (access, new_refresh) = (
        second.json()["access_token"].as_str().unwrap().to_owned(),
        second.json()["refresh_token"].as_str().unwrap().to_owned(),
    );
    assert!(active(&nodes.b, &nodes.client, &access).await);

    // The rotated-out refresh token, replayed on B: refused, and the
    // family it began is over, on A too.
    let reused = post_as_client(
        &nodes.b,
        &nodes.client,
        "/oauth2/token",
        &refresh(&old_refresh),
    )
    .await;
    assert_eq!(reused.status, 400, "{}", reused.body);
    assert_eq!(reused.json()["error"], "invalid_grant");
    assert!(!active(&nodes.a, &nodes.client, &access).await);
    let after = post_as_client(
        &nodes.a,
        &nodes.client,
        "/oauth2/token",
        &refresh(&new_refresh),
    )
    .await;
    assert_eq!(after.status, 400, "{}", after.body);
}

#[tokio::test]
async fn log_follow_on_the_database_shows_what_any_node_appends() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let url = nodes._database.url();
    let follower = Running::spawn(credlog().args(["log", "--follow", "--postgres", &url]));
    // The signing key the first node made, the demo user and its three
    // clients, then nothing until something happens.
    assert!(follower.line().contains(" signing_key_created kid="));
    let mut last = String::new();
    for _ in 0..4 {
        last = follower.line();
        assert!(last.contains(" issued "), "{last}");
    }
    let seq = |line: &str| -> u64 {
        let number = line.split(' ').next().unwrap_or_default();
        number
            .parse()
            .unwrap_or_else(|_| panic!("a sequence number: {line}"))
    };
    let added = credlog()
        .args([
            "user",
            "add",
            "bob",
            "--password",
            "bob's password",
            "--postgres",
            &url,
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let line = follower
        .next_line(std::time::Duration::from_secs(20))
        .expect("the new record is followed");
    // The next record after the demo's, on the shared log.
    assert_eq!(seq(&line), seq(&last) + 1, "{line}");
    assert!(line.contains("user=bob"), "{line}");
}

/// Issues access tokens on `node` from 8 tasks until it stops answering;
/// the tokens it acknowledged (answered 200 with one).
async fn issue_until_killed(node: &TestServer, client: &TestClient) -> Vec<String> {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (url, client) = (node.url("/oauth2/token"), client.clone());
            tokio::spawn(async move {
                let mut acked = Vec::new();
                loop {
                    let sent = http()
                        .post(&url)
                        .basic_auth(&client.id, Some(&client.secret))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body("grant_type=client_credentials&scope=profile")
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    let Ok(answer) = response.text().await else {
                        break;
                    };
                    let json: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
                    match json["access_token"].as_str() {
                        Some(token) => acked.push(token.to_owned()),
                        None => break,
                    }
                }
                acked
            })
        })
        .collect();
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_loses_nothing_it_acknowledged() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let (first, _) = node(&database, true);
    let (id, secret) = first.demo_confidential();
    let client = TestClient {
        id,
        secret,
        method: "HMAC-SHA1",
        transmission: credlog_core::rfc5849::Transmission::Header,
    };
    drop(first);
    let mut acked = Vec::new();
    for round in 0..3u64 {
        let (mut process, node) = node(&database, false);
        let load = {
            let (node, client) = (TestServer::remote(&node.base), client.clone());
            tokio::spawn(async move { issue_until_killed(&node, &client).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300 + 170 * round)).await;
        process.kill();
        let round_acked = load.await.unwrap();
        assert!(
            !round_acked.is_empty(),
            "round {round}: nothing acknowledged"
        );
        acked.extend(round_acked);
    }
    // A new node knows every token the killed ones acknowledged.
    let (_checker_process, checker) = node(&database, false);
    for token in &acked {
        assert!(active(&checker, &client, token).await, "{token} was lost");
    }
    let checked = credlog()
        .args(["check", "--postgres", &database.url()])
        .output()
        .unwrap();
    assert!(checked.status.success(), "{checked:?}");
    eprintln!(
        "{} tokens acknowledged by killed nodes, all there",
        acked.len()
    );
}

#[tokio::test]
async fn without_its_database_a_node_acknowledges_nothing() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let Nodes {
        a,
        client,
        _processes,
        _database,
        ..
    } = nodes;
    // The database goes away under the running servers.
    drop(_database);
    let answer = post_as_client(
        &a,
        &client,
        "/oauth2/token",
        "grant_type=client_credentials&scope=profile",
    )
    .await;
    // 503: nothing was written, try again (on another node, or later).
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.json()["error"], "server_error");
    assert!(!answer.body.contains("access_token"), "{}", answer.body);
    // Signing in needs the store too.
    let page = submit_login(&a, "/login", "demo", "demo").await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.header("set-cookie").is_none());
    drop(_processes);
}
