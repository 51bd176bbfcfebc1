use std::collections::BTreeSet;
use std::io::Write;

use super::*;

const EXAMPLE: &str = include_str!("../../../credlog.example.toml");

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn load_text(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let file = file(text);
    load(Some(file.path()), env(vars), Flags::default())
}

#[test]
fn the_example_file_holds_the_defaults() {
    assert_eq!(load_text(EXAMPLE, &[]).unwrap(), Config::default());
}

#[test]
fn the_example_file_documents_every_key() {
    // Each key, set or commented out, under its section's header.
    let mut documented = BTreeSet::new();
    let mut section = String::new();
    for line in EXAMPLE.lines() {
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_end_matches(']').to_owned();
            continue;
        }
        let line = line.strip_prefix("# ").unwrap_or(line);
        if let Some((key, _)) = line.split_once(" = ") {
            if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                let path = if section.is_empty() {
                    key.to_owned()
                } else {
                    format!("{section}.{key}")
                };
                documented.insert(path);
            }
        }
    }
    for (variable, key) in env_names() {
        assert!(
            documented.contains(&key),
            "{key} ({variable}) is not in credlog.example.toml"
        );
    }
}

#[test]
fn the_values_reach_the_settings_and_limits() {
    let config = load_text(
        "password_checks = 3\n\
         [oauth1]\ntimestamp_window_seconds = 60\nsignature_methods = [\"RSA-SHA1\"]\n\
         token_lifetime_seconds = 86400\n\
         [oauth2]\ncode_lifetime_seconds = 120\nallow_plain_pkce = false\nallowed_scopes = \"profile email\"\n\
         device_code_lifetime_seconds = 300\ndevice_poll_interval_seconds = 9\n\
         [oauth2.grants.password]\naccess_token_lifetime_seconds = 5\n\
         [oauth2.error_uris]\ninvalid_grant = \"https://example.com/e\"\n\
         [sessions]\nidle_seconds = 7\n\
         [throttle]\nuser_failures = 2\n\
         [connections]\nhead_timeout_seconds = 3\nmax_body_bytes = 100\n\
         [scopes]\nprofile = \"See your user name\"\n\"https://api.example/read\" = \"Read\"\n",
        &[],
    )
    .unwrap();
    let settings = config.settings();
    assert_eq!(settings.scope_descriptions["profile"], "See your user name");
    assert_eq!(
        settings.scope_descriptions["https://api.example/read"],
        "Read"
    );
    assert_eq!(settings.oauth1.timestamp_window, 60);
    assert_eq!(settings.token_lifetime, Some(86400));
    assert_eq!(Config::default().settings().token_lifetime, None);
    assert_eq!(
        settings
            .oauth1
            .signature_methods
            .names()
            .collect::<Vec<_>>(),
        ["RSA-SHA1"]
    );
    assert_eq!(settings.oauth2.code_lifetime, 120);
    assert_eq!(settings.oauth2.device_code_lifetime, 300);
    assert_eq!(settings.oauth2.device_poll_interval, 9);
    assert!(!settings.oauth2.allow_plain_pkce);
    assert_eq!(
        settings.oauth2.allowed_scopes.as_ref().unwrap().to_string(),
        "profile email"
    );
    assert_eq!(settings.oauth2.access_token_lifetime("password"), 5);
    assert_eq!(
        settings.oauth2.error_uris["invalid_grant"],
        "https://example.com/e"
    );
    assert_eq!(settings.session_idle, 7);
    assert_eq!(settings.throttle.user_failures, 2);
    assert_eq!(settings.body_limit, 100);
    assert_eq!(settings.password_checks, 3);
    assert_eq!(config.limits().head_timeout, Duration::from_secs(3));
}

#[test]
fn flags_win_over_the_environment_which_wins_over_the_file() {
    let text = "addr = \"127.0.0.1:1\"\npublic_url = \"https://file.example\"\n\
                [oauth1]\ntimestamp_window_seconds = 60\n";
    let vars = [
        ("CREDLOG_ADDR", "127.0.0.1:2"),
        ("CREDLOG_OAUTH1_TIMESTAMP_WINDOW_SECONDS", "90"),
        ("CREDLOG_OAUTH1_SIGNATURE_METHODS", "HMAC-SHA1, PLAINTEXT"),
        ("CREDLOG_MEMORY", "true"),
        ("CREDLOG_CLIENT_ID", "not ours"),
    ];
    let config = load_text(text, &vars).unwrap();
    assert_eq!(config.addr.to_string(), "127.0.0.1:2");
    assert_eq!(config.oauth1.timestamp_window_seconds, 90);
    assert_eq!(
        config.oauth1.signature_methods,
        [
            SignatureMethodName::HmacSha1,
            SignatureMethodName::Plaintext
        ]
    );
    assert!(config.memory);
    assert_eq!(
        config.public_url.as_ref().unwrap().origin(),
        "https://file.example"
    );
    let flags = Flags {
        addr: Some("127.0.0.1:3".parse().unwrap()),
        data: Some("elsewhere".into()),
        ..Flags::default()
    };
    let file = file(text);
    let config = load(Some(file.path()), env(&vars), flags).unwrap();
    assert_eq!(config.addr.to_string(), "127.0.0.1:3");
    assert!(!config.memory, "--data names a directory");
}

