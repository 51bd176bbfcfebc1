//! JWT access tokens (RFC 9068) and resource indicators (RFC 8707) over
//! HTTP on every store: a client registered with `access_token_format:
//! "jwt"` gets `typ: at+jwt` tokens with RFC 9068's claims, verified by
//! `jsonwebtoken` against `/oauth2/jwks`, that work at `/api/me` until
//! revoked; `resource` at the authorization and token endpoints sets the
//! token's `aud` (in the JWT and in introspection), a token request or a
//! refresh may narrow a grant's resources but never widen them, and a
//! malformed one is `invalid_target`. Through the real binary, a config
//! file's `[oauth2] access_token_format = "jwt"` makes every client's
//! tokens JWTs, which PyJWT (`tests/interop/jwt_access_tokens.py`)
//! verifies too.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use credlog_storage_postgres::testing::TestDatabase;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use support::oauth2::*;
use support::process::{credlog, Running};
use support::python::{interop_dir, python_env, run_with_deadline};
use support::{get_page, http, Answer};

use credlog_http::accounts::ClientMetadata;

/// Two resources a client asks for.
const API: &str = "https://api.example.com/";
const CALENDAR: &str = "urn:example:calendar";
/// One it never was granted.
const ELSEWHERE: &str = "https://elsewhere.example/";

/// A confidential client of alice's whose access tokens are JWTs, for
/// every grant and both response types.
async fn jwt_client(w: &World) -> Oauth2Client {
    let mut metadata = ClientMetadata::named("JWT app");
    metadata.redirect_uris = vec![REDIRECT.to_owned()];
    metadata.scope = SCOPE.to_owned();
    metadata.grant_types = ALL_GRANTS.iter().map(|grant| grant.to_string()).collect();
    metadata.response_types = vec!["code".to_owned(), "token".to_owned()];
    metadata.access_token_format = Some("jwt".to_owned());
    register_metadata(w.server.store.as_ref(), metadata, AuthMethod::Basic).await
}

async fn get_json(w: &World, path: &str) -> Value {
    let answer = get_page(&w.server, path, None).await;
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
    answer.json()
}

/// The issuer the metadata names.
async fn issuer(w: &World) -> String {
    let metadata = get_json(w, "/.well-known/oauth-authorization-server").await;
    metadata["issuer"].as_str().unwrap().to_owned()
}

/// The access token's claims once `jsonwebtoken` has checked its header
/// (`typ: at+jwt`, RS256, a `kid` of the published JWK Set), signature,
/// issuer and that `audience` is among its `aud`.
async fn verified(w: &World, token: &str, audience: &str) -> Value {
    let issuer = issuer(w).await;
    let jwks: JwkSet = serde_json::from_value(get_json(w, "/oauth2/jwks").await).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid in the header");
    let key = DecodingKey::from_jwk(jwks.find(&kid).expect("the kid is in the JWK Set")).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[&issuer]);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("the access token verifies: {e}"))
        .claims
}

/// The introspection of `token` by `client`, which must find it active.
async fn introspected(w: &World, client: &Oauth2Client, token: &str) -> Value {
    let answer = introspect(w, client, token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["active"], true, "{body}");
    body
}

/// A code request for `client` naming `resources`.
fn code_request_for(client: &Oauth2Client, resources: &[&str]) -> Form {
    resources
        .iter()
        .fold(code_request(client), |form, resource| {
            form.also("resource", resource)
        })
}

/// The form that redeems `code`, asking for `resources`.
fn exchange_for(client: &Oauth2Client, code: &str, resources: &[&str]) -> Form {
    resources
        .iter()
        .fold(exchange_form(client, code), |form, resource| {
            form.also("resource", resource)
        })
}

async fn refresh_for(
    w: &World,
    client: &Oauth2Client,
    refresh_token: &str,
    resources: &[&str],
) -> Answer {
    let form = resources.iter().fold(
        Form::new()
            .with("grant_type", "refresh_token")
            .with("refresh_token", refresh_token),
        |form, resource| form.also("resource", resource),
    );
    token(w, client, &form).await
}

