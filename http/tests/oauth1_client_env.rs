//! The OAuth 1 client configured from the environment (`{NAME}_CLIENT_ID`
//! ...), explicit settings winning.

mod support;

use credlog_client::{ClientError, ClientOptions, Method, ProviderConfig, Registry};
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
