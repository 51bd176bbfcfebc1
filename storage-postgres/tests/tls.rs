//! TLS to PostgreSQL as libpq's `sslmode` and `sslrootcert` mean it
//! (CONTRACT.md "Deployment"), against private servers this test starts
//! with `ssl = on` and certificates it makes, which refuse every
//! connection without TLS (`hostnossl ... reject`): a store that opens on
//! one spoke TLS to it.

use credlog_conformance::store_suite::{client, NOW};
use credlog_core::store::{CredentialStore, Event, Issued, StoreError};
use credlog_storage_postgres::testing::private_server::{PrivateServer, ServerTls};
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

const WINDOW: u64 = credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW;

/// A test CA: its certificate (PEM) and what signs with it.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        pem,
        issuer: Issuer::new(params, key),
    }
}

/// A server certificate for `names`, signed by `ca`.
fn server_tls(ca: &Ca, names: &[&str]) -> ServerTls {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca.issuer)
        .unwrap();
    ServerTls {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// `pem` in a file of the test's own, kept while the guard lives.
struct PemFile(std::path::PathBuf);

impl PemFile {
    fn new(pem: &str) -> PemFile {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "credlog-tls-test-{}-{}.pem",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, pem).unwrap();
        PemFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for PemFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Opens a store at `url` and proves it serves: a client registered is
/// read back.
async fn serves(url: &str) {
    let store = PostgresStore::open_with_nonce_window(url, WINDOW)
        .await
        .unwrap_or_else(|error| panic!("{url}: {error}"));
    let id = format!("c{}", rand_suffix());
    store
        .append(&[], vec![Event::Issued(Issued::Client(client(&id)))], NOW)
        .await
        .unwrap();
    assert!(store.client(&id).await.unwrap().is_some());
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Opening a store at `url` fails: its one-line message.
async fn refused(url: &str) -> String {
    let error = PostgresStore::open_with_nonce_window(url, WINDOW)
        .await
        .err()
        .unwrap_or_else(|| panic!("{url} opened"));
    let message = error.to_string();
    assert!(!message.contains('\n'), "more than one line: {message:?}");
    assert!(
        matches!(error, StoreError::Unavailable(_) | StoreError::Backend(_)),
        "{error:?}"
    );
    message
}

#[tokio::test]
async fn verify_full_with_the_right_ca_serves_and_nothing_goes_in_the_clear() {
    let ca = ca("credlog test CA");
    let Some(server) = PrivateServer::start(Some(&server_tls(&ca, &["localhost", "127.0.0.1"])))
    else {
        return;
    };
    let root = PemFile::new(&ca.pem);
    let verified = format!("sslmode=verify-full&sslrootcert={}", root.path());
    serves(&server.url(&verified)).await;
    // The host name as a DNS name, through the certificate's other name.
    serves(&server.url(&verified).replace("127.0.0.1", "localhost")).await;
    serves(&server.url(&format!("sslmode=verify-ca&sslrootcert={}", root.path()))).await;
    // require and prefer without a root: TLS, the certificate unchecked.
    serves(&server.url("sslmode=require")).await;
    serves(&server.url("sslmode=prefer")).await;
    serves(&server.url("")).await;
    // The server takes no plain connection: the ones above were TLS.
    let plain = refused(&server.url("sslmode=disable")).await;
    assert!(plain.contains("sslmode=disable"), "{plain}");
}

#[tokio::test]
async fn a_wrong_ca_fails_in_one_line() {
    let other = ca("another CA");
    let ca = ca("credlog test CA");
    let Some(server) = PrivateServer::start(Some(&server_tls(&ca, &["localhost", "127.0.0.1"])))
    else {
        return;
    };
    let wrong = PemFile::new(&other.pem);
    for mode in ["verify-full", "verify-ca", "require"] {
        // require with a root checks the chain (libpq's rule).
        let url = server.url(&format!("sslmode={mode}&sslrootcert={}", wrong.path()));
        let message = refused(&url).await;
        eprintln!("{mode} with the wrong CA: {message}");
        assert!(message.contains(&format!("sslmode={mode}")), "{message}");
        assert!(message.contains("TLS"), "{message}");
        assert!(message.contains("UnknownIssuer"), "{message}");
        assert!(
            message.contains(&format!("127.0.0.1:{}", server.port)),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_verify_full_only() {
    let ca = ca("credlog test CA");
    let Some(server) = PrivateServer::start(Some(&server_tls(&ca, &["db.other.example"]))) else {
        return;
    };
    let root = PemFile::new(&ca.pem);
    let url = server.url(&format!("sslmode=verify-full&sslrootcert={}", root.path()));
    let message = refused(&url).await;
    eprintln!("verify-full, certificate for another host: {message}");
    assert!(message.contains("sslmode=verify-full"), "{message}");
    assert!(message.contains("TLS"), "{message}");
    assert!(message.contains("not valid for name"), "{message}");
    // verify-ca checks the chain only.
    serves(&server.url(&format!("sslmode=verify-ca&sslrootcert={}", root.path()))).await;
}

#[tokio::test]
async fn require_against_a_server_without_tls_fails_and_prefer_goes_plain() {
    let Some(server) = PrivateServer::start(None) else {
        return;
    };
    let message = refused(&server.url("sslmode=require")).await;
    eprintln!("require against a server without TLS: {message}");
    assert!(message.contains("sslmode=require"), "{message}");
    assert!(message.contains("server does not support TLS"), "{message}");
    serves(&server.url("sslmode=prefer")).await;
    serves(&server.url("")).await;
    serves(&server.url("sslmode=disable")).await;
}

/// The shared server the other tests use (Debian's, `ssl = on` with its
/// snakeoil certificate, or one without TLS): every mode that checks no
/// certificate serves, as before.
#[tokio::test]
async fn the_shared_server_serves_without_a_root() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    for query in ["", "?sslmode=prefer", "?sslmode=disable"] {
        serves(&format!("{}{query}", database.url())).await;
    }
}

#[tokio::test]
async fn verify_modes_without_a_root_are_refused_before_connecting() {
    let message = refused("postgres://postgres@127.0.0.1:1/x?sslmode=verify-full").await;
    assert!(message.contains("needs sslrootcert"), "{message}");
    let message = refused("postgres://postgres@127.0.0.1:1/x?sslmode=allow").await;
    assert!(
        message.contains("sslmode=allow is not supported"),
        "{message}"
    );
}
