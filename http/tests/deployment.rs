//! CONTRACT.md "Deployment", through the binary: the data directory's
//! modes whatever the umask, `--public-url` behind a TLS-ending proxy, and
//! PLAINTEXT only over TLS.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::process::Running;

/// `credlog args` under `umask`, as an operator's shell would start it.
fn under_umask(umask: &str, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_credlog"))
        .args(args);
    command
}

#[cfg(unix)]
fn modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        found.push((path.clone(), metadata.permissions().mode() & 0o777));
        if metadata.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        }
    }
    found
}

#[cfg(unix)]
fn assert_private(dir: &Path) {
    let found = modes(dir);
    assert!(found.len() > 3, "sled wrote files: {found:?}");
    for (path, mode) in found {
        let wanted = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, wanted, "{} is {mode:o}", path.display());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let data_arg = data.to_str().unwrap();

    // A user, then a server with the demo (which writes a key file), under umask 022.
    let added = under_umask(
        "022",
        &[
            "user",
            "add",
            "alice",
            "--password",
            "pw",
            "--data",
            data_arg,
        ],
    )
    .output()
    .unwrap();
    assert!(added.status.success(), "{added:?}");
    assert_private(&data);
    let mut server = Running::spawn(
        under_umask(
            "022",
            &[
                "serve",
                "--demo",
                "--addr",
                "127.0.0.1:0",
                "--data",
                data_arg,
            ],
        )
        .stderr(Stdio::null()),
    );
    let base = server.base();
    let home = support::http()
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert_private(&data);
    assert!(server.terminate().success());
    assert_private(&data);

    // A directory left loose (an older version, a copy) is tightened on
    // open, and the server says so.
    for (path, _) in modes(&data) {
        let loose = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
    }
    let mut server = Running::spawn(
        under_umask(
            "022",
            &["serve", "--addr", "127.0.0.1:0", "--data", data_arg],
        )
        .stderr(Stdio::piped()),
    );
    let said = server.stderr();
    server.base();
    assert_private(&data);
    assert!(server.terminate().success());
    let said = said.join().unwrap();
    assert!(
        said.contains("tightened") && said.contains(data_arg),
        "stderr: {said}"
    );
}

/// `credlog serve --memory --demo` with `args`: its base URL (reached on
/// loopback) and the confidential demo client's id and secret.
fn demo(args: &[&str]) -> (Running, String, String, String) {
    let running = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(["serve", "--memory", "--demo"])
            .args(args)
            .stderr(Stdio::null()),
    );
    let base = running.base().replace("0.0.0.0", "127.0.0.1");
    let (id, secret) = running.demo_confidential();
    (running, base, id, secret)
}

/// A temporary credential request signed with `method`, sent to `base`.
async fn initiate_with(
    base: &str,
    id: &str,
    secret: &str,
    method: &'static str,
) -> support::Answer {
    let client = support::TestClient {
        id: id.to_owned(),
        secret: secret.to_owned(),
        method,
        transmission: credlog_core::rfc5849::Transmission::Header,
    };
    let server = support::TestServer::remote(base);
    support::signed(
        &server,
        &client.signer(None),
        "POST",
        "/oauth1/initiate",
        &[("oauth_callback", "oob")],
    )
    .await
}

#[tokio::test]
async fn plaintext_is_refused_unless_the_server_is_reached_over_tls() {
    // Loopback without a public URL (development), and an https public URL: accepted.
    for args in [
        &["--addr", "127.0.0.1:0"][..],
        &[
            "--addr",
            "0.0.0.0:0",
            "--public-url",
            "https://auth.example.com",
        ],
    ] {
        let (_server, base, id, secret) = demo(args);
        let public = args.contains(&"--public-url");
        let answer = if public {
            // Signed for the public URL, as a client behind the proxy signs.
            plaintext_through_proxy(&base, &id, &secret).await
        } else {
            initiate_with(&base, &id, &secret, "PLAINTEXT").await
        };
        assert_eq!(answer.status, 200, "{args:?}: {}", answer.body);
    }
    // A listener on every address without a public URL, or an http public
    // URL: PLAINTEXT would cross the network in the clear.
    for args in [
        &["--addr", "0.0.0.0:0"][..],
        &[
            "--addr",
            "0.0.0.0:0",
            "--public-url",
            "http://auth.example.com",
        ],
    ] {
        let (_server, base, id, secret) = demo(args);
        let answer = if args.contains(&"--public-url") {
            plaintext_through_proxy(&base, &id, &secret).await
        } else {
            initiate_with(&base, &id, &secret, "PLAINTEXT").await
        };
        assert_eq!(answer.status, 400, "{args:?}: {}", answer.body);
        assert_eq!(
            answer.form("error").as_deref(),
            Some("signature_method_rejected")
        );
        assert!(
            answer.form("error_description").unwrap().contains("TLS"),
            "{}",
            answer.body
        );
        // HMAC-SHA1 still works there.
        if !args.contains(&"--public-url") {
            let hmac = initiate_with(&base, &id, &secret, "HMAC-SHA1").await;
            assert_eq!(hmac.status, 200, "{}", hmac.body);
        }
    }
}

/// PLAINTEXT needs no base string, so the public URL does not matter to
/// the signature; the request is sent with the proxy's Host.
async fn plaintext_through_proxy(base: &str, id: &str, secret: &str) -> support::Answer {
    let header = format!(
        "OAuth oauth_consumer_key=\"{id}\", oauth_signature_method=\"PLAINTEXT\", \
         oauth_callback=\"oob\", oauth_signature=\"{}%26\"",
        credlog_core::rfc5849::encoding::percent_encode(secret)
    );
    let answer = support::http()
        .post(format!("{base}/oauth1/initiate"))
        .header("Host", "auth.example.com")
        .header("Authorization", header)
        .send()
        .await
        .unwrap();
    support::Answer::from(answer).await
}

#[test]
fn a_public_url_that_is_not_an_origin_is_a_usage_error() {
    for bad in [
        "ftp://auth.example.com",
        "https://auth.example.com/prefix",
        "https://u@auth.example.com",
        "auth.example.com",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args([
                "serve",
                "--memory",
                "--addr",
                "127.0.0.1:0",
                "--public-url",
                bad,
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("--public-url"),
            "{bad}"
        );
    }
}
