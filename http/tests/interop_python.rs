//! Third-party Python OAuth clients against a real `credlog` server.
//!
//! Each test starts `credlog serve --memory --demo` (the flows and the
//! browser also on a PostgreSQL database of their own) and runs one script of
//! `tests/interop/` against it, with requests-oauthlib and Authlib:
//!
//! - `oauth1_clients.py`: the OAuth 1 three-legged flow (every signature
//!   method and placement the contract promises, `oob`, and a few refusals);
//! - `oauth2_clients.py`: every OAuth 2 grant and client authentication
//!   method, PKCE, refresh rotation, revocation, introspection, metadata,
//!   bearer use of `/api/me`, and the refusals the libraries surface;
//! - `openid_clients.py`: Authlib's OpenID Connect client (the ID token
//!   validated as a `CodeIDToken` against the JWK Set, refresh, UserInfo,
//!   implicit `id_token token` validated as an `ImplicitIDToken`,
//!   Discovery) and a device flow (RFC 8628) run with requests;
//! - `public_url.py`: behind a TLS-ending proxy (`--public-url https://...`),
//!   requests signed for the public URL are accepted, ones signed for the
//!   listener refused; the issuer and cookies follow the public URL;
//! - `browser_manage.py`: a person registers an app on the pages, rotates
//!   its secret, grants it consent, revokes the grant and deletes the app,
//!   in Debian's chromium (headless, Selenium through Debian's
//!   chromedriver), with JavaScript and without, and allows a device on
//!   `/device` (RFC 8628) the same two ways; screenshots land in
//!   `target/browser-screenshots`.
//!
//! (`interop_support.py` holds what the two scripts share.)
//!
//! Needs `python3` with `venv` (or the interpreter named by
//! `CREDLOG_INTEROP_PYTHON`) and, the first time, access to PyPI: the tests
//! create `target/interop-venv` and install `tests/interop/requirements.txt`
//! into it, again whenever that file changes. They fail (never skip) when
//! that is impossible. The browser test needs `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (Debian's `chromium` and `chromium-driver`,
//! which `.ci/run` installs; `CREDLOG_CHROMIUM` and `CREDLOG_CHROMEDRIVER`
//! name others).

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use credlog_storage_postgres::testing::TestDatabase;
use support::process::Running;
use support::python::{interop_dir, python_env, run_with_deadline, target_dir};

/// How long the server may take to print its address and demo clients.
const STARTUP: Duration = Duration::from_secs(60);
/// How long a whole script may take (each needs a few seconds).
const SCRIPT: Duration = Duration::from_secs(300);

