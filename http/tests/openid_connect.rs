//! OpenID Connect over HTTP on every store: the code flow with `openid`,
//! its ID token checked against `/oauth2/jwks` by a JOSE library (not by
//! credlog's own code), refreshes, the implicit `id_token token`, UserInfo,
//! `prompt=none`, `prompt=login` and `max_age`, and the Discovery document.

mod support;

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::oauth2::*;
use support::{
    get_page, hidden_inputs, http, login, now, post_form, submit_login, Answer, PASSWORD,
};

use credlog_http::accounts::{add_user, ClientMetadata};

/// The `nonce` every authentication request carries.
const NONCE: &str = "n-0S6_WzA2Mj";

/// A client of alice's that may ask for `openid profile`, for these grant
/// and response types, authenticating with `method`.
async fn client_of_alice(
    w: &World,
    name: &str,
    grant_types: &[&str],
    response_type: &str,
    method: AuthMethod,
) -> Oauth2Client {
    let mut metadata = ClientMetadata::named(name);
    metadata.redirect_uris = vec![REDIRECT.to_owned()];
    metadata.scope = "openid profile".to_owned();
    metadata.grant_types = grant_types.iter().map(|grant| grant.to_string()).collect();
    metadata.response_types = vec![response_type.to_owned()];
    register_metadata(w.server.store.as_ref(), metadata, method).await
}

/// A confidential client of alice's that may ask for `openid`.
async fn openid_client(w: &World) -> Oauth2Client {
    let grants = ["authorization_code", "refresh_token"];
    client_of_alice(w, "Sign-in app", &grants, "code", AuthMethod::Basic).await
}

fn authentication_request(client: &Oauth2Client) -> Form {
    code_request(client)
        .with("scope", "openid profile")
        .with("nonce", NONCE)
}

async fn get_json(w: &World, path: &str) -> Value {
    let answer = get_page(&w.server, path, None).await;
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
    answer.json()
}

/// The ID token's claims, once `jsonwebtoken` has checked its signature
/// with the key its `kid` names in the published JWK Set, its issuer
/// (the Discovery document's) and its audience (the client).
async fn verified(w: &World, id_token: &str, client: &Oauth2Client) -> Value {
    let discovery = get_json(w, "/.well-known/openid-configuration").await;
    let issuer = discovery["issuer"].as_str().unwrap().to_owned();
    let jwks_path = discovery["jwks_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(&issuer)
        .unwrap()
        .to_owned();
    let jwks: JwkSet = serde_json::from_value(get_json(w, &jwks_path).await).unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid in the header");
    let jwk = jwks.find(&kid).expect("the kid is in the JWK Set");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&client.id]);
    validation.set_issuer(&[&issuer]);
    // The server's clock is the test's; expiry is checked against it below.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap_or_else(|e| panic!("the ID token verifies: {e}"))
        .claims;
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(iat, w.clock.now());
    assert!(exp > iat, "{claims}");
    claims
}

