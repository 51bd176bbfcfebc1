//! ID tokens signed with each algorithm a client may choose (RS256, PS256,
//! ES256, EdDSA; OpenID Connect Dynamic Client Registration 2's
//! `id_token_signed_response_alg`), on every store: a client registered
//! with `POST /clients` gets ID tokens (code flow, refresh, implicit) whose
//! header names its algorithm and that `jsonwebtoken` (not credlog's own
//! code) verifies against the key of that `kid` in `/oauth2/jwks`, with
//! the `at_hash` of that algorithm's hash. Discovery lists the four. An
//! algorithm the server does not sign with (`none`, `HS256`) is refused at
//! registration. A client's own Ed25519 key (RFC 8037) authenticates its
//! EdDSA `private_key_jwt` assertions. `credlog keys rotate --alg ES256`,
//! through the real binary,
//! makes a new ES256 key the one tokens are signed with while the old one
//! stays published. And Python's joserfc verifies a token of each algorithm
//! against the JWK Set URL (`tests/interop/verify_algs.py`).

mod support;

use std::process::{Command, Output, Stdio};

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};
use support::oauth2::*;
use support::process::Running;
use support::python::{interop_dir, python_env};
use support::{get_page, hidden_inputs, http, login, post_form, Answer, Backend, TestServer};

use credlog_storage_postgres::testing::TestDatabase;

/// What a client may register, RS256 being the default.
const ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

/// The `nonce` every authentication request carries.
const NONCE: &str = "n-0S6_WzA2Mj";