/// The running server and what `--demo` printed.
struct Server {
    process: Running,
    base_url: String,
    /// `client_id`, `client_secret`, `private_key` of each demo client, by label.
    clients: Vec<(String, HashMap<String, String>)>,
    stderr: Option<JoinHandle<String>>,
    /// The database a server on PostgreSQL keeps its store in.
    _database: Option<TestDatabase>,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&[])
    }

    /// `credlog serve --memory --demo` on loopback with `extra` arguments.
    fn start_with(extra: &[&str]) -> Server {
        Server::start_on(&["--memory"], extra)
    }

    /// The same server on a PostgreSQL database of its own, if one answers.
    fn on_postgres() -> Option<Server> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let database = runtime.block_on(TestDatabase::create())?;
        let mut server = Server::start_on(&["--postgres", &database.url()], &[]);
        server._database = Some(database);
        Some(server)
    }

    /// `credlog serve --demo` on loopback on the store `store` names, with
    /// `extra` arguments.
    fn start_on(store: &[&str], extra: &[&str]) -> Server {
        let mut process = Running::spawn(
            Command::new(env!("CARGO_BIN_EXE_credlog"))
                .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
                .args(store)
                .args(extra)
                .stderr(Stdio::piped()),
        );
        let stderr = process.stderr();
        let deadline = Instant::now() + STARTUP;
        let mut printed = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match process.next_line(left) {
                Ok(line) => {
                    let done = line.starts_with("demo callbacks:");
                    printed.push(line);
                    if done {
                        break;
                    }
                }
                Err(error) => {
                    drop(process);
                    panic!(
                        "credlog serve did not print its address and demo clients ({error:?}); \
                         stdout so far:\n{}\n--- stderr\n{}",
                        printed.join("\n"),
                        stderr.join().unwrap_or_default()
                    );
                }
            }
        }
        let base_url = printed[0]
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line is not `listening on ...`: {printed:#?}"))
            .to_owned();
        let clients = printed
            .iter()
            .filter_map(|line| line.strip_prefix("demo client ("))
            .map(|rest| {
                let (label, fields) = rest.split_once("): ").expect("demo client line");
                let fields = fields
                    .split_whitespace()
                    .filter_map(|field| field.split_once('='))
                    .map(|(key, value)| (key.to_owned(), value.to_owned()))
                    .collect::<HashMap<_, _>>();
                (label.to_owned(), fields)
            })
            .collect::<Vec<_>>();
        process.remove_on_drop(
            clients
                .iter()
                .filter_map(|(_, fields)| fields.get("private_key").map(PathBuf::from)),
        );
        Server {
            process,
            base_url,
            clients,
            stderr: Some(stderr),
            _database: None,
        }
    }

    /// The fields of the demo client whose label mentions `kind`.
    fn client(&self, kind: &str) -> &HashMap<String, String> {
        self.clients
            .iter()
            .find(|(label, _)| label.contains(kind))
            .map(|(_, fields)| fields)
            .unwrap_or_else(|| panic!("no demo client labelled {kind:?}: {:#?}", self.clients))
    }

    /// One field (`client_id`, `client_secret`, ...) of a demo client.
    fn field(&self, kind: &str, name: &str) -> String {
        let fields = self.client(kind);
        fields
            .get(name)
            .unwrap_or_else(|| panic!("demo client {kind:?} without {name}: {fields:?}"))
            .clone()
    }

    /// Stops the server and returns what it wrote on stderr.
    fn stop(mut self) -> String {
        self.process.kill();
        self.stderr
            .take()
            .and_then(|stderr| stderr.join().ok())
            .unwrap_or_default()
    }
}

/// Runs `tests/interop/<script> --base-url <server> <args>` against the
/// server, then stops the server. Passes the script's output through and
/// panics, with the script's and the server's stderr, unless the script
/// exits 0 after `all N cases passed` with N (at least one) `ok` lines.
fn run_script(python: &Path, server: Server, script: &str, args: &[String]) {
    let started = Instant::now();
    let (status, stdout, stderr) = run_with_deadline(
        Command::new(python)
            .arg(interop_dir().join(script))
            .args(["--base-url", &server.base_url])
            .args(args),
        SCRIPT,
    );
    let elapsed = started.elapsed();
    let server_log = server.stop();
    print!("{stdout}");
    let failed = |why: String| -> ! {
        panic!(
            "{script} {why}\n--- its stderr\n{stderr}\n--- server stderr\n{}",
            if server_log.is_empty() {
                "(empty)"
            } else {
                &server_log
            }
        )
    };
    match status {
        Some(status) if status.success() => {}
        Some(status) => failed(format!("failed ({status}), after the cases above passed")),
        None => failed(format!("did not finish within {SCRIPT:?}")),
    }
    let passed = stdout
        .lines()
        .filter(|line| line.starts_with("ok "))
        .count();
    let summary = format!("all {passed} cases passed");
    if passed == 0 || !stdout.lines().any(|line| line == summary) {
        failed(format!("exited 0 without `{summary}` (or ran no case)"));
    }
    eprint!("{stderr}");
    println!("{script}: {passed} cases passed in {elapsed:.1?}");
}

#[test]
fn python_openid_connect_and_device_clients() {
    openid_clients(Server::start());
}

#[test]
fn python_openid_connect_and_device_clients_on_postgres() {
    if let Some(server) = Server::on_postgres() {
        openid_clients(server);
    }
}

