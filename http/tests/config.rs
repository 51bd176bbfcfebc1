//! `credlog serve --config FILE` through the binary (CONTRACT.md
//! "Deployment", issue 13): the file's settings reach the server, a flag
//! wins over `CREDLOG_*` which wins over the file, an unknown key or a bad
//! value is a usage error naming the key, and `--print-config` prints
//! settings that read back the same. The other commands find their store
//! through the same layers.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use credlog_core::rfc5849::Transmission;
use credlog_core::Request;
use support::process::{credlog, Running};
use support::{http, Answer};

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn path(file: &tempfile::NamedTempFile) -> &str {
    file.path().to_str().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `credlog serve args` that must refuse its settings: exit 2, one
/// line on stderr holding each of `what`.
fn assert_usage_error(command: &mut Command, what: &[&str]) {
    let output = command.output().unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    for what in what {
        assert!(said.contains(what), "{what:?} not in {said}");
    }
    assert!(stdout(&output).is_empty(), "it must not start serving");
}

/// `credlog serve --memory --demo --addr 127.0.0.1:0 args`: the running
/// server, its base URL and the confidential demo client.
fn demo_server(args: &[&str]) -> (Running, String, support::TestClient) {
    let running = Running::spawn(
        credlog()
            .args(["serve", "--memory", "--demo", "--addr", "127.0.0.1:0"])
            .args(args)
            .stderr(Stdio::null()),
    );
    let base = running.base();
    let (id, secret) = running.demo_confidential();
    let client = support::TestClient {
        id,
        secret,
        method: "HMAC-SHA1",
        transmission: Transmission::Header,
    };
    (running, base, client)
}

/// A temporary credential request signed `age` seconds ago.
async fn initiate_signed_ago(
    base: &str,
    client: &support::TestClient,
    age: u64,
) -> support::Answer {
    let request = client
        .signer(None)
        .sign_at(
            Request::new("POST", format!("{base}/oauth1/initiate")),
            &[("oauth_callback", "oob")],
            support::now() - age,
            &credlog_core::rfc5849::client::random_nonce(),
        )
        .unwrap();
    support::send(&request).await
}

#[tokio::test]
async fn the_files_timestamp_window_is_the_one_the_server_checks() {
    // The default window (300 s) takes a request signed two minutes ago.
    let (_server, base, client) = demo_server(&[]);
    let answer = initiate_signed_ago(&base, &client, 120).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // A window of 60 s refuses it.
    let file = config_file("[oauth1]\ntimestamp_window_seconds = 60\n");
    let (_server, base, client) = demo_server(&["--config", path(&file)]);
    initiate_signed_ago(&base, &client, 120)
        .await
        .assert_oauth1_error(401, "invalid_timestamp");
    let answer = initiate_signed_ago(&base, &client, 30).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[test]
fn an_unknown_key_is_a_usage_error_naming_it() {
    let file = config_file("[oauth1]\ntimestamp_window = 60\n");
    assert_usage_error(
        credlog().args(["serve", "--memory", "--config", path(&file)]),
        &[
            "oauth1.timestamp_window",
            "line 2",
            "timestamp_window_seconds",
        ],
    );
    let file = config_file("adress = \"127.0.0.1:0\"\n");
    assert_usage_error(
        credlog().args(["serve", "--config", path(&file)]),
        &["adress"],
    );
    // A misspelt variable of a section is refused too.
    assert_usage_error(
        credlog()
            .args(["serve", "--memory"])
            .env("CREDLOG_OAUTH1_TIMESTAMP_WINDOW", "60"),
        &["CREDLOG_OAUTH1_TIMESTAMP_WINDOW"],
    );
}

#[test]
fn a_bad_value_is_a_usage_error_naming_the_key() {
    let file = config_file("[oauth1]\ntimestamp_window_seconds = \"five minutes\"\n");
    assert_usage_error(
        credlog().args(["serve", "--memory", "--config", path(&file)]),
        &[
            "oauth1.timestamp_window_seconds",
            "a whole number of seconds",
        ],
    );
    let file = config_file("[connections]\nmax_connections = 0\n");
    assert_usage_error(
        credlog().args(["serve", "--memory", "--config", path(&file)]),
        &["connections.max_connections", "at least 1"],
    );
    assert_usage_error(
        credlog()
            .args(["serve", "--memory"])
            .env("CREDLOG_OAUTH1_TIMESTAMP_WINDOW_SECONDS", "soon"),
        &[
            "oauth1.timestamp_window_seconds",
            "CREDLOG_OAUTH1_TIMESTAMP_WINDOW_SECONDS",
            "a whole number of seconds",
        ],
    );
    assert_usage_error(
        credlog()
            .args(["serve", "--memory"])
            .env("CREDLOG_PUBLIC_URL", "ftp://auth.example.com"),
        &["public_url", "CREDLOG_PUBLIC_URL", "http or https"],
    );
    assert_usage_error(
        credlog().args(["serve", "--config", "/nonexistent/credlog.toml"]),
        &["cannot read /nonexistent/credlog.toml"],
    );
}

/// `credlog serve --print-config` with `args` and `env`: the TOML it printed.
fn print_config(args: &[&str], env: &[(&str, &str)]) -> toml::Table {
    let output = credlog()
        .args(["serve", "--print-config"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)))
}

#[test]
fn a_flag_wins_over_the_environment_which_wins_over_the_file() {
    let file = config_file(
        "addr = \"127.0.0.1:1001\"\npublic_url = \"https://file.example\"\n\
         [sessions]\nidle_seconds = 100\n",
    );
    let file = path(&file);
    let env = [
        ("CREDLOG_ADDR", "127.0.0.1:1002"),
        ("CREDLOG_SESSIONS_IDLE_SECONDS", "200"),
    ];
    let printed = print_config(&["--config", file], &[]);
    assert_eq!(printed["addr"].as_str(), Some("127.0.0.1:1001"));
    assert_eq!(printed["sessions"]["idle_seconds"].as_integer(), Some(100));

    let printed = print_config(&["--config", file], &env);
    assert_eq!(printed["addr"].as_str(), Some("127.0.0.1:1002"));
    assert_eq!(printed["sessions"]["idle_seconds"].as_integer(), Some(200));
    assert_eq!(printed["public_url"].as_str(), Some("https://file.example"));

    let printed = print_config(
        &[
            "--config",
            file,
            "--addr",
            "127.0.0.1:1003",
            "--public-url",
            "https://flag.example",
        ],
        &env,
    );
    assert_eq!(printed["addr"].as_str(), Some("127.0.0.1:1003"));
    assert_eq!(printed["public_url"].as_str(), Some("https://flag.example"));
    assert_eq!(printed["sessions"]["idle_seconds"].as_integer(), Some(200));

    // CREDLOG_CONFIG names the file when --config does not.
    let printed = print_config(&[], &[("CREDLOG_CONFIG", file)]);
    assert_eq!(printed["addr"].as_str(), Some("127.0.0.1:1001"));
}

#[test]
fn the_printed_settings_read_back_as_the_same_settings() {
    let file = config_file(
        "demo = true\n[oauth1]\ntimestamp_window_seconds = 60\n\
         signature_methods = [\"HMAC-SHA1\", \"RSA-SHA1\"]\n\
         [oauth2]\nallowed_scopes = \"profile email\"\n\
         [oauth2.grants.client_credentials]\naccess_token_lifetime_seconds = 600\n\
         [oauth2.error_uris]\ninvalid_grant = \"https://auth.example.com/help\"\n\
         [connections]\nshutdown_grace_seconds = 5\n",
    );
    let env = [("CREDLOG_THROTTLE_USER_FAILURES", "3")];
    let first = print_config(&["--config", path(&file), "--memory"], &env);
    let printed = config_file(&toml::to_string(&first).unwrap());
    let again = print_config(&["--config", path(&printed)], &[]);
    assert_eq!(first, again);
    assert_eq!(first["memory"].as_bool(), Some(true));
    assert_eq!(first["throttle"]["user_failures"].as_integer(), Some(3));
    assert_eq!(
        first["oauth2"]["grants"]["client_credentials"]["access_token_lifetime_seconds"]
            .as_integer(),
        Some(600)
    );
    // Without a file: the defaults, every key of the example file.
    let defaults = print_config(&[], &[]);
    let example: toml::Table = include_str!("../../credlog.example.toml").parse().unwrap();
    assert_eq!(defaults, example);
}

/// `credlog serve --memory --addr 127.0.0.1:0 args`, which must open an
/// admin listener: the running server and the admin listener's URL.
fn serve_with_admin(args: &[&str]) -> (Running, String) {
    let running = Running::spawn(
        credlog()
            .args(["serve", "--memory", "--addr", "127.0.0.1:0"])
            .args(args)
            .stderr(Stdio::null()),
    );
    running.base();
    let second = running.line();
    let admin = second
        .strip_prefix("admin on ")
        .unwrap_or_else(|| panic!("second line: {second:?}"))
        .to_owned();
    (running, admin)
}

async fn assert_healthy(admin: &str) {
    let health = Answer::from(http().get(format!("{admin}/healthz")).send().await.unwrap()).await;
    assert_eq!(health.status, 200, "{}", health.body);
}

#[tokio::test]
async fn the_files_admin_addr_opens_the_admin_listener_and_the_flag_wins() {
    // A bare port is one on loopback; 0 a free one.
    let file = config_file("admin_addr = \"0\"\n");
    let (_server, admin) = serve_with_admin(&["--config", path(&file)]);
    assert!(admin.starts_with("http://127.0.0.1:"), "{admin}");
    assert_healthy(&admin).await;

    // The file names an address that is taken: only the flag's can work.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap();
    let file = config_file(&format!("admin_addr = \"{taken}\"\n"));
    let (_server, admin) = serve_with_admin(&["--config", path(&file), "--admin-addr", "0"]);
    assert_ne!(admin, format!("http://{taken}"));
    assert_healthy(&admin).await;
}

#[test]
fn admin_addr_and_log_format_are_settings_like_the_others() {
    let file = config_file("admin_addr = \"8081\"\nlog_format = \"json\"\n");
    let file = path(&file);
    let printed = print_config(&["--config", file], &[]);
    assert_eq!(printed["admin_addr"].as_str(), Some("127.0.0.1:8081"));
    assert_eq!(printed["log_format"].as_str(), Some("json"));
    let env = [
        ("CREDLOG_ADMIN_ADDR", "0.0.0.0:8082"),
        ("CREDLOG_LOG_FORMAT", "text"),
    ];
    let printed = print_config(&["--config", file], &env);
    assert_eq!(printed["admin_addr"].as_str(), Some("0.0.0.0:8082"));
    assert_eq!(printed["log_format"].as_str(), Some("text"));
    let flags = [
        "--config",
        file,
        "--admin-addr",
        "8083",
        "--log-format",
        "json",
    ];
    let printed = print_config(&flags, &env);
    assert_eq!(printed["admin_addr"].as_str(), Some("127.0.0.1:8083"));
    assert_eq!(printed["log_format"].as_str(), Some("json"));
    assert_usage_error(
        credlog()
            .args(["serve", "--memory"])
            .env("CREDLOG_ADMIN_ADDR", "localhost"),
        &[
            "admin_addr",
            "CREDLOG_ADMIN_ADDR",
            "neither an ip:port nor a port",
        ],
    );
}

/// `credlog args` in `cwd` (where a default `./credlog-data` would go),
/// with the variables `env`; it must succeed.
fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = credlog()
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    output
}

