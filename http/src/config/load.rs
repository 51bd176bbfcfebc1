//! Reading a [`Config`] from its layers: a flag wins over the environment
//! variable `CREDLOG_<KEY>` (`CREDLOG_<SECTION>_<KEY>` for a key of a
//! section), which wins over the file, which wins over the defaults. An
//! unknown key or a bad value, wherever it comes from, is one
//! [`ConfigError`] naming the key and what was expected.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::Config;
use crate::app::PublicUrl;

/// What the command line gave (`None`, `false`: not given, the layers
/// below decide): `credlog serve`'s flags; the other commands give only
/// `data`.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--addr`.
    pub addr: Option<SocketAddr>,
    /// `--data` (it also turns `memory` off: the flag names a directory).
    pub data: Option<PathBuf>,
    /// `--memory`.
    pub memory: bool,
    /// `--postgres` (it also turns `memory` off and `data` away).
    pub postgres: Option<String>,
    /// `--demo`.
    pub demo: bool,
    /// `--public-url`.
    pub public_url: Option<PublicUrl>,
    /// `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    pub tls_key: Option<PathBuf>,
    /// `--admin-addr`.
    pub admin_addr: Option<SocketAddr>,
    /// `--log-format`, as given: read like the file's and the environment's
    /// value, so that a bad one is refused the same way, naming the key.
    pub log_format: Option<String>,
}

/// A configuration that cannot be used: one line saying which key (and
/// where it was set) and what was expected. A usage error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The sections whose `CREDLOG_<SECTION>_...` variables are all taken for
/// settings, so that a misspelt one is an error rather than ignored.
const SECTIONS: [&str; 6] = [
    "oauth1",
    "oauth2",
    "sessions",
    "throttle",
    "connections",
    "store",
];

/// Every key an environment variable can set, as (variable, key): each
/// top-level key and each key of a section that is not a table itself
/// (`[oauth2.grants.*]` and `[oauth2.error_uris]` are the file's alone).
pub fn env_names() -> Vec<(String, String)> {
    keys()
        .into_iter()
        .map(|(key, _)| (env_name(&key), key))
        .collect()
}

