//! The OAuth 1 client configured from the environment (`{NAME}_CLIENT_ID`
//! ...), explicit settings winning.

mod support;

use credlog_http::client::{ClientError, ClientOptions, Method, ProviderConfig, Registry};
use support::client::*;
use support::*;

// Settings from the environment

#[tokio::test]
async fn the_environment_alone_configures_a_full_login() {
    let Started {
        server,
        client,
        alice,
        _dir: dir,
    } = started().await;
    let variables = credlog_env(&server, &client, &key_file(&dir));
    let provider = Registry::new()
        .with_env(as_env(&variables))
        .register("credlog", ProviderConfig::default())
        .unwrap();
    assert_eq!(provider.signature_method(), "RSA-SHA1");
    let redirect = provider
        .authorize_redirect(&alice.session, CALLBACK)
        .await
        .unwrap();
    let query = redirect.split_once('?').unwrap().1;
    assert_eq!(field(query, "x_theme").as_deref(), Some("dark"));
    assert_eq!(field(query, "lang").as_deref(), Some("en"));
    let callback = alice.answer(&server, &redirect, "yes").await;
    let token = provider
        .authorize_access_token(&alice.session, &callback)
        .await
        .unwrap();
    assert_eq!(me_through(&provider, &token).await, me_of("alice", &client));
    server.stop().await;
}

#[tokio::test]
async fn explicit_settings_win_over_the_environment() {
    let Started {
        server,
        client,
        alice,
        _dir: dir,
    } = started().await;
    let mut variables = credlog_env(&server, &client, &key_file(&dir));
    // The environment signs PLAINTEXT in the header, with a wrong secret.
    for (name, value) in &mut variables {
        match name.as_str() {
            "CREDLOG_CLIENT_SECRET" => *value = "wrong secret".into(),
            "CREDLOG_CLIENT_KWARGS" => *value = "signature_method=PLAINTEXT".into(),
            _ => {}
        }
    }
    let registry = Registry::new().with_env(as_env(&variables));

    // Alone, it fails.
    let from_env = registry
        .register("credlog", ProviderConfig::default())
        .unwrap();
    assert_eq!(from_env.signature_method(), "PLAINTEXT");
    assert!(matches!(
        from_env.authorize_redirect(&alice.session, CALLBACK).await,
        Err(ClientError::Provider { status: 401, error: Some(e), .. }) if e == "invalid_signature"
    ));

    // The right secret and method in code, the rest from the environment.
    let provider = registry
        .register(
            "credlog",
            ProviderConfig {
                client_secret: Some(client.secret.clone()),
                authorize_params: vec![("x_theme".into(), "light".into())],
                client_options: ClientOptions {
                    signature_method: Some(Method::HmacSha256),
                    ..ClientOptions::default()
                },
                ..ProviderConfig::default()
            },
        )
        .unwrap();
    assert_eq!(provider.signature_method(), "HMAC-SHA256");
    let redirect = provider
        .authorize_redirect(&alice.session, CALLBACK)
        .await
        .unwrap();
    let query = redirect.split_once('?').unwrap().1;
    assert_eq!(field(query, "x_theme").as_deref(), Some("light"));
    assert_eq!(field(query, "lang"), None);
    let callback = alice.answer(&server, &redirect, "yes").await;
    let token = provider
        .authorize_access_token(&alice.session, &callback)
        .await
        .unwrap();
    assert_eq!(me_through(&provider, &token).await, me_of("alice", &client));

    // And the other way round: a wrong secret in code beats a right one
    // in the environment.
    let mut variables = credlog_env(&server, &client, &key_file(&dir));
    variables.retain(|(n, _)| n != "CREDLOG_CLIENT_KWARGS");
    let wrong_in_code = Registry::new()
        .with_env(as_env(&variables))
        .register(
            "credlog",
            ProviderConfig {
                client_secret: Some("wrong secret".into()),
                ..ProviderConfig::default()
            },
        )
        .unwrap();
    assert!(matches!(
        wrong_in_code.authorize_redirect(&alice.session, CALLBACK).await,
        Err(ClientError::Provider { status: 401, error: Some(e), .. }) if e == "invalid_signature"
    ));
    server.stop().await;
}

