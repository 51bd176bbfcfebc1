//! Pushed authorization requests (RFC 9126) and `iss` on authorization
//! responses (RFC 9207) through the credlog-axum example over real HTTP:
//! a pushed request ends in tokens, works for one decision, and every
//! answer names the issuer.

#[allow(dead_code)]
#[path = "../examples/provider/app.rs"]
mod app;
#[path = "../examples/provider/consent.rs"]
mod consent;
mod support;
#[allow(dead_code)]
#[path = "../examples/provider/users.rs"]
mod users;

use app::CALLBACK;
use credlog_core::form::Fields;
use credlog_core::rfc5849::encoding::form_encode;
use support::*;

/// The confidential client pushes a code request with PKCE S256 for
/// `verifier`; the `request_uri`.
async fn push(example: &Example, verifier: &str, response_type: &str) -> String {
    let challenge = credlog_core::rfc7636::s256(verifier);
    let answer = example
        .post_as_app(
            "/oauth2/par",
            &[
                ("response_type", response_type),
                ("redirect_uri", CALLBACK),
                ("scope", "profile"),
                ("state", "s-1"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let json = answer.json();
    assert_eq!(json["expires_in"], 60);
    let uri = json["request_uri"].as_str().expect("a request_uri");
    assert!(
        uri.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{uri}"
    );
    uri.to_owned()
}

/// The authorization endpoint's path naming a pushed request.
fn by_reference(client_id: &str, request_uri: &str) -> String {
    let query = form_encode([("client_id", client_id), ("request_uri", request_uri)]);
    format!("/oauth2/authorize?{query}")
}

/// The parameters of a redirect to the callback, in its query or fragment.
fn answered(answer: &Answer) -> Fields {
    assert_eq!(answer.status, 302, "{}", answer.body);
    let location = answer.header("location").expect("a redirect");
    let rest = location
        .strip_prefix(CALLBACK)
        .unwrap_or_else(|| panic!("{location} is not at {CALLBACK}"));
    Fields::parse(&rest.as_bytes()[1..]).expect("form-encoded parameters")
}

#[tokio::test]
async fn a_pushed_request_ends_in_tokens_once_and_names_the_issuer() {
    let example = Example::start().await;
    let client = &example.clients.confidential;
    let verifier = code_verifier();
    let request_uri = push(&example, &verifier, "code").await;
    let path = by_reference(&client.id, &request_uri);
    let cookie = example.sign_in_for(&path, "bob", "builder").await;
    let page = example.get(&path, Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let granted = example.answer(&page, &path, &cookie, "yes").await;
    let fields = answered(&granted);
    assert_eq!(fields.get("state"), Some("s-1"));
    assert_eq!(fields.get("iss"), Some(example.base.as_str()));
    let code = fields.get("code").expect("a code").to_owned();
    // Single use: the same decision again, or the request opened again.
    let again = example.answer(&page, &path, &cookie, "yes").await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(example.get(&path, Some(&cookie)).await.status, 400);
    let tokens = example
        .post_as_app(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .tokens();
    let me = example.me(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    // A denial names the issuer too, and uses the request up.
    let request_uri = push(&example, &code_verifier(), "code").await;
    let path = by_reference(&client.id, &request_uri);
    let denied = answered(&example.decide(&path, &cookie, "no").await);
    assert_eq!(denied.get("error"), Some("access_denied"));
    assert_eq!(denied.get("iss"), Some(example.base.as_str()));
    assert_eq!(example.get(&path, Some(&cookie)).await.status, 400);
    // So does an implicit answer, in the fragment.
    let request_uri = push(&example, &code_verifier(), "token").await;
    let path = by_reference(&client.id, &request_uri);
    let implicit = example.decide(&path, &cookie, "yes").await;
    let location = implicit.header("location").unwrap_or_default();
    assert!(location.starts_with(&format!("{CALLBACK}#")), "{location}");
    let fields = answered(&implicit);
    assert!(fields.get("access_token").is_some());
    assert_eq!(fields.get("iss"), Some(example.base.as_str()));
    // Another client cannot use the confidential client's request.
    let request_uri = push(&example, &code_verifier(), "code").await;
    let stolen = by_reference(&example.clients.public.id, &request_uri);
    assert_eq!(example.get(&stolen, Some(&cookie)).await.status, 400);
    // The metadata says so.
    let metadata = example
        .get("/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        example.url("/oauth2/par")
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    example.stop().await;
}
