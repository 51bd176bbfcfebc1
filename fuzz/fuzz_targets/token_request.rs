//! The token endpoint (RFC 6749 3.2) end to end: form parsing (3.1, 3.2),
//! client authentication (2.3), scope (3.3) and every grant, over an
//! in-memory store. The input's first line is the `Authorization` header
//! value (none when the line is empty), the rest is the form body.
//!
//! The store holds one confidential client (`app`, secret `s3cret`, HTTP
//! Basic), an authorization code `code-1` bound to a redirect URI and an
//! S256 challenge, and a refresh token `refresh-1`, so that inputs reach
//! the grants. Never panics; answers only 200, 400 or 401 (a 500 would be
//! a store failure, which memory never has), never cacheable; a body that
//! is not a form is a 400.
#![no_main]

use credlog_core::request::FORM_CONTENT_TYPE;
use credlog_core::rfc6749::client_auth;
use credlog_core::rfc6749::grants::NoOwners;
use credlog_core::rfc6749::{ClientAuthMethod, GrantType, Oauth2Server, ResponseType, Scope};
use credlog_core::rfc7636::s256;
use credlog_core::store::{
    token_id, Authorized, ClientRecord, CredentialKind, CredentialStore, Event, Issued, Secret,
    TokenRecord,
};
use credlog_core::Request;
use credlog_storage_memory::MemoryStore;
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000;
const CLIENT_ID: &str = "app";
const CLIENT_SECRET: &str = "s3cret";
const REDIRECT_URI: &str = "https://app.example/cb";
const CODE: &str = "code-1";
/// RFC 7636 Appendix B's verifier.
const CODE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REFRESH_TOKEN: &str = "refresh-1";

fn token(kind: CredentialKind, value: &str, scope: &str) -> TokenRecord {
    TokenRecord {
        kind,
        id: token_id(value),
        secret: Secret::None,
        client_id: CLIENT_ID.to_owned(),
        user: Some("alice".to_owned()),
        scope: scope.to_owned(),
        expires_at: Some(NOW + 600),
        parent: None,
        redirect_uri: None,
        code_challenge: None,
    }
}

/// A fresh store per input: what one request spends (a code, a refresh
/// token) is there again for the next.
fn store() -> MemoryStore {
    let client = ClientRecord {
        client_id: CLIENT_ID.to_owned(),
        secret: Secret::sha256(CLIENT_SECRET),
        owner: "alice".to_owned(),
        name: "fuzzed app".to_owned(),
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        scope: Scope::parse("profile email").expect("a valid scope"),
        grant_types: GrantType::BUILT_IN.to_vec(),
        response_types: ResponseType::ALL.to_vec(),
        auth_method: ClientAuthMethod::ClientSecretBasic,
        rsa_public_key: None,
    };
    let code = TokenRecord {
        redirect_uri: Some(REDIRECT_URI.to_owned()),
        code_challenge: Some((s256(CODE_VERIFIER), "S256".to_owned())),
        ..token(CredentialKind::AuthorizationCode, CODE, "profile")
    };
    let events = vec![
        Event::Issued(Issued::Client(client)),
        Event::Issued(Issued::Token(code)),
        Event::Authorized(Authorized {
            id: token_id(CODE),
            user: "alice".to_owned(),
            verifier: None,
        }),
        Event::Issued(Issued::Token(token(
            CredentialKind::RefreshToken,
            REFRESH_TOKEN,
            "profile email",
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
    let mut request = Request::new("POST", "http://as.example/oauth2/token")
        .with_header("Content-Type", FORM_CONTENT_TYPE);
    if !header.is_empty() {
        request = request.with_header("Authorization", header);
    }
    request.body = body.to_vec();

    let form = Oauth2Server::form(&request);
    if let Ok(params) = &form {
        let _ = client_auth::presented(&request, params);
        if let Some(Ok(scope)) = params.get("scope").map(Scope::parse) {
            assert_eq!(Scope::parse(&scope.to_string()), Ok(scope));
        }
    }

    let response = block_on(Oauth2Server::default().token(&store(), &NoOwners, &request, NOW));
    assert!(
        matches!(response.status, 200 | 400 | 401),
        "{} {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    if form.is_err() {
        assert_eq!(response.status, 400);
    }
});
