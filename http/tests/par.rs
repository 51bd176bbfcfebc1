//! Pushed authorization requests (RFC 9126), `iss` on authorization
//! responses (RFC 9207) and the FAPI 2.0 Security Profile's rules at the
//! authorization and token endpoints, over HTTP on every store. RFC
//! 9126's own example is pushed as the RFC writes it; each rule is proven
//! by a refused request, the attacker's where there is one. Client
//! assertions are made by `jsonwebtoken` with keys made here.

mod support;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use support::oauth2::*;
use support::{get_page, hidden_inputs, http, now, post_form, Answer};

use credlog_core::domain::Profile;
use credlog_core::rfc6749::{
    ClientAuthMethod, GrantType, Oauth2Config, Oauth2Server, ResponseType, Scope,
};
use credlog_core::store::{ClientRecord, Event, Issued, Secret};
use credlog_http::accounts::{register_client, ClientMetadata};

const PAR: &str = "/oauth2/par";
const URN: &str = "urn:ietf:params:oauth:request_uri:";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The issuer the test server answers as (its origin: no issuer is set).
fn issuer(w: &World) -> String {
    w.server.url("/").trim_end_matches('/').to_owned()
}

/// `POST /oauth2/par` with `form`, the client authenticating its way.
async fn push(w: &World, client: &Oauth2Client, form: &Form) -> Answer {
    post_as(w, PAR, client, &form.clone().without("client_id")).await
}

/// A push that worked: its `request_uri`, checked for RFC 9126 2.2's shape.
fn pushed(answer: &Answer) -> String {
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.assert_no_store();
    let json = answer.json();
    assert_eq!(json["expires_in"], 60, "{json}");
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
    let uri = json["request_uri"].as_str().expect("a request_uri");
    assert!(uri.starts_with(URN), "{uri}");
    uri.to_owned()
}

/// The authorization request that names a pushed one.
fn by_reference(client_id: &str, request_uri: &str) -> Form {
    Form::new()
        .with("client_id", client_id)
        .with("request_uri", request_uri)
}

/// A code request with PKCE, whatever the client.
fn pkce_request(client: &Oauth2Client) -> Form {
    code_request(client)
        .with("code_challenge", CHALLENGE)
        .with("code_challenge_method", "S256")
}

/// Asserts a 400 page: the request was not trusted, nothing redirected.
fn assert_refused_page(answer: &Answer) {
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.header("location").is_none());
}

/// Asserts an error redirect to the client, with `state` and `iss`.
fn assert_error_redirect(w: &World, answer: &Answer, error: &str) -> Location {
    let location = Location::of(answer);
    assert_eq!(location.base, REDIRECT);
    assert_eq!(location.query("error"), Some(error), "{location:?}");
    assert_eq!(location.query("iss"), Some(issuer(w).as_str()));
    location
}

/// alice grants the pushed request `request` names: the code from the
/// redirect, which carries the pushed `state` and the issuer.
async fn pushed_code(w: &World, request: &Form) -> String {
    let location = Location::of(&authorize(w, request, "yes").await);
    assert_eq!(location.base, REDIRECT);
    assert_eq!(location.query("state"), Some(STATE), "{location:?}");
    assert_eq!(location.query("iss"), Some(issuer(w).as_str()));
    location.query("code").expect("a code").to_owned()
}

/// Redeems `code` with the PKCE verifier.
async fn redeem(w: &World, client: &Oauth2Client, code: &str) -> Answer {
    let form = exchange_form(client, code).with("code_verifier", VERIFIER);
    token(w, client, &form).await
}

