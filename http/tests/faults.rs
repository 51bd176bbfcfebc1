//! Faults under `credlog serve --data` (issue 26), as real as the test
//! machine allows: the data directory on a small tmpfs that fills up, and
//! on an ext4 filesystem whose files are made immutable (read-only even
//! for root; a `mount -o remount,ro` is refused with EBUSY while sled holds
//! its files open for writing), each under a load of token requests. The
//! server answers 503 while it cannot write (never 500, never a hang, never
//! an exit), acknowledges only what it wrote (every token it gave out
//! still works after the repair and after a restart), keeps answering
//! reads (most of them: see `reads_answer`), and recovers by itself once
//! it can write again; `check` is green after. And a clock stepped back by more than the OAuth 1 timestamp
//! window while serving (an injected clock, through the real HTTP stack
//! and a sled store): no nonce is accepted twice.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_core::rfc5849::client::random_nonce;
use credlog_core::Request;
use credlog_http::App;
use support::mount::Mounted;
use support::process::{credlog, Running};
use support::{
    http, login, loopback_settings, seed, send, three_legged, Answer, Backend, TestClient,
    TestServer,
};

/// How long a request may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(10);

/// `credlog serve --demo --data data` on a free port, its base URL, and
/// its confidential demo client.
fn serve(data: &Path) -> (Running, TestServer, TestClient) {
    let mut command = credlog();
    command
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data"])
        .arg(data);
    let running = Running::spawn(&mut command);
    let base = running.base();
    let (id, secret) = running.demo_confidential();
    let client = TestClient {
        id,
        secret,
        method: "HMAC-SHA1",
        transmission: credlog_core::rfc5849::Transmission::Header,
    };
    (running, TestServer::remote(&base), client)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(HANG).build().unwrap()
}

/// A client_credentials token request: its status and token, or why no
/// answer came (a refused connection, a timeout).
async fn issue(
    web: &reqwest::Client,
    base: &str,
    client: &TestClient,
) -> Result<(u16, Option<String>), String> {
    let response = web
        .post(format!("{base}/oauth2/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=profile")
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|error| error.to_string())?;
    let token = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|json| json["access_token"].as_str().map(str::to_owned));
    if status == 200 {
        assert!(token.is_some(), "a 200 without a token: {body}");
    }
    Ok((status, token))
}

