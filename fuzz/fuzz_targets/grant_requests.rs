//! The device authorization endpoint (RFC 8628 3.1) and the token
//! endpoint's device code (3.4) and JWT bearer (RFC 7523 2.1) grants, end
//! to end over an in-memory store.
//!
//! The input's first byte picks the endpoint (even: the token endpoint,
//! odd: device authorization); then a line with the `Authorization`
//! header value (none when empty); the rest is the form body, in which
//! `DEVICE_CODE` stands for the device code the fixture was given.
//!
//! The store holds one confidential client (`app`, secret `s3cret`, HTTP
//! Basic) registered for both grants with RFC 7515 A.3's public key, a
//! pending device code, and alice's live grant to the client. Never
//! panics; answers 200, 400, 401 or 429 only, never cacheable; and never
//! a token for a device code nobody approved nor for an assertion, which
//! no input can sign.
#![no_main]

use base64::Engine;
use credlog_core::jose::examples::{A3_X, A3_Y};
use credlog_core::request::FORM_CONTENT_TYPE;
use credlog_core::rfc6749::grants::NoOwners;
use credlog_core::rfc6749::{
    ClientAuthMethod, GrantType, Oauth2Server, Params, ResponseType, Scope,
};
use credlog_core::rfc7523::JWT_BEARER_GRANT;
use credlog_core::rfc8628::DEVICE_CODE_GRANT;
use credlog_core::store::{
    token_id, Authorized, ClientKeysRegistered, ClientRecord, CredentialKind, CredentialStore,
    Event, Issued, Secret, TokenRecord,
};
use credlog_core::Request;
use credlog_storage_memory::MemoryStore;
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000;
const CLIENT_ID: &str = "app";
const CLIENT_SECRET: &str = "s3cret";
const CODE: &str = "code-1";

fn basic() -> String {
    let pair = format!("{CLIENT_ID}:{CLIENT_SECRET}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn form_request(path: &str, authorization: Option<&str>, body: Vec<u8>) -> Request {
    let mut request = Request::new("POST", &format!("http://as.example{path}"))
        .with_header("Content-Type", FORM_CONTENT_TYPE);
    if let Some(authorization) = authorization {
        request = request.with_header("Authorization", authorization);
    }
    request.body = body;
    request
}

/// A fresh store per input, and the device code it holds.
fn fixture(server: &Oauth2Server) -> (MemoryStore, String) {
    let grants = [
        "authorization_code",
        "client_credentials",
        DEVICE_CODE_GRANT,
        JWT_BEARER_GRANT,
    ];
    let client = ClientRecord {
        client_id: CLIENT_ID.to_owned(),
        secret: Secret::sha256(CLIENT_SECRET),
        owner: "alice".to_owned(),
        name: "fuzzed app".to_owned(),
        redirect_uris: vec!["https://app.example/cb".to_owned()],
        scope: Scope::parse("profile email").expect("a valid scope"),
        grant_types: grants
            .iter()
            .map(|grant| grant.parse::<GrantType>().expect("a grant type"))
            .collect(),
        response_types: vec![ResponseType::Code],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        rsa_public_key: None,
    };
    let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y}]});
    let code = TokenRecord {
        kind: CredentialKind::AuthorizationCode,
        id: token_id(CODE),
        secret: Secret::None,
        client_id: CLIENT_ID.to_owned(),
        user: Some("alice".to_owned()),
        scope: "profile".to_owned(),
        expires_at: Some(NOW + 600),
        parent: None,
        redirect_uri: Some("https://app.example/cb".to_owned()),
        code_challenge: None,
    };
    let events = vec![
        Event::Issued(Issued::Client(client)),
        Event::ClientKeysRegistered(ClientKeysRegistered {
            client_id: CLIENT_ID.to_owned(),
            jwks: jwks.to_string(),
        }),
        Event::Issued(Issued::Token(code)),
        Event::Authorized(Authorized {
            id: token_id(CODE),
            user: "alice".to_owned(),
            verifier: None,
        }),
    ];
    let store = MemoryStore::new();
    block_on(store.append(&[], events, NOW)).expect("the fixture is stored");
    let request = form_request(
        "/oauth2/device_authorization",
        Some(&basic()),
        b"scope=profile".to_vec(),
    );
    let answer = block_on(server.device_authorization(&store, &request, NOW));
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
    let device_code = body["device_code"]
        .as_str()
        .expect("a device code")
        .to_owned();
    (store, device_code)
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (header, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    let authorization = (!header.is_empty()).then_some(header);
    let server = Oauth2Server::default();
    let (store, device_code) = fixture(&server);
    let body = String::from_utf8_lossy(body)
        .replace("DEVICE_CODE", &device_code)
        .into_bytes();

    let (path, grant) = if pick % 2 == 1 {
        ("/oauth2/device_authorization", None)
    } else {
        let grant = Params::parse(&body)
            .ok()
            .and_then(|params| params.get("grant_type").map(str::to_owned));
        ("/oauth2/token", grant)
    };
    let request = form_request(path, authorization, body);
    let response = block_on(async {
        if grant.is_none() && pick % 2 == 1 {
            server.device_authorization(&store, &request, NOW).await
        } else {
            server.token(&store, &NoOwners, &request, NOW).await
        }
    });
    let said = String::from_utf8_lossy(&response.body);
    assert!(
        matches!(response.status, 200 | 400 | 401 | 429),
        "{} {said}",
        response.status
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    if matches!(grant.as_deref(), Some(DEVICE_CODE_GRANT | JWT_BEARER_GRANT)) {
        assert_ne!(response.status, 200, "a token nobody earned: {said}");
    }
});