async fn the_rfc_9126_example_is_pushed_and_used(w: &World) {
    // RFC 9126 2.1's client, whose Basic credentials the example carries.
    let client = ClientRecord {
        client_id: "s6BhdRkqt3".to_owned(),
        secret: Secret::sha256("7Fjfp0ZBr1KtDRbnfVdmIw"),
        owner: "alice".to_owned(),
        name: "RFC 9126 example".to_owned(),
        redirect_uris: vec!["https://client.example.org/cb".to_owned()],
        scope: Scope::parse("account-information").unwrap(),
        grant_types: vec![GrantType::AuthorizationCode],
        response_types: vec![ResponseType::Code],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        rsa_public_key: None,
    };
    w.server
        .store
        .append(&[], vec![Event::Issued(Issued::Client(client))], now())
        .await
        .unwrap();
    let body = "response_type=code\
        &client_id=s6BhdRkqt3&state=af0ifjsldkj\
        &redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb\
        &code_challenge=K2-ltc83acc4h0c9w6ESC_rEMTJ3bww-uCHaoeK1t8U\
        &code_challenge_method=S256&scope=account-information";
    let answer = Answer::from(
        http()
            .post(w.server.url(PAR))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header(
                "Authorization",
                "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3",
            )
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let request_uri = pushed(&answer);
    // RFC 9126 4: the authorization request names it and the client.
    let request = by_reference("s6BhdRkqt3", &request_uri);
    let page = consent_page(w, &request).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The form carries the reference back, not the parameters.
    let mut names: Vec<String> = hidden_inputs(&page.body)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.sort();
    assert_eq!(names, ["client_id", "csrf_token", "request_uri"]);
    let location = Location::of(&submit_consent(w, &page, "yes").await);
    assert_eq!(location.base, "https://client.example.org/cb");
    assert_eq!(location.query("state"), Some("af0ifjsldkj"));
    assert_eq!(location.query("iss"), Some(issuer(w).as_str()));
    assert!(location.query("code").is_some(), "{location:?}");
}

async fn a_pushed_request_ends_in_tokens(w: &World) {
    for client in [&w.basic, &w.post, &w.public] {
        let request_uri = pushed(&push(w, client, &pkce_request(client)).await);
        let code = pushed_code(w, &by_reference(&client.id, &request_uri)).await;
        let tokens = redeem(w, client, &code).await.tokens();
        assert_eq!(tokens.scope, SCOPE);
        assert_eq!(me(w, &tokens.access_token).await.status, 200);
    }
}

async fn a_pushed_request_works_for_one_decision(w: &World) {
    let client = &w.basic;
    let request_uri = pushed(&push(w, client, &pkce_request(client)).await);
    let request = by_reference(&client.id, &request_uri);
    // RFC 9126 7.3: the page may be reloaded while no decision was taken.
    let page = consent_page(w, &request).await;
    let again = consent_page(w, &request).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let code = Location::of(&submit_consent(w, &page, "yes").await)
        .query("code")
        .expect("a code")
        .to_owned();
    // The same decision posted again, and the request opened again: refused.
    assert_refused_page(&submit_consent(w, &again, "yes").await);
    assert_refused_page(&consent_page(w, &request).await);
    // The code it gave still works, once.
    redeem(w, client, &code).await.tokens();
    // A denial uses the request up too.
    let request_uri = pushed(&push(w, client, &pkce_request(client)).await);
    let request = by_reference(&client.id, &request_uri);
    let page = consent_page(w, &request).await;
    let other_tab = consent_page(w, &request).await;
    let denied = submit_consent(w, &page, "no").await;
    let location = assert_error_redirect(w, &denied, "access_denied");
    assert_eq!(location.query("state"), Some(STATE));
    assert_refused_page(&submit_consent(w, &other_tab, "yes").await);
}

async fn a_pushed_request_expires(w: &World) {
    let client = &w.basic;
    let request_uri = pushed(&push(w, client, &pkce_request(client)).await);
    let request = by_reference(&client.id, &request_uri);
    let page = consent_page(w, &request).await;
    assert_eq!(page.status, 200, "{}", page.body);
    w.clock.advance(60);
    // Expired between the page and the decision: refused.
    assert_refused_page(&submit_consent(w, &page, "yes").await);
    assert_refused_page(&consent_page(w, &request).await);
    // Within its 60 s, another works.
    let request_uri = pushed(&push(w, client, &pkce_request(client)).await);
    w.clock.advance(59);
    pushed_code(w, &by_reference(&client.id, &request_uri)).await;
}

async fn another_clients_request_uri_is_refused(w: &World) {
    let victim = &w.basic;
    let request_uri = pushed(&push(w, victim, &pkce_request(victim)).await);
    // The attacker names it with its own client id: no page, no redirect.
    let stolen = by_reference(&w.other.id, &request_uri);
    assert_refused_page(&consent_page(w, &stolen).await);
    // Nor does posting a decision on it with its own id get anywhere.
    let mut fields = hidden_inputs(
        &consent_page(w, &by_reference(&victim.id, &request_uri))
            .await
            .body,
    );
    for (name, value) in fields.iter_mut() {
        if name == "client_id" {
            *value = w.other.id.clone();
        }
    }
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let posted = post_form(&w.server, "/oauth2/authorize", Some(&w.cookie), &fields).await;
    assert_refused_page(&posted);
    // A made-up one is refused as well.
    let made_up = by_reference(&victim.id, &format!("{URN}made-up"));
    assert_refused_page(&consent_page(w, &made_up).await);
    // The victim's request is untouched; parameters beside the reference
    // change nothing of it (RFC 9126 4: the pushed ones are the request).
    let overridden = by_reference(&victim.id, &request_uri)
        .with("redirect_uri", "https://attacker.example/cb")
        .with("response_type", "token")
        .with("state", "attacker");
    let code = pushed_code(w, &overridden).await;
    redeem(w, victim, &code).await.tokens();
}

async fn what_cannot_be_pushed_is_refused_at_push_time(w: &World) {
    let client = &w.basic;
    let good = pkce_request(client);
    // RFC 9126 2.1: no request_uri, and (3) no request object here.
    let request_uri = pushed(&push(w, client, &good).await);
    let nested = good.clone().with("request_uri", &request_uri);
    push(w, client, &nested)
        .await
        .assert_oauth2_error(400, "invalid_request");
    let object = good.clone().with("request", "eyJhbGciOiJub25lIn0.e30.");
    push(w, client, &object)
        .await
        .assert_oauth2_error(400, "invalid_request");
    // Checked as the authorization endpoint would, answered to the client.
    let elsewhere = good
        .clone()
        .with("redirect_uri", "https://attacker.example/cb");
    push(w, client, &elsewhere)
        .await
        .assert_oauth2_error(400, "invalid_request");
    let wide = good.clone().with("scope", "profile email admin");
    push(w, client, &wide)
        .await
        .assert_oauth2_error(400, "invalid_scope");
    let unknown = good.clone().with("response_type", "magic");
    push(w, client, &unknown)
        .await
        .assert_oauth2_error(400, "unsupported_response_type");
    let public = pkce_request(&w.public)
        .without("code_challenge")
        .without("code_challenge_method");
    push(w, &w.public, &public)
        .await
        .assert_oauth2_error(400, "invalid_request");
    // Client authentication as at the token endpoint.
    let wrong = client.with_secret("not the secret");
    push(w, &wrong, &good)
        .await
        .assert_oauth2_error(401, "invalid_client");
    post_anonymous(w, PAR, &good.clone().without("client_id"))
        .await
        .assert_oauth2_error(401, "invalid_client");
    // A client_id in the body naming another client than the one that
    // authenticated.
    let answer = Answer::from(
        http()
            .post(w.server.url(PAR))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .basic_auth(&client.id, client.secret.as_deref())
            .body(good.clone().with("client_id", &w.other.id).encoded())
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.assert_oauth2_error(400, "invalid_request");
    // The endpoint answers POST alone.
    let get = get_page(&w.server, PAR, None).await;
    assert_eq!(get.status, 405, "{}", get.body);
}

async fn a_client_may_require_pushed_requests(w: &World) {
    let mut metadata = ClientMetadata::named("Pushes first");
    metadata.redirect_uris = vec![REDIRECT.to_owned()];
    metadata.scope = SCOPE.to_owned();
    metadata.grant_types = vec!["authorization_code".to_owned()];
    metadata.response_types = vec!["code".to_owned()];
    metadata.require_pushed_authorization_requests = true;
    let client = register_metadata(w.server.store.as_ref(), metadata, AuthMethod::Basic).await;
    // RFC 9126 5: refused to the client once its redirect URI is trusted.
    let answer = consent_page(w, &pkce_request(&client)).await;
    let location = assert_error_redirect(w, &answer, "invalid_request");
    assert_eq!(location.query("state"), Some(STATE));
    // With no redirect URI it may be sent to: a page.
    let elsewhere = pkce_request(&client).with("redirect_uri", "https://attacker.example/cb");
    assert_refused_page(&consent_page(w, &elsewhere).await);
    // Pushed, it works; other clients need not push.
    let request_uri = pushed(&push(w, &client, &pkce_request(&client)).await);
    pushed_code(w, &by_reference(&client.id, &request_uri)).await;
    code_for(w, &code_request(&w.basic)).await;
    let metadata = get_page(&w.server, "/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert_eq!(metadata["require_pushed_authorization_requests"], false);
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        format!("{}{PAR}", issuer(w))
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
}

fn par_everywhere() -> Oauth2Server {
    Oauth2Server::new(Oauth2Config {
        require_pushed_authorization_requests: true,
        ..Oauth2Config::default()
    })
}

async fn a_server_may_require_pushed_requests(w: &World) {
    for client in [&w.basic, &w.public] {
        let answer = consent_page(w, &pkce_request(client)).await;
        assert_error_redirect(w, &answer, "invalid_request");
        let request_uri = pushed(&push(w, client, &pkce_request(client)).await);
        let code = pushed_code(w, &by_reference(&client.id, &request_uri)).await;
        redeem(w, client, &code).await.tokens();
    }
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let metadata = get_page(&w.server, path, None).await.json();
        assert_eq!(
            metadata["require_pushed_authorization_requests"], true,
            "{path}"
        );
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            true
        );
        assert!(metadata["pushed_authorization_request_endpoint"].is_string());
    }
}

async fn every_authorization_response_names_the_issuer(w: &World) {
    let iss = issuer(w);
    // A code, in the query.
    let location = Location::of(&authorize(w, &code_request(&w.basic), "yes").await);
    assert!(location.query("code").is_some());
    assert_eq!(location.query("iss"), Some(iss.as_str()));
    // An implicit token, in the fragment.
    let location = Location::of(&authorize(w, &token_request(&w.basic), "yes").await);
    assert!(location.fragment("access_token").is_some(), "{location:?}");
    assert_eq!(location.fragment("iss"), Some(iss.as_str()));
    assert_eq!(location.query("iss"), None);
    // An implicit denial, in the fragment.
    let location = Location::of(&authorize(w, &token_request(&w.basic), "no").await);
    assert_eq!(location.fragment("error"), Some("access_denied"));
    assert_eq!(location.fragment("iss"), Some(iss.as_str()));
    // A denial and a refused request, in the query.
    let denied = authorize(w, &code_request(&w.basic), "no").await;
    assert_error_redirect(w, &denied, "access_denied");
    let wide = code_request(&w.basic).with("scope", "profile admin");
    assert_error_redirect(w, &consent_page(w, &wide).await, "invalid_scope");
    // prompt=none's answers: login_required, consent_required, a code.
    let mut metadata = ClientMetadata::named("Sign-in app");
    metadata.redirect_uris = vec![REDIRECT.to_owned()];
    metadata.scope = "openid profile".to_owned();
    metadata.grant_types = vec!["authorization_code".to_owned()];
    metadata.response_types = vec!["code".to_owned()];
    let client = register_metadata(w.server.store.as_ref(), metadata, AuthMethod::Basic).await;
    let silent = code_request(&client)
        .with("scope", "openid profile")
        .with("nonce", "n-0S6_WzA2Mj")
        .with("prompt", "none");
    let path = format!("/oauth2/authorize?{}", silent.encoded());
    let nobody = get_page(&w.server, &path, None).await;
    assert_error_redirect(w, &nobody, "login_required");
    let never = get_page(&w.server, &path, Some(&w.cookie)).await;
    assert_error_redirect(w, &never, "consent_required");
    code_for(w, &silent.clone().without("prompt")).await;
    let location = Location::of(&get_page(&w.server, &path, Some(&w.cookie)).await);
    assert!(location.query("code").is_some(), "{location:?}");
    assert_eq!(location.query("iss"), Some(iss.as_str()));
    // Pushed, prompt=none's silent answer uses the request up.
    let pushed_silent = silent.clone().without("client_id");
    let request_uri = pushed(&post_as(w, PAR, &client, &pushed_silent).await);
    let request = by_reference(&client.id, &request_uri);
    let path = format!("/oauth2/authorize?{}", request.encoded());
    let location = Location::of(&get_page(&w.server, &path, Some(&w.cookie)).await);
    assert!(location.query("code").is_some(), "{location:?}");
    assert_eq!(location.query("iss"), Some(iss.as_str()));
    assert_refused_page(&get_page(&w.server, &path, Some(&w.cookie)).await);
    // And its login_required as well.
    let request_uri = pushed(&post_as(w, PAR, &client, &pushed_silent).await);
    let path = format!(
        "/oauth2/authorize?{}",
        by_reference(&client.id, &request_uri).encoded()
    );
    assert_error_redirect(w, &get_page(&w.server, &path, None).await, "login_required");
    assert_refused_page(&get_page(&w.server, &path, Some(&w.cookie)).await);
}

/// A FAPI 2.0 client's keys: an RSA key (for PS256, and RS256 to be
/// refused) and a P-256 key (ES256).
struct FapiClient {
    id: String,
    rsa: EncodingKey,
    ec: EncodingKey,
}

fn rsa_key() -> (EncodingKey, Value) {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let public = private.to_public_key();
    let der = private.to_pkcs1_der().unwrap();
    (
        EncodingKey::from_rsa_der(der.as_bytes()),
        json!({
            "kty": "RSA", "kid": "rsa", "use": "sig",
            "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be()),
        }),
    )
}

fn ec_key() -> (EncodingKey, Value) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let point = pair.public_key_raw();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    (
        EncodingKey::from_ec_der(&pair.serialize_der()),
        json!({
            "kty": "EC", "crv": "P-256", "kid": "ec", "use": "sig",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }),
    )
}

