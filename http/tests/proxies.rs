//! CONTRACT.md "Deployment", `[connections] trusted_proxies`, against the
//! `credlog` binary over real HTTP: behind a trusted proxy the client's
//! address is the right-most `X-Forwarded-For` address that is not a
//! trusted proxy, so one person's failed sign-ins lock out that person's
//! address and not everyone behind the proxy; from a peer that is not
//! trusted the header is ignored, so forging it escapes no limit.

mod support;

use std::process::Stdio;

use support::process::{credlog, Running};
use support::*;

on_both_stores!(
    backend;
    behind_a_trusted_proxy_one_address_is_locked_not_everyone,
    a_forged_forwarded_for_escapes_no_limit,
);

/// What a server's store lives in, kept while it runs.
type Keep = (
    tempfile::TempDir,
    Option<credlog_storage_postgres::testing::TestDatabase>,
);

/// `credlog serve --demo` over a fresh store of `backend`'s kind, with
/// `env` set.
async fn start(backend: Backend, env: &[(&str, &str)]) -> (Running, TestServer, Keep) {
    let dir = tempfile::tempdir().unwrap();
    let mut database = None;
    let mut command = credlog();
    command.args(["serve", "--demo", "--addr", "127.0.0.1:0"]);
    match backend {
        Backend::Memory => {
            command.arg("--memory");
        }
        Backend::Sled => {
            command.arg("--data").arg(dir.path().join("data"));
        }
        Backend::Postgres => {
            let created = credlog_storage_postgres::testing::TestDatabase::create()
                .await
                .expect("PostgreSQL answers");
            command.args(["--postgres", &created.url()]);
            database = Some(created);
        }
    }
    command.envs(env.iter().copied());
    let running = Running::spawn(command.stderr(Stdio::null()));
    let server = TestServer::remote(&running.base());
    (running, server, (dir, database))
}

/// `POST /login` as `user` with `password`, from the address `forwarded`
/// names in `X-Forwarded-For`.
async fn sign_in_from(server: &TestServer, forwarded: &str, user: &str, password: &str) -> Answer {
    let (cookie, mut fields) = login_form(server, "/login").await;
    fields.push(("username".to_owned(), user.to_owned()));
    fields.push(("password".to_owned(), password.to_owned()));
    post_form_with(
        server,
        "/login",
        Some(&cookie),
        &[("X-Forwarded-For", forwarded)],
        &fields,
    )
    .await
}

