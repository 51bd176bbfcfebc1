//! PostgreSQL stopped and started again under load (issue 26, faults):
//! `credlog serve --postgres` on a private server this test starts, a load
//! of client-credentials grants running, the server stopped with
//! `pg_ctl stop -m fast` for a few seconds and started again. While it is
//! down the token endpoint answers 503, promptly, never 200; every token
//! answered 200, before or after, is active afterwards; and grants are
//! answered 200 again after the start without credlog being restarted.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credlog_storage_postgres::testing::private_server::PrivateServer;
use support::process::{credlog, Running};

/// Clients requesting tokens at once.
const WORKERS: usize = 4;
/// How long the server stays stopped.
const DOWN: Duration = Duration::from_secs(4);
/// The slowest answer allowed: a request waits for no hung connection.
const PROMPT: Duration = Duration::from_secs(5);
/// How long after the start a grant must be answered 200 again.
const RECOVERY: Duration = Duration::from_secs(15);
/// The most requests the load sends (a bound whatever the speed).
const MOST: usize = 20_000;

/// One grant request: when it was sent and answered, its status, and the
/// token when 200.
struct Sent {
    sent: Instant,
    answered: Instant,
    status: u16,
    token: Option<String>,
}

struct Client {
    base: String,
    id: String,
    secret: String,
    http: reqwest::Client,
}

impl Client {
    async fn post(&self, path: &str, form: String) -> Result<(u16, String), reqwest::Error> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.id, Some(&self.secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// A client-credentials grant.
    async fn grant(&self) -> Sent {
        let sent = Instant::now();
        let answer = self
            .post(
                "/oauth2/token",
                "grant_type=client_credentials&scope=profile".into(),
            )
            .await;
        let answered = Instant::now();
        let (status, body) = answer.unwrap_or_else(|error| (0, error.to_string()));
        let token = (status == 200).then(|| {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            json["access_token"].as_str().unwrap().to_owned()
        });
        if status != 200 && status != 503 {
            eprintln!("grant answered {status}: {body}");
        }
        Sent {
            sent,
            answered,
            status,
            token,
        }
    }

    async fn active(&self, token: &str) -> bool {
        let (status, body) = self
            .post("/oauth2/introspect", format!("token={token}"))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        json["active"].as_bool().unwrap()
    }
}

/// Runs `stopped_and_started` on a blocking thread: pg_ctl waits.
async fn blocking(work: impl FnOnce() + Send + 'static) {
    tokio::task::spawn_blocking(work).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load() {
    let Some(postgres) = PrivateServer::start(None) else {
        return;
    };
    let postgres = Arc::new(postgres);
    let mut command = credlog();
    command.args(["serve", "--addr", "127.0.0.1:0", "--demo"]);
    command.args(["--postgres", &postgres.url("")]);
    // A line a failed request while the database is down: kept, not shown.
    command.stderr(std::process::Stdio::piped());
    let mut running = Running::spawn(&mut command);
    let log = running.stderr();
    let key = format!("credlog-demo-rsa-private-{}.pem", running.id());
    running.remove_on_drop([std::env::temp_dir().join(key)]);
    let base = running.base();
    let (id, secret) = running.demo_confidential();
    let client = Arc::new(Client {
        base,
        id,
        secret,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    });

    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let load: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (client, done, sent) = (client.clone(), done.clone(), sent.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) && sent.lock().unwrap().len() < MOST {
                    let answer = client.grant().await;
                    let failed = answer.status != 200;
                    sent.lock().unwrap().push(answer);
                    if failed {
                        // A refused request is not retried in a spin.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(2)).await;
    let stopping = Instant::now();
    blocking({
        let postgres = postgres.clone();
        move || postgres.stop()
    })
    .await;
    let stopped = Instant::now();
    tokio::time::sleep(DOWN).await;
    let starting = Instant::now();
    blocking({
        let postgres = postgres.clone();
        move || postgres.start_again()
    })
    .await;
    let started = Instant::now();
    // Load goes on until a grant sent after the start is answered 200, and
    // two seconds more; RECOVERY at most.
    let recovered = loop {
        let first = sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.sent >= started && s.status == 200)
            .map(|s| s.answered)
            .min();
        if let Some(first) = first {
            break Some(first);
        }
        if started.elapsed() > RECOVERY {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    done.store(true, Ordering::Relaxed);
    for worker in load {
        worker.await.unwrap();
    }
    assert!(
        running.exit_within(Duration::ZERO).is_none(),
        "credlog stopped"
    );
    let sent = std::mem::take(&mut *sent.lock().unwrap());

    let count = |status: u16| sent.iter().filter(|s| s.status == status).count();
    let unavailable: Vec<&Sent> = sent.iter().filter(|s| s.status == 503).collect();
    let first_503 = unavailable.iter().map(|s| s.answered).min();
    let last_503 = unavailable.iter().map(|s| s.answered).max();
    let slowest = sent
        .iter()
        .map(|s| s.answered - s.sent)
        .max()
        .unwrap_or_default();
    eprintln!(
        "grants: {} sent, {} answered 200, {} answered 503, others {}; slowest answer {slowest:?}",
        sent.len(),
        count(200),
        count(503),
        sent.len() - count(200) - count(503),
    );
    eprintln!(
        "pg_ctl stop took {:?}, start {:?}; 503 from {:?} after the stop began to {:?} after; \
         first 200 {:?} after the start returned ({:?} after it began)",
        stopped - stopping,
        started - starting,
        first_503.map(|t| t.saturating_duration_since(stopping)),
        last_503.map(|t| t.saturating_duration_since(stopping)),
        recovered.map(|t| t - started),
        recovered.map(|t| t - starting),
    );
    if let (Some(first), Some(last)) = (first_503, last_503) {
        eprintln!("503 lasted {:?}", last - first);
    }

    // Only 200 and 503, each promptly.
    let others: Vec<u16> = sent
        .iter()
        .map(|s| s.status)
        .filter(|status| *status != 200 && *status != 503)
        .collect();
    assert!(
        others.is_empty(),
        "answers other than 200 and 503: {others:?}"
    );
    assert!(slowest < PROMPT, "an answer took {slowest:?}");
    // While the server was down (after pg_ctl stop returned, before the
    // start began), no grant was answered 200, and some were 503.
    let while_down: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.sent >= stopped && s.answered <= starting)
        .collect();
    assert!(
        while_down.len() >= WORKERS,
        "only {} grants while down",
        while_down.len()
    );
    assert!(
        while_down.iter().all(|s| s.status == 503),
        "a grant answered 200 while PostgreSQL was down"
    );
    // Grants before the stop and after the start were served.
    assert!(sent
        .iter()
        .any(|s| s.answered < stopping && s.status == 200));
    let recovered = recovered.expect("no grant answered 200 within RECOVERY after the start");
    assert!(recovered - started < RECOVERY);

    // Every token acknowledged is there: active at introspection.
    let tokens: Vec<&str> = sent.iter().filter_map(|s| s.token.as_deref()).collect();
    for token in &tokens {
        assert!(
            client.active(token).await,
            "token {token} acknowledged but not active"
        );
    }
    eprintln!("all {} acknowledged tokens active afterwards", tokens.len());
    running.kill();
    let log = log.join().unwrap();
    eprintln!(
        "credlog logged {} lines on stderr; the first: {:?}",
        log.lines().count(),
        log.lines().next()
    );
}
