//! `--tls-cert` / `--tls-key` through the binary: it speaks HTTPS itself,
//! prints `listening on https://ADDR`, builds base strings and the issuer
//! on `https://`, and a bad certificate or key is one line at start.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use credlog_core::rfc5849::Transmission;
use support::process::Running;

/// A self-signed certificate for 127.0.0.1 and localhost, written to
/// `dir`: (certificate PEM, its path, the key's path).
fn self_signed(dir: &Path) -> (String, String, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = certified.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (
        cert_pem,
        cert.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_server_speaks_https_and_signs_base_strings_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let (pem, cert, key) = self_signed(dir.path());
    let running = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(["serve", "--memory", "--demo", "--addr", "127.0.0.1:0"])
            .args(["--tls-cert", &cert, "--tls-key", &key])
            .stderr(Stdio::null()),
    );
    let base = running.base();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let (id, secret) = running.demo_confidential();
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // A signed OAuth 1 request, signed for the https URL: accepted.
    let client = support::TestClient {
        id,
        secret,
        method: "HMAC-SHA1",
        transmission: Transmission::Header,
    };
    let request = client
        .signer(None)
        .sign(
            credlog_core::Request::new("POST", format!("{base}/oauth1/initiate")),
            &[("oauth_callback", "oob")],
        )
        .unwrap();
    let mut sent = https.post(&request.uri);
    for (name, value) in &request.headers {
        sent = sent.header(name, value);
    }
    let answer = support::Answer::from(sent.send().await.unwrap()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.form("oauth_callback_confirmed").as_deref(),
        Some("true")
    );

    // The issuer is https, and the login cookie is Secure.
    let metadata = https
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata.text().await.unwrap()).unwrap();
    assert_eq!(metadata["issuer"], base.as_str());
    let login = https.get(format!("{base}/login")).send().await.unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Plain HTTP to the TLS port gets no answer.
    let plain = support::http()
        .get(base.replace("https://", "http://"))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
}

#[test]
fn a_bad_certificate_or_key_is_one_line_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = self_signed(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    for (cert, key, names) in [
        (missing, key.as_str(), missing),
        (garbage, key.as_str(), garbage),
        (cert.as_str(), garbage, garbage),
        (cert.as_str(), cert.as_str(), cert.as_str()),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(["serve", "--memory", "--addr", "127.0.0.1:0"])
            .args(["--tls-cert", cert, "--tls-key", key])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{cert} {key}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(names), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing listened");
    }
    // One without the other is a usage error.
    let output = Command::new(env!("CARGO_BIN_EXE_credlog"))
        .args(["serve", "--memory", "--tls-cert", &cert])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