#[test]
fn errors_name_the_key_and_what_was_expected() {
    let error = load_text("[oauth1]\n\ntimestamp_window = 60\n", &[])
        .unwrap_err()
        .to_string();
    assert!(error.contains("oauth1.timestamp_window"), "{error}");
    assert!(error.contains("line 3"), "{error}");
    assert!(error.contains("timestamp_window_seconds"), "{error}");
    let error = load_text("[oauth1]\ntimestamp_window_seconds = \"soon\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("oauth1.timestamp_window_seconds")
            && error.contains("a whole number of seconds"),
        "{error}"
    );
    let error = load_text("", &[("CREDLOG_OAUTH1_TIMESTAMP_WINDOW_SECONDS", "-1")])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("oauth1.timestamp_window_seconds")
            && error.contains("CREDLOG_OAUTH1_TIMESTAMP_WINDOW_SECONDS"),
        "{error}"
    );
    let error = load_text("", &[("CREDLOG_OAUTH1_SIGNATURE_METHODS", "MD5")])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("oauth1.signature_methods") && error.contains("HMAC-SHA1"),
        "{error}"
    );
    let error = load_text("", &[("CREDLOG_THROTTLE_USER_FAILURE", "3")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("CREDLOG_THROTTLE_USER_FAILURE"), "{error}");
    let error = load_text("[oauth2]\ncode_lifetime_seconds = 3600\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("oauth2.code_lifetime_seconds") && error.contains("600"),
        "{error}"
    );
    // A token credential dead on arrival is a mistake, not a setting.
    let error = load_text("[oauth1]\ntoken_lifetime_seconds = 0\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("oauth1.token_lifetime_seconds") && error.contains("at least 1"),
        "{error}"
    );
    let error = load_text("[oauth2.grants.magic]\nissue_refresh_token = true\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("oauth2.grants") && error.contains("magic"),
        "{error}"
    );
    for scopes in [
        "\"two words\" = \"x\"\n",
        "\"\" = \"x\"\n",
        "profile = \" \"\n",
    ] {
        let error = load_text(&format!("[scopes]\n{scopes}"), &[])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("scopes"), "{scopes}: {error}");
    }
    let error = load_text("public_url = \"ftp://x\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(error.contains("public_url"), "{error}");
    let error = load_text("[oauth1\n", &[]).unwrap_err().to_string();
    assert!(error.contains("is not TOML"), "{error}");
    for error in [
        load_text("[oauth1]\n\ntimestamp_window = 60\n", &[]).unwrap_err(),
        load_text("[oauth1\n", &[]).unwrap_err(),
    ] {
        assert_eq!(error.to_string().lines().count(), 1, "{error}");
    }
}