async fn fapi_client(w: &World, profile: bool) -> FapiClient {
    let (rsa, rsa_jwk) = rsa_key();
    let (ec, ec_jwk) = ec_key();
    let mut metadata = ClientMetadata::named("Bank app");
    metadata.redirect_uris = vec![REDIRECT.to_owned()];
    metadata.scope = SCOPE.to_owned();
    metadata.grant_types = [
        "authorization_code",
        "implicit",
        "password",
        "refresh_token",
    ]
    .map(str::to_owned)
    .to_vec();
    metadata.response_types = vec!["code".to_owned(), "token".to_owned()];
    metadata.token_endpoint_auth_method = "private_key_jwt".to_owned();
    metadata.jwks = Some(json!({ "keys": [rsa_jwk, ec_jwk] }));
    if profile {
        metadata.profile = Some("fapi2".to_owned());
    }
    let registered = register_client(w.server.store.as_ref(), "alice", metadata, None, now())
        .await
        .unwrap();
    FapiClient {
        id: registered.record.client_id,
        rsa,
        ec,
    }
}

/// A client assertion from `client` signed with `alg`.
fn assertion(w: &World, client: &FapiClient, alg: Algorithm) -> String {
    let claims = json!({
        "iss": client.id, "sub": client.id, "aud": issuer(w),
        "exp": w.clock.now() + 60, "iat": w.clock.now(),
        "jti": credlog_core::random::random_token(),
    });
    let (key, kid) = match alg {
        Algorithm::ES256 => (&client.ec, "ec"),
        _ => (&client.rsa, "rsa"),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

/// `POST path` with `form`, authenticated by an assertion signed `alg`.
async fn post_signed(
    w: &World,
    path: &str,
    client: &FapiClient,
    alg: Algorithm,
    form: &Form,
) -> Answer {
    let form = form
        .clone()
        .with("client_assertion_type", ASSERTION_TYPE)
        .with("client_assertion", &assertion(w, client, alg));
    post_form(&w.server, path, None, &form.0).await
}

/// A DPoP proof (RFC 9449 4.2) for `method` at `url`, by a new ES256 key.
fn dpop_proof(method: &str, url: &str) -> String {
    use p256::ecdsa::signature::Signer;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let key = p256::ecdsa::SigningKey::random(&mut rand::thread_rng());
    let point = key.verifying_key().to_encoded_point(false);
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {
        "kty": "EC", "crv": "P-256",
        "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()),
    }});
    let claims = json!({"jti": b64(&rand::random::<[u8; 16]>()), "htm": method, "htu": url,
        "iat": now()});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&signature.to_bytes()))
}