/// `oauth1.timestamp_window_seconds` -> `CREDLOG_OAUTH1_TIMESTAMP_WINDOW_SECONDS`.
fn env_name(key: &str) -> String {
    format!("CREDLOG_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// Every key with a value of its kind: the defaults with every optional
/// key set, written out, so that the list follows [`Config`] by itself.
fn keys() -> Vec<(String, Value)> {
    let mut full = Config {
        public_url: PublicUrl::parse("https://auth.example.com").ok(),
        tls_cert: Some(PathBuf::from("cert.pem")),
        tls_key: Some(PathBuf::from("key.pem")),
        admin_addr: Some(SocketAddr::from(([127, 0, 0, 1], 8081))),
        postgres: Some("postgres://localhost/credlog".to_owned()),
        password_checks: Some(1),
        ..Config::default()
    };
    full.oauth1.token_lifetime_seconds = Some(1);
    full.oauth2.refresh_token_lifetime_seconds = Some(1);
    full.oauth2.profile = Some(credlog_core::domain::Profile::Fapi2);
    full.store.retain_verified_seconds = Some(1);
    full.oauth2.allowed_scopes = credlog_core::rfc6749::Scope::parse("profile").ok();
    let Ok(Value::Table(table)) = Value::try_from(&full) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for (name, value) in table {
        match value {
            Value::Table(section) => keys.extend(
                section
                    .into_iter()
                    .filter(|(_, value)| !value.is_table())
                    .map(|(key, value)| (format!("{name}.{key}"), value)),
            ),
            value => keys.push((name, value)),
        }
    }
    keys
}

/// The configuration from `file` (if any), the environment `env` (every
/// variable; those not credlog's are passed over) and `flags`.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    flags: Flags,
) -> Result<Config, ConfigError> {
    let mut table = match file {
        Some(path) => read_file(path)?,
        None => Table::new(),
    };
    let file_label = file.map(|path| path.display().to_string());
    let mut set_by = overlay_env(&mut table, env)?;
    if let Some(format) = flags.log_format {
        table.insert("log_format".to_owned(), Value::String(format));
        set_by.insert("log_format".to_owned(), "--log-format".to_owned());
    }
    let source = |key: &str| -> String {
        let key = key.split('[').next().unwrap_or(key);
        match set_by.get(key) {
            Some(variable) => format!(" (from {variable})"),
            None => file_label
                .as_ref()
                .map(|file| format!(" (in {file})"))
                .unwrap_or_default(),
        }
    };
    let mut config: Config =
        serde_path_to_error::deserialize(Value::Table(table)).map_err(|error| {
            let key = error.path().to_string();
            ConfigError(format!(
                "{key}{}: {}",
                source(&key),
                error.inner().message()
            ))
        })?;
    if let (Some(cert), Some(key)) = (flags.tls_cert, flags.tls_key) {
        config.tls_cert = Some(cert);
        config.tls_key = Some(key);
    }
    config
        .check()
        .map_err(|(key, message)| ConfigError(format!("{key}{}: {message}", source(key))))?;
    if let Some(addr) = flags.addr {
        config.addr = addr;
    }
    if let Some(data) = flags.data {
        config.data = data;
        config.memory = false;
        config.postgres = None;
    }
    if let Some(url) = flags.postgres {
        config.postgres = Some(url);
        config.memory = false;
    }
    if flags.memory {
        config.memory = true;
        config.postgres = None;
    }
    config.demo |= flags.demo;
    if let Some(url) = flags.public_url {
        config.public_url = Some(url);
    }
    if let Some(addr) = flags.admin_addr {
        config.admin_addr = Some(addr);
    }
    Ok(config)
}

/// The file's keys, checked against [`Config`] here, where the error can
/// say on which line the key is.
fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|error| ConfigError(format!("cannot read {shown}: {error}")))?;
    let line = |span: Option<std::ops::Range<usize>>| {
        span.map(|span| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!(" line {line}")
        })
        .unwrap_or_default()
    };
    let deserializer = toml::Deserializer::parse(&text).map_err(|error| {
        ConfigError(format!(
            "{shown}{} is not TOML: {}",
            line(error.span()),
            error.message().trim()
        ))
    })?;
    serde_path_to_error::deserialize::<_, Config>(deserializer).map_err(|error| {
        ConfigError(format!(
            "{} (in {shown}{}): {}",
            error.path(),
            line(error.inner().span()),
            error.inner().message().trim()
        ))
    })?;
    text.parse::<Table>()
        .map_err(|error| ConfigError(format!("{shown} is not TOML: {}", error.message().trim())))
}

/// Sets each key a `CREDLOG_*` variable names; returns which variable set
/// which key.
fn overlay_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let keys: BTreeMap<String, (String, Value)> = keys()
        .into_iter()
        .map(|(key, value)| (env_name(&key), (key, value)))
        .collect();
    let mut set = BTreeMap::new();
    for (variable, text) in env {
        let Some((key, kind)) = keys.get(&variable) else {
            let in_a_section = SECTIONS
                .iter()
                .any(|section| variable.starts_with(&env_name(&format!("{section}."))));
            if in_a_section {
                return Err(ConfigError(format!(
                    "{variable} is not a setting (credlog.example.toml lists every key; its variable is CREDLOG_<SECTION>_<KEY>)"
                )));
            }
            continue;
        };
        let value = env_value(kind, &text);
        match key.split_once('.') {
            Some((section, name)) => {
                let section = table
                    .entry(section.to_owned())
                    .or_insert_with(|| Value::Table(Table::new()));
                if let Value::Table(section) = section {
                    section.insert(name.to_owned(), value);
                }
            }
            None => {
                table.insert(key.clone(), value);
            }
        }
        set.insert(key.clone(), variable);
    }
    Ok(set)
}

/// An environment variable's text as a value of the key's kind: a number,
/// `true` or `false`, a list separated by commas or spaces, or the text
/// itself. Text that is not of the kind stays text, for the key's own
/// error to name what it expected.
fn env_value(kind: &Value, text: &str) -> Value {
    match kind {
        Value::Integer(_) => text
            .trim()
            .parse()
            .map_or_else(|_| Value::String(text.to_owned()), Value::Integer),
        Value::Boolean(_) => match text.trim() {
            "true" | "1" => Value::Boolean(true),
            "false" | "0" => Value::Boolean(false),
            _ => Value::String(text.to_owned()),
        },
        Value::Array(_) => Value::Array(
            text.split([',', ' '])
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        ),
        _ => Value::String(text.to_owned()),
    }
}
