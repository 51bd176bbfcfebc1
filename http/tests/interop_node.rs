//! A third-party Node.js relying party against a real `credlog` server:
//! panva's `openid-client` 6 (certified for the FAPI 2.0 RP profile) with
//! PAR, DPoP and `private_key_jwt` with ES256 under the FAPI 2.0 Security
//! Profile (issue 28).
//!
//! Each test starts `credlog serve --memory --demo` (once more on a
//! PostgreSQL database of its own) and runs `tests/interop/node/fapi2.mjs`
//! against it: the script registers its clients through `POST /clients` as
//! the demo user (one with `profile: "fapi2"`, `dpop_bound_access_tokens`
//! and ES256 ID tokens), discovers the server, pushes the authorization
//! request, signs in and consents over HTTP, redeems the code with a DPoP
//! proof, calls UserInfo and `/api/me` with DPoP, refreshes, and checks
//! what the profile refuses (see the script's header).
//!
//! Needs `node` 20 or later and `npm` (or the programs named by
//! `CREDLOG_INTEROP_NODE` and `CREDLOG_INTEROP_NPM`) and, the first time,
//! access to the npm registry: the tests copy `package.json` and
//! `package-lock.json` to `target/interop-node` and run `npm ci` there,
//! again whenever the lock file changes; the script runs from a copy beside
//! the `node_modules` it needs. They fail (never skip) when that is
//! impossible.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use credlog_storage_postgres::testing::TestDatabase;
use support::process::{credlog, Running, STARTUP};
use support::python::{run_setup, run_with_deadline, target_dir};

/// How long the script may take (it needs a few seconds).
const SCRIPT: Duration = Duration::from_secs(300);
/// The oldest Node.js openid-client 6 supports.
const NODE_MAJOR: u32 = 20;

/// `tests/interop/node`: the script and the packages it pins.
fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
        .join("node")
}

/// The program `$env` names, else `default` (looked up on `PATH`).
fn program(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_owned())
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader never sees half of it.
fn write_whole(path: &Path, contents: &[u8]) {
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    fs::write(&partial, contents)
        .and_then(|()| fs::rename(&partial, path))
        .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
}

/// The installed directory's copy of `fapi2.mjs`, with `node_modules`
/// beside it. The tests run in parallel: one of them sets it up while the
/// others wait.
fn node_env() -> PathBuf {
    static SCRIPT_PATH: OnceLock<PathBuf> = OnceLock::new();
    SCRIPT_PATH.get_or_init(set_up_node_env).clone()
}

fn set_up_node_env() -> PathBuf {
    let dir = target_dir().join("interop-node");
    let hint = format!(
        "\n(the Node interop test needs node {NODE_MAJOR}+ and npm with access to the npm \
         registry, or CREDLOG_INTEROP_NODE / CREDLOG_INTEROP_NPM; delete {} to start over)",
        dir.display()
    );
    let node = program("CREDLOG_INTEROP_NODE", "node");
    let version = run_setup(
        Command::new(&node).arg("--version"),
        "node --version",
        &hint,
    );
    let major = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok());
    assert!(
        major.is_some_and(|major| major >= NODE_MAJOR),
        "node {} is too old or unreadable: openid-client 6 needs {NODE_MAJOR}+{hint}",
        version.trim()
    );
    fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("creating {}: {error}", dir.display()));
    let read = |name: &str| {
        let path = node_dir().join(name);
        fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
    };
    let lock = read("package-lock.json");
    let stamp = dir.join("credlog-package-lock.json");
    let installed = dir.join("node_modules").join("openid-client").exists()
        && fs::read(&stamp).ok().as_deref() == Some(&*lock);
    if !installed {
        let _ = fs::remove_file(&stamp);
        write_whole(&dir.join("package.json"), &read("package.json"));
        write_whole(&dir.join("package-lock.json"), &lock);
        run_setup(
            Command::new(program("CREDLOG_INTEROP_NPM", "npm"))
                .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
                .args(["--loglevel", "error"])
                .current_dir(&dir),
            "npm ci (tests/interop/node/package-lock.json)",
            &hint,
        );
        write_whole(&stamp, &lock);
    }
    let script = dir.join("fapi2.mjs");
    write_whole(&script, &read("fapi2.mjs"));
    script
}

/// The running server.
struct Server {
    process: Running,
    base_url: String,
    stderr: Option<JoinHandle<String>>,
    /// The database a server on PostgreSQL keeps its store in.
    _database: Option<TestDatabase>,
}

impl Server {
    /// `credlog serve --memory --demo` on loopback.
    fn in_memory() -> Server {
        Server::start_on(&["--memory"])
    }

    /// The same server on a PostgreSQL database of its own, if one answers.
    fn on_postgres() -> Option<Server> {
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        let database = runtime.block_on(TestDatabase::create())?;
        let mut server = Server::start_on(&["--postgres", &database.url()]);
        server._database = Some(database);
        Some(server)
    }

    /// `credlog serve --demo` on loopback on the store `store` names.
    fn start_on(store: &[&str]) -> Server {
        let mut process = Running::spawn(
            credlog()
                .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
                .args(store)
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
        // The demo RSA-SHA1 client's private key file is the test's to remove.
        process.remove_on_drop(
            printed
                .iter()
                .flat_map(|line| line.split_whitespace())
                .filter_map(|field| field.strip_prefix("private_key="))
                .map(PathBuf::from),
        );
        Server {
            process,
            base_url,
            stderr: Some(stderr),
            _database: None,
        }
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

/// Runs `fapi2.mjs --base-url <server>` against the server, then stops the
/// server. Passes the script's output through and panics, with the
/// script's failures and the server's stderr, unless the script exits 0
/// after `all N cases passed` with N (at least one) `ok` lines.
fn run_fapi2_script(server: Server) {
    let script = node_env();
    let started = Instant::now();
    let (status, stdout, stderr) = run_with_deadline(
        Command::new(program("CREDLOG_INTEROP_NODE", "node"))
            .arg(&script)
            .args(["--base-url", &server.base_url])
            .args(["--username", "demo", "--password", "demo"])
            .current_dir(script.parent().expect("the script's directory")),
        SCRIPT,
    );
    let elapsed = started.elapsed();
    let server_log = server.stop();
    print!("{stdout}");
    let failed = |why: String| -> ! {
        panic!(
            "fapi2.mjs {why}\n--- its stderr (the failed cases)\n{stderr}\n--- server stderr\n{}",
            if server_log.is_empty() {
                "(empty)"
            } else {
                &server_log
            }
        )
    };
    match status {
        Some(status) if status.success() => {}
        Some(status) => failed(format!("failed ({status}); its stdout is above")),
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
    println!("fapi2.mjs: {passed} cases passed in {elapsed:.1?}");
}

/// openid-client 6 runs PAR, DPoP, PKCE S256 and ES256 `private_key_jwt`
/// under the FAPI 2.0 profile against the server on memory.
#[test]
fn node_openid_client_runs_fapi2_with_par_and_dpop() {
    run_fapi2_script(Server::in_memory());
}

/// The same on PostgreSQL (nothing to run when no PostgreSQL answers).
#[test]
fn node_openid_client_runs_fapi2_with_par_and_dpop_on_postgres() {
    if let Some(server) = Server::on_postgres() {
        run_fapi2_script(server);
    }
}
