//! `credlog serve --postgres URL` with libpq's `sslmode` and `sslrootcert`
//! (CONTRACT.md "Deployment"), against private PostgreSQL servers the test
//! starts: with the right CA and host name it serves; a wrong CA, a
//! certificate for another host, or `require` against a server without
//! TLS stops it at once, exit 1, with one line naming the TLS failure.

mod support;

use std::process::Stdio;
use std::time::Duration;

use credlog_storage_postgres::testing::private_server::{PrivateServer, ServerTls};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use support::process::{credlog, Running};

/// A test CA's certificate (PEM) and what signs with it.
fn test_ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    (pem, Issuer::new(params, key))
}

/// A certificate for `localhost` alone (not 127.0.0.1), signed by `ca`.
fn localhost_tls(ca: &Issuer<'static, KeyPair>) -> ServerTls {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, ca)
        .unwrap();
    ServerTls {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// `credlog serve --postgres url --demo`, started.
fn serve(url: &str) -> Running {
    let mut command = credlog();
    command.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--demo",
        "--postgres",
        url,
    ]);
    command.stderr(Stdio::piped());
    let mut running = Running::spawn(&mut command);
    let key = format!("credlog-demo-rsa-private-{}.pem", running.id());
    running.remove_on_drop([std::env::temp_dir().join(key)]);
    running
}

/// `credlog serve --postgres url` fails: its stderr, one line, which
/// must name `sslmode=mode`, TLS and `cause`.
fn refused(url: &str, mode: &str, cause: &str) {
    let mut running = serve(url);
    let stderr = running.stderr();
    let status = running
        .exit_within(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("credlog serve --postgres {url} still runs"));
    let stderr = stderr.join().unwrap();
    eprintln!("{mode}: {stderr}");
    assert_eq!(status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr:?}");
    let line = lines[0];
    assert!(line.starts_with("credlog: "), "{line}");
    assert!(line.contains(&format!("sslmode={mode}")), "{line}");
    assert!(line.contains("TLS"), "{line}");
    assert!(line.contains(cause), "{line}");
}

#[tokio::test]
async fn verify_full_serves_and_a_wrong_ca_or_host_stops_serve_in_one_line() {
    let (ca_pem, ca) = test_ca("credlog test CA");
    let (other_pem, _) = test_ca("another CA");
    let Some(server) = PrivateServer::start(Some(&localhost_tls(&ca))) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (root, wrong) = (dir.path().join("ca.pem"), dir.path().join("other.pem"));
    std::fs::write(&root, ca_pem).unwrap();
    std::fs::write(&wrong, other_pem).unwrap();
    let (root, wrong) = (root.to_str().unwrap(), wrong.to_str().unwrap());

    // The right CA, the name in the certificate: a token is issued.
    let url = server
        .url(&format!("sslmode=verify-full&sslrootcert={root}"))
        .replace("127.0.0.1", "localhost");
    let running = serve(&url);
    let base = running.base();
    let (id, secret) = running.demo_confidential();
    let answer = reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=profile")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    drop(running);

    // Another CA.
    let url = server
        .url(&format!("sslmode=verify-full&sslrootcert={wrong}"))
        .replace("127.0.0.1", "localhost");
    refused(&url, "verify-full", "UnknownIssuer");
    // The certificate names localhost, not 127.0.0.1.
    let url = server.url(&format!("sslmode=verify-full&sslrootcert={root}"));
    refused(&url, "verify-full", "not valid for name \"127.0.0.1\"");
}

#[tokio::test]
async fn require_against_a_server_without_tls_stops_serve_in_one_line() {
    let Some(server) = PrivateServer::start(None) else {
        return;
    };
    refused(
        &server.url("sslmode=require"),
        "require",
        "server does not support TLS",
    );
}