fn openid_clients(server: Server) {
    let python = python_env();
    let args = [
        "--username".into(),
        "demo".into(),
        "--password".into(),
        "demo".into(),
    ];
    run_script(&python, server, "openid_clients.py", &args);
}

#[test]
fn python_oauth1_clients_run_the_three_legged_flow() {
    oauth1_clients(Server::start());
}

#[test]
fn python_oauth1_clients_run_the_three_legged_flow_on_postgres() {
    if let Some(server) = Server::on_postgres() {
        oauth1_clients(server);
    }
}

fn oauth1_clients(server: Server) {
    let python = python_env();
    let args = [
        "--client-id".into(),
        server.field("confidential", "client_id"),
        "--client-secret".into(),
        server.field("confidential", "client_secret"),
        "--rsa-client-id".into(),
        server.field("RSA-SHA1", "client_id"),
        "--rsa-key-file".into(),
        server.field("RSA-SHA1", "private_key"),
        "--username".into(),
        "demo".into(),
        "--password".into(),
        "demo".into(),
    ];
    run_script(&python, server, "oauth1_clients.py", &args);
}

#[test]
fn python_oauth2_clients_run_every_grant() {
    oauth2_clients(Server::start());
}

#[test]
fn python_oauth2_clients_run_every_grant_on_postgres() {
    if let Some(server) = Server::on_postgres() {
        oauth2_clients(server);
    }
}

fn oauth2_clients(server: Server) {
    let python = python_env();
    let args = [
        "--client-id".into(),
        server.field("confidential", "client_id"),
        "--client-secret".into(),
        server.field("confidential", "client_secret"),
        "--public-client-id".into(),
        server.field("public", "client_id"),
        "--username".into(),
        "demo".into(),
        "--password".into(),
        "demo".into(),
    ];
    run_script(&python, server, "oauth2_clients.py", &args);
}

/// `--public-url https://...`: requests signed for the public URL and sent
/// to the loopback listener with the proxy's `Host` are accepted; the same
/// request signed for the listener's own URL is refused.
#[test]
fn python_clients_sign_for_the_public_url_behind_a_proxy() {
    let python = python_env();
    let public = "https://auth.example.com";
    let server = Server::start_with(&["--public-url", public]);
    let args = [
        "--public-url".into(),
        public.into(),
        "--client-id".into(),
        server.field("confidential", "client_id"),
        "--client-secret".into(),
        server.field("confidential", "client_secret"),
    ];
    run_script(&python, server, "public_url.py", &args);
}

/// A browser program the real-browser test needs: `$env`, or `default`.
fn browser_program(env: &str, default: &str) -> String {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    assert!(
        Path::new(&path).exists(),
        "{path} is missing: the real-browser test drives Debian's chromium \
         (apt-get install chromium chromium-driver, as .ci/run does; or set {env})"
    );
    path
}

/// The management pages in a real browser, with and without JavaScript
/// (issue 14): register through the form, read the one-time secret, rotate
/// it, consent, see and revoke the grant on /authorizations, delete.
#[test]
fn a_person_manages_an_app_in_chromium_with_and_without_javascript() {
    manage_in_chromium(Server::start());
}

#[test]
fn a_person_manages_an_app_in_chromium_on_postgres() {
    if let Some(server) = Server::on_postgres() {
        manage_in_chromium(server);
    }
}

fn manage_in_chromium(server: Server) {
    let chromium = browser_program("CREDLOG_CHROMIUM", "/usr/bin/chromium");
    let chromedriver = browser_program("CREDLOG_CHROMEDRIVER", "/usr/bin/chromedriver");
    let python = python_env();
    let screenshots = target_dir().join("browser-screenshots");
    let args = [
        "--username".into(),
        "demo".into(),
        "--password".into(),
        "demo".into(),
        "--screenshots".into(),
        screenshots.display().to_string(),
        "--chromium".into(),
        chromium,
        "--chromedriver".into(),
        chromedriver,
    ];
    run_script(&python, server, "browser_manage.py", &args);
}