/// [`post_signed`] at the token endpoint with a DPoP proof, as FAPI 2.0
/// requires (its 5.3.2.2: sender-constrained tokens).
async fn token_signed_dpop(w: &World, client: &FapiClient, alg: Algorithm, form: &Form) -> Answer {
    let form = form
        .clone()
        .with("client_assertion_type", ASSERTION_TYPE)
        .with("client_assertion", &assertion(w, client, alg));
    let url = w.server.url("/oauth2/token");
    let request = http()
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("DPoP", dpop_proof("POST", &url))
        .body(form.encoded());
    Answer::from(request.send().await.unwrap()).await
}

fn fapi_request(client: &FapiClient) -> Form {
    Form::new()
        .with("response_type", "code")
        .with("client_id", &client.id)
        .with("redirect_uri", REDIRECT)
        .with("scope", SCOPE)
        .with("state", STATE)
        .with("code_challenge", CHALLENGE)
        .with("code_challenge_method", "S256")
}

fn fapi_exchange(code: &str) -> Form {
    Form::new()
        .with("grant_type", "authorization_code")
        .with("code", code)
        .with("redirect_uri", REDIRECT)
        .with("code_verifier", VERIFIER)
}

/// A FAPI client's pushed, granted request: its code.
async fn fapi_code(w: &World, client: &FapiClient, alg: Algorithm) -> String {
    let request_uri = pushed(&post_signed(w, PAR, client, alg, &fapi_request(client)).await);
    pushed_code(w, &by_reference(&client.id, &request_uri)).await
}

