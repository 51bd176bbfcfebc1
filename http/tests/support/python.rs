//! The Python the interop tests run third-party libraries in: a venv
//! under the target directory with `tests/interop/requirements.txt`
//! installed, made once and shared by every test binary that needs it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::process::Running;

/// `http/tests/interop`, where the scripts live.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
}

/// `<workspace>/target`, or an absolute `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the package sits in the workspace")
            .join("target"),
    }
}

/// The python of the venv at `venv`.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Runs a setup command to its end and returns its stdout; panics with
/// everything it printed when it fails.
pub fn run_setup(command: &mut Command, what: &str, hint: &str) -> String {
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
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The venv's python, with requirements.txt installed. The venv is made
/// once; a stamp (a copy of the requirements installed) tells whether pip
/// has to run again. The tests run in parallel: one of them sets the venv
/// up while the others wait.
pub fn python_env() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(set_up_python_env).clone()
}

fn set_up_python_env() -> PathBuf {
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

/// Runs a command with a deadline; returns its status (None: killed at the
/// deadline), stdout and stderr.
pub fn run_with_deadline(
    command: &mut Command,
    limit: Duration,
) -> (Option<ExitStatus>, String, String) {
    let mut process = Running::spawn(command.stderr(Stdio::piped()));
    let stderr = process.stderr();
    let status = process.exit_within(limit);
    process.kill();
    (
        status,
        process.rest_of_stdout(),
        stderr.join().unwrap_or_default(),
    )
}
