//! A PostgreSQL server of a test's own, for what the shared one cannot
//! show: TLS with a certificate the test made, a server stopped and
//! started again under load. `initdb` and `pg_ctl` (found under
//! `/usr/lib/postgresql/*/bin`) run as the user `postgres`, in a
//! temporary directory that user owns, the server listening on
//! 127.0.0.1 on a spare port. The server is stopped and the directory
//! removed when the [`PrivateServer`] is dropped, a failing test's too.
//!
//! What it needs missing (no `initdb`, no `postgres` user, not run as root
//! or as `postgres`), [`PrivateServer::start`] fails the test when `CI` is
//! set; elsewhere it says so loudly and answers `None`, the test skipped.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// A certificate and key for the server, in PEM.
pub struct ServerTls {
    /// The server's certificate chain.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
}

/// A running private PostgreSQL server, trust authentication, user
/// `postgres`, database `postgres`.
pub struct PrivateServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
    /// How to run a program as the user `postgres`.
    as_postgres: Option<&'static str>,
}

/// The newest PostgreSQL's `bin` directory that has `initdb`.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// How to run PostgreSQL's programs as `postgres`: through `runuser` when
/// the tests run as root, directly (`None`) when they run as `postgres`.
fn runner() -> Result<Option<&'static str>, String> {
    let me = Command::new("id")
        .arg("-un")
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
    let exists = Command::new("id")
        .arg("postgres")
        .output()
        .is_ok_and(|out| out.status.success());
    match me.as_str() {
        "postgres" => Ok(None),
        "root" if exists => Ok(Some("runuser")),
        "root" => Err("there is no user postgres".into()),
        _ => Err(format!(
            "the tests run as {me}, not root or postgres, and cannot run initdb as postgres"
        )),
    }
}

/// Fails the test under CI, else says loudly that it is skipped.
fn missing(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and a private PostgreSQL cannot be started ({why}): the test cannot run");
    }
    eprintln!(
        "\n*** a private PostgreSQL cannot be started ({why}); SKIPPING this test. \
         Install PostgreSQL (initdb under /usr/lib/postgresql/*/bin) and run as root. ***\n"
    );
}

/// A port nothing listens on now.
fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a spare port on 127.0.0.1")
}

impl PrivateServer {
    /// Makes a cluster in a new temporary directory and starts it: with
    /// `tls`, `ssl = on` and every TCP connection without TLS refused
    /// (`hostnossl ... reject`); without, plain. `None` (after a loud line) when
    /// what it needs is missing outside CI.
    pub fn start(tls: Option<&ServerTls>) -> Option<PrivateServer> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let Some(bin) = bin_dir() else {
            missing("no initdb under /usr/lib/postgresql/*/bin");
            return None;
        };
        let as_postgres = match runner() {
            Ok(runner) => runner,
            Err(why) => {
                missing(&why);
                return None;
            }
        };
        let dir = std::env::temp_dir().join(format!(
            "credlog-private-pg-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("a temporary directory");
        let server = PrivateServer {
            port: spare_port(),
            bin,
            dir,
            as_postgres,
        };
        server.own(&server.dir);
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                path(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let mut conf = format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             max_connections = 60\nshared_buffers = 16MB\n",
            server.port,
            server.dir.display()
        );
        if let Some(tls) = tls {
            for (name, pem) in [("server.crt", &tls.cert_pem), ("server.key", &tls.key_pem)] {
                let file = data.join(name);
                std::fs::write(&file, pem).expect("the server's certificate files");
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .expect("the key file's mode");
                server.own(&file);
            }
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
            // TLS or nothing over TCP: a client that connects spoke TLS.
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\n\
                 hostssl all all 127.0.0.1/32 trust\n\
                 hostnossl all all 127.0.0.1/32 reject\n",
            )
            .expect("pg_hba.conf");
        }
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("postgresql.conf");
        std::io::Write::write_all(&mut file, conf.as_bytes()).expect("postgresql.conf written");
        server.start_again();
        Some(server)
    }

    /// Its URL (database `postgres`), `query` after a `?` if not empty.
    pub fn url(&self, query: &str) -> String {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        }
    }

    /// Stops it as an operator would (`pg_ctl stop -m fast`): sessions are
    /// ended, in-flight transactions rolled back, and it waits until down.
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", path(&self.data()), "stop", "-m", "fast", "-w"],
        );
    }

    /// Starts it (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path(&self.data()),
                "-l",
                path(&log),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Its server log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Makes `file` the user `postgres`'s.
    fn own(&self, file: &Path) {
        if self.as_postgres.is_none() {
            return;
        }
        let status = Command::new("chown")
            .args(["postgres:postgres", path(file)])
            .status()
            .expect("chown runs");
        assert!(status.success(), "chown postgres {} failed", file.display());
    }

    /// `program` of PostgreSQL's, to run as `postgres` in the directory.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = match self.as_postgres {
            Some(runuser) => {
                let mut command = Command::new(runuser);
                command.args(["-u", "postgres", "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        command.current_dir(&self.dir);
        command
    }

    /// Runs `program` of PostgreSQL's as `postgres`; panics (with its
    /// output and the server's log) if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}\n--- server log ---\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }
}

/// `path` as text (the temporary directory's paths are UTF-8).
fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        // Stopped at once whatever state it is in; an already stopped
        // server makes pg_ctl fail, which is fine here.
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", path(&data), "stop", "-m", "immediate", "-w"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