async fn a_fapi2_client_is_held_to_the_profile(w: &World) {
    let client = fapi_client(w, true).await;
    // Registering the profile with a secret is refused.
    let mut secret = ClientMetadata::named("Bank app with a secret");
    secret.redirect_uris = vec![REDIRECT.to_owned()];
    secret.profile = Some("fapi2".to_owned());
    let refused = secret.parse().unwrap_err();
    assert_eq!(refused.error_code(), Some("invalid_client_metadata"));
    // PAR required: an unpushed request goes back refused.
    let unpushed = consent_page(w, &fapi_request(&client)).await;
    assert_error_redirect(w, &unpushed, "invalid_request");
    // RS256 assertions are refused at both endpoints; a bare client_id too.
    post_signed(w, PAR, &client, Algorithm::RS256, &fapi_request(&client))
        .await
        .assert_oauth2_error(401, "invalid_client");
    post_anonymous(w, PAR, &fapi_request(&client))
        .await
        .assert_oauth2_error(401, "invalid_client");
    // Only the code flow, only S256 (plain even though the server allows it).
    let implicit = fapi_request(&client).with("response_type", "token");
    post_signed(w, PAR, &client, Algorithm::PS256, &implicit)
        .await
        .assert_oauth2_error(400, "unauthorized_client");
    let plain = fapi_request(&client)
        .with("code_challenge", VERIFIER)
        .with("code_challenge_method", "plain");
    post_signed(w, PAR, &client, Algorithm::PS256, &plain)
        .await
        .assert_oauth2_error(400, "invalid_request");
    let no_pkce = fapi_request(&client)
        .without("code_challenge")
        .without("code_challenge_method");
    post_signed(w, PAR, &client, Algorithm::ES256, &no_pkce)
        .await
        .assert_oauth2_error(400, "invalid_request");
    // PS256 and ES256 work; the code lives 60 s.
    let code = fapi_code(w, &client, Algorithm::PS256).await;
    post_signed(
        w,
        "/oauth2/token",
        &client,
        Algorithm::RS256,
        &fapi_exchange(&code),
    )
    .await
    .assert_oauth2_error(401, "invalid_client");
    // Only sender-constrained tokens: without a DPoP proof, none.
    post_signed(
        w,
        "/oauth2/token",
        &client,
        Algorithm::ES256,
        &fapi_exchange(&code),
    )
    .await
    .assert_oauth2_error(400, "invalid_dpop_proof");
    let tokens = token_signed_dpop(w, &client, Algorithm::ES256, &fapi_exchange(&code)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.json()["token_type"], "DPoP", "{}", tokens.body);
    let code = fapi_code(w, &client, Algorithm::ES256).await;
    w.clock.advance(60);
    token_signed_dpop(w, &client, Algorithm::PS256, &fapi_exchange(&code))
        .await
        .assert_oauth2_error(400, "invalid_grant");
    // No password grant, though it registered one.
    let password = Form::new()
        .with("grant_type", "password")
        .with("username", "alice")
        .with("password", support::PASSWORD);
    token_signed_dpop(w, &client, Algorithm::PS256, &password)
        .await
        .assert_oauth2_error(400, "unauthorized_client");
    // The same client without the profile may do all of it.
    let plain_client = fapi_client(w, false).await;
    let answer = consent_page(w, &fapi_request(&plain_client)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    post_signed(
        w,
        "/oauth2/token",
        &plain_client,
        Algorithm::RS256,
        &password,
    )
    .await
    .tokens();
}

fn fapi_everywhere() -> Oauth2Server {
    Oauth2Server::new(Oauth2Config {
        profile: Some(Profile::Fapi2),
        ..Oauth2Config::default()
    })
}

async fn a_fapi2_server_holds_every_client_to_the_profile(w: &World) {
    // A client with a secret cannot authenticate at all.
    push(w, &w.basic, &pkce_request(&w.basic))
        .await
        .assert_oauth2_error(401, "invalid_client");
    password_grant(w, &w.post, support::PASSWORD)
        .await
        .assert_oauth2_error(401, "invalid_client");
    // The server's own rules: unsupported, not unauthorized.
    let client = fapi_client(w, false).await;
    let implicit = fapi_request(&client).with("response_type", "token");
    post_signed(w, PAR, &client, Algorithm::PS256, &implicit)
        .await
        .assert_oauth2_error(400, "unsupported_response_type");
    let password = Form::new()
        .with("grant_type", "password")
        .with("username", "alice")
        .with("password", support::PASSWORD);
    token_signed_dpop(w, &client, Algorithm::PS256, &password)
        .await
        .assert_oauth2_error(400, "unsupported_grant_type");
    let unpushed = consent_page(w, &fapi_request(&client)).await;
    assert_error_redirect(w, &unpushed, "invalid_request");
    let code = fapi_code(w, &client, Algorithm::PS256).await;
    post_signed(
        w,
        "/oauth2/token",
        &client,
        Algorithm::PS256,
        &fapi_exchange(&code),
    )
    .await
    .assert_oauth2_error(400, "invalid_dpop_proof");
    let tokens = token_signed_dpop(w, &client, Algorithm::PS256, &fapi_exchange(&code)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.json()["token_type"], "DPoP", "{}", tokens.body);
}

on_both_stores!(
    the_rfc_9126_example_is_pushed_and_used,
    a_pushed_request_ends_in_tokens,
    a_pushed_request_works_for_one_decision,
    a_pushed_request_expires,
    another_clients_request_uri_is_refused,
    what_cannot_be_pushed_is_refused_at_push_time,
    a_client_may_require_pushed_requests,
    every_authorization_response_names_the_issuer,
    a_fapi2_client_is_held_to_the_profile,
);
on_both_stores!(
    a_server_may_require_pushed_requests,
    oauth2 = par_everywhere
);
on_both_stores!(
    a_fapi2_server_holds_every_client_to_the_profile,
    oauth2 = fapi_everywhere
);