/// The password grant as the confidential demo client, from `forwarded`.
async fn password_grant_from(
    server: &TestServer,
    client: &(String, String),
    forwarded: &str,
    password: &str,
) -> Answer {
    let body = credlog_core::rfc5849::encoding::form_encode([
        ("grant_type", "password"),
        ("username", "demo"),
        ("password", password),
    ]);
    Answer::from(
        http()
            .post(server.url("/oauth2/token"))
            .basic_auth(&client.0, Some(&client.1))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Forwarded-For", forwarded)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// With the proxy (loopback, where the tests connect from) trusted, 30
/// failed sign-ins forwarded for 203.0.113.7 lock that address, for the
/// form and the password grant; demo signing in from 203.0.113.8, behind
/// the same proxy, goes on. A chain names the right-most untrusted hop.
async fn behind_a_trusted_proxy_one_address_is_locked_not_everyone(backend: Backend) {
    let (running, server, _keep) = start(
        backend,
        &[("CREDLOG_CONNECTIONS_TRUSTED_PROXIES", "127.0.0.1/32")],
    )
    .await;
    let client = running.demo_confidential();
    for n in 0..30 {
        // Each guess another name: the address's count, not a name's.
        let answer = sign_in_from(&server, "203.0.113.7", &format!("guess{n}"), "wrong").await;
        assert_eq!(answer.status, 401, "guess {n}: {}", answer.body);
    }
    let locked = sign_in_from(&server, "203.0.113.7", "demo", "demo").await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let retry_after: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    eprintln!("behind the proxy: 203.0.113.7 locked after 30, Retry-After {retry_after}");
    // The same address is locked for the password grant too; a chain whose
    // right-most hop is it is that address.
    let grant = password_grant_from(&server, &client, "198.51.100.1, 203.0.113.7", "demo").await;
    assert_eq!(grant.status, 429, "{}", grant.body);
    // Someone else behind the same proxy signs in.
    let other = sign_in_from(&server, "203.0.113.8", "demo", "demo").await;
    assert_eq!(other.status, 303, "{}", other.body);
    let grant = password_grant_from(&server, &client, "203.0.113.8", "demo").await;
    assert_eq!(grant.status, 200, "{}", grant.body);
    // A forged left part does not move the locked address elsewhere.
    let forged = sign_in_from(&server, "203.0.113.8, 203.0.113.7", "demo", "demo").await;
    assert_eq!(forged.status, 429, "{}", forged.body);
}

/// Without `trusted_proxies` (the default) `X-Forwarded-For` is ignored:
/// thirty failed sign-ins, each claiming another address, still lock the
/// connection's own address.
async fn a_forged_forwarded_for_escapes_no_limit(backend: Backend) {
    let (_running, server, _keep) = start(backend, &[]).await;
    for n in 0..30 {
        let forged = format!("203.0.113.{n}");
        let answer = sign_in_from(&server, &forged, &format!("guess{n}"), "wrong").await;
        assert_eq!(answer.status, 401, "guess {n}: {}", answer.body);
    }
    let locked = sign_in_from(&server, "198.51.100.99", "demo", "demo").await;
    assert_eq!(locked.status, 429, "{}", locked.body);
}

/// A `trusted_proxies` entry that is not a CIDR block (from the file or
/// the environment) is a usage error (exit 2) naming the key.
#[test]
fn a_bad_trusted_proxy_is_a_usage_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credlog.toml");
    std::fs::write(
        &file,
        "[connections]\ntrusted_proxies = [\"10.0.0.0/8\", \"not-a-network\"]\n",
    )
    .unwrap();
    let from_file = credlog()
        .args(["serve", "--memory", "--addr", "127.0.0.1:0", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(from_file.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&from_file.stderr);
    assert!(
        stderr.contains("connections.trusted_proxies") && stderr.contains("not-a-network"),
        "{stderr}"
    );
    let from_env = credlog()
        .args(["serve", "--memory", "--addr", "127.0.0.1:0"])
        .env("CREDLOG_CONNECTIONS_TRUSTED_PROXIES", "127.0.0.1/33")
        .output()
        .unwrap();
    assert_eq!(from_env.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&from_env.stderr);
    assert!(
        stderr.contains("connections.trusted_proxies")
            && stderr.contains("CREDLOG_CONNECTIONS_TRUSTED_PROXIES"),
        "{stderr}"
    );
}

/// The file's `trusted_proxies` works as the variable does, and a single
/// address (no prefix length) is a network of one.
#[tokio::test]
async fn trusted_proxies_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credlog.toml");
    std::fs::write(
        &file,
        "[connections]\ntrusted_proxies = [\"192.0.2.0/24\", \"127.0.0.1\"]\n",
    )
    .unwrap();
    let mut command = credlog();
    command
        .args([
            "serve",
            "--memory",
            "--demo",
            "--addr",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&file);
    let running = Running::spawn(command.stderr(Stdio::null()));
    let server = TestServer::remote(&running.base());
    for n in 0..30 {
        let answer = sign_in_from(&server, "203.0.113.7", &format!("guess{n}"), "wrong").await;
        assert_eq!(answer.status, 401, "guess {n}: {}", answer.body);
    }
    // 192.0.2.5 is a trusted proxy too: the client is the hop before it.
    let chained = sign_in_from(&server, "203.0.113.7, 192.0.2.5", "demo", "demo").await;
    assert_eq!(chained.status, 429, "{}", chained.body);
    let other = sign_in_from(&server, "203.0.113.8", "demo", "demo").await;
    assert_eq!(other.status, 303, "{}", other.body);
}