async fn a_jwt_client_gets_rfc_9068_tokens_that_end_when_revoked(w: &World) {
    let client = jwt_client(w).await;
    let tokens = code_flow(w, &client).await;
    let issuer = issuer(w).await;
    // No resource: the default one, the issuer (RFC 9068 3).
    let claims = verified(w, &tokens.access_token, &issuer).await;
    let introspection = introspected(w, &client, &tokens.access_token).await;
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], issuer);
    assert_eq!(claims["client_id"], client.id);
    assert_eq!(claims["scope"], SCOPE);
    assert_eq!(claims["sub"], introspection["sub"], "the OpenID subject");
    assert_ne!(claims["sub"], "alice");
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(iat, w.clock.now());
    assert_eq!(claims["exp"].as_u64(), Some(iat + tokens.expires_in));
    assert_eq!(introspection["exp"], claims["exp"]);
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 16));
    assert!(claims.get("cnf").is_none(), "not DPoP-bound: {claims}");
    assert!(introspection.get("aud").is_none(), "{introspection}");
    // Each token its own jti.
    let again = code_flow(w, &client).await;
    let other = verified(w, &again.access_token, &issuer).await;
    assert_ne!(other["jti"], claims["jti"]);

    // An attacker who rewrites the claims (a wider scope, another
    // audience) keeps the signature but not the token: the server knows
    // only what it issued.
    let parts: Vec<&str> = tokens.access_token.split('.').collect();
    let mut forged_claims = claims.clone();
    forged_claims["scope"] = "profile email admin".into();
    forged_claims["aud"] = ELSEWHERE.into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
        parts[2]
    );
    me(w, &forged)
        .await
        .assert_bearer_error(401, "invalid_token");
    let inactive = introspect(w, &client, &forged).await.json();
    assert_eq!(inactive, json!({"active": false}));

    // The JWT works at credlog's own resource, and not once revoked,
    // though its signature stays good.
    assert_eq!(me(w, &tokens.access_token).await.status, 200);
    assert_eq!(revoke(w, &client, &tokens.access_token).await.status, 200);
    me(w, &tokens.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
    verified(w, &tokens.access_token, &issuer).await;
    let inactive = introspect(w, &client, &tokens.access_token).await.json();
    assert_eq!(inactive, json!({"active": false}));

    // A refreshed token is a JWT too, for the same subject.
    let refreshed = refresh(w, &client, again.refresh(), None).await.tokens();
    let claims_then = verified(w, &refreshed.access_token, &issuer).await;
    assert_eq!(claims_then["sub"], claims["sub"]);

    // The client's own token (client credentials) names the client.
    let form = Form::new().with("grant_type", "client_credentials");
    let own = token(w, &client, &form).await.tokens();
    let own_claims = verified(w, &own.access_token, &issuer).await;
    assert_eq!(own_claims["sub"], client.id);
    let own_me = me(w, &own.access_token).await;
    assert_eq!(own_me.status, 200, "{}", own_me.body);
    assert_eq!(own_me.json()["user"], Value::Null);

    // The implicit grant's token in the fragment is one as well.
    let answer = authorize(w, &token_request(&client).also("resource", API), "yes").await;
    let location = Location::of(&answer);
    let implicit = location.fragment("access_token").expect("an access token");
    let implicit_claims = verified(w, implicit, API).await;
    assert_eq!(implicit_claims["sub"], claims["sub"]);
    assert!(implicit_claims["auth_time"].is_u64(), "{implicit_claims}");
    assert_eq!(me(w, implicit).await.status, 200);
    assert_eq!(introspected(w, &client, implicit).await["aud"], API);

    // A client that chose nothing still gets opaque tokens here.
    let opaque = code_flow(w, &w.basic).await;
    assert!(
        jsonwebtoken::decode_header(&opaque.access_token).is_err(),
        "{}",
        opaque.access_token
    );
}

