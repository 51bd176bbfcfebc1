//! Signed API calls of the OAuth 1 client to a real credlog server: the
//! `fetch_token` hook, and the provider's errors surfacing. (Paths, verbs
//! and placements against a stub: `client/tests/signed_calls.rs`.)

mod support;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use credlog_client::{ClientError, FetchToken, Method, Registry};
use credlog_core::rfc5849::{TokenCredentials, Transmission};
use support::client::*;
use support::*;

// Signed API calls

/// The hook of the registry: asked, by provider name, for the token of a
/// call made without one.
struct Tokens {
    token: Option<TokenCredentials>,
    asked: Mutex<Vec<String>>,
}

#[async_trait]
impl FetchToken for Tokens {
    async fn fetch_token(&self, name: &str) -> Option<TokenCredentials> {
        self.asked.lock().unwrap().push(name.to_owned());
        self.token.clone()
    }
}

#[tokio::test]
async fn calls_reach_credlog_signed_and_its_errors_surface() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(Backend::Memory, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "Photo printer").await;
    let alice = Browser::sign_in(&server, "alice").await;
    let config = config(&server, &client, Method::HmacSha1, Transmission::Body);
    let provider = registry().register("credlog", config.clone()).unwrap();
    let token = alice.log_in(&server, &provider).await;

    // credlog only answers GET /api/me: a signed POST, PUT or DELETE
    // reaches it and its 405 comes back as the provider's error.
    for (verb, result) in [
        (
            "POST",
            provider.post("me", &[("x", "1")], Some(&token)).await,
        ),
        ("PUT", provider.put("me", &[("x", "1")], Some(&token)).await),
        ("DELETE", provider.delete("me", Some(&token)).await),
    ] {
        match result {
            Err(ClientError::Provider {
                url, status, body, ..
            }) => {
                assert!(url.starts_with(&server.url("/api/me")), "{verb}: {url}");
                assert_eq!(status, 405, "{verb}");
                assert!(body.contains("Method not allowed"), "{verb}: {body}");
            }
            other => panic!("{verb}: {other:?}"),
        }
    }

    // A call signed with a token credlog does not know: its 401 and error.
    let forged = TokenCredentials::new("forged", "forged secret");
    match provider.get("me", Some(&forged)).await {
        Err(ClientError::Provider {
            status,
            error,
            description,
            body,
            ..
        }) => {
            assert_eq!(status, 401);
            assert_eq!(error.as_deref(), Some("invalid_token"));
            assert!(description.is_some());
            assert!(body.contains("error=invalid_token"), "{body}");
        }
        other => panic!("{other:?}"),
    }

    // Without a token and without a hook.
    assert_eq!(
        provider.get("me", None).await,
        Err(ClientError::NoToken("credlog".into()))
    );

    // The hook supplies it.
    let hook = Arc::new(Tokens {
        token: Some(token.clone()),
        asked: Mutex::default(),
    });
    let hooked = Registry::new()
        .with_env(no_env())
        .with_fetch_token(hook.clone())
        .register("credlog", config.clone())
        .unwrap();
    let me = hooked.get("me", None).await.unwrap();
    assert_eq!(me.json().unwrap(), me_of("alice", &client));
    assert_eq!(*hook.asked.lock().unwrap(), ["credlog"]);
    // A token given wins over the hook.
    assert!(matches!(
        hooked.get("me", Some(&forged)).await,
        Err(ClientError::Provider { status: 401, .. })
    ));
    assert_eq!(hook.asked.lock().unwrap().len(), 1);

    // A hook that has none.
    let empty = Registry::new()
        .with_env(no_env())
        .with_fetch_token(Arc::new(Tokens {
            token: None,
            asked: Mutex::default(),
        }))
        .register("credlog", config)
        .unwrap();
    assert_eq!(
        empty.get("me", None).await,
        Err(ClientError::NoToken("credlog".into()))
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
