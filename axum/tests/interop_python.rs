//! Third-party Python OAuth clients against the example binary
//! (`examples/provider`), so they prove the embedded provider as they prove
//! `credlog serve`: each test starts the example (on memory, or on sled with
//! `--sled`), reads the address, users and clients it prints, and runs one
//! of credlog-http's `tests/interop` scripts (requests-oauthlib, Authlib)
//! against it with the example's user, clients, session cookie and
//! redirect URI. Every case runs but those that need what only `credlog
//! serve --demo` has, left out with the script's `--skip`:
//!
//! - `oauth1_clients.py`: HMAC-SHA1 with the parameters in the header, the
//!   body and the query, `oob`, and the refusals. Not HMAC-SHA256,
//!   PLAINTEXT or RSA-SHA1: the example's OAuth 1 allows HMAC-SHA1 alone
//!   (`Oauth1Config::default()`) and has no RSA-SHA1 client.
//! - `oauth2_clients.py`: every grant, PKCE S256 and plain, refresh
//!   rotation, revocation, introspection, metadata, bearer use of
//!   `/api/me` and the refusals, the implicit grant with the confidential
//!   client (the public one is not registered for it). Not the cases that
//!   register a `client_secret_post` client (or a second client) through
//!   `POST /clients`, credlog's own management API, which the example does
//!   not serve; nor the one that needs a second registered redirect URI.
//! - `openid_clients.py`: every case: the ID token validated against the
//!   JWK Set, refresh, UserInfo, implicit `id_token token` (the
//!   confidential client), Discovery, and the device flow (the public
//!   client) on the example's `/device` pages.
//!
//! Needs what credlog-http's interop test needs (python3 with venv, PyPI
//! access the first time) and shares its venv, `target/interop-venv`. The
//! example is built by cargo first (a no-op when it is fresh) and runs in
//! a temporary directory, where it writes its keyed client's key file.

mod python;

use std::process::Command;
use std::time::{Duration, Instant};

use python::{provider_example, run_script, Running};
use tempfile::TempDir;

/// How long the example may take to print its address, users and clients.
const STARTUP: Duration = Duration::from_secs(60);
/// The example's clients' redirect URI (`app.rs`).
const CALLBACK: &str = "http://127.0.0.1:9000/callback";
/// The example's clients' scope (`app.rs`).
const CLIENT_SCOPE: &str = "openid profile email";
/// The cookie the example's `POST /login` sets (`users.rs`).
const SESSION_COOKIE: &str = "example_session";

/// The running example and what it printed.
struct Example {
    process: Running,
    base_url: String,
    /// The first user it printed: name and password.
    user: (String, String),
    /// `id ID secret SECRET`: every grant, `client_secret_basic`.
    confidential: (String, String),
    /// `id ID`: the code flow with PKCE and the device flow.
    public: String,
    /// Its working directory: the keyed client's key file, the sled store.
    _dir: TempDir,
}

impl Example {
    /// The example on loopback, on a sled store in its directory when
    /// `sled`, on memory otherwise.
    fn start(sled: bool) -> Example {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut command = Command::new(provider_example());
        command.arg("127.0.0.1:0").current_dir(dir.path());
        if sled {
            command.arg("--sled").arg(dir.path().join("store"));
        }
        let process = Running::spawn(&mut command);
        let deadline = Instant::now() + STARTUP;
        let mut printed: Vec<String> = Vec::new();
        while printed.iter().filter(|line| is_client(line)).count() < 3 {
            let left = deadline.saturating_duration_since(Instant::now());
            match process.next_line(left) {
                Ok(line) => printed.push(line),
                Err(error) => {
                    let (_, stderr) = process.stop();
                    panic!(
                        "the example did not print its address, users and clients ({error:?}); \
                         stdout so far:\n{}\n--- stderr\n{stderr}",
                        printed.join("\n")
                    );
                }
            }
        }
        Example::read(process, &printed, dir)
    }

