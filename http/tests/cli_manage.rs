//! The operator's commands that change a data directory, through the
//! `credlog` binary: `user list | passwd | remove`, `client list | show |
//! rotate-secret | remove` and `revoke`. Each change is made with the
//! server stopped and proven on a server started afterwards (the token it
//! ends gets 401 at /api/me, the password or secret it replaces is
//! refused); `credlog check` stays clean after each. On a data directory
//! and on PostgreSQL alike.

mod support;

use std::process::{Command, Output, Stdio};

use credlog_core::rfc5849::Transmission;
use credlog_storage_postgres::testing::TestDatabase;
use support::process::Running;
use support::*;

/// Runs each case, `async fn case(data: Data)`, on a data directory and on
/// a PostgreSQL database.
macro_rules! on_sled_and_postgres {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sled() {
                    super::$case(super::Data::new()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(data) = super::Data::postgres().await {
                        super::$case(data).await;
                    }
                }
            }
        )+
    };
}

on_sled_and_postgres!(
    users_are_listed_given_a_new_password_and_removed,
    clients_are_listed_shown_given_a_new_secret_and_removed,
    revoke_ends_a_token_a_clients_credentials_or_a_users_grants,
    a_rotated_signing_key_stays_published_for_what_it_signed,
);

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A store of its own, and the commands run on it: a data directory
/// (removed with it) or a PostgreSQL database (dropped with it).
struct Data {
    _dir: tempfile::TempDir,
    /// `--data DIR` or `--postgres URL`.
    store: [String; 2],
    _database: Option<TestDatabase>,
}

impl Data {
    fn new() -> Data {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").to_str().unwrap().to_owned();
        Data {
            _dir: dir,
            store: ["--data".into(), path],
            _database: None,
        }
    }

    /// A database of its own, if PostgreSQL answers.
    async fn postgres() -> Option<Data> {
        let database = TestDatabase::create().await?;
        Some(Data {
            _dir: tempfile::tempdir().unwrap(),
            store: ["--postgres".into(), database.url()],
            _database: Some(database),
        })
    }

    /// `credlog args --data DIR` (or `--postgres URL`).
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(args)
            .args(&self.store)
            .output()
            .unwrap()
    }

    /// A command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// A command that must fail with `code` and one line on stderr saying `what`.
    fn fails(&self, code: i32, args: &[&str], what: &str) {
        let output = self.run(args);
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {said}");
        if code == 1 {
            assert_eq!(said.lines().count(), 1, "{args:?}: {said}");
        }
        assert!(said.contains(what), "{args:?}: {said}");
        assert!(stdout(&output).is_empty(), "{args:?}: {}", stdout(&output));
    }

    /// `credlog check` finds the projections equal to the log.
    fn check(&self) {
        assert!(self.ok(&["check"]).starts_with("ok:"));
    }

    fn add_user(&self, name: &str, password: &str) {
        self.ok(&["user", "add", name, "--password", password]);
    }

    /// `client add` for `owner` with every grant /api/me is reached by
    /// here; its id and secret.
    fn add_client(&self, owner: &str, name: &str) -> (String, String) {
        let printed = self.ok(&[
            "client",
            "add",
            "--owner",
            owner,
            "--name",
            name,
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "profile email",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "password",
            "--grant-type",
            "client_credentials",
        ]);
        let json: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
        let field = |name: &str| json[name].as_str().unwrap().to_owned();
        (field("client_id"), field("client_secret"))
    }

    /// `credlog serve` on it, until [`Serving::stop`].
    fn serve(&self) -> Serving {
        let process = Running::spawn(
            Command::new(env!("CARGO_BIN_EXE_credlog"))
                .args(["serve", "--addr", "127.0.0.1:0"])
                .args(&self.store)
                .stderr(Stdio::null()),
        );
        let server = TestServer::remote(&process.base());
        Serving { process, server }
    }
}

