//! The JWT bearer grant and introspection as an attacker tries them,
//! through the `credlog` binary over HTTP (issue 26): a client that a
//! user granted `profile` alone asks for more; a grant the user (or the
//! client, or an operator) revoked is still traded; an assertion whose
//! `aud` is an origin taken from `Host`; a `jti` replayed after a restart
//! of a server with a short timestamp window; introspection answering a
//! `sub` that ID tokens do not.

mod support;

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use support::oauth2::{Form, Oauth2Answer, Tokens};
use support::process::{credlog, Running};
use support::{get_page, hidden_inputs, http, login, now, post_form, Answer, TestServer};

const BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const REDIRECT: &str = "http://127.0.0.1:8000/callback";
const PASSWORD: &str = "alice's password";

/// The client's key pair: what it signs with, and its public JWK Set.
struct ClientKey {
    signing: EncodingKey,
    jwks: Value,
}

fn client_key() -> ClientKey {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let public = private.to_public_key();
    let der = private.to_pkcs1_der().unwrap();
    ClientKey {
        signing: EncodingKey::from_rsa_der(der.as_bytes()),
        jwks: json!({ "keys": [{
            "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
            "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be()),
        }]}),
    }
}

/// A data directory with alice and a `private_key_jwt` client that may
/// use the code, refresh and JWT bearer grants for `profile email openid`.
struct Setup {
    dir: tempfile::TempDir,
    client_id: String,
    key: ClientKey,
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let output = credlog()
        .args(args)
        .arg("--data")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "credlog {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn setup(config: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let key = client_key();
    std::fs::write(dir.path().join("jwks.json"), key.jwks.to_string()).unwrap();
    std::fs::write(dir.path().join("credlog.toml"), config).unwrap();
    run_ok(
        dir.path(),
        &["user", "add", "alice", "--password", PASSWORD],
    );
    let jwks = dir.path().join("jwks.json");
    let added = run_ok(
        dir.path(),
        &[
            "client",
            "add",
            "--owner",
            "alice",
            "--name",
            "Service",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "profile email openid",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--grant-type",
            BEARER,
            "--auth-method",
            "private_key_jwt",
            "--jwks",
            jwks.to_str().unwrap(),
        ],
    );
    let added: Value = serde_json::from_str(&added).unwrap();
    Setup {
        client_id: added["client_id"].as_str().unwrap().to_owned(),
        dir,
        key,
    }
}

/// `credlog serve` on the setup's data directory, and alice signed in.
struct Serving {
    process: Running,
    server: TestServer,
    cookie: String,
}

async fn serve(setup: &Setup) -> Serving {
    serve_on(setup, "127.0.0.1:0").await
}

/// [`serve`] on `addr`: a server restarted on its address is the same
/// issuer, so assertions made for it before still name it.
async fn serve_on(setup: &Setup, addr: &str) -> Serving {
    let process = Running::spawn(
        credlog()
            .args(["serve", "--addr", addr, "--data"])
            .arg(setup.dir.path().join("data"))
            .arg("--config")
            .arg(setup.dir.path().join("credlog.toml")),
    );
    let server = TestServer::remote(&process.base());
    let cookie = login(&server, "alice", PASSWORD).await;
    Serving {
        process,
        server,
        cookie,
    }
}

