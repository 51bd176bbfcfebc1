//! The example app's OpenID Connect, device flow and JWT assertions over
//! real HTTP: the ID token verified against the JWK Set by `jsonwebtoken`
//! (never by credlog's code), UserInfo, the device flow through the app's
//! own `/device` page, `private_key_jwt` and the JWT bearer grant signed
//! with the key file the example wrote.

#[path = "../examples/provider/app.rs"]
mod app;
#[path = "../examples/provider/consent.rs"]
mod consent;
mod support;
#[allow(dead_code)]
#[path = "../examples/provider/users.rs"]
mod users;

use app::CALLBACK;
use base64::Engine;
use credlog_core::rfc5849::encoding::form_encode;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::Digest;
use support::*;

const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An authorization request of `client_id` for `scope`, with a nonce.
fn authorize_path(client_id: &str, scope: &str) -> String {
    let query = form_encode([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "s-1"),
        ("nonce", "n-1"),
    ]);
    format!("/oauth2/authorize?{query}")
}

/// alice signs in and allows `client_id` `scope`: the code.
async fn alice_grants(example: &Example, client_id: &str, scope: &str) -> String {
    let path = authorize_path(client_id, scope);
    let cookie = example.sign_in_for(&path, "alice", "wonderland").await;
    let granted = example.decide(&path, &cookie, "yes").await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    granted.redirect_query(CALLBACK, "code").expect("a code")
}

/// The ID token's claims, once `jsonwebtoken` has checked its signature
/// with the key its `kid` names in the published JWK Set, its issuer (the
/// Discovery document's) and its audience.
async fn verified(example: &Example, id_token: &str, audience: &str) -> Value {
    let discovery = example.get("/.well-known/openid-configuration", None).await;
    assert_eq!(discovery.status, 200);
    let discovery = discovery.json();
    let issuer = discovery["issuer"].as_str().unwrap();
    assert_eq!(issuer, example.base);
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    let jwks = http().get(jwks_uri).send().await.unwrap();
    let jwks: JwkSet = serde_json::from_value(Answer::of(jwks).await.json()).unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let kid = header.kid.expect("a kid in the header");
    let key = DecodingKey::from_jwk(jwks.find(&kid).expect("the kid is in the JWK Set")).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap_or_else(|error| panic!("the ID token verifies: {error}"))
        .claims
}

