//! The admin listener (CONTRACT.md "Deployment", `--admin-addr`): `/healthz`,
//! `/metrics` and `/admin/log` there and nowhere on the public listener,
//! through the real binary; `/healthz` saying 503 over a store that cannot
//! write, in process.

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;

use credlog_conformance::{Fault, FaultyStore};
use credlog_core::rfc5849::Transmission;
use credlog_core::Request;
use credlog_http::{App, Settings};
use credlog_storage_memory::MemoryStore;
use support::process::Running;
use support::*;

/// `credlog serve --demo` on a new data directory with an admin listener
/// on a bare port (`0`: 127.0.0.1, a free one); its public and admin URLs.
fn serve_with_admin(dir: &tempfile::TempDir) -> (Running, String, String) {
    let data = dir.path().join("data");
    let server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args([
                "serve",
                "--demo",
                "--addr",
                "127.0.0.1:0",
                "--admin-addr",
                "0",
            ])
            .arg("--data")
            .arg(&data)
            .stderr(Stdio::null()),
    );
    let base = server.base();
    let second = server.line();
    let admin = second
        .strip_prefix("admin on ")
        .unwrap_or_else(|| panic!("second line: {second:?}"))
        .to_owned();
    assert!(admin.starts_with("http://127.0.0.1:"), "{admin}");
    assert_ne!(admin, base);
    (server, base, admin)
}

async fn get(url: String) -> Answer {
    Answer::from(http().get(url).send().await.unwrap()).await
}

/// The value of the sample `name{labels}` in a Prometheus text page
/// (labels in any order), 0 when it is not there yet.
fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let wanted = metric == name
                && labels
                    .iter()
                    .all(|(key, value)| rest.contains(&format!("{key}=\"{value}\"")))
                && rest.matches('=').count() == labels.len();
            wanted.then(|| value.parse::<f64>().unwrap())
        })
        .next()
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_answers_health_metrics_and_the_log_and_the_public_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, admin) = serve_with_admin(&dir);

    let health = get(format!("{admin}/healthz")).await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.json(), serde_json::json!({"status": "ok"}));

    // The serve file names the admin listener, and `credlog log` reads through it.
    let serve_file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("data").join("serve.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(serve_file["url"], admin.as_str());
    let token = serve_file["token"].as_str().unwrap().to_owned();
    let log = Command::new(env!("CARGO_BIN_EXE_credlog"))
        .arg("log")
        .arg("--data")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        log.status.success(),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    assert!(String::from_utf8_lossy(&log.stdout).contains("issued kind=user"));

    // None of the admin routes answers on the public listener, token or not.
    for path in ["/healthz", "/metrics", "/admin/log"] {
        let answer = http()
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 404, "public {path}");
    }
    let on_admin = http()
        .get(format!("{admin}/admin/log"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(on_admin.status().as_u16(), 200);
    assert_eq!(get(format!("{admin}/admin/log")).await.status, 401);
    assert_eq!(get(format!("{admin}/nothing-here")).await.status, 404);

    // A known sequence of requests moves the counters by exactly as much.
    let before = get(format!("{admin}/metrics")).await;
    assert_eq!(before.status, 200);
    assert!(
        before
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        before.headers
    );
    for _ in 0..3 {
        assert_eq!(get(format!("{base}/")).await.status, 200);
    }
    for path in ["/nope", "/clients/x/y/z"] {
        assert_eq!(get(format!("{base}{path}")).await.status, 404);
    }
    let after = get(format!("{admin}/metrics")).await.body;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before.body, name, labels)
    };
    let requests = "credlog_http_requests_total";
    assert_eq!(delta(requests, &[("route", "/"), ("status", "200")]), 3.0);
    assert_eq!(
        delta(requests, &[("route", "other"), ("status", "404")]),
        2.0
    );
    let latency = "credlog_http_request_duration_seconds_count";
    assert_eq!(delta(latency, &[("route", "/")]), 3.0);
    assert_eq!(delta(latency, &[("route", "other")]), 2.0);
    assert!(
        !after.contains("/nope") && !after.contains("x/y/z"),
        "a raw path became a label:\n{after}"
    );

    // The demo's registrations went through the group commit.
    assert!(
        sample(
            &after,
            "credlog_store_appends_total",
            &[("outcome", "written")]
        ) >= 1.0
    );
    assert!(sample(&after, "credlog_store_append_batch_size_count", &[]) >= 1.0);
    assert!(sample(&after, "credlog_store_flush_duration_seconds_count", &[]) >= 1.0);

    // Two signed requests leave two nonces in the window; the first sent
    // again is refused by the store's precondition, counted by its reason.
    let (id, secret) = server.demo_confidential();
    let client = TestClient {
        id,
        secret,
        method: "HMAC-SHA1",
        transmission: Transmission::Header,
    };
    let initiate = || {
        client
            .signer(None)
            .sign(
                Request::new("POST", format!("{base}/oauth1/initiate")),
                &[("oauth_callback", "oob")],
            )
            .unwrap()
    };
    let (first, second) = (initiate(), initiate());
    assert_eq!(send(&first).await.status, 200);
    assert_eq!(send(&second).await.status, 200);
    assert_eq!(send(&first).await.status, 401, "a replayed nonce");
    let signed = get(format!("{admin}/metrics")).await.body;
    assert_eq!(sample(&signed, "credlog_oauth1_nonces_held", &[]), 2.0);
    let refused = "credlog_store_appends_refused_total";
    assert_eq!(
        sample(&signed, refused, &[("reason", "nonce_reused")])
            - sample(&after, refused, &[("reason", "nonce_reused")]),
        1.0
    );
    assert_eq!(
        sample(
            &signed,
            "credlog_store_appends_total",
            &[("outcome", "refused")]
        ) - sample(
            &after,
            "credlog_store_appends_total",
            &[("outcome", "refused")]
        ),
        1.0
    );

    // A sign-in is a live session until its sign-out.
    assert_eq!(sample(&signed, "credlog_sessions_active", &[]), 0.0);
    let remote = TestServer::remote(&base);
    login(&remote, "demo", "demo").await;
    let page = get(format!("{admin}/metrics")).await.body;
    assert_eq!(sample(&page, "credlog_sessions_active", &[]), 1.0);
    let second = login(&remote, "demo", "demo").await;
    let page = get(format!("{admin}/metrics")).await.body;
    assert_eq!(sample(&page, "credlog_sessions_active", &[]), 2.0);
    let home = get_page(&remote, "/", Some(&second)).await;
    let out = post_form(
        &remote,
        "/logout",
        Some(&second),
        &hidden_inputs(&home.body),
    )
    .await;
    assert_eq!(out.status, 303, "{}", out.body);
    let page = get(format!("{admin}/metrics")).await.body;
    assert_eq!(sample(&page, "credlog_sessions_active", &[]), 1.0);

    // The sixth wrong password in a row is throttled.
    for attempt in 1..=6 {
        let answer = submit_login(&remote, "/login", "demo", "wrong").await;
        let expected = if attempt <= 5 { 401 } else { 429 };
        assert_eq!(answer.status, expected, "attempt {attempt}");
    }
    let last = get(format!("{admin}/metrics")).await.body;
    assert_eq!(sample(&last, "credlog_sign_ins_throttled_total", &[]), 1.0);
    assert_eq!(
        sample(&last, requests, &[("route", "/login"), ("status", "429")]),
        1.0
    );
    for secret in ["demo", "wrong", &token] {
        assert!(
            !last.contains(&format!("\"{secret}\"")),
            "{secret} is a label value"
        );
    }

    assert_eq!(server.terminate().code(), Some(0));
}