impl Setup {
    /// A JWT about `sub` (`iss` the client, `aud` the token endpoint of
    /// `serving` unless `claims` says otherwise), signed by the client.
    fn jwt(&self, serving: &Serving, sub: &str, claims: Value) -> String {
        let mut all = json!({
            "iss": self.client_id, "sub": sub, "aud": serving.server.url("/oauth2/token"),
            "exp": now() + 120, "iat": now(), "jti": credlog_core::random::random_token(),
        });
        for (name, value) in claims.as_object().unwrap() {
            all[name] = value.clone();
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".to_owned());
        jsonwebtoken::encode(&header, &all, &self.key.signing).unwrap()
    }

    /// `POST path` with `form`, the client authenticated by a fresh assertion.
    async fn post(&self, serving: &Serving, path: &str, form: Form) -> Answer {
        let assertion = self.jwt(serving, &self.client_id, json!({}));
        let form = form
            .with("client_assertion_type", ASSERTION_TYPE)
            .with("client_assertion", &assertion);
        post_form(&serving.server, path, None, &form.0).await
    }

    /// The JWT bearer grant for alice, asking for `scope` if given.
    async fn for_alice(&self, serving: &Serving, scope: Option<&str>) -> Answer {
        let mut form = Form::new()
            .with("grant_type", BEARER)
            .with("assertion", &self.jwt(serving, "alice", json!({})));
        if let Some(scope) = scope {
            form = form.with("scope", scope);
        }
        self.post(serving, "/oauth2/token", form).await
    }

    /// alice allows `scope` on the consent page; the code it redirects with.
    async fn consent(&self, serving: &Serving, scope: &str) -> String {
        let request = Form::new()
            .with("response_type", "code")
            .with("client_id", &self.client_id)
            .with("redirect_uri", REDIRECT)
            .with("scope", scope)
            .with("state", "s");
        let path = format!("/oauth2/authorize?{}", request.encoded());
        let page = get_page(&serving.server, &path, Some(&serving.cookie)).await;
        assert_eq!(page.status, 200, "consent page: {}", page.body);
        let mut fields = hidden_inputs(&page.body);
        fields.push(("confirm".to_owned(), "yes".to_owned()));
        let answer = post_form(
            &serving.server,
            "/oauth2/authorize",
            Some(&serving.cookie),
            &fields,
        )
        .await;
        let location = answer.header("location").expect("a redirect").to_owned();
        let url = reqwest::Url::parse(&location).unwrap();
        let code = url.query_pairs().find(|(name, _)| name == "code");
        code.unwrap_or_else(|| panic!("no code in {location}"))
            .1
            .into_owned()
    }

    async fn exchange(&self, serving: &Serving, code: &str) -> Tokens {
        let form = Form::new()
            .with("grant_type", "authorization_code")
            .with("code", code)
            .with("redirect_uri", REDIRECT);
        self.post(serving, "/oauth2/token", form).await.tokens()
    }
}

async fn me(serving: &Serving, token: &str) -> u16 {
    http()
        .get(serving.server.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Findings 1 and 2: the grant is bounded by what alice granted, in
/// credentials still live, and ends with each way of revoking it.
#[tokio::test]
async fn the_jwt_bearer_grant_stays_within_live_consent() {
    let setup = setup("");
    let serving = serve(&setup).await;

    // Nothing granted yet: nothing to trade.
    setup
        .for_alice(&serving, None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    // alice allows `profile` alone; the code is not even exchanged.
    let code = setup.consent(&serving, "profile").await;
    let tokens = setup.for_alice(&serving, None).await.tokens();
    assert_eq!(tokens.scope, "profile", "no scope asked: what she granted");
    assert_eq!(me(&serving, &tokens.access_token).await, 200);
    setup
        .for_alice(&serving, Some("profile email"))
        .await
        .assert_oauth2_error(400, "invalid_scope");
    setup
        .for_alice(&serving, Some("openid"))
        .await
        .assert_oauth2_error(400, "invalid_scope");

    // The code exchanged, then its refresh token revoked (RFC 7009): the
    // grant is gone, and what it minted before with it.
    let exchanged = setup.exchange(&serving, &code).await;
    let minted = setup.for_alice(&serving, None).await.tokens();
    assert_eq!(minted.scope, "profile");
    let revoked = setup
        .post(
            &serving,
            "/oauth2/revoke",
            Form::new().with("token", exchanged.refresh()),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    setup
        .for_alice(&serving, None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    assert_eq!(me(&serving, &minted.access_token).await, 401);

    // Granted again, wider, in two consents: the union is what may be had.
    let profile = setup.consent(&serving, "profile").await;
    setup.exchange(&serving, &profile).await;
    let email = setup.consent(&serving, "email").await;
    setup.exchange(&serving, &email).await;
    let both = setup
        .for_alice(&serving, Some("profile email"))
        .await
        .tokens();
    assert_eq!(both.scope, "profile email");
    // The authorizations page lists the access, and revoking it there ends it.
    let page = get_page(&serving.server, "/authorizations", Some(&serving.cookie)).await;
    assert!(page.body.contains("Service"), "{}", page.body);
    let mut fields = hidden_inputs(&page.body);
    fields.retain(|(name, _)| name == "csrf_token");
    fields.push(("client_id".to_owned(), setup.client_id.clone()));
    let answer = post_form(
        &serving.server,
        "/authorizations/revoke",
        Some(&serving.cookie),
        &fields,
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    setup
        .for_alice(&serving, None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    assert_eq!(me(&serving, &both.access_token).await, 401);
    let page = get_page(&serving.server, "/authorizations", Some(&serving.cookie)).await;
    assert!(!page.body.contains("Service"), "{}", page.body);
}

/// Finding: `aud` was taken from `Host` when no public URL is set.
#[tokio::test]
async fn an_audience_named_after_the_host_header_is_refused() {
    let setup = setup("");
    let serving = serve(&setup).await;
    let evil = setup.jwt(
        &serving,
        &setup.client_id,
        json!({ "aud": "http://evil.example/oauth2/token" }),
    );
    let form = Form::new()
        .with("grant_type", BEARER)
        .with("assertion", &evil)
        .with("client_id", &setup.client_id);
    let client_assertion = setup.jwt(
        &serving,
        &setup.client_id,
        json!({ "aud": "http://evil.example/oauth2/token" }),
    );
    let form = form
        .with("client_assertion_type", ASSERTION_TYPE)
        .with("client_assertion", &client_assertion);
    let answer = http()
        .post(serving.server.url("/oauth2/token"))
        .header("Host", "evil.example")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.encoded())
        .send()
        .await
        .unwrap();
    let answer = Answer::from(answer).await;
    assert!(
        answer.status == 400 || answer.status == 401,
        "{} {}",
        answer.status,
        answer.body
    );
    // The printed issuer is an audience.
    let issuer = serving.server.url("");
    let good = setup.jwt(&serving, &setup.client_id, json!({ "aud": issuer }));
    let form = Form::new()
        .with("grant_type", BEARER)
        .with("assertion", &good);
    setup.post(&serving, "/oauth2/token", form).await.tokens();
}

/// Finding: with a short timestamp window, a used `jti` was forgotten at
/// a restart and its assertion accepted again before its `exp`.
#[tokio::test]
async fn a_jti_is_refused_until_its_exp_across_restarts() {
    let setup = setup("[oauth1]\ntimestamp_window_seconds = 5\n");
    let mut serving = serve(&setup).await;
    let assertion = setup.jwt(&serving, &setup.client_id, json!({ "exp": now() + 240 }));
    let trade = || {
        Form::new()
            .with("grant_type", BEARER)
            .with("assertion", &assertion)
    };
    setup
        .post(&serving, "/oauth2/token", trade())
        .await
        .tokens();
    // Records keep coming for more than two windows after its use.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(4)).await;
        let fresh = setup.jwt(&serving, &setup.client_id, json!({}));
        let form = Form::new()
            .with("grant_type", BEARER)
            .with("assertion", &fresh);
        setup.post(&serving, "/oauth2/token", form).await.tokens();
    }
    serving.process.terminate();
    let addr = serving.server.url("").replace("http://", "");
    let restarted = serve_on(&setup, &addr).await;
    setup
        .post(&restarted, "/oauth2/token", trade())
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

/// Finding: introspection answered the user name as `sub`, where ID
/// tokens and UserInfo answer the subject.
#[tokio::test]
async fn introspection_answers_the_openid_subject_and_the_user_name() {
    let setup = setup("");
    let serving = serve(&setup).await;
    let code = setup.consent(&serving, "profile openid").await;
    let tokens = setup.exchange(&serving, &code).await;
    let userinfo = http()
        .get(serving.server.url("/oauth2/userinfo"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    let userinfo = Answer::from(userinfo).await.json();
    let sub = userinfo["sub"].as_str().expect("a subject").to_owned();
    assert_ne!(sub, "alice");
    let answer = setup
        .post(
            &serving,
            "/oauth2/introspect",
            Form::new().with("token", &tokens.access_token),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["sub"], sub.as_str(), "{body}");
    assert_eq!(body["username"], "alice", "{body}");
}
