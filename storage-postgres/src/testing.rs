//! A database of its own for each test, on the PostgreSQL server the
//! tests are pointed at: `CREDLOG_TEST_POSTGRES` (a URL), by default
//! `postgres://postgres@127.0.0.1:5432/test` (the project's machines and
//! CI run one there). The database is created empty and dropped with its
//! guard, so tests run in parallel.
//!
//! With no server answering, [`TestDatabase::create`] fails the test when
//! `CI` is set; elsewhere it says so loudly on standard error and answers
//! `None`, and the test returns, skipped.
//!
//! A server of a test's own, for TLS and for stopping it under load:
//! [`private_server`].

pub mod private_server;

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::{Config, NoTls};

/// Where tests find PostgreSQL unless told otherwise.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database made for one test, dropped when this is.
pub struct TestDatabase {
    /// How to reach it.
    pub config: Config,
    admin: Config,
    name: String,
}

/// The server's configuration, from `CREDLOG_TEST_POSTGRES`.
fn server() -> Config {
    let url = std::env::var("CREDLOG_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    Config::from_str(&url).unwrap_or_else(|e| panic!("CREDLOG_TEST_POSTGRES {url:?}: {e}"))
}

/// Whether the tests' PostgreSQL answers: with `CI` set it must (the test
/// fails); elsewhere a test that needs it says loudly that it is skipped.
pub async fn available() -> bool {
    match server().connect(NoTls).await {
        Ok(_) => true,
        Err(error) => {
            unavailable(&error);
            false
        }
    }
}

/// Fails the test under CI, else says loudly that it is skipped.
fn unavailable(error: &tokio_postgres::Error) {
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set and PostgreSQL does not answer ({error}): the PostgreSQL tests cannot run"
        );
    }
    eprintln!(
        "\n*** PostgreSQL does not answer ({error}); SKIPPING this PostgreSQL test. \
         Start one, or point CREDLOG_TEST_POSTGRES at one. ***\n"
    );
}

impl TestDatabase {
    /// A new, empty database; `None` (after a loud line) when no server
    /// answers outside CI.
    pub async fn create() -> Option<TestDatabase> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let admin = server();
        let connected = admin.connect(NoTls).await;
        let (client, connection) = match connected {
            Ok(connected) => connected,
            Err(error) => {
                unavailable(&error);
                return None;
            }
        };
        tokio::spawn(connection);
        let name = format!(
            "credlog_test_{}_{}_{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let mut config = admin.clone();
        config.dbname(&name);
        Some(TestDatabase {
            config,
            admin,
            name,
        })
    }

    /// Its URL, for a server or command the test starts.
    pub fn url(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self.config.get_user().unwrap_or("postgres");
        format!("postgres://{user}@{host}:{port}/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Dropped inside a runtime maybe: a thread and a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let (client, connection) = admin.connect(NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop the test database {}: {error}", self.name);
        }
    }
}