/// How many records `credlog check` says it replayed.
fn records_checked(check: &Output) -> u64 {
    let said = stdout(check);
    said.strip_prefix("ok: ")
        .and_then(|rest| rest.split_once(" records replayed"))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or_else(|| panic!("not a check report: {said}"))
}

#[test]
fn the_other_commands_find_their_store_through_the_same_layers() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let other = dir.path().join("other");
    let other = other.to_str().unwrap();
    let file = config_file(&format!("data = {data:?}\n"));
    let file = path(&file);

    // CREDLOG_DATA names the directory `user add` writes to, and the
    // file's `data` the one `client add` registers in.
    let user = ["user", "add", "alice", "--password", "alice's password"];
    run_in(&cwd, &user, &[("CREDLOG_DATA", data)]);
    let client = [
        "client",
        "add",
        "--owner",
        "alice",
        "--name",
        "App",
        "--redirect-uri",
        "https://app.example/cb",
        "--config",
        file,
    ];
    let registered: serde_json::Value =
        serde_json::from_slice(&run_in(&cwd, &client, &[]).stdout).unwrap();
    assert!(registered["client_id"].is_string(), "{registered}");

    // `check` and `log` read both from the file's directory, whether
    // --config or CREDLOG_CONFIG names it (--full: each check replays
    // the whole log, not only what came after the last one's snapshot).
    let direct = records_checked(&run_in(&cwd, &["check", "--full", "--data", data], &[]));
    assert!(direct >= 2, "the user and the client: {direct}");
    let check = run_in(&cwd, &["check", "--full", "--config", file], &[]);
    assert_eq!(records_checked(&check), direct);
    let log = stdout(&run_in(&cwd, &["log"], &[("CREDLOG_CONFIG", file)]));
    assert!(
        log.contains("issued kind=user") && log.contains("issued kind=client"),
        "{log}"
    );

    // CREDLOG_DATA wins over the file, and --data over both.
    let elsewhere = config_file(&format!("data = {other:?}\n"));
    let over_file = [("CREDLOG_DATA", data)];
    let check = run_in(
        &cwd,
        &["check", "--full", "--config", path(&elsewhere)],
        &over_file,
    );
    assert_eq!(records_checked(&check), direct);
    let check = run_in(
        &cwd,
        &["check", "--full", "--config", file, "--data", other],
        &over_file,
    );
    assert_eq!(records_checked(&check), 0);
    assert!(
        !cwd.join("credlog-data").exists(),
        "the default was not used"
    );

    // The file is read as `serve` reads it: an unknown key is a usage error.
    let misspelt = config_file(&format!("dat = {data:?}\n"));
    for args in [
        ["check", "--config", path(&misspelt)].as_slice(),
        [
            "user",
            "add",
            "bob",
            "--password",
            "pw",
            "--config",
            path(&misspelt),
        ]
        .as_slice(),
    ] {
        assert_usage_error(credlog().args(args).current_dir(&cwd), &["dat", "line 1"]);
    }
}