#[tokio::test]
async fn the_openid_code_flow_gives_a_verified_id_token_and_userinfo() {
    let example = Example::start().await;
    let app = example.clients.confidential.id.clone();
    let code = alice_grants(&example, &app, "openid profile").await;
    let tokens = example
        .post_as_app(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await
        .tokens();
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims = verified(&example, id_token, &app).await;
    assert_eq!(claims["nonce"], "n-1");
    assert!(claims["auth_time"].as_u64().is_some(), "{claims}");
    let sub = claims["sub"].as_str().expect("a subject");

    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = http()
        .get(example.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let userinfo = Answer::of(userinfo).await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.body);
    let userinfo = userinfo.json();
    assert_eq!(userinfo["sub"], sub);
    assert_eq!(userinfo["preferred_username"], "alice");
    // The same token reads the app's own API as alice.
    assert_eq!(example.me(access).await.json()["user"], "alice");

    // Refreshing keeps the subject.
    let refreshed = example
        .post_as_app(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await
        .tokens();
    if let Some(id_token) = refreshed["id_token"].as_str() {
        assert_eq!(verified(&example, id_token, &app).await["sub"], sub);
    }
}

#[tokio::test]
async fn the_device_flow_is_answered_on_the_apps_device_page() {
    let example = Example::start().await;
    let public = example.clients.public.id.clone();
    let codes = example
        .post(
            "/oauth2/device_authorization",
            &[("client_id", &public), ("scope", "profile")],
        )
        .await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    let codes = codes.json();
    assert_eq!(codes["verification_uri"], example.url("/device"));
    let device_code = codes["device_code"].as_str().unwrap();
    let user_code = codes["user_code"].as_str().unwrap();
    let pairs = [
        ("grant_type", DEVICE_CODE),
        ("device_code", device_code),
        ("client_id", public.as_str()),
    ];
    example
        .post("/oauth2/token", &pairs)
        .await
        .assert_error(400, "authorization_pending");

    // bob signs in at the verification URI and types the code.
    let cookie = example.sign_in_for("/device", "bob", "builder").await;
    let page = example.get("/device", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut fields = hidden_inputs(&page.body);
    fields.push(("user_code".to_owned(), "WRONG-CODE".to_owned()));
    let wrong = example.post_form("/device", Some(&cookie), &fields).await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    fields.pop();
    fields.push(("user_code".to_owned(), user_code.to_owned()));
    let consent = example.post_form("/device", Some(&cookie), &fields).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert_eq!(
        element_text(&consent.body, "client").as_deref(),
        Some("Example public app")
    );
    let done = example.answer(&consent, "/device", &cookie, "yes").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        element_text(&done.body, "outcome")
            .unwrap()
            .starts_with("You allowed"),
        "{}",
        done.body
    );

    // The device keeps its interval (5 s), then gets its tokens.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let tokens = example.post("/oauth2/token", &pairs).await.tokens();
    let me = example.me(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        me.json(),
        json!({"user": "bob", "client_id": public, "scope": "profile"})
    );
}

/// The signing key of a PKCS#8 PEM private key.
fn encoding_key(pem: &str) -> EncodingKey {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("a PKCS#8 PEM key");
    EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes())
}

/// The kid of the key in `pem`: its RFC 7638 thumbprint, as the JWK the
/// example registered names it.
fn kid(pem: &str) -> String {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let (n, e) = (b64(key.n().to_bytes_be()), b64(key.e().to_bytes_be()));
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64(sha2::Sha256::digest(canonical.as_bytes()).to_vec())
}

/// A JWT signed RS256 with the keyed client's key file, under its kid.
fn signed(example: &Example, claims: Value) -> String {
    let pem = String::from_utf8(example.private_key_pem()).unwrap();
    let key = encoding_key(&pem);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid(&pem));
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

/// Claims from the keyed client about `sub` to the token endpoint.
fn about(example: &Example, sub: &str) -> Value {
    json!({
        "iss": example.clients.keyed.id, "sub": sub, "aud": example.url("/oauth2/token"),
        "iat": now(), "exp": now() + 120, "jti": credlog_core::random::random_token(),
    })
}

/// `POST /oauth2/token` as the keyed client (`private_key_jwt`).
async fn keyed_token(example: &Example, pairs: &[(&str, &str)]) -> Answer {
    let client_id = example.clients.keyed.id.clone();
    let assertion = signed(example, about(example, &client_id));
    let mut pairs = pairs.to_vec();
    pairs.extend([
        ("client_assertion_type", CLIENT_ASSERTION),
        ("client_assertion", assertion.as_str()),
    ]);
    example.post("/oauth2/token", &pairs).await
}

#[tokio::test]
async fn private_key_jwt_and_the_jwt_bearer_grant_use_the_key_file() {
    let example = Example::start().await;
    let keyed = example.clients.keyed.id.clone();
    let mode = std::fs::metadata(example.dir.path().join("key.pem")).unwrap();
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    let _ = mode;

    // The client's own access, by client credentials and by assertion.
    let own = keyed_token(
        &example,
        &[("grant_type", "client_credentials"), ("scope", "profile")],
    )
    .await
    .tokens();
    let me = example.me(own["access_token"].as_str().unwrap()).await;
    assert_eq!(me.json()["client_id"], keyed.as_str());

    // An assertion about alice before she granted this client anything.
    let about_alice = signed(&example, about(&example, "alice"));
    let pairs = [
        ("grant_type", JWT_BEARER),
        ("assertion", about_alice.as_str()),
        ("scope", "profile"),
    ];
    keyed_token(&example, &pairs)
        .await
        .assert_error(400, "invalid_grant");

    // alice grants it through the code flow (redeemed with an assertion) ...
    let code = alice_grants(&example, &keyed, "openid profile").await;
    keyed_token(
        &example,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await
    .tokens();
    // ... and now an assertion about her works.
    let about_alice = signed(&example, about(&example, "alice"));
    let pairs = [
        ("grant_type", JWT_BEARER),
        ("assertion", about_alice.as_str()),
        ("scope", "profile"),
    ];
    let tokens = keyed_token(&example, &pairs).await.tokens();
    let me = example.me(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        me.json(),
        json!({"user": "alice", "client_id": keyed, "scope": "profile"})
    );
    // Signed by another key: refused.
    let pem = credlog_core::jose::SigningKey::generate().to_pkcs8_pem();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid(&String::from_utf8(example.private_key_pem()).unwrap()));
    let claims = about(&example, "alice");
    let forged = jsonwebtoken::encode(&header, &claims, &encoding_key(&pem)).unwrap();
    let pairs = [("grant_type", JWT_BEARER), ("assertion", forged.as_str())];
    keyed_token(&example, &pairs)
        .await
        .assert_error(400, "invalid_grant");
}