#[test]
fn the_printed_settings_read_back_the_same() {
    let config = load_text(
        "public_url = \"https://auth.example.com\"\npassword_checks = 2\n\
         admin_addr = \"9000\"\nlog_format = \"json\"\n\
         [oauth2]\nrefresh_token_lifetime_seconds = 60\nallowed_scopes = \"a b\"\n\
         [oauth2.grants.password]\nauth_methods = [\"client_secret_post\"]\n\
         [oauth2.error_uris]\ninvalid_grant = \"https://example.com/e\"\n\
         [scopes]\nprofile = \"See your user name\"\n\"a:b.c\" = \"Say \\\"hi\\\"\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(config.scopes.len(), 2);
    let printed = toml::to_string(&config).unwrap();
    assert_eq!(load_text(&printed, &[]).unwrap(), config, "{printed}");
}

#[test]
fn every_key_has_its_variable() {
    let names: BTreeSet<String> = env_names().into_iter().map(|(name, _)| name).collect();
    for name in [
        "CREDLOG_ADDR",
        "CREDLOG_DATA",
        "CREDLOG_MEMORY",
        "CREDLOG_DEMO",
        "CREDLOG_PUBLIC_URL",
        "CREDLOG_PASSWORD_CHECKS",
        "CREDLOG_ADMIN_ADDR",
        "CREDLOG_LOG_FORMAT",
        "CREDLOG_OAUTH1_TIMESTAMP_WINDOW_SECONDS",
        "CREDLOG_OAUTH1_TOKEN_LIFETIME_SECONDS",
        "CREDLOG_OAUTH2_REFRESH_TOKEN_LIFETIME_SECONDS",
        "CREDLOG_OAUTH2_ALLOWED_SCOPES",
        "CREDLOG_CONNECTIONS_MAX_CONNECTIONS",
    ] {
        assert!(names.contains(name), "{name}: {names:?}");
    }
}

#[test]
fn admin_addr_is_an_ip_and_port_or_a_bare_port_on_loopback() {
    let addr = |text: &str, vars: &[(&str, &str)]| load_text(text, vars).unwrap().admin_addr;
    assert_eq!(addr("", &[]), None);
    let loopback = Some(SocketAddr::from(([127, 0, 0, 1], 9000)));
    assert_eq!(addr("admin_addr = \"9000\"\n", &[]), loopback);
    assert_eq!(addr("admin_addr = 9000\n", &[]), loopback);
    assert_eq!(addr("admin_addr = \"127.0.0.1:9000\"\n", &[]), loopback);
    let all = Some(SocketAddr::from(([0, 0, 0, 0], 9001)));
    let vars = [("CREDLOG_ADMIN_ADDR", "0.0.0.0:9001")];
    assert_eq!(addr("admin_addr = \"9000\"\n", &vars), all);
    let flags = Flags {
        admin_addr: Some(SocketAddr::from(([127, 0, 0, 1], 9002))),
        ..Flags::default()
    };
    let file = file("admin_addr = \"9000\"\n");
    let config = load(Some(file.path()), env(&vars), flags).unwrap();
    assert_eq!(config.admin_addr.unwrap().port(), 9002);

    let error = load_text("admin_addr = \"localhost\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("admin_addr") && error.contains("neither an ip:port nor a port"),
        "{error}"
    );
    let error = load_text("", &[("CREDLOG_ADMIN_ADDR", "99999")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("CREDLOG_ADMIN_ADDR"), "{error}");
}

#[test]
fn log_format_is_text_or_json_from_any_layer() {
    assert_eq!(load_text("", &[]).unwrap().log_format, LogFormat::Text);
    let json = load_text("log_format = \"json\"\n", &[]).unwrap();
    assert_eq!(json.log_format, LogFormat::Json);
    let vars = [("CREDLOG_LOG_FORMAT", "text")];
    let text = load_text("log_format = \"json\"\n", &vars).unwrap();
    assert_eq!(text.log_format, LogFormat::Text);
    let flags = Flags {
        log_format: Some("json".to_owned()),
        ..Flags::default()
    };
    let file = file("log_format = \"text\"\n");
    let config = load(Some(file.path()), env(&vars), flags).unwrap();
    assert_eq!(config.log_format, LogFormat::Json);

    // A bad value names the key and the layer it came from.
    let flags = Flags {
        log_format: Some("yaml".to_owned()),
        ..Flags::default()
    };
    let error = load(None, env(&vars), flags).unwrap_err().to_string();
    assert!(
        error.starts_with("log_format (from --log-format)") && error.contains("json"),
        "{error}"
    );
    let error = load_text("", &[("CREDLOG_LOG_FORMAT", "yaml")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("CREDLOG_LOG_FORMAT"), "{error}");
    let error = load_text("log_format = \"yaml\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("log_format") && error.contains("line 1"),
        "{error}"
    );
}

#[test]
fn access_token_format_is_opaque_or_jwt_from_the_file_or_its_variable() {
    assert_eq!(
        Config::default().settings().oauth2.access_token_format,
        AccessTokenFormat::Opaque
    );
    let config = load_text("[oauth2]\naccess_token_format = \"jwt\"\n", &[]).unwrap();
    assert_eq!(
        config.settings().oauth2.access_token_format,
        AccessTokenFormat::Jwt
    );
    let config = load_text("", &[("CREDLOG_OAUTH2_ACCESS_TOKEN_FORMAT", "jwt")]).unwrap();
    assert_eq!(
        config.settings().oauth2.access_token_format,
        AccessTokenFormat::Jwt
    );
    let error = load_text("[oauth2]\naccess_token_format = \"paseto\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("oauth2.access_token_format") && error.contains("jwt"),
        "{error}"
    );
}

#[test]
fn the_fapi_profile_par_and_dpop_settings_come_from_the_file_or_their_variables() {
    let defaults = Config::default().settings().oauth2;
    assert_eq!(defaults.profile, None);
    assert!(!defaults.require_pushed_authorization_requests);
    assert_eq!(defaults.pushed_request_lifetime, 60);
    assert_eq!(defaults.dpop_proof_window, 60);
    assert!(!defaults.dpop_nonces);
    let config = load_text(
        "[oauth2]\nprofile = \"fapi2\"\nrequire_pushed_authorization_requests = true\n\
         pushed_request_lifetime_seconds = 30\ndpop_proof_window_seconds = 10\n\
         dpop_nonces = true\n",
        &[],
    )
    .unwrap();
    let oauth2 = config.settings().oauth2;
    assert_eq!(oauth2.profile, Some(credlog_core::domain::Profile::Fapi2));
    assert!(oauth2.require_pushed_authorization_requests);
    assert_eq!(oauth2.pushed_request_lifetime, 30);
    assert_eq!(oauth2.dpop_proof_window, 10);
    assert!(oauth2.dpop_nonces);
    let config = load_text("", &[("CREDLOG_OAUTH2_PROFILE", "fapi2")]).unwrap();
    assert_eq!(
        config.settings().oauth2.profile,
        Some(credlog_core::domain::Profile::Fapi2)
    );
    let error = load_text("[oauth2]\nprofile = \"fapi1\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(error.contains("oauth2.profile"), "{error}");
}