async fn resource_at_authorization_sets_the_tokens_audience(w: &World) {
    let client = jwt_client(w).await;
    let code = code_for(w, &code_request_for(&client, &[API, CALENDAR])).await;
    let tokens = exchange(w, &client, &code).await.tokens();
    let claims = verified(w, &tokens.access_token, CALENDAR).await;
    assert_eq!(claims["aud"], json!([API, CALENDAR]));
    let introspection = introspected(w, &client, &tokens.access_token).await;
    assert_eq!(introspection["aud"], json!([API, CALENDAR]));
    // The refresh token keeps the grant's resources.
    let introspection = introspected(w, &client, tokens.refresh()).await;
    assert_eq!(introspection["aud"], json!([API, CALENDAR]));

    // An opaque token's audience shows in introspection alone.
    let basic = &w.basic;
    let code = code_for(w, &code_request_for(basic, &[API])).await;
    let tokens = exchange(w, basic, &code).await.tokens();
    assert_eq!(
        introspected(w, basic, &tokens.access_token).await["aud"],
        API
    );
}

async fn a_token_request_narrows_a_codes_resources_never_widens(w: &World) {
    let client = jwt_client(w).await;
    let code = code_for(w, &code_request_for(&client, &[API, CALENDAR])).await;
    // Wider than the code: refused, and the code is not spent by it.
    for wider in [&[ELSEWHERE][..], &[API, ELSEWHERE]] {
        token(w, &client, &exchange_for(&client, &code, wider))
            .await
            .assert_oauth2_error(400, "invalid_target");
    }
    let tokens = token(w, &client, &exchange_for(&client, &code, &[API]))
        .await
        .tokens();
    let claims = verified(w, &tokens.access_token, API).await;
    assert_eq!(claims["aud"], API);
    assert_eq!(
        introspected(w, &client, &tokens.access_token).await["aud"],
        API
    );
    assert_eq!(
        introspected(w, &client, tokens.refresh()).await["aud"],
        json!([API, CALENDAR]),
        "the refresh token keeps the grant's resources"
    );

    // A code given no resource covers any.
    let code = code_for(w, &code_request(&client)).await;
    let tokens = token(w, &client, &exchange_for(&client, &code, &[ELSEWHERE]))
        .await
        .tokens();
    assert_eq!(
        verified(w, &tokens.access_token, ELSEWHERE).await["aud"],
        ELSEWHERE
    );
}

async fn a_refresh_narrows_and_never_widens_beyond_the_grant(w: &World) {
    let client = jwt_client(w).await;
    let code = code_for(w, &code_request_for(&client, &[API, CALENDAR])).await;
    let tokens = token(w, &client, &exchange_for(&client, &code, &[API]))
        .await
        .tokens();
    // Narrowed to the other resource of the grant.
    let narrowed = refresh_for(w, &client, tokens.refresh(), &[CALENDAR])
        .await
        .tokens();
    assert_eq!(
        verified(w, &narrowed.access_token, CALENDAR).await["aud"],
        CALENDAR
    );
    // A later refresh may not go beyond the grant ...
    for wider in [&[ELSEWHERE][..], &[CALENDAR, ELSEWHERE]] {
        refresh_for(w, &client, narrowed.refresh(), wider)
            .await
            .assert_oauth2_error(400, "invalid_target");
    }
    // ... but gets the whole grant back without a resource.
    let whole = refresh_for(w, &client, narrowed.refresh(), &[])
        .await
        .tokens();
    assert_eq!(
        verified(w, &whole.access_token, API).await["aud"],
        json!([API, CALENDAR])
    );
    let both = refresh_for(w, &client, whole.refresh(), &[CALENDAR, API])
        .await
        .tokens();
    assert_eq!(
        introspected(w, &client, &both.access_token).await["aud"],
        json!([CALENDAR, API])
    );
}