/// Whether introspection calls `token` active.
async fn active(server: &TestServer, client: &TestClient, token: &str) -> bool {
    let answer = http()
        .post(server.url("/oauth2/introspect"))
        .basic_auth(&client.id, Some(&client.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    let answer = Answer::from(answer).await;
    assert_eq!(answer.status, 200, "introspection: {}", answer.body);
    answer.json()["active"].as_bool().unwrap()
}

/// Asserts that every token in `tokens` is active.
async fn all_active(server: &TestServer, client: &TestClient, tokens: &[String], when: &str) {
    for token in tokens {
        assert!(
            active(server, client, token).await,
            "{when}: the acknowledged token {token} is not active"
        );
    }
}

/// What the load saw: each answer's status (or why none came) and the
/// tokens acknowledged.
#[derive(Default)]
struct Seen {
    statuses: Vec<Result<u16, String>>,
    acked: Vec<String>,
}

/// Tasks sending token requests until told to stop.
struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Seen>>,
}

impl Load {
    fn start(server: &TestServer, client: &TestClient, tasks: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..tasks)
            .map(|_| {
                let (stop, base, client) = (Arc::clone(&stop), server.base.clone(), client.clone());
                tokio::spawn(async move {
                    let web = self::client();
                    let mut seen = Seen::default();
                    while !stop.load(Ordering::SeqCst) {
                        match issue(&web, &base, &client).await {
                            Ok((status, token)) => {
                                seen.statuses.push(Ok(status));
                                seen.acked.extend(token.filter(|_| status == 200));
                            }
                            Err(error) => seen.statuses.push(Err(error)),
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    seen
                })
            })
            .collect();
        Load { stop, tasks }
    }

    async fn stop(self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Seen::default();
        for task in self.tasks {
            let seen = task.await.unwrap();
            all.statuses.extend(seen.statuses);
            all.acked.extend(seen.acked);
        }
        all
    }
}

/// Sends token requests every 50 ms until one answers `status`, for at
/// most `limit`; answers when it did, and every token given meanwhile.
async fn until_status(
    server: &TestServer,
    client: &TestClient,
    status: u16,
    limit: Duration,
) -> (Instant, Vec<String>) {
    let web = self::client();
    let deadline = Instant::now() + limit;
    let mut acked = Vec::new();
    loop {
        let answer = issue(&web, &server.base, client).await;
        match answer {
            Ok((got, token)) => {
                assert!(got == 200 || got == 503, "a token request answered {got}");
                acked.extend(token.filter(|_| got == 200));
                if got == status {
                    return (Instant::now(), acked);
                }
            }
            Err(error) => panic!("a token request got no answer: {error}"),
        }
        assert!(Instant::now() < deadline, "no {status} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The reads a server keeps answering while it cannot write: the resource
/// with a token issued before and its introspection (200, or 503 when
/// sled 0.34, poisoned by the failed write, fails a read too: a read can
/// make it consolidate a page, which writes), and the metadata (200).
/// Answers how many of the store's reads were served.
async fn reads_answer(server: &TestServer, client: &TestClient, token: &str) -> u32 {
    let me = http()
        .get(server.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let me = Answer::from(me).await;
    assert!(
        me.status == 200 || me.status == 503,
        "GET /api/me while faulted: {} {}",
        me.status,
        me.body
    );
    let introspected = http()
        .post(server.url("/oauth2/introspect"))
        .basic_auth(&client.id, Some(&client.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    let introspected = Answer::from(introspected).await;
    match introspected.status {
        200 => assert_eq!(introspected.json()["active"], true, "{}", introspected.body),
        503 => {}
        other => panic!("introspection while faulted: {other} {}", introspected.body),
    }
    let metadata = http()
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200, "metadata while faulted");
    u32::from(me.status == 200) + u32::from(introspected.status == 200)
}

/// The fault scenario: `credlog serve` on `data` under load; `inject`
/// takes writing away, `repair` gives it back. Prints how long the 503s
/// lasted and how long recovery took.
async fn under_load(label: &str, data: &Path, inject: impl FnOnce(), repair: impl FnOnce()) {
    let (mut process, server, client) = serve(data);
    let web = self::client();
    let before = match issue(&web, &server.base, &client).await {
        Ok((200, Some(token))) => token,
        other => panic!("before the fault: {other:?}"),
    };
    let load = Load::start(&server, &client, 4);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let injected = Instant::now();
    inject();
    let (first_503, mut acked) = until_status(&server, &client, 503, Duration::from_secs(30)).await;
    // While it cannot write: every write is refused, every read answered.
    let faulted_until = Instant::now() + Duration::from_secs(2);
    let (mut reads, mut served) = (0u32, 0u32);
    while Instant::now() < faulted_until {
        assert_eq!(
            issue(&web, &server.base, &client)
                .await
                .map(|(status, _)| status),
            Ok(503),
            "a token request while the fault lasts"
        );
        served += reads_answer(&server, &client, &before).await;
        reads += 2;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        process.exit_within(Duration::ZERO).is_none(),
        "the server exited"
    );

    let repaired = Instant::now();
    repair();
    let (recovered, after) = until_status(&server, &client, 200, Duration::from_secs(30)).await;
    acked.extend(after);
    let seen = load.stop().await;
    acked.extend(seen.acked);
    acked.push(before);

    let mut counts = std::collections::BTreeMap::new();
    for status in &seen.statuses {
        *counts.entry(format!("{status:?}")).or_insert(0u32) += 1;
    }
    assert!(
        seen.statuses.iter().all(|s| matches!(s, Ok(200) | Ok(503))),
        "the load saw answers other than 200 and 503: {counts:?}"
    );
    assert!(
        counts.contains_key("Ok(503)"),
        "the load never saw a 503: {counts:?}"
    );
    eprintln!(
        "{label}: first 503 {:?} after the fault; 503 for {:?} until repaired; \
         reads served meanwhile {served}/{reads}; 200 again {:?} after the repair; \
         load answers {counts:?}; {} tokens acknowledged",
        first_503 - injected,
        repaired - first_503,
        recovered - repaired,
        acked.len()
    );

    // Everything acknowledged is there: now, and after a restart.
    all_active(&server, &client, &acked, "after the repair").await;
    assert!(
        process.terminate().success(),
        "the server did not stop cleanly"
    );
    drop(process);
    let mut process = {
        let mut command = credlog();
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data);
        Running::spawn(&mut command)
    };
    let restarted = TestServer::remote(&process.base());
    all_active(&restarted, &client, &acked, "after a restart").await;
    assert!(process.terminate().success());
    let checked = credlog()
        .arg("check")
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(checked.status.success(), "credlog check: {checked:?}");
}

#[tokio::test]
async fn a_full_disk_answers_503_keeps_reads_and_recovers_by_itself() {
    let disk = Mounted::tmpfs(48 << 20);
    let data = disk.path().join("data");
    let filler = disk.path().join("filler");
    under_load(
        "full disk (tmpfs)",
        &data,
        || {
            let bytes = disk.fill("filler");
            eprintln!("filled the tmpfs with {bytes} bytes");
        },
        || std::fs::remove_file(&filler).unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_read_only_data_directory_answers_503_keeps_reads_and_recovers_by_itself() {
    let disk = Mounted::ext4(64 << 20);
    let data = disk.path().join("data");
    under_load(
        "read-only data directory (ext4, chattr +i)",
        &data,
        || Mounted::set_immutable(&data, true),
        || Mounted::set_immutable(&data, false),
    )
    .await;
}

/// The window the clock test's server validates OAuth 1 timestamps with.
const WINDOW: u64 = 300;

/// A server on sled with a clock the test sets, and a client with a token.
async fn clock_world(
    dir: &tempfile::TempDir,
    clock: &Arc<AtomicU64>,
) -> (TestServer, TestClient, (String, String)) {
    let time = Arc::clone(clock);
    let server = TestServer::start_with(Backend::Sled, dir, move |store| {
        let mut settings = loopback_settings();
        settings.oauth1.timestamp_window = WINDOW;
        App::builder(store, settings)
            .clock(Arc::new(move || time.load(Ordering::SeqCst)))
            .build()
    })
    .await;
    let client = seed(server.store.as_ref(), "alice", "Clock").await;
    let cookie = login(&server, "alice", support::PASSWORD).await;
    let token = three_legged(&server, &client, &cookie).await;
    (server, client, token)
}

/// A used OAuth 1 request is refused after the clock steps back by more
/// than the window, while time runs on at the stepped-back clock, after a
/// restart there, and once the clock is back where the request was made.
#[tokio::test]
async fn a_clock_stepped_back_past_the_window_accepts_no_nonce_twice() {
    let dir = tempfile::tempdir().unwrap();
    let start = support::now();
    let clock = Arc::new(AtomicU64::new(start));
    let (server, client, token) = clock_world(&dir, &clock).await;
    let signer = client.signer(Some((&token.0, &token.1)));
    let nonce = random_nonce();
    let used = signer
        .sign_at(
            Request::new("GET", server.url("/api/me")),
            &[],
            start,
            &nonce,
        )
        .unwrap();
    let first = send(&used).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // The background pruner runs every 5 s: let it see the use.
    tokio::time::sleep(Duration::from_millis(5_500)).await;

    // The clock steps back by more than the window (and than a JWT's reach).
    let back = start - 1_000;
    clock.store(back, Ordering::SeqCst);
    let replay = send(&used).await;
    assert_eq!(
        replay.status, 401,
        "a replay after the step back: {}",
        replay.body
    );
    let again = signer
        .sign_at(
            Request::new("GET", server.url("/api/me")),
            &[],
            back,
            &nonce,
        )
        .unwrap();
    let answer = send(&again).await;
    assert_eq!(
        answer.status, 401,
        "the old nonce at the stepped-back time: {}",
        answer.body
    );
    // The server goes on writing at the stepped-back time, and restarts.
    credlog_http::accounts::add_user(server.store.as_ref(), "bob", support::PASSWORD, back)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    server.stop().await;
    let time = Arc::clone(&clock);
    let server = TestServer::start_with(Backend::Sled, &dir, move |store| {
        let mut settings = loopback_settings();
        settings.oauth1.timestamp_window = WINDOW;
        App::builder(store, settings)
            .clock(Arc::new(move || time.load(Ordering::SeqCst)))
            .build()
    })
    .await;
    // The same request, to the new port, for the host it was signed for.
    let old = base_of(&used.uri);
    let mut used = Request {
        uri: used.uri.replacen(&old, &server.base, 1),
        ..used
    };
    used.headers.push((
        "Host".to_owned(),
        old.trim_start_matches("http://").to_owned(),
    ));
    let fresh = signer
        .sign_at(
            Request::new("GET", server.url("/api/me")),
            &[],
            back,
            &random_nonce(),
        )
        .unwrap();
    let answer = send(&fresh).await;
    eprintln!(
        "after the restart, a new request at the stepped-back time: {}",
        answer.status
    );

    // The clock comes back to where the request was made: still refused.
    for now in [start - WINDOW, start] {
        clock.store(now, Ordering::SeqCst);
        let replay = send(&used).await;
        assert_eq!(
            (replay.status, replay.form("error")),
            (401, Some("invalid_nonce".to_owned())),
            "a replay {}s before its timestamp, after a restart: {}",
            start - now,
            replay.body
        );
    }
    server.stop().await;
}

/// `http://HOST:PORT` of a URL.
fn base_of(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    format!("http://{}", rest.split('/').next().unwrap())
}