/// OpenID Connect Core 1.0 3.1.3.6: the left half of the SHA-256 of the
/// access token, base64url.
fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn id_token_of(tokens: &Tokens) -> String {
    tokens.json["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("an id_token in {}", tokens.json))
        .to_owned()
}

async fn discovery_lists_the_provider(w: &World) {
    let discovery = get_json(w, "/.well-known/openid-configuration").await;
    let issuer = discovery["issuer"].as_str().unwrap();
    assert_eq!(issuer, w.server.url("").trim_end_matches('/'));
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/oauth2/jwks"));
    assert_eq!(
        discovery["userinfo_endpoint"],
        format!("{issuer}/oauth2/userinfo")
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
    assert_eq!(
        discovery["subject_types_supported"],
        serde_json::json!(["public"])
    );
    // One source with RFC 8414: every field of the OAuth document is here, the same.
    let oauth = get_json(w, "/.well-known/oauth-authorization-server").await;
    for (name, value) in oauth.as_object().unwrap() {
        assert_eq!(&discovery[name], value, "{name}");
    }
    let jwks = get_json(w, "/oauth2/jwks").await;
    let keys = jwks["keys"].as_array().unwrap();
    // One current key for each algorithm a client may choose, RS256 first.
    assert_eq!(keys.len(), 4, "{jwks}");
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    for key in keys {
        assert!(key.get("d").is_none(), "no private part is published");
    }
}

async fn the_code_flow_issues_a_verified_id_token(w: &World) {
    let client = openid_client(w).await;
    let signed_in_at = w.clock.now();
    w.clock.advance(5);
    let code = code_for(w, &authentication_request(&client)).await;
    let tokens = exchange(w, &client, &code).await.tokens();
    let claims = verified(w, &id_token_of(&tokens), &client).await;
    assert_eq!(claims["nonce"], NONCE);
    assert_eq!(claims["auth_time"].as_u64(), Some(signed_in_at));
    assert_eq!(claims["at_hash"], at_hash(&tokens.access_token));
    let sub = claims["sub"].as_str().unwrap();
    assert!(!sub.is_empty() && sub != "alice", "{sub}");

    // The same user signing in to it again is the same subject.
    let again = exchange(
        w,
        &client,
        &code_for(w, &authentication_request(&client)).await,
    )
    .await
    .tokens();
    assert_eq!(verified(w, &id_token_of(&again), &client).await["sub"], sub);

    // A request without openid gets no ID token.
    let plain = code_request(&client).with("scope", "profile");
    let tokens = exchange(w, &client, &code_for(w, &plain).await)
        .await
        .tokens();
    assert!(tokens.json.get("id_token").is_none(), "{}", tokens.json);
}

async fn a_refresh_keeps_the_subject_and_sign_in_time(w: &World) {
    let client = openid_client(w).await;
    let code = code_for(w, &authentication_request(&client)).await;
    let first = exchange(w, &client, &code).await.tokens();
    let first_claims = verified(w, &id_token_of(&first), &client).await;
    w.clock.advance(100);
    let refreshed = refresh(w, &client, first.refresh(), None).await.tokens();
    let claims = verified(w, &id_token_of(&refreshed), &client).await;
    assert_eq!(claims["sub"], first_claims["sub"]);
    assert_eq!(claims["auth_time"], first_claims["auth_time"]);
    assert!(
        claims.get("nonce").is_none(),
        "12.2: no nonce on a refresh: {claims}"
    );
    assert_eq!(claims["at_hash"], at_hash(&refreshed.access_token));
    // Narrowed to a scope without openid: no ID token.
    let narrowed = refresh(w, &client, refreshed.refresh(), Some("profile"))
        .await
        .tokens();
    assert!(narrowed.json.get("id_token").is_none());
}

async fn userinfo(w: &World, token: Option<&str>) -> Answer {
    let mut request = http().get(w.server.url("/oauth2/userinfo"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::from(request.send().await.unwrap()).await
}

async fn userinfo_names_the_user_the_token_speaks_for(w: &World) {
    let client = openid_client(w).await;
    let code = code_for(w, &authentication_request(&client)).await;
    let tokens = exchange(w, &client, &code).await.tokens();
    let claims = verified(w, &id_token_of(&tokens), &client).await;
    let info = userinfo(w, Some(&tokens.access_token)).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["sub"], claims["sub"]);
    assert_eq!(info.json()["preferred_username"], "alice");

    // Without profile: only sub.
    let narrow = authentication_request(&client).with("scope", "openid");
    let tokens = exchange(w, &client, &code_for(w, &narrow).await)
        .await
        .tokens();
    let info = userinfo(w, Some(&tokens.access_token)).await.json();
    assert_eq!(info["sub"], claims["sub"]);
    assert!(info.get("preferred_username").is_none(), "{info}");

    // A token without openid is refused for scope; none at all, or a
    // made-up one, for the token.
    let plain = code_request(&client).with("scope", "profile");
    let tokens = exchange(w, &client, &code_for(w, &plain).await)
        .await
        .tokens();
    let refused = userinfo(w, Some(&tokens.access_token)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused
        .header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));
    assert_eq!(userinfo(w, None).await.status, 401);
    let unknown = userinfo(w, Some("not-a-token")).await;
    assert_eq!(unknown.status, 401);
    assert!(unknown
        .header("www-authenticate")
        .unwrap()
        .contains("invalid_token"));
}

async fn authorize_get(w: &World, request: &Form, cookie: Option<&str>) -> Answer {
    let path = format!("/oauth2/authorize?{}", request.encoded());
    get_page(&w.server, &path, cookie).await
}

async fn prompt_none_answers_without_a_page(w: &World) {
    let client = openid_client(w).await;
    let silent = authentication_request(&client).with("prompt", "none");
    // Nobody signed in: login_required, back to the client with state.
    let location = Location::of(&authorize_get(w, &silent, None).await);
    assert_eq!(location.base, REDIRECT);
    assert_eq!(location.query("error"), Some("login_required"));
    assert_eq!(location.query("state"), Some(STATE));
    // Signed in, never granted it: consent_required.
    let location = Location::of(&authorize_get(w, &silent, Some(&w.cookie)).await);
    assert_eq!(location.query("error"), Some("consent_required"));
    // Granted less than it asks for: consent_required still.
    code_for(w, &authentication_request(&client).with("scope", "openid")).await;
    let location = Location::of(&authorize_get(w, &silent, Some(&w.cookie)).await);
    assert_eq!(location.query("error"), Some("consent_required"));
    // Once granted, a silent request gets a code at once.
    code_for(w, &authentication_request(&client)).await;
    let location = Location::of(&authorize_get(w, &silent, Some(&w.cookie)).await);
    assert_eq!(location.query("error"), None, "{location:?}");
    let code = location.query("code").expect("a code").to_owned();
    let tokens = exchange(w, &client, &code).await.tokens();
    assert_eq!(
        verified(w, &id_token_of(&tokens), &client).await["nonce"],
        NONCE
    );
    // prompt=none with a sign-in too old for max_age: login_required.
    w.clock.advance(120);
    let aged = silent.clone().with("max_age", "60");
    let location = Location::of(&authorize_get(w, &aged, Some(&w.cookie)).await);
    assert_eq!(location.query("error"), Some("login_required"));
}

/// Follows a forced sign-in: the 303 to `/login?next=...`, signing in
/// there, and the redirect back; answers the authorization page reached
/// and the new session cookie.
async fn sign_in_again(w: &World, answer: &Answer) -> (Answer, String) {
    assert_eq!(
        answer.status, 303,
        "a sign-in is asked for: {}",
        answer.body
    );
    let login_path = answer.header("location").unwrap().to_owned();
    assert!(login_path.starts_with("/login?next="), "{login_path}");
    let signed_in = submit_login(&w.server, &login_path, "alice", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let cookie = signed_in
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let back = signed_in.header("location").unwrap().to_owned();
    assert!(back.starts_with("/oauth2/authorize?"), "{back}");
    (get_page(&w.server, &back, Some(&cookie)).await, cookie)
}

async fn max_age_and_prompt_login_ask_for_a_fresh_sign_in(w: &World) {
    let client = openid_client(w).await;
    let first_sign_in = w.clock.now();
    w.clock.advance(120);
    // A sign-in 120 s old meets max_age=300, not max_age=60.
    let lenient = authentication_request(&client).with("max_age", "300");
    assert_eq!(
        authorize_get(w, &lenient, Some(&w.cookie)).await.status,
        200
    );
    let strict = authentication_request(&client).with("max_age", "60");
    let (page, cookie) = sign_in_again(w, &authorize_get(w, &strict, Some(&w.cookie)).await).await;
    assert_eq!(
        page.status, 200,
        "the consent page after signing in: {}",
        page.body
    );
    let second_sign_in = w.clock.now();
    let mut fields = hidden_inputs(&page.body);
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let answer = post_form(&w.server, "/oauth2/authorize", Some(&cookie), &fields).await;
    let code = Location::of(&answer).query("code").unwrap().to_owned();
    let tokens = exchange(w, &client, &code).await.tokens();
    let claims = verified(w, &id_token_of(&tokens), &client).await;
    assert_eq!(claims["auth_time"].as_u64(), Some(second_sign_in));
    assert_ne!(claims["auth_time"].as_u64(), Some(first_sign_in));

    // prompt=login asks even of a session a second old, once.
    w.clock.advance(1);
    let login = authentication_request(&client).with("prompt", "login");
    let (page, _) = sign_in_again(w, &authorize_get(w, &login, Some(&cookie)).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // A malformed max_age goes back to the client as invalid_request.
    let bad = authentication_request(&client).with("max_age", "soon");
    let location = Location::of(&authorize_get(w, &bad, Some(&w.cookie)).await);
    assert_eq!(location.query("error"), Some("invalid_request"));
}

/// The user signed in with `cookie` grants `request`: the code.
async fn code_as(w: &World, request: &Form, cookie: &str) -> String {
    let answer = authorize_get(w, request, Some(cookie)).await;
    let mut fields = hidden_inputs(&answer.body);
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let granted = post_form(&w.server, "/oauth2/authorize", Some(cookie), &fields).await;
    Location::of(&granted).query("code").unwrap().to_owned()
}

async fn a_user_removed_and_added_again_is_a_new_subject(w: &World) {
    let client = openid_client(w).await;
    let code = code_for(w, &authentication_request(&client)).await;
    let tokens = exchange(w, &client, &code).await.tokens();
    let first = verified(w, &id_token_of(&tokens), &client).await["sub"].clone();
    let store = w.server.store.as_ref();
    // bob signs in under a name that was alice's subject's never.
    add_user(store, "bob", PASSWORD, now()).await.unwrap();
    let bob = login(&w.server, "bob", PASSWORD).await;
    let mut page = authentication_request(&client);
    page = page.with("state", "bob");
    let code = code_as(w, &page, &bob).await;
    let tokens = exchange(w, &client, &code).await.tokens();
    let bob_sub = verified(w, &id_token_of(&tokens), &client).await["sub"].clone();
    assert_ne!(bob_sub, first);
    // bob removed and added again: a new subject, never the old one.
    credlog_core::manage::remove_user(store, "bob", now())
        .await
        .unwrap();
    add_user(store, "bob", PASSWORD, now()).await.unwrap();
    let bob = login(&w.server, "bob", PASSWORD).await;
    let code = code_as(w, &page, &bob).await;
    let tokens = exchange(w, &client, &code).await.tokens();
    let again = verified(w, &id_token_of(&tokens), &client).await["sub"].clone();
    assert_ne!(again, bob_sub);
    assert_ne!(again, first);
}

/// A public client of alice's that may have tokens in the fragment, and
/// sign in there too.
async fn implicit_client(w: &World) -> Oauth2Client {
    let grants = ["implicit"];
    client_of_alice(w, "Single-page sign-in", &grants, "token", AuthMethod::None).await
}

/// An implicit authentication request, its response type's words in the
/// order RFC 6749 3.1.1 says does not matter.
fn implicit_sign_in(client: &Oauth2Client) -> Form {
    Form::new()
        .with("response_type", "token id_token")
        .with("client_id", &client.id)
        .with("redirect_uri", REDIRECT)
        .with("scope", "openid profile")
        .with("state", STATE)
        .with("nonce", NONCE)
}

async fn implicit_sign_in_puts_a_verified_id_token_in_the_fragment(w: &World) {
    let discovery = get_json(w, "/.well-known/openid-configuration").await;
    let listed = discovery["response_types_supported"].as_array().unwrap();
    assert!(listed.contains(&"id_token token".into()), "{discovery}");

    let client = implicit_client(w).await;
    let signed_in_at = w.clock.now();
    w.clock.advance(3);
    let location = Location::of(&authorize(w, &implicit_sign_in(&client), "yes").await);
    assert_eq!(location.base, REDIRECT);
    assert!(
        location.query.is_empty(),
        "nothing in the query: {location:?}"
    );
    assert_eq!(location.fragment("state"), Some(STATE));
    assert_eq!(location.fragment("token_type"), Some("Bearer"));
    let access_token = location.fragment("access_token").expect("an access token");
    let id_token = location.fragment("id_token").expect("an ID token");
    let claims = verified(w, id_token, &client).await;
    assert_eq!(claims["nonce"], NONCE);
    assert_eq!(claims["at_hash"], at_hash(access_token));
    assert_eq!(claims["auth_time"].as_u64(), Some(signed_in_at));
    // The access token beside it is good at UserInfo, for the same subject.
    let info = userinfo(w, Some(access_token)).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["sub"], claims["sub"]);

    // Plain `token`, even with openid, is delegation only: no ID token.
    let plain = implicit_sign_in(&client).with("response_type", "token");
    let location = Location::of(&authorize(w, &plain, "yes").await);
    assert!(location.fragment("access_token").is_some(), "{location:?}");
    assert_eq!(location.fragment("id_token"), None);
}

async fn implicit_sign_in_refuses_what_openid_connect_forbids(w: &World) {
    let client = implicit_client(w).await;
    // Refused before the user is asked: back to the client, in the
    // fragment, with state.
    let refused = |request: Form| async move {
        let answer = consent_page(w, &request).await;
        assert_eq!(answer.status, 302, "{}", answer.body);
        let location = Location::of(&answer);
        assert_eq!(location.base, REDIRECT);
        assert_eq!(location.fragment("state"), Some(STATE), "{location:?}");
        assert_eq!(location.fragment("access_token"), None);
        location.fragment("error").map(str::to_owned)
    };
    // 3.2.2.1: nonce is required in the implicit flow.
    let no_nonce = implicit_sign_in(&client).without("nonce");
    assert_eq!(refused(no_nonce).await.as_deref(), Some("invalid_request"));
    // An ID token is for sign-in: scope openid.
    let no_openid = implicit_sign_in(&client).with("scope", "profile");
    assert_eq!(refused(no_openid).await.as_deref(), Some("invalid_request"));
    // A client registered for codes only may not.
    let coded = openid_client(w).await;
    assert_eq!(
        refused(implicit_sign_in(&coded)).await.as_deref(),
        Some("unauthorized_client")
    );
    // The user says no: access_denied in the fragment.
    let location = Location::of(&authorize(w, &implicit_sign_in(&client), "no").await);
    assert_eq!(location.fragment("error"), Some("access_denied"));
    assert_eq!(location.fragment("id_token"), None);
}

on_both_stores!(
    implicit_sign_in_puts_a_verified_id_token_in_the_fragment,
    implicit_sign_in_refuses_what_openid_connect_forbids,
    discovery_lists_the_provider,
    the_code_flow_issues_a_verified_id_token,
    a_refresh_keeps_the_subject_and_sign_in_time,
    userinfo_names_the_user_the_token_speaks_for,
    prompt_none_answers_without_a_page,
    max_age_and_prompt_login_ask_for_a_fresh_sign_in,
    a_user_removed_and_added_again_is_a_new_subject,
);