/// The header's `kid` and the claims of `id_token`, verified by
/// `jsonwebtoken` against the key of that `kid` in `jwks`.
fn verify_id_token(
    id_token: &str,
    jwks: &serde_json::Value,
    audience: &str,
) -> (String, serde_json::Value) {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).expect("its kid is published")).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(id_token, &key, &validation)
        .unwrap_or_else(|e| panic!("the ID token verifies: {e}"))
        .claims;
    (kid, claims)
}

async fn a_rotated_signing_key_stays_published_for_what_it_signed(data: Data) {
    data.add_user("alice", "pw");
    let printed = data.ok(&[
        "client",
        "add",
        "--owner",
        "alice",
        "--name",
        "Sign-in app",
        "--redirect-uri",
        CALLBACK,
        "--scope",
        "openid profile",
        "--grant-type",
        "authorization_code",
    ]);
    let json: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    let client = (
        json["client_id"].as_str().unwrap().to_owned(),
        json["client_secret"].as_str().unwrap().to_owned(),
    );
    // The first start makes the first key.
    let serving = data.serve();
    let before = serving.id_token(&client, "alice", "pw").await;
    let jwks = serving.jwks().await;
    let (old_kid, _) = verify_id_token(&before, &jwks, &client.0);
    serving.stop();

    let new_kid = data.ok(&["keys", "rotate"]).trim().to_owned();
    assert!(!new_kid.is_empty() && new_kid != old_kid, "{new_kid}");
    let listed = data.ok(&["keys", "list"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with(&old_kid) && lines[0].contains("retired_at="),
        "{listed}"
    );
    assert!(
        lines[1].starts_with(&new_kid) && lines[1].ends_with("current"),
        "{listed}"
    );
    // The log tells of each key by its id, never its private half.
    let log = data.ok(&["log"]);
    assert!(
        log.contains(&format!("signing_key_created kid={old_kid}")),
        "{log}"
    );
    assert!(
        log.contains(&format!("signing_key_created kid={new_kid}")),
        "{log}"
    );
    assert!(!log.contains("PRIVATE KEY"), "{log}");

    // After a restart the token signed before still verifies against the
    // published set, and new tokens carry the new kid.
    let serving = data.serve();
    let jwks = serving.jwks().await;
    let rs256 = jwks["keys"].as_array().unwrap().iter();
    let rs256 = rs256.filter(|key| key["alg"] == "RS256").count();
    assert_eq!(rs256, 2, "{jwks}");
    let (kid, claims) = verify_id_token(&before, &jwks, &client.0);
    assert_eq!(kid, old_kid);
    let after = serving.id_token(&client, "alice", "pw").await;
    let (kid, after_claims) = verify_id_token(&after, &serving.jwks().await, &client.0);
    assert_eq!(kid, new_kid);
    assert_eq!(after_claims["sub"], claims["sub"]);
    serving.stop();
    data.check();
}

/// A `credlog serve` process and the server it is.
struct Serving {
    process: Running,
    server: TestServer,
}

impl Serving {
    /// The published JWK Set.
    async fn jwks(&self) -> serde_json::Value {
        let answer = get_page(&self.server, "/oauth2/jwks", None).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    /// `user` signs in, grants `client` scope `openid`, and the code is
    /// redeemed: the ID token.
    async fn id_token(&self, client: &(String, String), user: &str, password: &str) -> String {
        let cookie = login(&self.server, user, password).await;
        let request = format!(
            "/oauth2/authorize?response_type=code&client_id={}&scope=openid&nonce=n1",
            client.0
        );
        let page = get_page(&self.server, &request, Some(&cookie)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let mut fields = hidden_inputs(&page.body);
        fields.push(("confirm".to_owned(), "yes".to_owned()));
        let granted = post_form(&self.server, "/oauth2/authorize", Some(&cookie), &fields).await;
        let location = granted.header("location").expect("a redirect").to_owned();
        let query = location.split_once('?').unwrap().1;
        let code = credlog_core::form::Fields::parse(query.as_bytes())
            .and_then(|fields| fields.get("code").map(str::to_owned))
            .expect("a code");
        let answer = self
            .token(
                client,
                &[("grant_type", "authorization_code"), ("code", &code)],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()["id_token"]
            .as_str()
            .expect("an id_token")
            .to_owned()
    }

    /// SIGTERM, and a clean exit: the data directory is free again.
    fn stop(mut self) {
        assert_eq!(self.process.terminate().code(), Some(0));
    }

    async fn token(&self, client: &(String, String), form: &[(&str, &str)]) -> Answer {
        let response = http()
            .post(self.server.url("/oauth2/token"))
            .basic_auth(&client.0, Some(&client.1))
            .form(form)
            .send()
            .await
            .unwrap();
        Answer::from(response).await
    }

    /// `grant_type=password` for `user`: the answer.
    async fn password_grant(
        &self,
        client: &(String, String),
        user: &str,
        password: &str,
    ) -> Answer {
        let form = [
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ];
        self.token(client, &form).await
    }

    /// An access token for `user` by the password grant.
    async fn user_token(&self, client: &(String, String), user: &str, password: &str) -> String {
        let answer = self.password_grant(client, user, password).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// `grant_type=client_credentials`: the answer.
    async fn client_credentials(&self, client: &(String, String)) -> Answer {
        self.token(client, &[("grant_type", "client_credentials")])
            .await
    }

    /// An access token of the client's own.
    async fn client_token(&self, client: &(String, String)) -> String {
        let answer = self.client_credentials(client).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// The status of `GET /clients` (as JSON) with a session cookie: 200
    /// while the session lasts, 401 once it has ended.
    async fn signed_in(&self, cookie: &str) -> u16 {
        http()
            .get(self.server.url("/clients"))
            .header("Accept", "application/json")
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The status of `GET /api/me` with a bearer token.
    async fn me(&self, access_token: &str) -> u16 {
        http()
            .get(self.server.url("/api/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// An OAuth 1 token credential alice granted `client` (signed in
    /// with `password`).
    async fn oauth1_token(&self, client: &TestClient, password: &str) -> (String, String) {
        let cookie = login(&self.server, "alice", password).await;
        three_legged(&self.server, client, &cookie).await
    }

    /// The status of `GET /api/me` signed with an OAuth 1 token credential.
    async fn oauth1_me(&self, client: &TestClient, token: &(String, String)) -> u16 {
        me(&self.server, client, (&token.0, &token.1)).await.status
    }
}

fn oauth1_client(client: &(String, String)) -> TestClient {
    TestClient {
        id: client.0.clone(),
        secret: client.1.clone(),
        method: "HMAC-SHA1",
        transmission: Transmission::Header,
    }
}

async fn users_are_listed_given_a_new_password_and_removed(data: Data) {
    data.add_user("alice", "old password");
    data.add_user("bob", "pw");
    assert_eq!(data.ok(&["user", "list"]), "alice\nbob\n");
    let bobs = data.add_client("bob", "Bob's app");
    let alices = data.add_client("alice", "Alice's app");
    let serving = data.serve();
    let session = login(&serving.server, "alice", "old password").await;
    assert_eq!(serving.signed_in(&session).await, 200);
    serving.stop();

    // A new password: the old one and the sessions it opened end.
    data.ok(&["user", "passwd", "alice", "--password", "new password"]);
    data.check();
    let serving = data.serve();
    assert_eq!(serving.signed_in(&session).await, 401);
    let refused = serving.password_grant(&bobs, "alice", "old password").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"], "invalid_grant");
    let granted = serving.user_token(&bobs, "alice", "new password").await;
    assert_eq!(serving.me(&granted).await, 200);
    // The login form takes the new password and not the old.
    let old = submit_login(&serving.server, "/login", "alice", "old password").await;
    assert_eq!(old.status, 401);
    login(&serving.server, "alice", "new password").await;
    let own = serving.client_token(&alices).await;
    serving.stop();

    // Removed: what alice granted and every client she owns end.
    data.ok(&["user", "remove", "alice"]);
    data.check();
    assert_eq!(data.ok(&["user", "list"]), "bob\n");
    let clients = data.ok(&["client", "list"]);
    assert!(!clients.contains(&alices.0), "{clients}");
    assert!(clients.contains(&bobs.0), "{clients}");
    let serving = data.serve();
    assert_eq!(serving.me(&granted).await, 401);
    assert_eq!(serving.me(&own).await, 401);
    assert_eq!(serving.client_credentials(&alices).await.status, 401);
    let gone = serving.password_grant(&bobs, "alice", "new password").await;
    assert_eq!(gone.status, 400, "{}", gone.body);
    serving.stop();

    for args in [
        &["user", "passwd", "alice", "--password", "x"][..],
        &["user", "remove", "alice"],
    ] {
        data.fails(1, args, "no user \"alice\"");
    }
    data.fails(2, &["user", "passwd", "bob"], "--password");
    data.fails(1, &["user", "passwd", "bob", "--password", ""], "empty");
    data.check();
}

async fn clients_are_listed_shown_given_a_new_secret_and_removed(data: Data) {
    data.add_user("alice", "pw");
    data.add_user("bob", "pw");
    let printer = data.add_client("alice", "Printer");
    let evil = data.add_client("bob", "Bob's \u{1b}[2J\u{7}app");

    // One line a client: id, owner, name escaped as `credlog log` escapes it.
    let output = data.run(&["client", "list"]);
    assert!(
        !output.stdout.iter().any(|&b| b == 0x1b || b == 0x07),
        "a raw control character reached the terminal: {:?}",
        stdout(&output)
    );
    let mut lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    lines.sort();
    let mut wanted = vec![
        format!("{} alice Printer", printer.0),
        format!("{} bob \"Bob's \\u{{1b}}[2J\\u{{7}}app\"", evil.0),
    ];
    wanted.sort();
    assert_eq!(lines, wanted);
    assert_eq!(
        data.ok(&["client", "list", "--owner", "alice"]),
        format!("{} alice Printer\n", printer.0)
    );
    data.fails(1, &["client", "list", "--owner", "carol"], "carol");

    // Its registration, never its secret.
    let shown = data.ok(&["client", "show", &printer.0]);
    assert!(
        !shown.contains(&printer.1),
        "the secret was printed: {shown}"
    );
    let json: serde_json::Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(json["client_id"], printer.0.as_str());
    assert_eq!(json["client_name"], "Printer");
    assert_eq!(json["owner"], "alice");
    assert_eq!(json["scope"], "profile email");
    assert!(json.get("client_secret").is_none(), "{json}");

    // A new secret, printed once: it works, the old one does not.
    let printed = data.ok(&["client", "rotate-secret", &printer.0]);
    let rotated: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(rotated["client_id"], printer.0.as_str());
    let secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, printer.1);
    data.check();
    assert!(!data.ok(&["client", "show", &printer.0]).contains(&secret));
    let renewed = (printer.0.clone(), secret);
    let serving = data.serve();
    assert_eq!(serving.client_credentials(&printer).await.status, 401);
    let token = serving.client_token(&renewed).await;
    assert_eq!(serving.me(&token).await, 200);
    serving.stop();

    // Removed: it and what was issued to it end.
    data.ok(&["client", "remove", &printer.0]);
    data.check();
    assert_eq!(
        data.ok(&["client", "list"]),
        format!("{}\n", wanted.iter().find(|l| l.contains(&evil.0)).unwrap())
    );
    let serving = data.serve();
    assert_eq!(serving.me(&token).await, 401);
    assert_eq!(serving.client_credentials(&renewed).await.status, 401);
    serving.stop();

    let named = format!("no client \"{}\"", printer.0);
    for command in ["show", "rotate-secret", "remove"] {
        data.fails(1, &["client", command, &printer.0], &named);
        data.fails(1, &["client", command, "nope"], "no client \"nope\"");
    }
    data.check();
}

async fn revoke_ends_a_token_a_clients_credentials_or_a_users_grants(data: Data) {
    data.add_user("alice", PASSWORD);
    let mine = data.add_client("alice", "Mine");
    let other = data.add_client("alice", "Other");

    let serving = data.serve();
    let oauth2 = serving.user_token(&mine, "alice", PASSWORD).await;
    let granted = serving.user_token(&mine, "alice", PASSWORD).await;
    let oauth1 = serving.oauth1_token(&oauth1_client(&mine), PASSWORD).await;
    let own = serving.client_token(&mine).await;
    let others_own = serving.client_token(&other).await;
    let others_granted = serving.user_token(&other, "alice", PASSWORD).await;
    for live in [&oauth2, &granted, &own, &others_own, &others_granted] {
        assert_eq!(serving.me(live).await, 200);
    }
    assert_eq!(serving.oauth1_me(&oauth1_client(&mine), &oauth1).await, 200);
    serving.stop();

    // --token: an OAuth 2 token by its value, an OAuth 1 one by its id.
    data.ok(&["revoke", "--token", &oauth2]);
    data.check();
    data.ok(&["revoke", "--token", &oauth1.0]);
    data.check();
    let serving = data.serve();
    assert_eq!(serving.me(&oauth2).await, 401);
    assert_eq!(serving.oauth1_me(&oauth1_client(&mine), &oauth1).await, 401);
    for live in [&granted, &own, &others_own, &others_granted] {
        assert_eq!(serving.me(live).await, 200);
    }
    serving.stop();

    // --client: everything issued to it; the client itself stays.
    data.ok(&["revoke", "--client", &other.0]);
    data.check();
    let serving = data.serve();
    assert_eq!(serving.me(&others_own).await, 401);
    assert_eq!(serving.me(&others_granted).await, 401);
    assert_eq!(serving.me(&granted).await, 200);
    let again = serving.client_token(&other).await;
    assert_eq!(serving.me(&again).await, 200);
    serving.stop();

    // --user: everything the user granted; a client's own token stays.
    data.ok(&["revoke", "--user", "alice"]);
    data.check();
    let serving = data.serve();
    assert_eq!(serving.me(&granted).await, 401);
    assert_eq!(serving.me(&own).await, 200);
    serving.stop();
}

#[test]
fn revoke_takes_exactly_one_flag_and_names_what_it_cannot_find() {
    let data = Data::new();
    data.add_user("alice", "pw");
    let client = data.add_client("alice", "App");
    data.fails(2, &["revoke"], "--token");
    data.fails(
        2,
        &["revoke", "--token", "t", "--client", &client.0],
        "cannot be used with",
    );
    data.fails(2, &["revoke", "--client", &client.0, "--user", "alice"], "");
    data.fails(1, &["revoke", "--token", "nope"], "no token \"nope\"");
    data.fails(1, &["revoke", "--client", "nope"], "no client \"nope\"");
    data.fails(1, &["revoke", "--user", "nope"], "no user \"nope\"");
    // Nothing to revoke yet is no error.
    data.ok(&["revoke", "--user", "alice"]);
    data.check();
}

#[test]
fn a_directory_a_running_server_holds_is_refused_saying_to_stop_it() {
    let data = Data::new();
    data.add_user("alice", "pw");
    let client = data.add_client("alice", "App");
    let serving = data.serve();
    for args in [
        &["user", "add", "bob", "--password", "pw"][..],
        &["user", "list"],
        &["user", "passwd", "alice", "--password", "new"],
        &["user", "remove", "alice"],
        &["client", "list"],
        &["client", "show", &client.0],
        &["client", "rotate-secret", &client.0],
        &["client", "remove", &client.0],
        &["revoke", "--client", &client.0],
        &["check"],
    ] {
        data.fails(
            1,
            args,
            "in use by a running credlog server; stop the server first",
        );
    }
    serving.stop();
    // Nothing changed meanwhile.
    assert_eq!(data.ok(&["user", "list"]), "alice\n");
    data.ok(&["client", "show", &client.0]);
    data.check();
}
