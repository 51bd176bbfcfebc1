//! The `credlog` binary as an operator uses it: exit codes, one-line
//! errors, `user add`, `client add`, `serve` on a data directory, `log`
//! (also while the server runs, and `--follow`), `check`, and a graceful
//! stop on SIGTERM.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use credlog_core::rfc5849::Transmission;
use support::process::Running;
use support::*;

fn credlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credlog"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must fail at run time (exit 1) with one line on
/// stderr that says `what`.
fn assert_fails_saying(args: &[&str], what: &str) {
    let output = credlog(args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{args:?}: {}",
        stderr(&output)
    );
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains(what), "{}", stderr(&output));
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `credlog args` running, its stdout read line by line, its stderr dropped.
fn running(args: &[&str]) -> Running {
    Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(args)
            .stderr(Stdio::null()),
    )
}

fn data_arg(dir: &Path) -> String {
    dir.to_str().unwrap().to_owned()
}

/// A new data directory (removed with the guard) holding user alice.
fn data_with_alice() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = data_arg(&dir.path().join("data"));
    assert!(
        credlog(&["user", "add", "alice", "--password", "pw", "--data", &data])
            .status
            .success()
    );
    (dir, data)
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_arg(&dir.path().join("data"));
    for args in [
        vec![],
        vec!["user", "add", "alice"],
        vec!["serve", "--memory", "--data", "x"],
        vec!["log", "--since", "first"],
        vec!["client", "add", "--owner", "alice", "--name", "App"],
    ] {
        let output = credlog(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let added = credlog(&["user", "add", "alice", "--password", "pw", "--data", &data]);
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    let again = ["user", "add", "alice", "--password", "pw", "--data", &data];
    assert_fails_saying(&again, "already exists");
    let client = |owner, uri| {
        [
            "client",
            "add",
            "--owner",
            owner,
            "--name",
            "App",
            "--redirect-uri",
            uri,
            "--data",
            &data,
        ]
    };
    assert_fails_saying(&client("bob", "https://a.example/cb"), "does not exist");
    assert_fails_saying(&client("alice", "/relative"), "/relative");
}

#[test]
fn client_add_prints_its_registration_as_json() {
    let (dir, data) = data_with_alice();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, credlog_conformance::TEST_RSA_PUBLIC_KEY_PEM).unwrap();
    let output = credlog(&[
        "client",
        "add",
        "--owner",
        "alice",
        "--name",
        "Printer",
        "--redirect-uri",
        "https://printer.example/ready",
        "--redirect-uri",
        "https://printer.example/again",
        "--scope",
        "profile email",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        "--auth-method",
        "client_secret_post",
        "--rsa-public-key",
        key.to_str().unwrap(),
        "--data",
        &data,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(json["client_name"], "Printer");
    assert_eq!(json["redirect_uris"].as_array().unwrap().len(), 2);
    assert_eq!(json["scope"], "profile email");
    assert_eq!(
        json["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(json["token_endpoint_auth_method"], "client_secret_post");
    assert!(json["client_secret"]
        .as_str()
        .is_some_and(|s| s.len() >= 22));
    assert!(json["rsa_public_key"]
        .as_str()
        .unwrap()
        .contains("BEGIN PUBLIC KEY"));
}

/// A client of alice's registered with `credlog client add` in `data`
/// (with the extra arguments `more`), signing with HMAC-SHA1.
fn add_client(data: &str, more: &[&str]) -> TestClient {
    add_client_to(&["--data", data], more)
}

/// [`add_client`] on the store `store` names (`--data DIR` or `--postgres URL`).
fn add_client_to(store: &[&str], more: &[&str]) -> TestClient {
    let added = credlog(
        &[
            "client",
            "add",
            "--owner",
            "alice",
            "--name",
            "App",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "profile email",
        ]
        .iter()
        .chain(store)
        .chain(more)
        .copied()
        .collect::<Vec<_>>(),
    );
    let registration: serde_json::Value = serde_json::from_str(stdout(&added).trim()).unwrap();
    TestClient {
        id: registration["client_id"].as_str().unwrap().to_owned(),
        secret: registration["client_secret"].as_str().unwrap().to_owned(),
        method: "HMAC-SHA1",
        transmission: Transmission::Header,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_log_follow_check_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_arg(&dir.path().join("data"));
    assert!(credlog(&[
        "user",
        "add",
        "alice",
        "--password",
        PASSWORD,
        "--data",
        &data
    ])
    .status
    .success());
    let client = add_client(&data, &[]);

    let mut server = running(&["serve", "--addr", "127.0.0.1:0", "--data", &data]);
    let first = server.line();
    let base = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"));
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");

    // A second process gets a clear error at once, not a hang.
    let started = Instant::now();
    let locked = credlog(&["user", "add", "bob", "--password", "pw", "--data", &data]);
    assert_eq!(locked.status.code(), Some(1));
    assert!(stderr(&locked).contains("in use"), "{}", stderr(&locked));
    assert!(started.elapsed() < Duration::from_secs(10));

    let remote = TestServer::remote(base);
    let cookie = login(&remote, "alice", PASSWORD).await;
    let token = three_legged(&remote, &client, &cookie).await;
    assert_eq!(
        me(&remote, &client, (&token.0, &token.1)).await.json()["user"],
        "alice"
    );

    // The log of the running server, through it.
    let log = credlog(&["log", "--data", &data]);
    assert!(log.status.success(), "{}", stderr(&log));
    let text = stdout(&log);
    for event in [
        "issued kind=user",
        "issued kind=client",
        "verified",
        "authorized",
        "exchanged",
        "issued kind=token_credential",
    ] {
        assert!(text.contains(event), "{event} missing from\n{text}");
    }
    for secret in [&client.secret, &token.1] {
        assert!(!text.contains(secret.as_str()), "a secret was printed");
    }
    let json = credlog(&["log", "--json", "--client", &client.id, "--data", &data]);
    assert!(json.status.success(), "{}", stderr(&json));
    let lines: Vec<serde_json::Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 6, "{lines:?}");
    assert!(lines.iter().all(|l| l["client"] == client.id.as_str()));
    let since = lines[2]["seq"].as_u64().unwrap();
    let tail = credlog(&[
        "log",
        "--json",
        "--since",
        &since.to_string(),
        "--data",
        &data,
    ]);
    assert!(stdout(&tail)
        .lines()
        .all(
            |l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
                >= since
        ));
    let nobody = credlog(&["log", "--user", "nobody", "--data", &data]);
    assert_eq!(stdout(&nobody), "");

    // --follow prints what is appended after it started.
    let last = lines.last().unwrap()["seq"].as_u64().unwrap();
    let follow = running(&[
        "log",
        "--follow",
        "--since",
        &(last + 1).to_string(),
        "--data",
        &data,
    ]);
    assert_eq!(me(&remote, &client, (&token.0, &token.1)).await.status, 200);
    let followed = tokio::task::spawn_blocking(move || {
        let line = follow.line();
        drop(follow);
        line
    })
    .await
    .unwrap();
    assert!(
        followed.contains(" verified ") && followed.contains(&client.id),
        "{followed}"
    );

    // SIGTERM: a request in flight (a log read waiting 2 s for news) still
    // gets its answer; then a clean stop, the serve file gone, the log checked.
    let serve_file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("data").join("serve.json")).unwrap(),
    )
    .unwrap();
    let in_flight = tokio::spawn(
        http()
            .get(format!(
                "{}/admin/log?since=1000000&wait=2",
                serve_file["url"].as_str().unwrap()
            ))
            .bearer_auth(serve_file["token"].as_str().unwrap())
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = tokio::task::spawn_blocking(move || {
        let status = server.terminate();
        drop(server);
        status
    })
    .await
    .unwrap();
    let answer = in_flight
        .await
        .unwrap()
        .expect("the request in flight was answered");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(status.code(), Some(0));
    assert!(!dir.path().join("data").join("serve.json").exists());
    let check = credlog(&["check", "--data", &data]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    assert!(stdout(&check).starts_with("ok:"), "{}", stdout(&check));
    let offline = credlog(&["log", "--data", &data]);
    assert!(offline.status.success());
    assert!(
        stdout(&offline).lines().count() > text.lines().count(),
        "the followed event is on disk"
    );
}

#[test]
fn check_exits_1_when_a_projection_disagrees_with_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let data = data_arg(&path);
    assert!(
        credlog(&["user", "add", "alice", "--password", "pw", "--data", &data])
            .status
            .success()
    );
    assert!(credlog(&["check", "--data", &data]).status.success());
    {
        let db = sled::open(&path).unwrap();
        let users = db.open_tree("users").unwrap();
        let ghost = credlog_core::store::UserRecord {
            name: "ghost".to_owned(),
            password: credlog_core::store::Secret::None,
        };
        users
            .insert("ghost", credlog_core::store::codec::encode(&ghost))
            .unwrap();
        db.flush().unwrap();
    }
    let check = credlog(&["check", "--data", &data]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(stdout(&check).contains("ghost"), "{}", stdout(&check));
}

#[test]
fn serve_demo_prints_the_address_then_the_demo_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_arg(&dir.path().join("data"));
    let mut first_run = running(&["serve", "--demo", "--addr", "127.0.0.1:0", "--data", &data]);
    assert!(first_run
        .line()
        .starts_with("listening on http://127.0.0.1:"));
    let printed: Vec<String> = (0..5).map(|_| first_run.line()).collect();
    assert!(printed[0].contains("demo / password demo"), "{printed:?}");
    assert!(
        printed
            .iter()
            .any(|l| l.contains("client_id=demo-confidential client_secret=")),
        "{printed:?}"
    );
    assert!(
        printed.iter().any(|l| l.contains("client_id=demo-public")),
        "{printed:?}"
    );
    assert_eq!(first_run.terminate().code(), Some(0));
    // A second start finds the demo and prints the same credentials.
    let second_run = running(&["serve", "--demo", "--addr", "127.0.0.1:0", "--data", &data]);
    second_run.line();
    let again: Vec<String> = (0..5).map(|_| second_run.line()).collect();
    assert_eq!(printed, again);
}

#[test]
fn log_shows_control_characters_a_client_typed_escaped() {
    let (_dir, data) = data_with_alice();
    let name = "Evil\u{1b}[2J\u{7}app";
    let added = credlog(&[
        "client",
        "add",
        "--owner",
        "alice",
        "--name",
        name,
        "--redirect-uri",
        "https://evil.example/cb",
        "--data",
        &data,
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let log = credlog(&["log", "--data", &data]);
    assert!(log.status.success(), "{}", stderr(&log));
    assert!(
        !log.stdout.iter().any(|&b| b == 0x1b || b == 0x07),
        "a raw control character reached the terminal: {:?}",
        stdout(&log)
    );
    assert!(
        stdout(&log).contains(r#"name="Evil\u{1b}[2J\u{7}app""#),
        "{}",
        stdout(&log)
    );
    // JSON keeps the name exactly, escaped as JSON escapes it.
    let json = credlog(&["log", "--json", "--data", &data]);
    let named = stdout(&json)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|line| line["kind"] == "client")
        .expect("the client's line");
    assert_eq!(named["name"], name);
}

#[test]
fn client_add_refuses_a_redirect_uri_the_contract_forbids() {
    let (_dir, data) = data_with_alice();
    for (uri, rule) in [
        ("javascript:alert(1)", "scheme"),
        ("http://evil.example/cb", "loopback"),
        ("https://good.example@evil.example/cb", "user information"),
    ] {
        let refused = credlog(&[
            "client",
            "add",
            "--owner",
            "alice",
            "--name",
            "App",
            "--redirect-uri",
            uri,
            "--data",
            &data,
        ]);
        assert!(!refused.status.success(), "{uri} was registered");
        assert!(stdout(&refused).is_empty(), "{uri}: {}", stdout(&refused));
        let said = stderr(&refused);
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(said.contains(rule) && said.contains(uri), "{uri}: {said}");
    }
    let log = credlog(&["log", "--data", &data]);
    assert!(!stdout(&log).contains("kind=client"), "{}", stdout(&log));
}

/// The `credlog log --json` lines of `args` (and `--data`, `--config`).
/// `credlog log --json` on the store `store` names, as JSON lines.
fn log_json(store: &[&str], config: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["log", "--json", "--config", config];
    all.extend(store);
    all.extend(args);
    let output = credlog(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn seqs(lines: &[serde_json::Value]) -> Vec<u64> {
    lines
        .iter()
        .map(|line| line["seq"].as_u64().unwrap())
        .collect()
}

/// A server with the shortest retention there is, on the store `store`
/// names: old signed requests leave the live log, every other record
/// stays, and `credlog log --archive` reads them back in order, through
/// the server (on a data directory) or from the database. Answers the
/// log `--archive` printed while the server ran, after it stopped.
async fn a_retention_on(store: &[&str], dir: &Path) -> Vec<serde_json::Value> {
    let config = dir.join("credlog.toml");
    // The shortest window and retention there are, so that the test waits
    // seconds: records leave the live log three seconds behind the newest.
    std::fs::write(
        &config,
        "[oauth1]\ntimestamp_window_seconds = 1\n[store]\nretain_verified_seconds = 2\n",
    )
    .unwrap();
    let config = data_arg(&config);
    let with_config = |args: &[&str]| -> Output {
        let mut all = args.to_vec();
        all.extend(store);
        all.extend(["--config", &config]);
        credlog(&all)
    };
    assert!(
        with_config(&["user", "add", "alice", "--password", PASSWORD])
            .status
            .success()
    );
    let client = add_client_to(store, &["--config", &config]);
    let mut serve = vec!["serve", "--addr", "127.0.0.1:0", "--config", &config];
    serve.extend(store);
    let mut server = running(&serve);
    let remote = TestServer::remote(&server.base());
    let cookie = login(&remote, "alice", PASSWORD).await;
    let token = three_legged(&remote, &client, &cookie).await;
    for _ in 0..5 {
        assert_eq!(me(&remote, &client, (&token.0, &token.1)).await.status, 200);
    }
    let written = log_json(store, &config, &[]);
    let old_requests: Vec<u64> = seqs(
        &written
            .iter()
            .filter(|line| line["event"] == "verified" && line["token"] == token.0.as_str())
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(old_requests.len(), 5, "{written:?}");

    // Later requests move the newest record on; the server's housekeeping
    // (every five seconds) then moves the old ones out.
    let deadline = Instant::now() + Duration::from_secs(30);
    let live = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(me(&remote, &client, (&token.0, &token.1)).await.status, 200);
        let live = log_json(store, &config, &[]);
        if !seqs(&live).contains(&old_requests[0]) {
            break live;
        }
        assert!(Instant::now() < deadline, "nothing left the live log");
    };
    let live_seqs = seqs(&live);
    assert!(old_requests.iter().all(|seq| !live_seqs.contains(seq)));
    // Every record that changed a credential stays.
    for line in &written {
        if line["event"] != "verified" {
            assert!(live.contains(line), "{line} left the live log");
        }
    }
    // --archive reads them back, in order among the rest.
    let through_server = log_json(store, &config, &["--archive"]);
    let all = seqs(&through_server);
    assert!(all.windows(2).all(|pair| pair[0] <= pair[1]), "{all:?}");
    let twice = through_server
        .iter()
        .enumerate()
        .any(|(n, line)| through_server[n + 1..].contains(line));
    assert!(!twice, "a line is printed twice: {through_server:?}");
    assert_eq!(&through_server[..written.len()], &written[..]);
    let filtered = log_json(store, &config, &["--archive", "--client", &client.id]);
    assert!(filtered
        .iter()
        .all(|line| line["client"] == client.id.as_str()));
    assert!(old_requests.iter().all(|seq| seqs(&filtered).contains(seq)));
    assert!(server.terminate().success());
    let after = log_json(store, &config, &["--archive"]);
    assert_eq!(&after[..through_server.len()], &through_server[..]);
    let check = with_config(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    through_server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retention_on_postgres_moves_old_signed_requests_to_its_archive_table() {
    let Some(database) = credlog_storage_postgres::testing::TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    a_retention_on(&["--postgres", &database.url()], dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retention_moves_old_signed_requests_to_the_archive_credlog_log_reads() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_arg(&dir.path().join("data"));
    a_retention_on(&["--data", &data], dir.path()).await;
    let config = data_arg(&dir.path().join("credlog.toml"));
    let with_config = |args: &[&str]| -> Output {
        let mut all = args.to_vec();
        all.extend(["--data", &data, "--config", &config]);
        credlog(&all)
    };
    // The check that passed kept a snapshot; the next starts from it,
    // --full does not.
    let again = with_config(&["check"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("0 records replayed after the snapshot at record"),
        "{}",
        stdout(&again)
    );
    let full = with_config(&["check", "--full"]);
    assert!(full.status.success(), "{}", stderr(&full));
    assert!(!stdout(&full).contains("snapshot"), "{}", stdout(&full));

    // A retention shorter than two windows would forget nonces too soon.
    std::fs::write(
        dir.path().join("short.toml"),
        "[oauth1]\ntimestamp_window_seconds = 60\n[store]\nretain_verified_seconds = 100\n",
    )
    .unwrap();
    let short = data_arg(&dir.path().join("short.toml"));
    let refused = credlog(&["check", "--data", &data, "--config", &short]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("store.retain_verified_seconds"),
        "{}",
        stderr(&refused)
    );
}
