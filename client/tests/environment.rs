//! The OAuth 1 client's settings from the environment (`{NAME}_CLIENT_ID`
//! ...): what is malformed, what the code already covers, and what their
//! `Debug` shows.

mod support;

use credlog_client::{ClientError, ProviderConfig, Registry};
use credlog_conformance::TEST_RSA_PRIVATE_KEY_PEM;
use credlog_core::rfc5849::encoding::form_encode;
use support::*;

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
        "max_response_bytes=0",
        "max_response_bytes=lots",
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
            "signature_method=hmac-sha256&signature_type=body&realm=photos&timeout=2.5&user_agent=app%2F1&max_response_bytes=4096"
        ),
        Ok(())
    );
    assert_eq!(with("CREDLOG_CLIENT_KWARGS", ""), Ok(()));
}

/// A config is printed with `{:?}` in logs and panics: every setting shows
/// but the client secret and the RSA private key.
#[test]
fn debug_shows_every_setting_but_the_secret_and_the_private_key() {
    let kwargs = form_encode([
        ("signature_method", "RSA-SHA1"),
        ("rsa_key", TEST_RSA_PRIVATE_KEY_PEM),
        ("realm", "photos"),
        ("user_agent", "printer/1.0"),
    ]);
    let env = env_of(&[
        ("CREDLOG_CLIENT_ID", "printer"),
        ("CREDLOG_CLIENT_SECRET", "clientSecretNeverShown"),
        ("CREDLOG_REQUEST_TOKEN_URL", "http://provider.test/initiate"),
        ("CREDLOG_ACCESS_TOKEN_URL", "http://provider.test/token"),
        ("CREDLOG_AUTHORIZE_URL", "http://provider.test/authorize"),
        ("CREDLOG_CLIENT_KWARGS", &kwargs),
    ]);
    let config = ProviderConfig::from_env("credlog", &*env).unwrap();
    assert_eq!(
        config.client_secret.as_deref(),
        Some("clientSecretNeverShown")
    );
    assert_eq!(
        config.client_options.rsa_private_key.as_deref(),
        Some(TEST_RSA_PRIVATE_KEY_PEM)
    );
    // A line from the middle of the key: base64 that no other setting holds.
    let key_line = TEST_RSA_PRIVATE_KEY_PEM.lines().nth(5).unwrap();
    for shown in [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{:?}", config.client_options),
    ] {
        for secret in ["clientSecretNeverShown", "PRIVATE KEY", key_line] {
            assert!(!shown.contains(secret), "shows {secret:?}: {shown}");
        }
        assert!(shown.contains("<redacted>"), "{shown}");
        for visible in ["RsaSha1", "\"photos\"", "\"printer/1.0\""] {
            assert!(shown.contains(visible), "hides {visible}: {shown}");
        }
    }
    let shown = format!("{config:?}");
    assert!(shown.contains("client_secret: Some(<redacted>)"), "{shown}");
    assert!(
        shown.contains("rsa_private_key: Some(<redacted>)"),
        "{shown}"
    );
    for visible in [
        "client_id: Some(\"printer\")",
        "http://provider.test/initiate",
        "http://provider.test/token",
        "http://provider.test/authorize",
    ] {
        assert!(shown.contains(visible), "hides {visible}: {shown}");
    }
    // Unset, they say so.
    let shown = format!("{:?}", ProviderConfig::default());
    assert!(shown.contains("client_secret: None"), "{shown}");
    assert!(shown.contains("rsa_private_key: None"), "{shown}");

    // Nor does the provider registered from it show them.
    let provider = Registry::new()
        .with_env(env)
        .register("credlog", ProviderConfig::default())
        .unwrap();
    let shown = format!("{provider:?}");
    for secret in ["clientSecretNeverShown", "PRIVATE KEY", key_line] {
        assert!(!shown.contains(secret), "shows {secret:?}: {shown}");
    }
}
