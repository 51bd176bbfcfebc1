//! The `oauth1_login` example of `credlog-client` against the real
//! `credlog` binary: a browser played with reqwest signs in through it and
//! sees its `/api/me`.
//!
//! The example is built (or found fresh) by cargo in this test's target
//! directory and profile; the demo callback's port 8000 may be taken, so
//! the test registers a client of its own for a free port.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use support::client::with_field;
use support::process::Running;
use support::*;

/// The example's binary, built by cargo beside the `credlog` binary (a
/// no-op when `cargo test` built it already), once for all the tests.
fn example_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_example).clone()
}

fn build_example() -> PathBuf {
    let profile_dir = Path::new(env!("CARGO_BIN_EXE_credlog")).parent().unwrap();
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("no profile directory in {}", profile_dir.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // What cargo set for this test: build scripts (ring's) that watch
    // CARGO_MANIFEST_DIR or CARGO_PKG_* would otherwise see them change
    // between this build and the test's own, and rebuild for both each time.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || name == "CARGO_PRIMARY_PACKAGE"
            || name == "CARGO_TARGET_TMPDIR"
        {
            command.env_remove(&*name);
        }
    }
    let output = command
        .args(["build", "-p", "credlog-client", "--features", "warp"])
        .args(["--example", "oauth1_login"])
        .arg("--profile")
        .arg(profile)
        .arg("--target-dir")
        .arg(profile_dir.parent().unwrap())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cannot build the example: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    profile_dir
        .join("examples")
        .join(format!("oauth1_login{}", std::env::consts::EXE_SUFFIX))
}

/// A port free now (the example binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `credlog_client_session=...` cookie a reply set.
fn app_cookie(answer: &Answer) -> String {
    let cookie = answer.header("set-cookie").expect("a session cookie");
    assert!(
        cookie.starts_with("credlog_client_session=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_through_the_example_and_sees_api_me() {
    let example = tokio::task::spawn_blocking(example_binary).await.unwrap();

    let server = Running::spawn(Command::new(env!("CARGO_BIN_EXE_credlog")).args([
        "serve",
        "--memory",
        "--demo",
        "--addr",
        "127.0.0.1:0",
    ]));
    let credlog = TestServer::remote(&server.base());
    let credlog_cookie = login(&credlog, "demo", "demo").await;

    // A client whose callback is the app's, on a free port.
    let app_addr = format!("127.0.0.1:{}", free_port());
    let callback = format!("http://{app_addr}/callback");
    let registered = Answer::from(
        http()
            .post(credlog.url("/clients"))
            .header("Cookie", &credlog_cookie)
            .header("Content-Type", "application/json")
            .body(
                serde_json::json!({"client_name": "Example app", "redirect_uris": [callback]})
                    .to_string(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let client_id = registered.json()["client_id"].as_str().unwrap().to_owned();
    let client_secret = registered.json()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();

    let app_process = Running::spawn(
        Command::new(&example)
            .env_clear()
            .env("APP_ADDR", &app_addr)
            .env("CREDLOG_URL", &credlog.base)
            .env("CREDLOG_CLIENT_ID", &client_id)
            .env("CREDLOG_CLIENT_SECRET", &client_secret),
    );
    let app = TestServer::remote(&app_process.base());
    assert_eq!(app.base, format!("http://{app_addr}"));

    // Signed out: a sign-in link, and a browser session.
    let home = get_page(&app, "/", None).await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Sign in with credlog"), "{}", home.body);
    let visitor = app_cookie(&home);

    // Out to credlog, which asks the signed-in owner. The login runs in a
    // session the app issues now: not the visitor's, nor one an attacker
    // planted in the browser (session fixation).
    for planted in [
        visitor.clone(),
        "credlog_client_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
    ] {
        let out = get_page(&app, "/login", Some(&planted)).await;
        assert_eq!(out.status, 302, "{}", out.body);
        assert_ne!(app_cookie(&out), planted);
    }
    let out = get_page(&app, "/login", Some(&visitor)).await;
    assert_eq!(out.status, 302, "{}", out.body);
    let cookie = app_cookie(&out);
    let authorize = out.header("location").unwrap();
    let temporary = authorize
        .strip_prefix(&format!("{}/oauth1/authorize?oauth_token=", credlog.base))
        .unwrap_or_else(|| panic!("{authorize}"));
    let allowed = consent(&credlog, &credlog_cookie, temporary, "yes").await;
    assert_eq!(allowed.status, 302, "{}", allowed.body);
    let back = allowed.header("location").unwrap().to_owned();
    let path = back
        .strip_prefix(&app.base)
        .filter(|path| path.starts_with("/callback?"))
        .unwrap_or_else(|| panic!("{back}"));

    // A callback from another browser is refused and does not spoil this one's.
    let elsewhere = get_page(&app, path, None).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    assert_eq!(
        element_text(&elsewhere.body, "error").as_deref(),
        Some(
            "no login is waiting for this session (it expired, was finished, or started elsewhere)"
        )
    );

    // A forged callback in this browser (another temporary credential) is
    // refused and does not cancel the login either.
    let (route, query) = path.split_once('?').unwrap();
    let forged = with_field(query, "oauth_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let forged = get_page(&app, &format!("{route}?{forged}"), Some(&cookie)).await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert_eq!(
        element_text(&forged.body, "error").as_deref(),
        Some("the callback's oauth_token is not the one this session was sent to authorize")
    );

    // Back in the app: the token credential, kept for a session issued
    // now again, then /api/me on the home page.
    let landed = get_page(&app, path, Some(&cookie)).await;
    assert_eq!(landed.status, 302, "{}", landed.body);
    assert_eq!(landed.header("location"), Some("/"));
    let signed_in = app_cookie(&landed);
    assert_ne!(signed_in, cookie);
    let home = get_page(&app, "/", Some(&signed_in)).await;
    assert_eq!(home.status, 200, "{}", home.body);
    let me: serde_json::Value =
        serde_json::from_str(&element_text(&home.body, "me").expect("the /api/me block")).unwrap();
    assert_eq!(me["user"], "demo");
    assert_eq!(me["client_id"], client_id.as_str());

    // Whoever knew the id the login ran under is not signed in.
    let home = get_page(&app, "/", Some(&cookie)).await;
    assert!(home.body.contains("Sign in with credlog"), "{}", home.body);

    // The callback works once.
    assert_eq!(get_page(&app, path, Some(&cookie)).await.status, 400);

    // Signing out forgets the token.
    let out = post_form(&app, "/logout", Some(&signed_in), &[]).await;
    assert_eq!(out.status, 302, "{}", out.body);
    let home = get_page(&app, "/", Some(&signed_in)).await;
    assert!(home.body.contains("Sign in with credlog"), "{}", home.body);
}

#[test]
fn a_missing_secret_is_one_line_and_exit_2() {
    let output = Command::new(example_binary())
        .env_clear()
        .env("APP_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("CREDLOG_CLIENT_SECRET"), "{stderr}");
}
