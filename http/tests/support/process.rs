//! A child process killed when dropped, so a failing test leaves none
//! behind: the `credlog` binary, the example app, a Python script.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The `credlog` binary, with none of the tests' own `CREDLOG_*`
/// variables: a setting in the developer's environment must not change
/// what a test sees.
pub fn credlog() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_credlog"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CREDLOG_") {
            command.env_remove(name);
        }
    }
    command
}

/// How long a process may take to print a line it is waited for.
pub const STARTUP: Duration = Duration::from_secs(60);

/// A running child. Its stdout is read line by line on a thread, to its
/// end, so the child never blocks on a full pipe; the lines wait until
/// the test asks for them.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Files the process leaves that are the test's to remove.
    leftovers: Vec<PathBuf>,
}

impl Running {
    /// Starts `command` with stdin closed and stdout piped; stderr goes
    /// where `command` says (inherited unless set). A server logs only
    /// its warnings (`CREDLOG_LOG=warn`) unless `command` sets or removes
    /// `CREDLOG_LOG` itself: by default it logs a line a request, which
    /// would bury a failing test's own output.
    pub fn spawn(command: &mut Command) -> Running {
        if !command.get_envs().any(|(name, _)| name == "CREDLOG_LOG") {
            command.env("CREDLOG_LOG", "warn");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
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
        Running {
            child,
            lines,
            leftovers: Vec::new(),
        }
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Its next line of stdout, waiting at most `within`.
    pub fn next_line(&self, within: Duration) -> Result<String, RecvTimeoutError> {
        self.lines.recv_timeout(within)
    }

    /// Its next line of stdout (waiting up to [`STARTUP`]); empty at the
    /// end of its output.
    pub fn line(&self) -> String {
        self.next_line(STARTUP).unwrap_or_default()
    }

    /// The base URL of its next line, `listening on http://ADDR`.
    pub fn base(&self) -> String {
        let first = self
            .next_line(STARTUP)
            .expect("no `listening on` line in time");
        first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_owned()
    }

    /// The id and secret of the confidential demo client, from the lines
    /// `serve --demo` prints after its address.
    pub fn demo_confidential(&self) -> (String, String) {
        loop {
            let line = self.line();
            assert!(!line.is_empty(), "no confidential demo client printed");
            if let Some(rest) = line.strip_prefix("demo client (confidential") {
                let field = |name: &str| {
                    rest.split_whitespace()
                        .find_map(|field| field.strip_prefix(&format!("{name}=")))
                        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
                        .to_owned()
                };
                return (field("client_id"), field("client_secret"));
            }
        }
    }

    /// Everything it writes on stderr (which must be piped), read on a
    /// thread until it closes.
    pub fn stderr(&mut self) -> JoinHandle<String> {
        let mut pipe = self.child.stderr.take().expect("piped stderr");
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }

    /// Its stderr (which must be piped) line by line as it comes, read on
    /// a thread until it closes.
    pub fn stderr_lines(&mut self) -> mpsc::Receiver<String> {
        let pipe = BufReader::new(self.child.stderr.take().expect("piped stderr"));
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in pipe.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        lines
    }

    /// The rest of its stdout, once it has ended (each line ended by `\n`).
    pub fn rest_of_stdout(&self) -> String {
        self.lines.iter().map(|line| line + "\n").collect()
    }

    /// Removes `files` when this is dropped.
    pub fn remove_on_drop(&mut self, files: impl IntoIterator<Item = PathBuf>) {
        self.leftovers.extend(files);
    }

    /// Its exit status, if it exits within `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait().expect("waiting for a child") {
                Some(status) => return Some(status),
                None if Instant::now() >= deadline => return None,
                None => thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Sends it SIGTERM.
    pub fn send_sigterm(&self) {
        let pid = self.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    }

    /// Sends it SIGTERM and waits (20 s at most) for it to stop.
    pub fn terminate(&mut self) -> ExitStatus {
        self.send_sigterm();
        self.exit_within(Duration::from_secs(20))
            .expect("the server did not stop on SIGTERM")
    }

    /// Kills it (if it still runs) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
        for file in &self.leftovers {
            let _ = std::fs::remove_file(file);
        }
    }
}