/// A variable the code already sets is never read, so a malformed one
/// cannot fail the registration.
#[tokio::test]
async fn a_malformed_variable_the_code_covers_is_not_read() {
    let variables = vec![
        ("CREDLOG_CLIENT_ID".to_owned(), "id".to_owned()),
        ("CREDLOG_CLIENT_SECRET".to_owned(), "secret".to_owned()),
        (
            "CREDLOG_REQUEST_TOKEN_URL".to_owned(),
            "http://provider.test/r".to_owned(),
        ),
        (
            "CREDLOG_ACCESS_TOKEN_URL".to_owned(),
            "http://provider.test/a".to_owned(),
        ),
        (
            "CREDLOG_AUTHORIZE_URL".to_owned(),
            "http://provider.test/z".to_owned(),
        ),
        (
            "CREDLOG_REQUEST_TOKEN_PARAMS".to_owned(),
            "scope=%zz".to_owned(),
        ),
    ];
    let registry = Registry::new().with_env(as_env(&variables));
    assert!(matches!(
        registry.register("credlog", ProviderConfig::default()),
        Err(ClientError::InvalidConfig { .. })
    ));
    let covered = ProviderConfig {
        request_token_params: vec![("scope".into(), "photos".into())],
        ..ProviderConfig::default()
    };
    assert!(registry.register("credlog", covered).is_ok());
}

#[tokio::test]
async fn malformed_environment_settings_are_invalid_config() {
    let base = [
        ("CREDLOG_CLIENT_ID", "printer"),
        ("CREDLOG_CLIENT_SECRET", "secret"),
        ("CREDLOG_REQUEST_TOKEN_URL", "http://provider.test/initiate"),
        ("CREDLOG_ACCESS_TOKEN_URL", "http://provider.test/token"),
        ("CREDLOG_AUTHORIZE_URL", "http://provider.test/authorize"),
    ];
    let with = |name: &'static str, value: &'static str| {
        let mut variables = base.to_vec();
        variables.push((name, value));
        Registry::new()
            .with_env(env_of(&variables))
            .register("credlog", ProviderConfig::default())
            .map(|_| ())
    };
    for kwargs in [
        "signature_method=RSA-SHA512",
        "signature_type=COOKIE",
        "colour=blue",
        "timeout=soon",
        "timeout=-1",
        "rsa_key_file=/nonexistent/credlog/key.pem",
        "signature_method=%ZZ",
    ] {
        match with("CREDLOG_CLIENT_KWARGS", kwargs) {
            Err(ClientError::InvalidConfig { provider, why }) => {
                assert_eq!(provider, "credlog");
                assert!(why.contains("CREDLOG_CLIENT_KWARGS"), "{kwargs}: {why}");
            }
            other => panic!("{kwargs}: {other:?}"),
        }
    }
    for name in [
        "CREDLOG_REQUEST_TOKEN_PARAMS",
        "CREDLOG_ACCESS_TOKEN_PARAMS",
        "CREDLOG_AUTHORIZE_PARAMS",
    ] {
        match with(name, "a=%zz") {
            Err(ClientError::InvalidConfig { why, .. }) => {
                assert!(why.contains(name), "{why}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // Every option that is right.
    assert_eq!(
        with(
            "CREDLOG_CLIENT_KWARGS",
            "signature_method=hmac-sha256&signature_type=body&realm=photos&timeout=2.5&user_agent=app%2F1"
        ),
        Ok(())
    );
    assert_eq!(with("CREDLOG_CLIENT_KWARGS", ""), Ok(()));
}

#[tokio::test]
async fn the_process_environment_is_read_by_default() {
    let Started {
        server,
        client,
        alice,
        ..
    } = started().await;
    // A provider name no other test uses, so its variables are its own.
    let name = "oauth1-client-process-env";
    let variables = [
        ("OAUTH1_CLIENT_PROCESS_ENV_CLIENT_ID", client.id.clone()),
        (
            "OAUTH1_CLIENT_PROCESS_ENV_CLIENT_SECRET",
            client.secret.clone(),
        ),
        (
            "OAUTH1_CLIENT_PROCESS_ENV_REQUEST_TOKEN_URL",
            server.url("/oauth1/initiate"),
        ),
        (
            "OAUTH1_CLIENT_PROCESS_ENV_ACCESS_TOKEN_URL",
            server.url("/oauth1/token"),
        ),
        (
            "OAUTH1_CLIENT_PROCESS_ENV_AUTHORIZE_URL",
            server.url("/oauth1/authorize"),
        ),
        (
            "OAUTH1_CLIENT_PROCESS_ENV_API_BASE_URL",
            server.url("/api/"),
        ),
        (
            "OAUTH1_CLIENT_PROCESS_ENV_CLIENT_KWARGS",
            "signature_method=HMAC-SHA256&signature_type=BODY".to_owned(),
        ),
    ];
    for (variable, value) in &variables {
        std::env::set_var(variable, value);
    }
    let registered = Registry::new().register(name, ProviderConfig::default());
    for (variable, _) in &variables {
        std::env::remove_var(variable);
    }
    let provider = registered.unwrap();
    assert_eq!(provider.signature_method(), "HMAC-SHA256");
    let token = alice.log_in(&server, &provider).await;
    assert_eq!(me_through(&provider, &token).await, me_of("alice", &client));
    server.stop().await;
}

// ---------------------------------------------------------------------------
