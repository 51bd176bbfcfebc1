//! What running credlog-http's Python interop scripts needs here: the
//! venv they run in (shared with credlog-http's test), the example binary
//! built by cargo, a child process killed when dropped, and a script run
//! to its verdict.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::OnceLock;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a whole script may take (each needs a few seconds).
const SCRIPT: Duration = Duration::from_secs(300);

/// The scripts: credlog-http's `tests/interop`.
fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../http/tests/interop")
        .canonicalize()
        .expect("credlog-http's tests/interop beside this crate")
}

/// `<workspace>/target`, or an absolute `CARGO_TARGET_DIR`: where
/// credlog-http's test keeps the venv too.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the package sits in the workspace")
            .join("target"),
    }
}

/// Runs a setup command to its end; panics with everything it printed when
/// it fails.
fn run_setup(command: &mut Command, what: &str) {
    let hint = "\n(the interop test needs python3 with venv and PyPI access)";
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("{what}: cannot run {command:?}: {error}{hint}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {command:?}{hint}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// The venv's python with `requirements.txt` installed, set up once (a
/// stamp, the requirements installed, tells whether pip must run again),
/// as credlog-http's test does it.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(set_up_python).clone()
}

fn set_up_python() -> PathBuf {
    let venv = target_dir().join("interop-venv");
    let requirements_file = interop_dir().join("requirements.txt");
    let requirements = fs::read_to_string(&requirements_file)
        .unwrap_or_else(|error| panic!("reading {}: {error}", requirements_file.display()));
    let stamp = venv.join("credlog-requirements.txt");
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    if python.exists() && fs::read_to_string(&stamp).ok().as_deref() == Some(&*requirements) {
        return python;
    }
    if !python.exists() {
        let base = std::env::var("CREDLOG_INTEROP_PYTHON").unwrap_or_else(|_| "python3".into());
        run_setup(
            Command::new(base).args(["-m", "venv"]).arg(&venv),
            "creating the Python venv",
        );
    }
    let _ = fs::remove_file(&stamp);
    run_setup(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(["--disable-pip-version-check", "--no-input", "-r"])
            .arg(&requirements_file),
        "pip install -r http/tests/interop/requirements.txt",
    );
    fs::write(&stamp, requirements)
        .unwrap_or_else(|error| panic!("writing {}: {error}", stamp.display()));
    python
}

/// The `provider` example, built by cargo in this test's target directory
/// and profile (a no-op when it is fresh), once for all the tests.
pub fn provider_example() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_example("provider")).clone()
}

fn build_example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("this test's own path");
    // <target>/<profile>/deps/<test>
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .expect("the test sits in <target>/<profile>/deps");
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("no profile directory in {}", profile_dir.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // What cargo set for this test only: build scripts that watch them would
    // see them change between this build and the test's own.
    for (variable, _) in std::env::vars_os() {
        let variable = variable.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|prefix| variable.starts_with(prefix))
            || variable == "CARGO_PRIMARY_PACKAGE"
            || variable == "CARGO_TARGET_TMPDIR"
        {
            command.env_remove(&*variable);
        }
    }
    command
        .args(["build", "-p", env!("CARGO_PKG_NAME"), "--example", name])
        .args(["--profile", profile, "--target-dir"])
        .arg(profile_dir.parent().expect("the target directory"))
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    run_setup(&mut command, "building the example");
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A running child with none of the developer's `CREDLOG_*` variables,
/// killed when dropped. Its stdout is read line by line on a thread, to
/// its end; its stderr is kept whole.
pub struct Running {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `command` with stdin closed, stdout and stderr piped.
    pub fn spawn(command: &mut Command) -> Running {
        for (variable, _) in std::env::vars_os() {
            if variable.to_string_lossy().starts_with("CREDLOG_") {
                command.env_remove(variable);
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            let mut line = Vec::new();
            while matches!(stdout.read_until(b'\n', &mut line), Ok(read) if read > 0) {
                let text = String::from_utf8_lossy(&line);
                let _ = send.send(text.trim_end_matches(['\n', '\r']).to_owned());
                line.clear();
            }
        });
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        Running {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// Its next line of stdout, waiting at most `within`.
    pub fn next_line(&self, within: Duration) -> Result<String, RecvTimeoutError> {
        self.lines.recv_timeout(within)
    }

    /// Its exit status, if it exits within `limit`.
    fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait().expect("waiting for a child") {
                Some(status) => return Some(status),
                None if Instant::now() >= deadline => return None,
                None => thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Kills it (if it still runs) and returns the rest of its stdout and
    /// all its stderr.
    pub fn stop(mut self) -> (String, String) {
        self.kill();
        let stdout = self.lines.iter().map(|line| line + "\n").collect();
        let stderr = self.stderr.take().and_then(|thread| thread.join().ok());
        (stdout, stderr.unwrap_or_default())
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `http/tests/interop/<script> --base-url <base_url> <args>`, then
/// stops `server`. Passes the script's output through and panics, with the
/// script's and the server's stderr, unless the script exits 0 after
/// `all N cases passed` with N (at least one) `ok` lines.
pub fn run_script(server: Running, base_url: &str, script: &str, args: &[String]) {
    let started = Instant::now();
    let mut run = Running::spawn(
        Command::new(python())
            .arg(interop_dir().join(script))
            .args(["--base-url", base_url])
            .args(args),
    );
    let status = run.exit_within(SCRIPT);
    let (stdout, stderr) = run.stop();
    let (_, server_log) = server.stop();
    print!("{stdout}");
    let failed = |why: String| -> ! {
        let server_log = if server_log.is_empty() {
            "(empty)"
        } else {
            &server_log
        };
        panic!("{script} {why}\n--- its stderr\n{stderr}\n--- server stderr\n{server_log}")
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
    println!(
        "{script}: {passed} cases passed in {:.1?}",
        started.elapsed()
    );
}