/// OpenID Connect Core 1.0 3.1.3.6: the left half of the access token's
/// hash, the hash being the algorithm's: SHA-256 for the `*256` ones,
/// SHA-512 for EdDSA on Ed25519 (as node-oidc-provider's oidc-token-hash
/// computes it).
fn at_hash(alg: &str, access_token: &str) -> String {
    let digest = match alg {
        "EdDSA" => Sha512::digest(access_token.as_bytes()).to_vec(),
        _ => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// `POST /clients` as signed-in alice with `body`: the answer.
async fn register_json(server: &TestServer, cookie: &str, body: &Value) -> Answer {
    let response = http()
        .post(server.url("/clients"))
        .header("Cookie", cookie)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    Answer::from(response).await
}

/// A confidential client of alice's for the code flow and refreshes, with
/// scope `openid profile`, registered over HTTP choosing `alg` (`None`:
/// choosing none).
async fn code_client(server: &TestServer, cookie: &str, alg: Option<&str>) -> Oauth2Client {
    let mut body = json!({
        "client_name": format!("Signed with {}", alg.unwrap_or("the default")),
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid profile",
        "token_endpoint_auth_method": "client_secret_basic",
    });
    if let Some(alg) = alg {
        body["id_token_signed_response_alg"] = alg.into();
    }
    let answer = register_json(server, cookie, &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let registered = answer.json();
    assert_eq!(
        registered.get("id_token_signed_response_alg"),
        alg.map(Value::from).as_ref(),
        "{registered}"
    );
    Oauth2Client {
        id: registered["client_id"].as_str().unwrap().to_owned(),
        secret: Some(registered["client_secret"].as_str().unwrap().to_owned()),
        method: AuthMethod::Basic,
    }
}

/// A public implicit client of alice's choosing `alg`.
async fn implicit_client(w: &World, alg: &str) -> Oauth2Client {
    let body = json!({
        "client_name": format!("Implicit {alg}"),
        "redirect_uris": [REDIRECT],
        "grant_types": ["implicit"],
        "response_types": ["token"],
        "scope": "openid profile",
        "token_endpoint_auth_method": "none",
        "id_token_signed_response_alg": alg,
    });
    let answer = register_json(&w.server, &w.cookie, &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    Oauth2Client {
        id: answer.json()["client_id"].as_str().unwrap().to_owned(),
        secret: None,
        method: AuthMethod::None,
    }
}

/// The ID token's `kid` and claims, once `jsonwebtoken` has checked that
/// its header names `alg` and its signature with the key of its `kid` in
/// `jwks` (which must be published for `alg`, for signatures), and its
/// audience.
fn verify_with_jsonwebtoken(
    id_token: &str,
    jwks: &Value,
    alg: &str,
    audience: &str,
) -> (String, Value) {
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let algorithm: Algorithm = alg.parse().unwrap();
    assert_eq!(header.alg, algorithm, "{id_token}");
    let kid = header.kid.expect("a kid in the header");
    let published = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("{kid} is published: {jwks}"));
    assert_eq!(published["alg"], alg, "{published}");
    assert_eq!(published["use"], "sig", "{published}");
    let set: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let key = DecodingKey::from_jwk(set.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap_or_else(|e| panic!("the {alg} ID token verifies: {e}"))
        .claims;
    (kid, claims)
}

async fn jwks_of(server: &TestServer) -> Value {
    let answer = get_page(server, "/oauth2/jwks", None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

fn id_token_of(tokens: &Tokens) -> String {
    tokens.json["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("an id_token in {}", tokens.json))
        .to_owned()
}

/// The code flow with scope `openid profile` for `client`: the tokens.
async fn sign_in(w: &World, client: &Oauth2Client) -> Tokens {
    let request = code_request(client)
        .with("scope", "openid profile")
        .with("nonce", NONCE);
    let code = code_for(w, &request).await;
    exchange(w, client, &code).await.tokens()
}

async fn each_client_gets_id_tokens_signed_with_the_alg_it_chose(w: &World) {
    let discovery = get_page(&w.server, "/.well-known/openid-configuration", None)
        .await
        .json();
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(ALGS),
        "{discovery}"
    );
    let assertion_algs = discovery["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    for alg in ALGS {
        assert!(assertion_algs.contains(&alg.into()), "{discovery}");
    }
    let issuer = discovery["issuer"].as_str().unwrap().to_owned();

    // The JWK Set: one current key per algorithm, none private.
    let jwks = jwks_of(&w.server).await;
    let keys = jwks["keys"].as_array().unwrap();
    let published: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(published, ALGS, "{jwks}");
    let kty: Vec<&str> = keys.iter().map(|k| k["kty"].as_str().unwrap()).collect();
    assert_eq!(kty, ["RSA", "RSA", "EC", "OKP"], "{jwks}");
    assert_eq!(keys[3]["crv"], "Ed25519");
    for key in keys {
        assert!(key.get("d").is_none(), "no private part: {key}");
    }

    let mut kids = Vec::new();
    for alg in ALGS.map(Some).into_iter().chain([None]) {
        let client = code_client(&w.server, &w.cookie, alg).await;
        let alg = alg.unwrap_or("RS256");
        let tokens = sign_in(w, &client).await;
        let (kid, claims) = verify_with_jsonwebtoken(&id_token_of(&tokens), &jwks, alg, &client.id);
        assert_eq!(claims["iss"], issuer.as_str());
        assert_eq!(claims["nonce"], NONCE);
        assert_eq!(
            claims["at_hash"],
            at_hash(alg, &tokens.access_token),
            "{alg}"
        );
        // A refresh signs its ID token the same way.
        let refreshed = refresh(w, &client, tokens.refresh(), None).await.tokens();
        let (again, refreshed_claims) =
            verify_with_jsonwebtoken(&id_token_of(&refreshed), &jwks, alg, &client.id);
        assert_eq!(again, kid);
        assert_eq!(refreshed_claims["sub"], claims["sub"]);
        assert_eq!(
            refreshed_claims["at_hash"],
            at_hash(alg, &refreshed.access_token)
        );
        kids.push(kid);
    }
    // Four keys for four algorithms; the client that chose none got RS256's.
    assert_eq!(kids[4], kids[0]);
    kids.sort();
    kids.dedup();
    assert_eq!(kids.len(), 4, "{kids:?}");

    // The implicit `id_token token`: the same, in the fragment.
    for alg in ALGS {
        let client = implicit_client(w, alg).await;
        let request = Form::new()
            .with("response_type", "id_token token")
            .with("client_id", &client.id)
            .with("redirect_uri", REDIRECT)
            .with("scope", "openid profile")
            .with("state", STATE)
            .with("nonce", NONCE);
        let location = Location::of(&authorize(w, &request, "yes").await);
        let access_token = location.fragment("access_token").expect("an access token");
        let id_token = location.fragment("id_token").expect("an ID token");
        let (_, claims) = verify_with_jsonwebtoken(id_token, &jwks, alg, &client.id);
        assert_eq!(claims["at_hash"], at_hash(alg, access_token), "{alg}");
    }
}

/// The attacker's choice: an unsigned or shared-secret ID token, or an
/// algorithm with another's spelling. Refused at registration, and no
/// client is made.
async fn an_algorithm_the_server_does_not_sign_with_is_refused(w: &World) {
    let before = w.server.store.clients().await.unwrap().len();
    for alg in ["none", "HS256", "RS384", "es256", "Ed25519", ""] {
        let body = json!({
            "client_name": "Forger",
            "redirect_uris": [REDIRECT],
            "scope": "openid",
            "id_token_signed_response_alg": alg,
        });
        let answer = register_json(&w.server, &w.cookie, &body).await;
        assert_eq!(answer.status, 400, "{alg}: {}", answer.body);
        assert_eq!(answer.json()["error"], "invalid_client_metadata", "{alg}");
    }
    let after = w.server.store.clients().await.unwrap().len();
    assert_eq!(after, before);
}

/// RFC 8037 keys are client keys too: a client registering an Ed25519
/// public key (`kty: OKP`) authenticates with an EdDSA `private_key_jwt`
/// assertion (RFC 7523 2.2); one signed by another Ed25519 key under the
/// same `kid` is refused.
async fn an_ed25519_client_key_authenticates_with_private_key_jwt(w: &World) {
    use credlog_core::jose::{SignatureAlg, SigningKey};
    let key = SigningKey::generate_for(SignatureAlg::EdDSA).unwrap();
    let mut jwk = key.public_jwk();
    jwk["kid"] = "ed-1".into();
    let body = json!({
        "client_name": "Ed25519 service",
        "redirect_uris": [REDIRECT],
        "grant_types": ["client_credentials"],
        "scope": "profile",
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [jwk]},
    });
    let answer = register_json(&w.server, &w.cookie, &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let client_id = answer.json()["client_id"].as_str().unwrap().to_owned();
    // Signed by jsonwebtoken, with the PKCS#8 key under the registered kid.
    let assertion = |signer: &SigningKey| {
        let pem = signer.to_pkcs8_pem();
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
        header.kid = Some("ed-1".to_owned());
        let claims = json!({
            "iss": client_id, "sub": client_id, "aud": w.server.url("/oauth2/token"),
            "exp": support::now() + 120, "iat": support::now(),
            "jti": credlog_core::random::random_token(),
        });
        let signing = jsonwebtoken::EncodingKey::from_ed_der(&der);
        jsonwebtoken::encode(&header, &claims, &signing).unwrap()
    };
    let ask = |assertion: String| async move {
        let form = Form::new()
            .with("grant_type", "client_credentials")
            .with(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .with("client_assertion", &assertion);
        post_form(&w.server, "/oauth2/token", None, &form.0).await
    };
    let answer = ask(assertion(&key)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["access_token"].is_string());
    let impostor = SigningKey::generate_for(SignatureAlg::EdDSA).unwrap();
    let answer = ask(assertion(&impostor)).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.json()["error"], "invalid_client");
}

on_both_stores!(
    each_client_gets_id_tokens_signed_with_the_alg_it_chose,
    an_algorithm_the_server_does_not_sign_with_is_refused,
    an_ed25519_client_key_authenticates_with_private_key_jwt,
);

// --- `credlog keys rotate --alg`, through the binary ---------------------

/// A store for the binary: a data directory or a PostgreSQL database.
struct Data {
    _dir: tempfile::TempDir,
    /// `--data DIR` or `--postgres URL`.
    store: [String; 2],
    _database: Option<TestDatabase>,
}

impl Data {
    fn sled() -> Data {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").to_str().unwrap().to_owned();
        Data {
            _dir: dir,
            store: ["--data".into(), path],
            _database: None,
        }
    }

    async fn postgres() -> Option<Data> {
        let database = TestDatabase::create().await?;
        Some(Data {
            _dir: tempfile::tempdir().unwrap(),
            store: ["--postgres".into(), database.url()],
            _database: Some(database),
        })
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_credlog"))
            .args(args)
            .args(&self.store)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `credlog serve` on it, with the process.
    fn serve(&self) -> (Running, TestServer) {
        let process = Running::spawn(
            Command::new(env!("CARGO_BIN_EXE_credlog"))
                .args(["serve", "--addr", "127.0.0.1:0"])
                .args(&self.store)
                .stderr(Stdio::null()),
        );
        let server = TestServer::remote(&process.base());
        (process, server)
    }
}

/// alice signs in on `server`, grants `client` `openid`, and the code is
/// redeemed: the ID token.
async fn binary_id_token(server: &TestServer, cookie: &str, client: &Oauth2Client) -> String {
    let request = format!(
        "/oauth2/authorize?response_type=code&client_id={}&scope=openid&nonce=n1",
        client.id
    );
    let page = get_page(server, &request, Some(cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut fields = hidden_inputs(&page.body);
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let granted = post_form(server, "/oauth2/authorize", Some(cookie), &fields).await;
    let location = granted.header("location").expect("a redirect").to_owned();
    let query = location.split_once('?').unwrap().1;
    let code = credlog_core::form::Fields::parse(query.as_bytes())
        .and_then(|fields| fields.get("code").map(str::to_owned))
        .expect("a code");
    let response = http()
        .post(server.url("/oauth2/token"))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let answer = Answer::from(response).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["id_token"].as_str().unwrap().to_owned()
}

async fn a_rotated_es256_key_stays_published_and_the_new_one_signs(data: Data) {
    data.ok(&["user", "add", "alice", "--password", "pw"]);
    let (mut process, server) = data.serve();
    let cookie = login(&server, "alice", "pw").await;
    let client = code_client(&server, &cookie, Some("ES256")).await;
    let before = binary_id_token(&server, &cookie, &client).await;
    let jwks = jwks_of(&server).await;
    let (old_kid, claims) = verify_with_jsonwebtoken(&before, &jwks, "ES256", &client.id);
    let rs256_before: Vec<Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["alg"] == "RS256")
        .cloned()
        .collect();
    assert_eq!(process.terminate().code(), Some(0));

    // An algorithm the server does not sign with is a usage error.
    let refused = data.run(&["keys", "rotate", "--alg", "HS256"]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("RS256, PS256, ES256, EdDSA"), "{said}");

    let new_kid = data
        .ok(&["keys", "rotate", "--alg", "ES256"])
        .trim()
        .to_owned();
    assert!(!new_kid.is_empty() && new_kid != old_kid, "{new_kid}");
    let listed = data.ok(&["keys", "list", "--alg", "ES256"]);
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
    // RS256's keys are listed as before, untouched.
    assert_eq!(data.ok(&["keys", "list"]).lines().count(), 1);

    let (mut process, server) = data.serve();
    let jwks = jwks_of(&server).await;
    let es256: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["alg"] == "ES256")
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    assert_eq!(es256, [new_kid.as_str(), old_kid.as_str()], "{jwks}");
    let rs256_after: Vec<Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["alg"] == "RS256")
        .cloned()
        .collect();
    assert_eq!(rs256_after, rs256_before);
    // The token signed before still verifies; a new one has the new kid.
    let (kid, _) = verify_with_jsonwebtoken(&before, &jwks, "ES256", &client.id);
    assert_eq!(kid, old_kid);
    let cookie = login(&server, "alice", "pw").await;
    let after = binary_id_token(&server, &cookie, &client).await;
    let (kid, after_claims) = verify_with_jsonwebtoken(&after, &jwks, "ES256", &client.id);
    assert_eq!(kid, new_kid);
    assert_eq!(after_claims["sub"], claims["sub"]);
    assert_eq!(process.terminate().code(), Some(0));
    assert!(data.ok(&["check"]).starts_with("ok:"));
}

mod a_rotated_es256_key_stays_published_and_the_new_one_signs {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sled() {
        super::a_rotated_es256_key_stays_published_and_the_new_one_signs(super::Data::sled()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(data) = super::Data::postgres().await {
            super::a_rotated_es256_key_stays_published_and_the_new_one_signs(data).await;
        }
    }
}

// --- Python's joserfc ------------------------------------------------------

/// joserfc checks an ID token of each algorithm (code flow, on memory)
/// against the JWK Set it fetches from `jwks_uri`: header `alg`, signature,
/// issuer, audience, and `at_hash` by the algorithm's hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joserfc_verifies_an_id_token_of_each_algorithm() {
    let w = World::start(Backend::Memory, None).await;
    let discovery = get_page(&w.server, "/.well-known/openid-configuration", None)
        .await
        .json();
    let mut tokens = Vec::new();
    for alg in ALGS {
        let client = code_client(&w.server, &w.cookie, Some(alg)).await;
        let signed_in = sign_in(&w, &client).await;
        tokens.push(json!({
            "alg": alg,
            "client_id": client.id,
            "id_token": id_token_of(&signed_in),
            "access_token": signed_in.access_token,
        }));
    }
    let input = json!({
        "issuer": discovery["issuer"],
        "jwks_uri": discovery["jwks_uri"],
        "tokens": tokens,
    });
    let python = tokio::task::spawn_blocking(python_env).await.unwrap();
    let script = interop_dir().join("verify_algs.py");
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "verify_algs.py failed:\n{stdout}\n{stderr}"
    );
    for alg in ALGS {
        assert!(stdout.contains(&format!("ok {alg}")), "{stdout}\n{stderr}");
    }
    w.stop().await;
}
