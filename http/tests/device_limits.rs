//! CONTRACT.md "Users and sessions": a device code nobody approved is gone
//! from the store's projections once it expires; the log keeps its
//! record. Through the binary on a data directory: device authorizations
//! from a public device client, a lifetime of 3 s from the config file,
//! then the codes leave with the next write, and `credlog check` agrees.
//! A poll with an expired code answers `expired_token` (RFC 8628 3.5) for
//! `DEVICE_SWEEP_GRACE` seconds after its expiry; once swept it is unknown,
//! `invalid_grant` (RFC 6749 5.2: "invalid, expired, revoked").

mod support;

use std::time::Duration;

use credlog_core::rfc8628::DEVICE_CODE_GRANT;
use credlog_core::store::projections::{DEVICE_BUCKET, DEVICE_SWEEP_GRACE};
use credlog_core::store::{token_id, CredentialKind, CredentialStore, Event, Issued};
use credlog_storage_sled::SledStore;
use support::process::{credlog, Running};

/// Device authorizations asked for: below the per-client and per-address
/// limit of 60 a minute (CONTRACT.md), so every one is served.
const ASKED: usize = 50;

fn run(args: &[&str]) -> String {
    let output = credlog().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn post(base: &str, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

async fn poll(base: &str, client_id: &str, device_code: &str) -> (u16, serde_json::Value) {
    let form = [
        ("grant_type", DEVICE_CODE_GRANT),
        ("device_code", device_code),
        ("client_id", client_id),
    ];
    post(base, "/oauth2/token", &form).await
}

#[tokio::test]
async fn expired_device_codes_leave_the_projections() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let config = dir.path().join("credlog.toml");
    std::fs::write(
        &config,
        "[oauth2]\ndevice_code_lifetime_seconds = 3\ndevice_poll_interval_seconds = 1\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    run(&["user", "add", "alice", "--password", "pw", "--data", data]);
    let added = run(&[
        "client",
        "add",
        "--owner",
        "alice",
        "--name",
        "TV",
        "--redirect-uri",
        "https://tv.example/cb",
        "--grant-type",
        DEVICE_CODE_GRANT,
        "--auth-method",
        "none",
        "--data",
        data,
    ]);
    let added: serde_json::Value = serde_json::from_str(&added).unwrap();
    let client_id = added["client_id"].as_str().unwrap().to_owned();

    let mut server = Running::spawn(credlog().args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data",
        data,
        "--config",
        config,
    ]));
    let base = server.base();
    let mut device_codes = Vec::new();
    for _ in 0..ASKED {
        let (status, body) = post(
            &base,
            "/oauth2/device_authorization",
            &[("client_id", &client_id)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["expires_in"], 3);
        device_codes.push(body["device_code"].as_str().unwrap().to_owned());
    }
    let (status, body) = poll(&base, &client_id, &device_codes[ASKED - 1]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    // Expired: the store still holds the codes for a while, and says so.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (status, body) = poll(&base, &client_id, &device_codes[1]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token")),
        "{body}"
    );

    // Past the grace, the next write sweeps them: one more device
    // authorization is that write.
    tokio::time::sleep(Duration::from_secs(DEVICE_BUCKET + DEVICE_SWEEP_GRACE)).await;
    let (status, body) = post(
        &base,
        "/oauth2/device_authorization",
        &[("client_id", &client_id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = poll(&base, &client_id, &device_codes[2]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    server.terminate();

    let checked = credlog().args(["check", "--data", data]).output().unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let store = SledStore::open(data).unwrap();
    let mut held = 0;
    for code in &device_codes {
        held += usize::from(store.credential(&token_id(code)).await.unwrap().is_some());
    }
    assert_eq!(
        held, 0,
        "{held} of {ASKED} expired device codes are still held"
    );
    // The log keeps every record of them.
    let records = store.read_log(1, usize::MAX).await.unwrap();
    let issued = records
        .iter()
        .flat_map(|record| &record.events)
        .filter(|event| {
            matches!(event, Event::Issued(Issued::Token(token))
                if token.kind == CredentialKind::DeviceCode)
        })
        .count();
    assert_eq!(issued, ASKED + 1, "device codes in the log");
}
