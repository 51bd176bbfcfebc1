//! RFC 7523 over HTTP on every store: clients that registered a JWK Set
//! authenticate with `private_key_jwt` at every endpoint that
//! authenticates clients, and trade JWT bearer assertions for tokens.
//! The assertions are made by `jsonwebtoken` with keys made here, never
//! by credlog's own code; each rule is proven by a refused assertion.

mod support;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use support::oauth2::*;
use support::{get_page, http, now, post_form, Answer};

use credlog_http::accounts::{register_client, ClientMetadata};

const BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A key pair of the client's: what it signs with, and its public JWK.
struct ClientKey {
    signing: EncodingKey,
    jwk: Value,
}

fn client_key(kid: &str) -> ClientKey {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let public = private.to_public_key();
    let der = private.to_pkcs1_der().unwrap();
    ClientKey {
        signing: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be()),
        }),
    }
}

/// The client under test: it registered `key`'s public half and
/// authenticates with `private_key_jwt`.
struct KeyClient {
    id: String,
    key: ClientKey,
}

async fn key_client(w: &World) -> KeyClient {
    let key = client_key("k1");
    let mut metadata = ClientMetadata::named("Service");
    metadata.redirect_uris = vec![REDIRECT.to_owned()];
    metadata.scope = SCOPE.to_owned();
    metadata.grant_types = ["authorization_code", "client_credentials", BEARER]
        .map(str::to_owned)
        .to_vec();
    metadata.token_endpoint_auth_method = "private_key_jwt".to_owned();
    metadata.jwks = Some(json!({ "keys": [key.jwk.clone()] }));
    let registered = register_client(w.server.store.as_ref(), "alice", metadata, None, now())
        .await
        .unwrap();
    assert_eq!(
        registered.secret, None,
        "a private_key_jwt client has no secret"
    );
    // Nor is it given one it would never use.
    let rotated = credlog_core::manage::rotate_secret(
        w.server.store.as_ref(),
        &registered.record.client_id,
        now(),
    )
    .await;
    assert!(
        matches!(rotated, Err(credlog_core::manage::ManageError::NoSecret(_))),
        "{rotated:?}"
    );
    KeyClient {
        id: registered.record.client_id,
        key,
    }
}