async fn malformed_resources_are_invalid_target(w: &World) {
    let client = jwt_client(w).await;
    for bad in [
        "relative",
        "/api/me",
        "https://api.example.com/#part",
        "https://a/b c",
    ] {
        // At the authorization endpoint: back to the client, with state,
        // before the user is asked.
        let answer = consent_page(w, &code_request_for(&client, &[API, bad])).await;
        let location = Location::of(&answer);
        assert_eq!(location.base, REDIRECT);
        assert_eq!(location.query("error"), Some("invalid_target"), "{bad}");
        assert_eq!(location.query("state"), Some(STATE));
        assert_eq!(location.query("code"), None);
        // Implicit: in the fragment.
        let answer = consent_page(w, &token_request(&client).also("resource", bad)).await;
        assert_eq!(
            Location::of(&answer).fragment("error"),
            Some("invalid_target"),
            "{bad}"
        );
        // At the token endpoint, for every grant.
        let own = Form::new()
            .with("grant_type", "client_credentials")
            .with("resource", bad);
        token(w, &client, &own)
            .await
            .assert_oauth2_error(400, "invalid_target");
        let password = Form::new()
            .with("grant_type", "password")
            .with("username", "alice")
            .with("password", support::PASSWORD)
            .with("resource", bad);
        token(w, &client, &password)
            .await
            .assert_oauth2_error(400, "invalid_target");
    }
    // Well-formed ones at the token endpoint set the audience.
    let own = Form::new()
        .with("grant_type", "client_credentials")
        .with("resource", API)
        .also("resource", CALENDAR)
        .also("resource", API);
    let tokens = token(w, &client, &own).await.tokens();
    assert_eq!(
        verified(w, &tokens.access_token, API).await["aud"],
        json!([API, CALENDAR])
    );
    // Too many at once.
    let many = (0..20).fold(
        Form::new().with("grant_type", "client_credentials"),
        |form, n| form.also("resource", &format!("urn:example:r{n}")),
    );
    token(w, &client, &many)
        .await
        .assert_oauth2_error(400, "invalid_target");
    // Another parameter sent twice is still refused.
    let twice = Form::new()
        .with("grant_type", "client_credentials")
        .also("scope", "profile")
        .also("scope", "email");
    token(w, &client, &twice)
        .await
        .assert_oauth2_error(400, "invalid_request");
}

on_both_stores!(
    a_jwt_client_gets_rfc_9068_tokens_that_end_when_revoked,
    resource_at_authorization_sets_the_tokens_audience,
    a_token_request_narrows_a_codes_resources_never_widens,
    a_refresh_narrows_and_never_widens_beyond_the_grant,
    malformed_resources_are_invalid_target,
);

/// `credlog serve --demo` with a config file setting `[oauth2]
/// access_token_format = "jwt"`, on `store`: every client's tokens are
/// JWTs; PyJWT verifies one against the JWK Set.
async fn server_wide_jwt_format(store: &[&str]) {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::io::Write::write_all(&mut file, b"[oauth2]\naccess_token_format = \"jwt\"\n").unwrap();
    let config = file.path().to_str().unwrap().to_owned();
    let mut running = Running::spawn(
        credlog()
            .args([
                "serve",
                "--demo",
                "--addr",
                "127.0.0.1:0",
                "--config",
                &config,
            ])
            .args(store)
            .stderr(Stdio::null()),
    );
    let base = running.base();
    let (id, secret) = running.demo_confidential();
    let answer = Answer::from(
        http()
            .post(format!("{base}/oauth2/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token = answer.json()["access_token"].as_str().unwrap().to_owned();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));

    let (status, stdout, stderr) = run_with_deadline(
        Command::new(python_env())
            .arg(interop_dir().join("jwt_access_tokens.py"))
            .args([
                "--base-url",
                &base,
                "--client-id",
                &id,
                "--client-secret",
                &secret,
            ]),
        Duration::from_secs(120),
    );
    running.kill();
    print!("{stdout}");
    assert!(
        status.is_some_and(|status| status.success()),
        "jwt_access_tokens.py failed ({status:?})\n{stdout}\n--- stderr\n{stderr}"
    );
    let passed = stdout
        .lines()
        .filter(|line| line.starts_with("ok "))
        .count();
    assert!(
        passed > 0 && stdout.contains(&format!("all {passed} cases passed")),
        "{stdout}"
    );
}

#[tokio::test]
async fn server_wide_jwt_format_from_the_config_file_on_memory() {
    server_wide_jwt_format(&["--memory"]).await;
}

#[tokio::test]
async fn server_wide_jwt_format_from_the_config_file_on_sled() {
    let data = tempfile::tempdir().unwrap();
    server_wide_jwt_format(&["--data", data.path().to_str().unwrap()]).await;
}

#[tokio::test]
async fn server_wide_jwt_format_from_the_config_file_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    server_wide_jwt_format(&["--postgres", &database.url()]).await;
}
