//! CONTRACT.md "Users and sessions" over real HTTP: CSRF tokens and the
//! `Origin` check on every state-changing form, throttled guessing (429
//! with `Retry-After`, for the login form and the password grant alike),
//! equal time for unknown and known user names, bounded argon2 memory,
//! and sessions that end when idle or old. The rules that show on the wire
//! run through the `credlog` binary; those that need time to pass run the
//! same server in-process with the tests' clock.

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_http::{App, Settings};
use support::clock::TestClock;
use support::process::Running;
use support::*;

// The store-independent rules (equal time, argon2's memory) run in memory.
on_both_stores!(
    backend;
    login_and_logout_need_their_csrf_token_and_this_origin,
    consent_refuses_a_foreign_origin_and_grants_nothing,
    clients_are_registered_from_json_or_the_pages_own_form_only,
    five_wrong_passwords_lock_the_name_for_the_form_and_the_password_grant,
    thirty_failures_from_one_address_lock_the_address,
    a_locked_name_opens_again_when_the_wait_has_passed,
    sessions_end_after_30_idle_minutes_or_12_hours,
);

/// What a demo server's store lives in, kept while it runs.
type Keep = (
    tempfile::TempDir,
    Option<credlog_storage_postgres::testing::TestDatabase>,
);

/// `credlog serve --demo` on a free port over `backend` (in memory, a
/// data directory, or a database of its own): user demo/demo and the
/// demo clients; with the confidential demo client's secret.
async fn demo_server(backend: Backend) -> (Running, TestServer, String, Keep) {
    let dir = tempfile::tempdir().unwrap();
    let mut database = None;
    let mut command = Command::new(env!("CARGO_BIN_EXE_credlog"));
    command.args(["serve", "--demo", "--addr", "127.0.0.1:0"]);
    match backend {
        Backend::Memory => {
            command.arg("--memory");
        }
        Backend::Sled => {
            command.arg("--data").arg(dir.path().join("data"));
        }
        Backend::Postgres => {
            let created = credlog_storage_postgres::testing::TestDatabase::create()
                .await
                .expect("PostgreSQL answers");
            command.args(["--postgres", &created.url()]);
            database = Some(created);
        }
    }
    let running = Running::spawn(command.stderr(Stdio::null()));
    let base = running.base();
    let (_, secret) = running.demo_confidential();
    (running, TestServer::remote(&base), secret, (dir, database))
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn with_credentials(
    mut form: Vec<(String, String)>,
    user: &str,
    password: &str,
) -> Vec<(String, String)> {
    form.extend(owned(&[("username", user), ("password", password)]));
    form
}

async fn login_and_logout_need_their_csrf_token_and_this_origin(backend: Backend) {
    let (_running, server, _, _keep) = demo_server(backend).await;
    let own_origin = server.base.clone();

    // No token, or a token without its cookie, or the wrong one: 403, no session.
    let bare = post_form_with(
        &server,
        "/login",
        None,
        &[],
        &owned(&[("username", "demo"), ("password", "demo")]),
    )
    .await;
    assert_eq!(bare.status, 403, "{}", bare.body);
    assert!(!bare
        .header("set-cookie")
        .unwrap_or_default()
        .contains("credlog_session="));
    let (cookie, form) = login_form(&server, "/login").await;
    let form = with_credentials(form, "demo", "demo");
    let no_cookie = post_form_with(&server, "/login", None, &[], &form).await;
    assert_eq!(no_cookie.status, 403);
    let (other_cookie, _) = login_form(&server, "/login").await;
    let crossed = post_form_with(&server, "/login", Some(&other_cookie), &[], &form).await;
    assert_eq!(crossed.status, 403, "another browser's token");
    // The right token from another site's page: 403 too.
    for foreign in [
        ("Origin", "https://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let answer = post_form_with(&server, "/login", Some(&cookie), &[foreign], &form).await;
        assert_eq!(answer.status, 403, "{foreign:?}");
        assert!(answer.header("set-cookie").is_none(), "{foreign:?}");
    }
    // From this origin, with its token: signed in.
    let signed_in = post_form_with(
        &server,
        "/login",
        Some(&cookie),
        &[("Origin", &own_origin)],
        &form,
    )
    .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let session = signed_in
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let home = get_page(&server, "/", Some(&session)).await;
    assert_eq!(element_text(&home.body, "user").as_deref(), Some("demo"));

    // Sign-out: without the session's token, or from another site, nothing ends.
    let no_token = post_form_with(&server, "/logout", Some(&session), &[], &[]).await;
    assert_eq!(no_token.status, 403);
    let sign_out = hidden_inputs(&home.body);
    let foreign = post_form_with(
        &server,
        "/logout",
        Some(&session),
        &[("Origin", "https://evil.example")],
        &sign_out,
    )
    .await;
    assert_eq!(foreign.status, 403);
    let home = get_page(&server, "/", Some(&session)).await;
    assert_eq!(
        element_text(&home.body, "user").as_deref(),
        Some("demo"),
        "still signed in"
    );
    let out = post_form_with(
        &server,
        "/logout",
        Some(&session),
        &[("Origin", &own_origin)],
        &sign_out,
    )
    .await;
    assert_eq!(out.status, 303);
    assert!(get_page(&server, "/", Some(&session))
        .await
        .body
        .contains("Not signed in"));
}

async fn consent_refuses_a_foreign_origin_and_grants_nothing(backend: Backend) {
    let (_running, server, _, _keep) = demo_server(backend).await;
    let session = login(&server, "demo", "demo").await;
    let path = "/oauth2/authorize?response_type=code&client_id=demo-confidential\
                &redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fcallback&state=s1";
    let page = get_page(&server, path, Some(&session)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut form = hidden_inputs(&page.body);
    form.push(("confirm".into(), "yes".into()));
    let foreign = post_form_with(
        &server,
        "/oauth2/authorize",
        Some(&session),
        &[("Origin", "https://evil.example")],
        &form,
    )
    .await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert!(foreign.header("location").is_none(), "no code was issued");
    let own = post_form_with(
        &server,
        "/oauth2/authorize",
        Some(&session),
        &[("Origin", &server.base)],
        &form,
    )
    .await;
    assert_eq!(own.status, 302, "{}", own.body);
    assert!(own.header("location").unwrap().contains("code="));
}

async fn clients_are_registered_from_json_or_the_pages_own_form_only(backend: Backend) {
    let (_running, server, _, _keep) = demo_server(backend).await;
    let session = login(&server, "demo", "demo").await;
    let metadata = r#"{"client_name":"App","redirect_uris":["https://app.example/cb"]}"#;
    let send = |content_type: &'static str, origin: Option<&'static str>| {
        let mut request = http()
            .post(server.url("/clients"))
            .header("Cookie", &session)
            .header("Content-Type", content_type)
            .body(metadata);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        async move { Answer::from(request.send().await.unwrap()).await }
    };
    // What a cross-site form can send, JSON text in a text/plain body: 415.
    let plain = send("text/plain", None).await;
    assert_eq!(plain.status, 415, "{}", plain.body);
    let foreign = send("application/json", Some("https://evil.example")).await;
    assert_eq!(foreign.status, 403);
    let count = |server: &TestServer, session: &str| {
        let request = http()
            .get(server.url("/clients"))
            .header("Cookie", session)
            .header("Accept", "application/json");
        async move {
            let answer = Answer::from(request.send().await.unwrap()).await;
            serde_json::from_str::<serde_json::Value>(&answer.body)
                .unwrap()
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = count(&server, &session).await;
    let json = send("application/json", None).await;
    assert_eq!(json.status, 201, "{}", json.body);
    assert_eq!(count(&server, &session).await, before + 1);

    // The page's form: with the session's token, a page showing the id and secret once.
    let page = get_page(&server, "/clients", Some(&session)).await;
    let mut form = hidden_inputs(&page.body);
    assert_eq!(form[0].0, "csrf_token");
    form.extend(owned(&[
        ("client_name", "From the form"),
        (
            "redirect_uris",
            "https://a.example/cb\r\nhttp://127.0.0.1:9/cb",
        ),
        ("scope", "profile"),
    ]));
    let registered = post_form_with(&server, "/clients", Some(&session), &[], &form).await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert!(element_text(&registered.body, "client_id").is_some());
    assert!(element_text(&registered.body, "client_secret").is_some());
    assert_eq!(count(&server, &session).await, before + 2);
    let mut forged = form.clone();
    forged[0].1 = "x".repeat(32);
    let refused = post_form_with(&server, "/clients", Some(&session), &[], &forged).await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        count(&server, &session).await,
        before + 2,
        "nothing registered"
    );
}

/// A password grant for `user` with the demo confidential client.
async fn password_grant(server: &TestServer, secret: &str, user: &str, password: &str) -> Answer {
    let request = http()
        .post(server.url("/oauth2/token"))
        .basic_auth("demo-confidential", Some(secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(credlog_core::rfc5849::encoding::form_encode([
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ]));
    Answer::from(request.send().await.unwrap()).await
}

fn retry_after(answer: &Answer) -> u64 {
    answer
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {} {}", answer.status, answer.body))
        .parse()
        .unwrap()
}

async fn five_wrong_passwords_lock_the_name_for_the_form_and_the_password_grant(backend: Backend) {
    let (_running, server, secret, _keep) = demo_server(backend).await;
    for attempt in 1..=5 {
        let wrong = submit_login(&server, "/login", "demo", "wrong").await;
        assert_eq!(wrong.status, 401, "attempt {attempt}");
    }
    let right = submit_login(&server, "/login", "demo", "demo").await;
    assert_eq!(right.status, 429, "{}", right.body);
    assert!(right
        .header("set-cookie")
        .is_none_or(|cookie| !cookie.contains("credlog_session")));
    let wait = retry_after(&right);
    assert!((1..=60).contains(&wait), "{wait}");
    let grant = password_grant(&server, &secret, "demo", "demo").await;
    assert_eq!(grant.status, 429, "{}", grant.body);
    assert!((1..=60).contains(&retry_after(&grant)));
    let body: serde_json::Value = serde_json::from_str(&grant.body).unwrap();
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("try again"));
    // Another name is not locked.
    let other = submit_login(&server, "/login", "nobody", "x").await;
    assert_eq!(other.status, 401);
}

async fn thirty_failures_from_one_address_lock_the_address(backend: Backend) {
    let (_running, server, secret, _keep) = demo_server(backend).await;
    for n in 0..30 {
        // Through both doors, with a new name each time.
        let name = format!("guess{n}");
        let status = if n % 2 == 0 {
            submit_login(&server, "/login", &name, "x").await.status
        } else {
            password_grant(&server, &secret, &name, "x").await.status
        };
        assert!(status == 401 || status == 400, "attempt {n}: {status}");
    }
    let right = submit_login(&server, "/login", "demo", "demo").await;
    assert_eq!(right.status, 429);
    assert!((1..=60).contains(&retry_after(&right)));
    let grant = password_grant(&server, &secret, "demo", "demo").await;
    assert_eq!(grant.status, 429);
}

/// The in-process server (the binary's, with the tests' clock) with
/// throttling `limits` and sessions as the contract sets them.
async fn clocked(
    backend: Backend,
    settings: Settings,
) -> (TestServer, TestClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::starting_now();
    let ticking = clock.clock();
    let server = TestServer::start_with(backend, &dir, move |store| {
        App::builder(store, settings).clock(ticking).build()
    })
    .await;
    credlog_http::accounts::add_user(server.store.as_ref(), "alice", PASSWORD, clock.now())
        .await
        .unwrap();
    (server, clock, dir)
}

async fn a_locked_name_opens_again_when_the_wait_has_passed(backend: Backend) {
    let (server, clock, _dir) = clocked(backend, Settings::default()).await;
    for _ in 0..5 {
        assert_eq!(
            submit_login(&server, "/login", "alice", "wrong")
                .await
                .status,
            401
        );
    }
    let locked = submit_login(&server, "/login", "alice", PASSWORD).await;
    assert_eq!(locked.status, 429);
    clock.advance(retry_after(&locked));
    let open = submit_login(&server, "/login", "alice", PASSWORD).await;
    assert_eq!(open.status, 303, "{}", open.body);
    server.stop().await;
}

async fn sessions_end_after_30_idle_minutes_or_12_hours(backend: Backend) {
    let (server, clock, _dir) = clocked(backend, Settings::default()).await;
    let signed_in = |cookie: String| {
        let server = &server;
        async move {
            let home = get_page(server, "/", Some(&cookie)).await;
            element_text(&home.body, "user").is_some()
        }
    };
    let idle = login(&server, "alice", PASSWORD).await;
    clock.advance(29 * 60);
    assert!(signed_in(idle.clone()).await);
    clock.advance(29 * 60);
    assert!(signed_in(idle.clone()).await, "use keeps it alive");
    // 30 minutes unused end it, give or take the minute a recorded last
    // use may lag behind the real one.
    clock.advance(30 * 60 + credlog_http::sessions::TOUCH_SLACK);
    assert!(!signed_in(idle).await, "30 minutes unused end it");

    let busy = login(&server, "alice", PASSWORD).await;
    for _ in 0..(12 * 60 / 20 - 1) {
        clock.advance(20 * 60);
        assert!(signed_in(busy.clone()).await);
    }
    clock.advance(20 * 60);
    assert!(
        !signed_in(busy).await,
        "12 hours in all end it, however busy"
    );
    server.stop().await;
}

/// Limits high enough that timing runs are never throttled.
fn unthrottled() -> Settings {
    let mut settings = Settings::default();
    settings.throttle.user_failures = u32::MAX;
    settings.throttle.address_failures = u32::MAX;
    settings
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn a_wrong_password_takes_as_long_for_an_unknown_name() {
    let (server, _clock, _dir) = clocked(Backend::Memory, unthrottled()).await;
    // The login form once, then the wrong passwords alternately.
    let (cookie, form) = login_form(&server, "/login").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..24 {
        for (user, samples) in [("alice", &mut known), ("mallory", &mut unknown)] {
            let fields = with_credentials(form.clone(), user, "wrong");
            let started = Instant::now();
            let answer = post_form(&server, "/login", Some(&cookie), &fields).await;
            let took = started.elapsed();
            assert_eq!(answer.status, 401);
            if round >= 4 {
                samples.push(took);
            }
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    eprintln!(
        "median wrong-password answer: known {known:?}, unknown {unknown:?}, ratio {ratio:.2}"
    );
    // Without the dummy hash the unknown name answers ~50 times faster.
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown {unknown:?} against known {known:?}: ratio {ratio:.2}"
    );
    server.stop().await;
}

/// The peak resident memory of process `pid`, in bytes (Linux `VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn thirty_two_sign_ins_at_once_stay_within_150_mb() {
    let (running, server, _, _keep) = demo_server(Backend::Memory).await;
    let server = Arc::new(server);
    // One first, so the baseline holds one argon2 block and a warm server.
    login(&server, "demo", "demo").await;
    let before = peak_rss(running.id());
    let forms: Vec<_> =
        futures::future::join_all((0..32).map(|_| login_form(&server, "/login"))).await;
    let attempts = forms.into_iter().map(|(cookie, form)| {
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            let fields = with_credentials(form, "demo", "demo");
            post_form(&server, "/login", Some(&cookie), &fields)
                .await
                .status
        })
    });
    for status in futures::future::join_all(attempts).await {
        assert_eq!(status.unwrap(), 303);
    }
    let after = peak_rss(running.id());
    let grew = after.saturating_sub(before);
    eprintln!(
        "peak RSS {} MB before, {} MB after 32 concurrent sign-ins",
        before >> 20,
        after >> 20
    );
    assert!(grew <= 150 << 20, "peak RSS grew by {} MB", grew >> 20);
}