/// A JWT with these claims (`iat` now, a fresh `jti` unless given),
/// signed RS256 with `key` under its kid.
fn jwt(key: &ClientKey, claims: Value) -> String {
    let mut claims = claims;
    let now = now();
    claims["iat"] = claims.get("iat").cloned().unwrap_or(now.into());
    if claims.get("jti").is_none() {
        claims["jti"] = credlog_core::random::random_token().into();
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = key.jwk["kid"].as_str().map(str::to_owned);
    jsonwebtoken::encode(&header, &claims, &key.signing).unwrap()
}

/// The claims of a good client assertion for `client` to `audience`.
fn client_claims(client: &KeyClient, audience: &str) -> Value {
    json!({ "iss": client.id, "sub": client.id, "aud": audience, "exp": now() + 120 })
}

fn token_endpoint(w: &World) -> String {
    w.server.url("/oauth2/token")
}

/// `POST path` with `form` and the client assertion `assertion`.
async fn post_with_assertion(w: &World, path: &str, form: &Form, assertion: &str) -> Answer {
    let form = form
        .clone()
        .with("client_assertion_type", ASSERTION_TYPE)
        .with("client_assertion", assertion);
    post_form(&w.server, path, None, &form.0).await
}

async fn client_credentials(w: &World, assertion: &str) -> Answer {
    let form = Form::new().with("grant_type", "client_credentials");
    post_with_assertion(w, "/oauth2/token", &form, assertion).await
}

async fn private_key_jwt_authenticates_at_the_token_endpoint(w: &World) {
    let client = key_client(w).await;
    let good = jwt(&client.key, client_claims(&client, &token_endpoint(w)));
    let tokens = client_credentials(w, &good).await.tokens();
    let me = me(w, &tokens.access_token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["client_id"], client.id.as_str());

    // Its use is in the log, by jti, as its client's.
    let page = credlog_http::audit::page(w.server.store.as_ref(), 1, false)
        .await
        .unwrap();
    let used: Vec<_> = page
        .lines
        .iter()
        .filter(|line| line.event == "assertion_used")
        .collect();
    assert_eq!(used.len(), 1, "{:?}", page.lines);
    assert_eq!(used[0].client.as_deref(), Some(client.id.as_str()));
    assert!(
        used[0].text().contains(&format!("type={ASSERTION_TYPE}")),
        "{}",
        used[0].text()
    );
    // The same assertion again: its jti is spent.
    client_credentials(w, &good)
        .await
        .assert_oauth2_error(401, "invalid_client");
    // The issuer is an audience too; anything else is not.
    let issuer = w.server.url("").trim_end_matches('/').to_owned();
    let to_issuer = jwt(&client.key, client_claims(&client, &issuer));
    client_credentials(w, &to_issuer).await.tokens();
    let elsewhere = jwt(
        &client.key,
        client_claims(&client, "https://other.example/token"),
    );
    client_credentials(w, &elsewhere)
        .await
        .assert_oauth2_error(401, "invalid_client");
    // Expired, or expiring too late.
    let mut expired = client_claims(&client, &token_endpoint(w));
    expired["exp"] = (w.clock.now() - 10).into();
    client_credentials(w, &jwt(&client.key, expired))
        .await
        .assert_oauth2_error(401, "invalid_client");
    let mut long = client_claims(&client, &token_endpoint(w));
    long["exp"] = (now() + 3600).into();
    client_credentials(w, &jwt(&client.key, long))
        .await
        .assert_oauth2_error(401, "invalid_client");
    // Signed by a key it never registered.
    let stranger = client_key("k1");
    let forged = jwt(&stranger, client_claims(&client, &token_endpoint(w)));
    client_credentials(w, &forged)
        .await
        .assert_oauth2_error(401, "invalid_client");
    // Another client's id as iss and sub, with this client's key.
    let mut other = client_claims(&client, &token_endpoint(w));
    other["iss"] = w.basic.id.as_str().into();
    other["sub"] = w.basic.id.as_str().into();
    client_credentials(w, &jwt(&client.key, other))
        .await
        .assert_oauth2_error(401, "invalid_client");
    // A secret-client cannot switch to an assertion.
    let answer = post_as(
        w,
        "/oauth2/token",
        &w.basic,
        &Form::new().with("grant_type", "client_credentials"),
    )
    .await;
    answer.tokens();
    // The assertion with a wrong client_assertion_type is malformed.
    let form = Form::new()
        .with("grant_type", "client_credentials")
        .with("client_assertion_type", "urn:example:other")
        .with(
            "client_assertion",
            &jwt(&client.key, client_claims(&client, &token_endpoint(w))),
        );
    post_form(&w.server, "/oauth2/token", None, &form.0)
        .await
        .assert_oauth2_error(400, "invalid_request");
}

async fn private_key_jwt_authenticates_revocation_and_introspection(w: &World) {
    let client = key_client(w).await;
    let assertion = |audience: &str| jwt(&client.key, client_claims(&client, audience));
    let tokens = client_credentials(w, &assertion(&token_endpoint(w)))
        .await
        .tokens();
    let token = Form::new().with("token", &tokens.access_token);
    // The endpoint's own URL is an audience, as is the token endpoint's.
    let introspect = w.server.url("/oauth2/introspect");
    let answer =
        post_with_assertion(w, "/oauth2/introspect", &token, &assertion(&introspect)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["active"], true);
    let replay = assertion(&token_endpoint(w));
    let answer = post_with_assertion(w, "/oauth2/introspect", &token, &replay).await;
    assert_eq!(answer.json()["active"], true);
    post_with_assertion(w, "/oauth2/introspect", &token, &replay)
        .await
        .assert_oauth2_error(401, "invalid_client");
    let revoke = w.server.url("/oauth2/revoke");
    let answer = post_with_assertion(w, "/oauth2/revoke", &token, &assertion(&revoke)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    me(w, &tokens.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
    let forged = jwt(&client_key("k1"), client_claims(&client, &revoke));
    post_with_assertion(w, "/oauth2/revoke", &token, &forged)
        .await
        .assert_oauth2_error(401, "invalid_client");
}

async fn bearer_grant(w: &World, client: &KeyClient, assertion: &str) -> Answer {
    let form = Form::new()
        .with("grant_type", BEARER)
        .with("assertion", assertion);
    let client_assertion = jwt(&client.key, client_claims(client, &token_endpoint(w)));
    post_with_assertion(w, "/oauth2/token", &form, &client_assertion).await
}

async fn the_jwt_bearer_grant_trades_good_assertions_only(w: &World) {
    let client = key_client(w).await;
    let about = |sub: &str| json!({ "iss": client.id, "sub": sub, "aud": token_endpoint(w), "exp": now() + 120 });
    // sub = the client: its own access.
    let own = jwt(&client.key, about(&client.id));
    let tokens = bearer_grant(w, &client, &own).await.tokens();
    assert_eq!(
        me(w, &tokens.access_token).await.json()["user"],
        Value::Null
    );
    // Replayed, expired, wrongly signed, to another audience, from another issuer.
    bearer_grant(w, &client, &own)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    let mut expired = about(&client.id);
    expired["exp"] = (w.clock.now() - 1).into();
    bearer_grant(w, &client, &jwt(&client.key, expired))
        .await
        .assert_oauth2_error(400, "invalid_grant");
    let forged = jwt(&client_key("k1"), about(&client.id));
    bearer_grant(w, &client, &forged)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    let mut wrong_audience = about(&client.id);
    wrong_audience["aud"] = "https://other.example".into();
    bearer_grant(w, &client, &jwt(&client.key, wrong_audience))
        .await
        .assert_oauth2_error(400, "invalid_grant");
    let mut other_issuer = about(&client.id);
    other_issuer["iss"] = "someone-else".into();
    bearer_grant(w, &client, &jwt(&client.key, other_issuer))
        .await
        .assert_oauth2_error(400, "invalid_grant");

    // sub = alice, before she granted this client anything: refused.
    bearer_grant(w, &client, &jwt(&client.key, about("alice")))
        .await
        .assert_oauth2_error(400, "invalid_grant");
    // alice grants it through the code flow (redeemed with an assertion) ...
    let request = Form::new()
        .with("response_type", "code")
        .with("client_id", &client.id)
        .with("redirect_uri", REDIRECT)
        .with("scope", "profile");
    let code = code_for(w, &request).await;
    let redeem = Form::new()
        .with("grant_type", "authorization_code")
        .with("code", &code)
        .with("redirect_uri", REDIRECT);
    let client_assertion = jwt(&client.key, client_claims(&client, &token_endpoint(w)));
    post_with_assertion(w, "/oauth2/token", &redeem, &client_assertion)
        .await
        .tokens();
    // ... and now an assertion about her works.
    let tokens = bearer_grant(w, &client, &jwt(&client.key, about("alice")))
        .await
        .tokens();
    let me = me(w, &tokens.access_token).await;
    assert_eq!(me.json()["user"], "alice", "{}", me.body);
    // A user who does not exist is no one it may speak for.
    bearer_grant(w, &client, &jwt(&client.key, about("nobody")))
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

/// The JWT bearer grant for alice at the test clock's time: a fresh
/// assertion about `sub`, the client authenticated by another.
async fn bearer_at(w: &World, client: &KeyClient, sub: &str) -> Answer {
    let at = w.clock.now();
    let claims = |sub: &str| json!({ "iss": client.id, "sub": sub, "aud": token_endpoint(w), "exp": at + 120, "iat": at });
    let form = Form::new()
        .with("grant_type", BEARER)
        .with("assertion", &jwt(&client.key, claims(sub)));
    post_with_assertion(
        w,
        "/oauth2/token",
        &form,
        &jwt(&client.key, claims(&client.id)),
    )
    .await
}

/// alice grants `client` `scope` through the code flow; the code.
async fn granted(w: &World, client: &KeyClient, scope: &str) -> String {
    let request = Form::new()
        .with("response_type", "code")
        .with("client_id", &client.id)
        .with("redirect_uri", REDIRECT)
        .with("scope", scope);
    code_for(w, &request).await
}

/// `client` redeems `code` at the test clock's time.
async fn redeem(w: &World, client: &KeyClient, code: &str) -> Answer {
    let at = w.clock.now();
    let claims = json!({ "iss": client.id, "sub": client.id, "aud": token_endpoint(w), "exp": at + 120, "iat": at });
    let form = Form::new()
        .with("grant_type", "authorization_code")
        .with("code", code)
        .with("redirect_uri", REDIRECT);
    post_with_assertion(w, "/oauth2/token", &form, &jwt(&client.key, claims)).await
}

/// The grant for alice is gone, and so is `minted`, what it gave before.
async fn assert_ended(w: &World, client: &KeyClient, minted: Option<&Tokens>) {
    bearer_at(w, client, "alice")
        .await
        .assert_oauth2_error(400, "invalid_grant");
    if let Some(minted) = minted {
        me(w, &minted.access_token)
            .await
            .assert_bearer_error(401, "invalid_token");
    }
}

/// CONTRACT.md "OAuth 2.0": a JWT bearer token for a user rests on what
/// that user granted and still holds, and ends with it: expiry, a code's
/// second use (family revocation), `revoke --client`, `revoke --user`.
async fn the_jwt_bearer_grant_ends_with_the_grant_it_rests_on(w: &World) {
    let client = key_client(w).await;
    let store = w.server.store.as_ref();

    // A code alice granted and nobody redeemed: it lives 10 minutes, and
    // so does what rests on it, no longer.
    granted(w, &client, "profile").await;
    let tokens = bearer_at(w, &client, "alice").await.tokens();
    assert_eq!(tokens.scope, "profile");
    assert!(tokens.expires_in <= 600, "{}", tokens.json);
    w.clock.advance(601);
    assert_ended(w, &client, Some(&tokens)).await;

    // A code redeemed twice: its family ends, with what rested on it.
    let code = granted(w, &client, "profile").await;
    redeem(w, &client, &code).await.tokens();
    let minted = bearer_at(w, &client, "alice").await.tokens();
    redeem(w, &client, &code)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    assert_ended(w, &client, Some(&minted)).await;

    // An operator's `revoke --client`, then `revoke --user`.
    let code = granted(w, &client, "profile").await;
    redeem(w, &client, &code).await.tokens();
    let minted = bearer_at(w, &client, "alice").await.tokens();
    credlog_core::manage::revoke_client_credentials(store, &client.id, w.clock.now())
        .await
        .unwrap();
    assert_ended(w, &client, Some(&minted)).await;
    let code = granted(w, &client, "profile").await;
    redeem(w, &client, &code).await.tokens();
    let minted = bearer_at(w, &client, "alice").await.tokens();
    credlog_core::manage::revoke_user_grants(store, "alice", w.clock.now())
        .await
        .unwrap();
    assert_ended(w, &client, Some(&minted)).await;
}

async fn registration_checks_and_echoes_the_key_set(w: &World) {
    let key = client_key("k1");
    let register = |body: Value| {
        let w = &w;
        async move {
            let response = http()
                .post(w.server.url("/clients"))
                .header("Cookie", &w.cookie)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            Answer::from(response).await
        }
    };
    let answer = register(json!({
        "client_name": "Signed", "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": [key.jwk.clone()] },
    }))
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.json()["jwks"]["keys"][0]["kid"], "k1");
    assert!(answer.json().get("client_secret").is_none());
    // private_key_jwt without keys, or with a private key, is refused.
    let answer = register(
        json!({ "client_name": "No keys", "token_endpoint_auth_method": "private_key_jwt" }),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"], "invalid_client_metadata");
    let mut private = key.jwk.clone();
    private["d"] = "AQAB".into();
    let answer = register(json!({ "client_name": "Leaky", "jwks": { "keys": [private] } })).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"], "invalid_client_metadata");
    // The metadata lists the method and the grant.
    let metadata = get_page(&w.server, "/.well-known/oauth-authorization-server", None)
        .await
        .json();
    let methods = metadata["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&"private_key_jwt".into()), "{metadata}");
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&BEARER.into()), "{metadata}");
}

on_both_stores!(
    private_key_jwt_authenticates_at_the_token_endpoint,
    private_key_jwt_authenticates_revocation_and_introspection,
    the_jwt_bearer_grant_trades_good_assertions_only,
    the_jwt_bearer_grant_ends_with_the_grant_it_rests_on,
    registration_checks_and_echoes_the_key_set,
);
