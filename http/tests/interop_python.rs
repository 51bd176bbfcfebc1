//! Third-party Python OAuth 1 clients against a real `credlog` server.
//!
//! requests-oauthlib and Authlib each run the three-legged flow (every
//! signature method and placement the contract promises, `oob`, and a few
//! refusals) against `credlog serve --memory --demo`; the cases live in
//! `tests/interop/oauth1_clients.py`.
//!
//! Needs `python3` with `venv` (or the interpreter named by
//! `CREDLOG_INTEROP_PYTHON`) and, the first time, access to PyPI: the test
//! creates `target/interop-venv` and installs `tests/interop/requirements.txt`
//! into it, again whenever that file changes. It fails (never skips) when
//! that is impossible.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the server may take to print its address and demo clients.
const STARTUP: Duration = Duration::from_secs(60);
/// How long the whole script may take (it needs a few seconds).
const SCRIPT: Duration = Duration::from_secs(300);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
}

/// `<workspace>/target`, or an absolute `CARGO_TARGET_DIR`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the package sits in the workspace")
            .join("target"),
    }
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Runs a setup command to its end; panics with everything it printed when
/// it fails.
fn run_setup(command: &mut Command, what: &str, hint: &str) {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("{what}: cannot run {command:?}: {error}{hint}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}): {command:?}{hint}\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    println!("{what}: {:.1?}", started.elapsed());
}

/// The venv's python, with requirements.txt installed. The venv is made
/// once; a stamp (a copy of the requirements installed) tells whether pip
/// has to run again.
fn python_env() -> PathBuf {
    let venv = target_dir().join("interop-venv");
    let requirements_file = interop_dir().join("requirements.txt");
    let requirements = fs::read_to_string(&requirements_file)
        .unwrap_or_else(|error| panic!("reading {}: {error}", requirements_file.display()));
    let stamp = venv.join("credlog-requirements.txt");
    let python = venv_python(&venv);
    if python.exists() && fs::read_to_string(&stamp).ok().as_deref() == Some(&*requirements) {
        return python;
    }
    let hint = format!(
        "\n(the interop test needs python3 with venv and PyPI access; delete {} to start over)",
        venv.display()
    );
    if !python.exists() {
        let base = std::env::var("CREDLOG_INTEROP_PYTHON").unwrap_or_else(|_| "python3".into());
        run_setup(
            Command::new(base).args(["-m", "venv"]).arg(&venv),
            "creating the Python venv",
            &hint,
        );
    }
    let _ = fs::remove_file(&stamp);
    run_setup(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-input", "-r"])
            .arg(&requirements_file),
        "pip install -r tests/interop/requirements.txt",
        &hint,
    );
    fs::write(&stamp, requirements)
        .unwrap_or_else(|error| panic!("writing {}: {error}", stamp.display()));
    python
}

/// A child process that is killed when dropped: a failing assertion never
/// leaves it running.
struct KillOnDrop {
    child: Child,
    /// Files the process left that are ours to remove (the demo RSA key).
    leftovers: Vec<PathBuf>,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for file in &self.leftovers {
            let _ = fs::remove_file(file);
        }
    }
}

/// Reads a pipe to its end on a thread and hands back everything read.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The running server and what `--demo` printed.
struct Server {
    process: KillOnDrop,
    base_url: String,
    /// `client_id`, `client_secret`, `private_key` of each demo client, by label.
    clients: Vec<(String, HashMap<String, String>)>,
    stderr: Option<JoinHandle<String>>,
}

impl Server {
    fn start() -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(["serve", "--memory", "--demo", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting target/debug/credlog");
        let mut process = KillOnDrop {
            child,
            leftovers: Vec::new(),
        };
        let stderr = drain(process.child.stderr.take().expect("piped stderr"));
        let stdout = process.child.stdout.take().expect("piped stdout");
        // Lines go through a channel (to wait with a deadline); the thread
        // keeps draining stdout afterwards so the server never blocks on it.
        let (lines_tx, lines_rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines_tx.send(line);
            }
        });
        let deadline = Instant::now() + STARTUP;
        let mut printed = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
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
        process.leftovers = clients
            .iter()
            .filter_map(|(_, fields)| fields.get("private_key").map(PathBuf::from))
            .collect();
        Server {
            process,
            base_url,
            clients,
            stderr: Some(stderr),
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

    /// Stops the server and returns what it wrote on stderr.
    fn stop(mut self) -> String {
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
        self.stderr
            .take()
            .and_then(|stderr| stderr.join().ok())
            .unwrap_or_default()
    }
}

/// Runs a command with a deadline; returns its status (None: killed at the
/// deadline), stdout and stderr.
fn run_with_deadline(
    command: &mut Command,
    limit: Duration,
) -> (Option<ExitStatus>, String, String) {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    let mut process = KillOnDrop {
        child,
        leftovers: Vec::new(),
    };
    let stdout = drain(process.child.stdout.take().expect("piped stdout"));
    let stderr = drain(process.child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + limit;
    let status = loop {
        match process.child.try_wait().expect("waiting for the script") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => break None,
            None => thread::sleep(Duration::from_millis(50)),
        }
    };
    drop(process);
    (
        status,
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    )
}

#[test]
fn python_oauth1_clients_run_the_three_legged_flow() {
    let python = python_env();
    let server = Server::start();
    let confidential = server.client("confidential").clone();
    let rsa = server.client("RSA-SHA1").clone();
    let field = |fields: &HashMap<String, String>, name: &str| -> String {
        fields
            .get(name)
            .unwrap_or_else(|| panic!("demo client without {name}: {fields:?}"))
            .clone()
    };

    let started = Instant::now();
    let (status, stdout, stderr) = run_with_deadline(
        Command::new(&python)
            .arg(interop_dir().join("oauth1_clients.py"))
            .args(["--base-url", &server.base_url])
            .args(["--client-id", &field(&confidential, "client_id")])
            .args(["--client-secret", &field(&confidential, "client_secret")])
            .args(["--rsa-client-id", &field(&rsa, "client_id")])
            .args(["--rsa-key-file", &field(&rsa, "private_key")])
            .args(["--username", "demo", "--password", "demo"]),
        SCRIPT,
    );
    let elapsed = started.elapsed();
    let server_log = server.stop();
    print!("{stdout}");
    let failed = |why: String| -> ! {
        panic!(
            "oauth1_clients.py {why}\n--- its stderr\n{stderr}\n--- server stderr\n{}",
            if server_log.is_empty() {
                "(empty)"
            } else {
                &server_log
            }
        )
    };
    match status {
        Some(status) if status.success() => {
            eprint!("{stderr}");
            println!("oauth1_clients.py: {elapsed:.1?}");
        }
        Some(status) => failed(format!("failed ({status}), after the cases above passed")),
        None => failed(format!("did not finish within {SCRIPT:?}")),
    }
}