    /// What `printed` says: `listening on URL`, `NAME / PASSWORD` lines,
    /// then the three clients.
    fn read(process: Running, printed: &[String], dir: TempDir) -> Example {
        let base_url = printed[0]
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line is not `listening on ...`: {printed:#?}"))
            .to_owned();
        let user = printed[1..]
            .iter()
            .find_map(|line| line.split_once(" / "))
            .map(|(name, password)| (name.to_owned(), password.to_owned()))
            .unwrap_or_else(|| panic!("no `NAME / PASSWORD` line: {printed:#?}"));
        let clients: Vec<Vec<&str>> = printed
            .iter()
            .filter(|line| is_client(line))
            .map(|line| line.split(' ').collect())
            .collect();
        let (confidential, public) = match &clients[..] {
            [confidential, public, keyed] => match (&confidential[..], &public[..], keyed.get(2)) {
                (["id", id, "secret", secret], ["id", public], Some(&"private_key_jwt")) => {
                    ((id.to_string(), secret.to_string()), public.to_string())
                }
                _ => panic!("not the three clients expected: {printed:#?}"),
            },
            _ => panic!("not three clients: {printed:#?}"),
        };
        Example {
            process,
            base_url,
            user,
            confidential,
            public,
            _dir: dir,
        }
    }

    /// The options every script takes: the user, the cookie, the redirect URI.
    fn common(&self) -> Vec<String> {
        [
            "--username",
            &self.user.0,
            "--password",
            &self.user.1,
            "--session-cookie",
            SESSION_COOKIE,
            "--redirect-uri",
            CALLBACK,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Runs `script` with the common options and `args`, then stops.
    fn run(self, script: &str, args: &[&str]) {
        let mut all = self.common();
        all.extend(args.iter().map(|arg| arg.to_string()));
        run_script(self.process, &self.base_url, script, &all);
    }
}

/// A client line: `id ID ...`.
fn is_client(line: &str) -> bool {
    line.starts_with("id ")
}

#[test]
fn python_oauth1_clients_run_the_three_legged_flow_on_the_example() {
    oauth1_clients(Example::start(false));
}

#[test]
fn python_oauth1_clients_run_the_three_legged_flow_on_the_example_on_sled() {
    oauth1_clients(Example::start(true));
}

fn oauth1_clients(example: Example) {
    let (id, secret) = example.confidential.clone();
    let args = [
        "--client-id",
        &id,
        "--client-secret",
        &secret,
        "--client-scope",
        CLIENT_SCOPE,
        // HMAC-SHA1 alone, and no RSA-SHA1 client.
        "--skip",
        "hmac-sha256,plaintext,rsa-sha1",
    ];
    example.run("oauth1_clients.py", &args);
}

#[test]
fn python_oauth2_clients_run_every_grant_on_the_example() {
    oauth2_clients(Example::start(false));
}

#[test]
fn python_oauth2_clients_run_every_grant_on_the_example_on_sled() {
    oauth2_clients(Example::start(true));
}

fn oauth2_clients(example: Example) {
    let (id, secret) = example.confidential.clone();
    let public = example.public.clone();
    let args = [
        "--client-id",
        &id,
        "--client-secret",
        &secret,
        "--public-client-id",
        &public,
        // The confidential client has every grant; the public one has not
        // the implicit grant.
        "--implicit-client-id",
        &id,
        "--client-scope",
        CLIENT_SCOPE,
        // No `POST /clients`, one redirect URI.
        "--skip",
        "registration,second-redirect-uri",
    ];
    example.run("oauth2_clients.py", &args);
}

#[test]
fn python_openid_connect_and_device_clients_on_the_example() {
    openid_clients(Example::start(false));
}

#[test]
fn python_openid_connect_and_device_clients_on_the_example_on_sled() {
    openid_clients(Example::start(true));
}

fn openid_clients(example: Example) {
    let (id, secret) = example.confidential.clone();
    let public = example.public.clone();
    let args = [
        "--client-id",
        &id,
        "--client-secret",
        &secret,
        "--implicit-client-id",
        &id,
        "--device-client-id",
        &public,
    ];
    example.run("openid_clients.py", &args);
}
