//! The pushed authorization request endpoint (RFC 9126 2) end to end:
//! form parsing, client authentication as at the token endpoint, the
//! pushed parameters checked as the authorization endpoint would, and
//! what is stored; then the `request_uri` it answers resolved at the
//! authorization endpoint (4). The input's first line is the
//! `Authorization` header value (none when the line is empty), the rest
//! is the form body.
//!
//! The store holds RFC 9126 2.1's client (`s6BhdRkqt3`, HTTP Basic) and a
//! public client (`phone`), each registered for codes and tokens. Never
//! panics; answers only 201, 400 or 401, never cacheable; a push carrying
//! `request_uri` or `request` is never stored; what is stored holds no
//! client credentials, passes the authorization endpoint's checks, works
//! for the client that pushed it alone, and not once expired.
#![no_main]

use credlog_core::request::FORM_CONTENT_TYPE;
use credlog_core::rfc6749::authorization::Via;
use credlog_core::rfc6749::{
    AuthorizationError, ClientAuthMethod, GrantType, Oauth2Server, Params, ResponseType, Scope,
};
use credlog_core::rfc9126::{CLIENT_AUTHENTICATION_PARAMETERS, REQUEST_URI_PREFIX};
use credlog_core::store::{ClientRecord, CredentialStore, Event, Issued, Secret};
use credlog_core::Request;
use credlog_storage_memory::MemoryStore;
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://as.example.com";

fn client(client_id: &str, secret: Secret, auth_method: ClientAuthMethod) -> ClientRecord {
    ClientRecord {
        client_id: client_id.to_owned(),
        secret,
        owner: "alice".to_owned(),
        name: "fuzzed app".to_owned(),
        redirect_uris: vec!["https://client.example.org/cb".to_owned()],
        scope: Scope::parse("account-information profile").expect("a valid scope"),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::Implicit],
        response_types: vec![ResponseType::Code, ResponseType::Token],
        auth_method,
        rsa_public_key: None,
    }
}

/// A fresh store per input.
fn store() -> MemoryStore {
    let events = vec![
        Event::Issued(Issued::Client(client(
            "s6BhdRkqt3",
            Secret::sha256("7Fjfp0ZBr1KtDRbnfVdmIw"),
            ClientAuthMethod::ClientSecretBasic,
        ))),
        Event::Issued(Issued::Client(client(
            "phone",
            Secret::None,
            ClientAuthMethod::None,
        ))),
    ];
    let store = MemoryStore::new();
    block_on(store.append(&[], events, NOW)).expect("the fixture is stored");
    store
}

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    let mut request = Request::new("POST", &format!("{ISSUER}/as/par"))
        .with_header("Content-Type", FORM_CONTENT_TYPE);
    if !header.is_empty() {
        request = request.with_header("Authorization", header);
    }
    request.body = body.to_vec();

    let server = Oauth2Server::default();
    let store = store();
    let response = block_on(server.pushed_authorization(&store, &request, NOW));
    assert!(
        matches!(response.status, 201 | 400 | 401),
        "{} {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let form = Oauth2Server::form(&request);
    if form.is_err() {
        assert_eq!(response.status, 400);
    }
    if response.status != 201 {
        return;
    }
    let form = form.expect("a push that worked was a form");
    assert!(form.get("request_uri").is_none() && form.get("request").is_none());
    let answer: serde_json::Value =
        serde_json::from_slice(&response.body).expect("a JSON answer");
    assert_eq!(answer["expires_in"], 60);
    let request_uri = answer["request_uri"].as_str().expect("a request_uri");
    assert!(request_uri.starts_with(REQUEST_URI_PREFIX));

    // The pushing client's id is the one the stored request names.
    let id = credlog_core::store::token_id(request_uri);
    let state = block_on(store.credential(&id))
        .expect("memory never fails")
        .expect("the pushed request is stored");
    let client_id = state.record.client_id.clone();
    let by_reference = |client_id: &str| {
        Params::from_pairs([("client_id", client_id), ("request_uri", request_uri)])
    };

    let (params, via) = block_on(server.pushed_parameters(&store, by_reference(&client_id), NOW))
        .expect("the client that pushed it may use it");
    assert_eq!(via, Via::Pushed(request_uri.to_owned()));
    assert_eq!(params.get("client_id"), Some(client_id.as_str()));
    for name in CLIENT_AUTHENTICATION_PARAMETERS {
        assert!(params.get(name).is_none(), "{name} was stored");
    }
    let checked = block_on(server.authorization_request_via(&store, ISSUER, params, via));
    let checked = checked.expect("what was pushed passes the authorization endpoint's checks");
    assert_eq!(checked.client.record.client_id, client_id);

    let other = if client_id == "phone" { "s6BhdRkqt3" } else { "phone" };
    let stolen = block_on(server.pushed_parameters(&store, by_reference(other), NOW));
    assert!(matches!(stolen, Err(AuthorizationError::Untrusted(_))));
    let late = block_on(server.pushed_parameters(&store, by_reference(&client_id), NOW + 60));
    assert!(matches!(late, Err(AuthorizationError::Untrusted(_))));
});