/// `/healthz` over a memory store whose writes do as `fault` says.
async fn health_over(fault: Fault) -> (u16, serde_json::Value) {
    let store = FaultyStore::new(MemoryStore::new());
    store.set_writes(fault);
    let app = App::new(Arc::new(store), Settings::default());
    let answer = warp::test::request()
        .path("/healthz")
        .reply(&credlog_http::admin::routes(app, None))
        .await;
    (
        answer.status().as_u16(),
        serde_json::from_slice(answer.body()).unwrap(),
    )
}

#[tokio::test]
async fn healthz_is_503_when_the_store_cannot_write() {
    let (status, body) = health_over(Fault::Fails("no space left on device")).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["reason"].as_str().unwrap().contains("no space left"),
        "{body}"
    );
}

#[tokio::test(start_paused = true)]
async fn healthz_is_503_when_the_store_does_not_answer_in_time() {
    let (status, body) = health_over(Fault::Hangs).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["reason"].as_str().unwrap().contains("within 2 s"),
        "{body}"
    );
}

#[tokio::test]
async fn healthz_is_200_over_a_working_store_and_metrics_404_without_a_recorder() {
    let app = App::new(Arc::new(MemoryStore::new()), Settings::default());
    let routes = credlog_http::admin::routes(app, None);
    let health = warp::test::request().path("/healthz").reply(&routes).await;
    assert_eq!(health.status(), 200);
    let metrics = warp::test::request().path("/metrics").reply(&routes).await;
    assert_eq!(metrics.status(), 404);
}
