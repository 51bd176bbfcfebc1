//! The admin listener (CONTRACT.md "Deployment", `--admin-addr`): `/healthz`,
//! `/metrics` and `/admin/log` there and nowhere on the public listener,
//! through the real binary; `/healthz` saying 503 over a store that cannot
//! write, in process.

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;

use async_trait::async_trait;
use credlog_core::store::{
    AppendError, CheckReport, ClientState, CredentialState, CredentialStore, Event, NonceKey,
    Precondition, Record, Seq, SessionHash, SessionLimits, SessionRecord, StoreError, UserRecord,
};
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

    // The sixth wrong password in a row is throttled.
    let remote = TestServer::remote(&base);
    login(&remote, "demo", "demo").await;
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

/// A memory store whose writes fail (as on a full disk) or never end.
struct BrokenWrites {
    reads: MemoryStore,
    hang: bool,
}

#[async_trait]
impl CredentialStore for BrokenWrites {
    async fn append(&self, _: &[Precondition], _: Vec<Event>, _: u64) -> Result<Seq, AppendError> {
        Err(StoreError::Backend("no space left on device".into()).into())
    }
    async fn client(&self, id: &str) -> Result<Option<ClientState>, StoreError> {
        self.reads.client(id).await
    }
    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientState>, StoreError> {
        self.reads.clients_owned_by(owner).await
    }
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.reads.user(name).await
    }
    async fn credential(&self, id: &str) -> Result<Option<CredentialState>, StoreError> {
        self.reads.credential(id).await
    }
    async fn nonce_seen(&self, nonce: &NonceKey) -> Result<bool, StoreError> {
        self.reads.nonce_seen(nonce).await
    }
    async fn read_log(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.reads.read_log(from, limit).await
    }
    async fn last_seq(&self) -> Result<Seq, StoreError> {
        self.reads.last_seq().await
    }
    async fn check(&self) -> Result<CheckReport, StoreError> {
        self.reads.check().await
    }
    async fn prune_nonces(&self, _: u64) -> Result<u64, StoreError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        Err(StoreError::Backend("no space left on device".into()))
    }
    async fn create_session(
        &self,
        session: SessionRecord,
        limits: &SessionLimits,
    ) -> Result<(), StoreError> {
        self.reads.create_session(session, limits).await
    }
    async fn session(
        &self,
        hash: &SessionHash,
        limits: &SessionLimits,
        now: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.reads.session(hash, limits, now).await
    }
    async fn touch_session(&self, hash: &SessionHash, now: u64) -> Result<(), StoreError> {
        self.reads.touch_session(hash, now).await
    }
    async fn remove_session(&self, hash: &SessionHash) -> Result<bool, StoreError> {
        self.reads.remove_session(hash).await
    }
    async fn remove_user_sessions(&self, user: &str) -> Result<u64, StoreError> {
        self.reads.remove_user_sessions(user).await
    }
}

async fn health_over(store: BrokenWrites) -> (u16, serde_json::Value) {
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
    let (status, body) = health_over(BrokenWrites {
        reads: MemoryStore::new(),
        hang: false,
    })
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["reason"].as_str().unwrap().contains("no space left"),
        "{body}"
    );
}

#[tokio::test(start_paused = true)]
async fn healthz_is_503_when_the_store_does_not_answer_in_time() {
    let (status, body) = health_over(BrokenWrites {
        reads: MemoryStore::new(),
        hang: true,
    })
    .await;
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
