//! The logs of `credlog serve` through the binary (issue 13): on stderr,
//! as text or as JSON (`--log-format`), one INFO line a request, shown by
//! default, naming its method, route, status and latency, and never a
//! secret, a password, a token, a query or a client id.

mod support;

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::process::Running;
use support::{http, Answer};

/// A password for a user of the test's own: the demo's (`demo`) is also
/// the user's name, which a line may well hold.
const PASSWORD: &str = "NoLogLineHoldsThis42";

/// The binary, without the tests' own `CREDLOG_*` variables, and without
/// `CREDLOG_LOG` at all: the logs are the binary's defaults.
/// The binary, logging at its default level (the test helper quiets it).
fn credlog() -> Command {
    let mut command = support::process::credlog();
    command.env_remove("CREDLOG_LOG");
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn get(url: String) -> Answer {
    Answer::from(http().get(url).send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_request_lines_name_route_status_and_latency_and_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let added = credlog()
        .args(["user", "add", "alice", "--password", PASSWORD, "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    let mut server = Running::spawn(
        credlog()
            .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
            .args(["--log-format", "json", "--data"])
            .arg(&data)
            .stderr(Stdio::piped()),
    );
    let said = server.stderr();
    let base = server.base();
    let (id, secret) = server.demo_confidential();

    assert_eq!(
        get(format!("{base}/?marker=query-marker")).await.status,
        200
    );
    assert_eq!(get(format!("{base}/nothing-here")).await.status, 404);
    let client_page = get(format!("{base}/clients/{id}")).await.status;
    let granted = Answer::from(
        http()
            .post(format!("{base}/oauth2/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
                ("scope", "profile"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    let token = granted.json()["access_token"].as_str().unwrap().to_owned();
    let me = Answer::from(
        http()
            .get(format!("{base}/api/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me.status, 200, "{}", me.body);
    // A password typed into the name field: the failure is logged, the name not.
    let typo = Answer::from(
        http()
            .post(format!("{base}/oauth2/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "password"),
                ("username", "Typed-In-The-Wrong-Field"),
                ("password", "alice"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(typo.status, 400, "{}", typo.body);
    assert!(server.terminate().success());
    let said = said.join().unwrap();

    let lines: Vec<Value> = said
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|line| line["message"] == "request")
        .collect();
    for (method, route, status) in [
        ("GET", "/", 200),
        ("GET", "other", 404),
        ("GET", "/clients/{id}", client_page),
        ("POST", "/oauth2/token", 200),
        ("GET", "/api/me", 200),
    ] {
        let line = requests
            .iter()
            .find(|line| line["route"] == route && line["status"] == status)
            .unwrap_or_else(|| panic!("no request line for {route} {status}:\n{said}"));
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["method"], method, "{line}");
        let latency = line["latency_ms"].as_f64();
        assert!(latency.is_some_and(|ms| ms >= 0.0), "{line}");
        assert!(line.get("path").is_none(), "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "a sign-in failed" && line["user"] == "(unknown)"),
        "{said}"
    );
    // The shutdown is logged too, at INFO by default.
    assert!(
        lines.iter().any(|line| line["message"] == "stopped"),
        "{said}"
    );
    for held in [
        secret.as_str(),
        PASSWORD,
        token.as_str(),
        "query-marker",
        "marker=",
        "Typed-In-The-Wrong-Field",
    ] {
        assert!(!said.contains(held), "{held:?} is in the logs:\n{said}");
    }
    for line in requests {
        assert!(!line.to_string().contains(&id), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_request_lines_are_text_naming_route_status_and_latency() {
    let mut server = Running::spawn(
        credlog()
            .args(["serve", "--memory", "--addr", "127.0.0.1:0"])
            .stderr(Stdio::piped()),
    );
    let said = server.stderr();
    let base = server.base();
    assert_eq!(get(format!("{base}/")).await.status, 200);
    assert_eq!(get(format!("{base}/nothing-here?q=1")).await.status, 404);
    assert!(server.terminate().success());
    let said = said.join().unwrap();

    for (route, status) in [("\"/\"", 200), ("\"other\"", 404)] {
        let line = said
            .lines()
            .find(|line| line.contains(" request ") && line.contains(&format!(" status={status} ")))
            .unwrap_or_else(|| panic!("no request line for {status}:\n{said}"));
        for field in [
            " INFO ",
            " method=GET ",
            &format!(" route={route} "),
            " latency_ms=",
        ] {
            assert!(line.contains(field), "{field:?} not in {line:?}");
        }
    }
    assert!(
        !said.contains("nothing-here") && !said.contains("q=1"),
        "{said}"
    );
    // No colour codes into a pipe.
    assert!(!said.contains('\u{1b}'), "{said:?}");
}

#[test]
fn a_bad_log_format_is_a_usage_error_naming_the_key() {
    let refused = [
        credlog()
            .args(["serve", "--memory", "--log-format", "yaml"])
            .output()
            .unwrap(),
        credlog()
            .args(["serve", "--memory"])
            .env("CREDLOG_LOG_FORMAT", "yaml")
            .output()
            .unwrap(),
    ];
    for (output, source) in refused.iter().zip(["--log-format", "CREDLOG_LOG_FORMAT"]) {
        let said = stderr(output);
        assert_eq!(output.status.code(), Some(2), "{said}");
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(
            said.contains("log_format") && said.contains(source) && said.contains("yaml"),
            "{said}"
        );
        assert!(output.stdout.is_empty(), "it must not start serving");
    }
}
