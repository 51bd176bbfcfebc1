//! `credlog`: the server and its operator commands (CONTRACT.md, "Command line").
//!
//! Exit status: 0 on success, 1 on a runtime error, 2 on a usage error,
//! with one line on stderr saying what failed.
#![forbid(unsafe_code)]

/// mimalloc: the signed request path allocates small strings for every
/// request across two worker threads; under 64-connection load it served
/// about 25% more signed requests a second than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};
use credlog_core::rfc6749::{Oauth2Server, Scope};
use credlog_core::store::CredentialStore;
use credlog_core::store::StoreError;
use credlog_core::throttle::Throttle;
use credlog_http::accounts::{add_user, register_client_on, ClientMetadata};
use credlog_http::admin::{ServeFile, MAX_WAIT};
use credlog_http::app::{system_clock, AdminToken, PublicUrl};
use credlog_http::audit::LogPage;
use credlog_http::config::{self, Config, ConfigError, Flags, LogFormat};
use credlog_http::metrics::Metrics;
use credlog_http::operator::{self, Revocation};
use credlog_http::{audit, demo, App, Settings};
use credlog_storage_memory::MemoryStore;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::{SledStore, Usage};

#[derive(Parser)]
#[command(
    name = "credlog",
    version,
    about = "An OAuth provider whose every credential lives in an audited event log"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the OAuth endpoints, pages and /api/me until Ctrl-C or SIGTERM.
    Serve(Serve),
    /// Manages resource owners.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manages clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Revokes a token, every credential issued to a client, or every
    /// credential a user granted.
    Revoke(Revoke),
    /// Prints the audit trail, one event a line (never a secret).
    Log(Log),
    /// Replays the log, rebuilds the projections and compares; exits 1 on a mismatch.
    Check(Check),
    /// Replays a data directory's log into an empty PostgreSQL database.
    Migrate(Migrate),
    /// Manages the keys ID tokens are signed with (OpenID Connect).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Makes a new signing key the current one; the old one stays in the
    /// JWK Set until every token it signed has expired.
    Rotate {
        #[command(flatten)]
        data: DataDir,
    },
    /// Lists the signing keys by key id, oldest first (never a private key).
    List {
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Args)]
struct Migrate {
    /// The data directory (embedded sled) to read.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// The PostgreSQL database to write (postgres://USER@HOST:PORT/DB):
    /// it must hold no records yet.
    #[arg(long, value_name = "URL")]
    to: String,
    /// The settings file `credlog serve` reads (the protocol settings the
    /// store is kept under). Also read from CREDLOG_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct Check {
    #[command(flatten)]
    data: DataDir,
    /// Replay the whole log, not only the records after the snapshot the
    /// last check kept.
    #[arg(long)]
    full: bool,
}

/// Where the operator commands find their store and the protocol settings
/// it is kept under: the same layers as `credlog serve`'s, so that they
/// open the directory the server runs on.
#[derive(Args)]
struct DataDir {
    /// The data directory (embedded sled) [default: ./credlog-data]. Also
    /// read from CREDLOG_DATA, or the settings file's `data`.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// A PostgreSQL database (postgres://USER@HOST:PORT/DB) in place of the
    /// data directory. Also read from CREDLOG_POSTGRES, or the settings
    /// file's `postgres`.
    #[arg(long, value_name = "URL", conflicts_with = "data")]
    postgres: Option<String>,
    /// The settings file `credlog serve` reads (its `data`, and the
    /// protocol settings the store is kept under). Also read from
    /// CREDLOG_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl DataDir {
    /// The settings: `--data` over `CREDLOG_*` over the file over the
    /// defaults, as for `credlog serve`; a bad one is a usage error.
    fn config(&self) -> Result<Config, Failure> {
        let flags = Flags {
            data: self.data.clone(),
            postgres: self.postgres.clone(),
            ..Flags::default()
        };
        config::load(config_file(&self.config).as_deref(), env(), flags)
            .map_err(|error| Failure::usage(error.to_string()))
    }

    /// The store (the data directory, or the PostgreSQL database), under
    /// the settings' timestamp window.
    async fn open(&self) -> Result<Box<dyn CredentialStore>, Failure> {
        let config = self.config()?;
        open(&config, &config.settings(), Usage::Once).await
    }
}

/// `credlog revoke`: exactly one of `--token`, `--client`, `--user` (none,
/// or two, is a usage error).
#[derive(Args)]
#[command(group(ArgGroup::new("what").required(true).args(["token", "client", "user"])))]
struct Revoke {
    /// A token and every credential issued from it: an OAuth 1 token
    /// credential's oauth_token, or an OAuth 2 access or refresh token
    /// (which may start with `-`: base64url's alphabet holds it).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    token: Option<String>,
    /// Every credential issued to this client; the client stays.
    #[arg(long, value_name = "ID")]
    client: Option<String>,
    /// Every credential this user granted, to every client.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    #[command(flatten)]
    data: DataDir,
}

#[derive(Args)]
struct Serve {
    /// The address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// The data directory (embedded sled) [default: ./credlog-data].
    #[arg(long, value_name = "DIR", conflicts_with_all = ["memory", "postgres"])]
    data: Option<PathBuf>,
    /// Keep nothing on disk.
    #[arg(long, conflicts_with = "postgres")]
    memory: bool,
    /// Keep the store in this PostgreSQL database (postgres://USER@HOST:PORT/DB),
    /// which any number of servers may share. Also read from CREDLOG_POSTGRES.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Create (if absent) user demo/demo and one client of each kind, and print them.
    #[arg(long)]
    demo: bool,
    /// The URL clients use when a proxy in front ends TLS, e.g.
    /// https://auth.example.com: OAuth 1 base strings, the metadata issuer
    /// and every absolute URL are built on it, whatever the Host header says.
    #[arg(long, value_name = "URL", value_parser = PublicUrl::parse)]
    public_url: Option<PublicUrl>,
    /// Speak HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE.pem", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE.pem", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A TOML file of settings (credlog.example.toml lists every key). A
    /// flag wins over the variable CREDLOG_<KEY> (CREDLOG_<SECTION>_<KEY>
    /// for a key of a section), which wins over the file. Also read from
    /// CREDLOG_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the settings in effect, as TOML, and exit without serving.
    #[arg(long)]
    print_config: bool,
    /// The operators' listener (GET /healthz, /metrics, /admin/log): an
    /// ip:port, or a bare port for 127.0.0.1:PORT. Without it, a server on
    /// a data directory still answers /admin/log on 127.0.0.1 at a free
    /// port, for `credlog log`.
    #[arg(long, value_name = "ADDR", value_parser = config::parse_admin_addr)]
    admin_addr: Option<SocketAddr>,
    /// How the logs on stderr are written: text (for people) or json (one
    /// object a line, for a log collector) [default: text]. CREDLOG_LOG
    /// sets which are written [default: warn,credlog=info].
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a user.
    Add {
        /// The user name.
        name: String,
        /// The password.
        #[arg(long)]
        password: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Prints every user's name, one a line.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Gives a user a new password and ends the user's sessions.
    Passwd {
        /// The user name.
        name: String,
        /// The new password.
        #[arg(long)]
        password: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Removes a user: every client it owns and every credential it granted end.
    Remove {
        /// The user name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Registers a client and prints its registration (with the secret, shown once) as JSON.
    Add {
        /// The user who owns it.
        #[arg(long)]
        owner: String,
        /// Its name, shown on consent pages.
        #[arg(long)]
        name: String,
        /// A redirect URI (OAuth 2) and callback (OAuth 1); repeat for more.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// Its scope, space-separated.
        #[arg(long)]
        scope: Option<String>,
        /// A grant type; repeat for more.
        #[arg(long = "grant-type", value_name = "T")]
        grant_types: Vec<String>,
        /// client_secret_basic, client_secret_post, none or private_key_jwt
        /// (which needs --jwks).
        #[arg(long = "auth-method", value_name = "M")]
        auth_method: Option<String>,
        /// An RSA public key (PEM file) for OAuth 1 RSA-SHA1.
        #[arg(long = "rsa-public-key", value_name = "FILE.pem")]
        rsa_public_key: Option<PathBuf>,
        /// The client's public keys, a JWK Set in JSON (RFC 7517 5), for
        /// private_key_jwt and the JWT bearer grant (RFC 7523).
        #[arg(long, value_name = "FILE.json")]
        jwks: Option<PathBuf>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Prints one line a client, `ID OWNER NAME` (escaped as `credlog log`
    /// escapes them); removed clients are left out.
    List {
        /// Only this user's clients.
        #[arg(long, value_name = "NAME")]
        owner: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Prints a client's registration as JSON (never its secret).
    Show {
        /// The client id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Gives a client a new secret and prints it, once, as JSON; the old one stops working.
    RotateSecret {
        /// The client id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Removes a client: it and every credential issued to it end.
    Remove {
        /// The client id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Args)]
struct Log {
    #[command(flatten)]
    data: DataDir,
    /// Start at this sequence number.
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    since: u64,
    /// Only events about this client.
    #[arg(long, value_name = "ID")]
    client: Option<String>,
    /// Only events about this user.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// One JSON object a line.
    #[arg(long)]
    json: bool,
    /// Keep printing events as they are appended.
    #[arg(long)]
    follow: bool,
    /// Also the signed requests a retention moved to the archive
    /// (`[store] retain_verified_seconds`), in order among the rest.
    #[arg(long)]
    archive: bool,
}

/// A failure: one line for stderr, and whether it is a usage error (exit
/// 2) rather than a runtime one (exit 1).
struct Failure(String, bool);

impl Failure {
    fn usage(message: String) -> Self {
        Failure(message, true)
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string(), false)
    }
}

/// The settings `credlog serve` was given, read before anything starts: a
/// bad one is a usage error (exit 2), like a bad flag.
fn serve_config(serve: &Serve) -> Result<Config, ConfigError> {
    let flags = Flags {
        addr: serve.addr,
        data: serve.data.clone(),
        memory: serve.memory,
        postgres: serve.postgres.clone(),
        demo: serve.demo,
        public_url: serve.public_url.clone(),
        tls_cert: serve.tls_cert.clone(),
        tls_key: serve.tls_key.clone(),
        admin_addr: serve.admin_addr,
        log_format: serve.log_format.clone(),
    };
    config::load(config_file(&serve.config).as_deref(), env(), flags)
}

/// The settings file: `--config`, else `CREDLOG_CONFIG`.
fn config_file(flag: &Option<PathBuf>) -> Option<PathBuf> {
    flag.clone()
        .or_else(|| std::env::var_os("CREDLOG_CONFIG").map(PathBuf::from))
}

/// The environment, for [`config::load`] (a variable that is not text
/// cannot be credlog's).
fn env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
}

fn main() -> ExitCode {
    // Whatever the operator's umask, every file credlog writes (sled's
    // files and snapshots, the demo key, the serve file) is its user's
    // alone: they hold client and token secrets (CONTRACT.md "Deployment").
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("credlog: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(Failure(message, usage)) => {
            eprintln!("credlog: {message}");
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Serve(serve) => {
            let config = serve_config(&serve).map_err(|error| Failure::usage(error.to_string()))?;
            if serve.print_config {
                print!("{}", toml::to_string(&config)?);
                return Ok(ExitCode::SUCCESS);
            }
            run_serve(config).await
        }
        Command::User { command } => run_user(command).await,
        Command::Client { command } => run_client(command).await,
        Command::Revoke(revoke) => run_revoke(revoke).await,
        Command::Log(log) => run_log(log).await,
        Command::Migrate(migrate) => run_migrate(migrate).await,
        Command::Keys { command } => run_keys(command).await,
        Command::Check(check) => {
            let store = check.data.open().await?;
            let report = credlog_http::progress::check(&*store, check.full).await?;
            for mismatch in &report.mismatches {
                println!("{mismatch}");
            }
            if report.is_consistent() {
                match report.snapshot {
                    Some(seq) => println!(
                        "ok: {} records replayed after the snapshot at record {seq}, projections match",
                        report.records
                    ),
                    None => println!("ok: {} records replayed, projections match", report.records),
                }
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "credlog: {} mismatches between the log and the projections",
                    report.mismatches.len()
                );
                Ok(ExitCode::from(1))
            }
        }
    }
}

async fn run_user(command: UserCommand) -> Result<ExitCode, Failure> {
    match command {
        UserCommand::Add {
            name,
            password,
            data,
        } => {
            let store = data.open().await?;
            add_user(&*store, &name, &password, now()).await?;
            eprintln!("added user {name}");
        }
        UserCommand::List { data } => {
            for line in operator::user_lines(&*data.open().await?).await? {
                println!("{line}");
            }
        }
        UserCommand::Passwd {
            name,
            password,
            data,
        } => {
            let store = data.open().await?;
            operator::change_password(&*store, &name, &password, now()).await?;
            eprintln!("changed the password of {name}; its sessions ended");
        }
        UserCommand::Remove { name, data } => {
            let store = data.open().await?;
            credlog_core::manage::remove_user(&*store, &name, now()).await?;
            eprintln!("removed user {name}, every client it owned and every credential it granted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_client(command: ClientCommand) -> Result<ExitCode, Failure> {
    match command {
        ClientCommand::Add {
            owner,
            name,
            redirect_uris,
            scope,
            grant_types,
            auth_method,
            rsa_public_key,
            jwks,
            data,
        } => {
            let mut metadata = ClientMetadata::named(name);
            metadata.redirect_uris = redirect_uris;
            if let Some(scope) = scope {
                // CONTRACT.md "Users and sessions": at most 64 tokens of
                // 128 characters; a scope past them is a bad flag.
                if let Err(error) = scope.parse::<Scope>() {
                    return Err(Failure::usage(format!("--scope: {error}")));
                }
                metadata.scope = scope;
            }
            if !grant_types.is_empty() {
                metadata.grant_types = grant_types;
            }
            if let Some(method) = auth_method {
                metadata.token_endpoint_auth_method = method;
            }
            if let Some(path) = rsa_public_key {
                let pem = std::fs::read_to_string(&path)
                    .map_err(|e| Failure::from(format!("cannot read {}: {e}", path.display())))?;
                metadata.rsa_public_key = Some(pem);
            }
            if let Some(path) = jwks {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Failure::from(format!("cannot read {}: {e}", path.display())))?;
                let set = serde_json::from_str(&text).map_err(|e| {
                    Failure::usage(format!("{} is not a JSON JWK Set: {e}", path.display()))
                })?;
                metadata.jwks = Some(set);
            }
            let config = data.config()?;
            let settings = config.settings();
            let store = open(&config, &settings, Usage::Once).await?;
            let registered = register_client_on(
                &served_oauth2(&settings),
                &*store,
                &owner,
                metadata,
                None,
                now(),
            )
            .await?;
            println!("{}", registered.response_json());
        }
        ClientCommand::List { owner, data } => {
            let store = data.open().await?;
            for line in operator::client_lines(&*store, owner.as_deref()).await? {
                println!("{line}");
            }
        }
        ClientCommand::Show { id, data } => {
            let store = data.open().await?;
            println!("{}", operator::client_registration(&*store, &id).await?);
        }
        ClientCommand::RotateSecret { id, data } => {
            let store = data.open().await?;
            println!("{}", operator::rotate_secret(&*store, &id, now()).await?);
        }
        ClientCommand::Remove { id, data } => {
            let store = data.open().await?;
            credlog_core::manage::remove_client(&*store, &id, now()).await?;
            eprintln!("removed client {id} and every credential issued to it");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_keys(command: KeysCommand) -> Result<ExitCode, Failure> {
    match command {
        KeysCommand::Rotate { data } => {
            let store = data.open().await?;
            let kid = credlog_core::oidc::keys::rotate(&*store, now()).await?;
            println!("{kid}");
            eprintln!("signing key {kid} is now the current one");
        }
        KeysCommand::List { data } => {
            for key in data.open().await?.signing_keys().await? {
                let state = match key.retired_at {
                    Some(at) => format!("retired_at={at}"),
                    None => "current".to_owned(),
                };
                println!("{} created_at={} {state}", key.kid, key.created_at);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_revoke(revoke: Revoke) -> Result<ExitCode, Failure> {
    // clap's group lets exactly one through.
    let what = match (&revoke.token, &revoke.client, &revoke.user) {
        (Some(token), None, None) => Revocation::Token(token),
        (None, Some(client), None) => Revocation::Client(client),
        (None, None, Some(user)) => Revocation::User(user),
        _ => {
            return Err(Failure::usage(
                "give exactly one of --token, --client, --user".to_owned(),
            ))
        }
    };
    let store = revoke.data.open().await?;
    eprintln!("{}", operator::revoke(&*store, what, now()).await?);
    Ok(ExitCode::SUCCESS)
}

fn now() -> u64 {
    system_clock()()
}

/// The OAuth 2 server `credlog serve` runs with `settings`: what clients
/// register against.
fn served_oauth2(settings: &Settings) -> Oauth2Server {
    Oauth2Server::new(settings.oauth2.clone())
}

/// The store as every command opens it: the PostgreSQL database when one
/// is set, else the data directory; keeping nonces for the configured
/// timestamp window (a store opened with another would prune nonces the
/// server still needs) and `Verified` records for the configured retention, and showing the progress of a rebuild of its projections on
/// a terminal.
async fn open_store(
    config: &Config,
    settings: &Settings,
    usage: Usage,
) -> Result<Box<dyn CredentialStore>, StoreError> {
    let window = settings.oauth1.timestamp_window;
    if let Some(url) = &config.postgres {
        let store = PostgresStore::open_with_nonce_window(url, window).await?;
        return Ok(Box::new(store.retaining(config.retention())));
    }
    let rebuilding = credlog_http::progress::Rebuilding::default();
    let opened = SledStore::open_retaining(
        &config.data,
        window,
        config.retention(),
        usage,
        &|seq, last| rebuilding.replayed(seq, last),
    );
    rebuilding.finish();
    Ok(Box::new(opened?))
}

/// The data directory's store, keeping nonces for the timestamp window the
/// server validates OAuth 1 requests with (one value for one fact). A
/// directory another process holds is refused at once, saying what to do:
/// a running server (it left its serve file) is to be stopped first, since
/// every change a command makes goes through the one process that holds
/// the store. An old directory whose projections are rebuilt on open shows
/// a progress bar on a terminal.
async fn open(
    config: &Config,
    settings: &Settings,
    usage: Usage,
) -> Result<Box<dyn CredentialStore>, Failure> {
    let data = &config.data;
    match open_store(config, settings, usage).await {
        Ok(store) => Ok(store),
        Err(StoreError::Locked { path }) if ServeFile::read(data).is_some() => {
            Err(Failure::from(format!(
                "the data directory {path} is in use by a running credlog server; stop the server first, then run this again"
            )))
        }
        Err(StoreError::Locked { path }) => Err(Failure::from(format!(
            "the data directory {path} is in use by another process; stop it first, then run this again"
        ))),
        Err(error) => Err(error.into()),
    }
}

async fn run_serve(serve: Config) -> Result<ExitCode, Failure> {
    init_tracing(serve.log_format);
    let admin_addr = serve.admin_addr;
    // One signal stops both listeners.
    let shutdown = futures::FutureExt::shared(shutdown_signal());
    // The admin listener: where the operator asked, or, for `credlog log`
    // while a data directory is held, loopback on a free port (the public
    // listener no longer answers /admin/log). With --memory and no
    // --admin-addr there is no log to read from outside, so none.
    let on_data_dir = !serve.memory && serve.postgres.is_none();
    let admin_bind = admin_addr.or(on_data_dir.then(|| SocketAddr::from(([127, 0, 0, 1], 0))));
    // Recording from the start, so the demo's appends are counted too.
    let metrics = match admin_bind {
        Some(_) => Some(Metrics::install().map_err(Failure::from)?),
        None => None,
    };
    let mut settings = serve.settings();
    let limits = serve.limits();
    // The certificate and key are checked now, before anything listens.
    let tls = match (&serve.tls_cert, &serve.tls_key) {
        (Some(cert), Some(key)) => {
            Some(credlog_http::tls::acceptor(cert, key).map_err(Failure::from)?)
        }
        _ => None,
    };
    settings.tls = tls.is_some();
    let window = settings.oauth1.timestamp_window;
    // Without a data directory the demo key is written beside none: to a
    // file of this process's own in the temporary directory.
    let own_key_file = || {
        let name = format!("credlog-demo-rsa-private-{}.pem", std::process::id());
        std::env::temp_dir().join(name)
    };
    // On PostgreSQL the sign-in throttle counts there too, so that every
    // server sharing the database counts the same guesses.
    let mut throttle: Option<Arc<dyn Throttle>> = None;
    let (store, key_file): (Arc<dyn CredentialStore>, PathBuf) = if serve.memory {
        (
            Arc::new(MemoryStore::with_nonce_window(window)),
            own_key_file(),
        )
    } else if let Some(url) = &serve.postgres {
        let store = PostgresStore::open_with_nonce_window(url, window).await?;
        throttle = Some(Arc::new(store.throttle(settings.throttle)));
        let store = Arc::new(store.retaining(serve.retention()));
        store.keep_house();
        (store, own_key_file())
    } else {
        let key_file = serve.data.join("demo-rsa-private.pem");
        let store = open(&serve, &settings, Usage::Serving).await?;
        (Arc::from(store), key_file)
    };
    let oauth2 = served_oauth2(&settings);
    // OpenID Connect: the first signing key is made at the first start.
    credlog_core::oidc::keys::create_first(store.as_ref(), now()).await?;
    let demo_clients = if serve.demo {
        Some(demo::ensure(&oauth2, store.as_ref(), &key_file, now()).await?)
    } else {
        None
    };
    let (listener, addr) = credlog_http::bind(serve.addr)
        .await
        .map_err(|e| Failure::from(format!("cannot listen on {}: {e}", serve.addr)))?;
    println!("listening on {}://{addr}", settings.scheme());
    let admin = match admin_bind {
        Some(wanted) => Some(
            credlog_http::bind(wanted)
                .await
                .map_err(|e| Failure::from(format!("cannot listen on {wanted}: {e}")))?,
        ),
        None => None,
    };
    if let (Some((_, admin_addr)), Some(_)) = (&admin, admin_addr) {
        println!("admin on http://{admin_addr}");
    }
    if let Some(clients) = demo_clients {
        println!("demo user: {} / password {}", demo::USER.0, demo::USER.1);
        for client in clients {
            let mut line = format!(
                "demo client ({}): client_id={}",
                client.label, client.client_id
            );
            if let Some(secret) = client.client_secret {
                line.push_str(&format!(" client_secret={secret}"));
            }
            if let Some(key) = client.private_key {
                line.push_str(&format!(" private_key={key}"));
            }
            println!("{line}");
        }
        println!(
            "demo callbacks: {} (and oob)",
            demo::REDIRECT_URIS.join(", ")
        );
    }
    // While it runs, `credlog log` in another process reads the log
    // through the server: the data directory is this process's alone.
    let mut settings = settings.reached_at(addr, serve.public_url.clone());
    let serve_file = match &admin {
        Some((_, admin_addr)) if on_data_dir => Some(ServeFile {
            url: format!("http://{}", reachable(*admin_addr)),
            token: credlog_http::app::random_token(),
        }),
        _ => None,
    };
    if let Some(file) = &serve_file {
        file.write(&serve.data).map_err(|e| {
            Failure::from(format!(
                "cannot write {}: {e}",
                ServeFile::path(&serve.data).display()
            ))
        })?;
        settings.admin_token = Some(AdminToken(file.token.clone()));
    }
    let app = match throttle {
        Some(throttle) => App::builder(store, settings)
            .oauth2(oauth2)
            .throttle(throttle)
            .build(),
        None => App::builder(store, settings).oauth2(oauth2).build(),
    };
    let admin_limits = limits.clone();
    let admin_served = async {
        if let Some((admin_listener, _)) = admin {
            credlog_http::serve_admin(
                app.clone(),
                metrics,
                admin_listener,
                shutdown.clone(),
                admin_limits,
            )
            .await;
        }
    };
    tokio::join!(
        credlog_http::serve_on(app.clone(), listener, shutdown.clone(), limits, tls),
        admin_served
    );
    drop(app);
    // The app, and with it the store, is dropped here: sled flushes.
    if serve_file.is_some() {
        let _ = std::fs::remove_file(ServeFile::path(&serve.data));
    }
    if !on_data_dir && serve.demo {
        let _ = std::fs::remove_file(&key_file);
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Where a client on this machine reaches a listener bound to `addr`: an
/// unspecified address (`0.0.0.0`, `[::]`) becomes loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(ip, addr.port())
}

/// Ctrl-C or SIGTERM, listened for from the moment this is called: a
/// signal that comes right after `listening on` is printed (as a
/// supervisor or a test may send it) stops the server cleanly instead of
/// killing it, which a handler installed only on the first poll would not.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let listening = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        )
    };
    async move {
        #[cfg(unix)]
        match listening {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// Logs go to stderr, in `format`, filtered by `CREDLOG_LOG` (tracing's
/// directives, e.g. `debug` or `warn,credlog_http::server=info`). By
/// default credlog's own crates log at `info`, so an operator sees each
/// request line (method, route, status, latency) and the shutdown,
/// and every other crate only its warnings (a directive's target matches
/// by prefix: `credlog` covers `credlog_http`, `credlog_core` ...).
fn init_tracing(format: LogFormat) {
    use std::io::IsTerminal;

    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDLOG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,credlog=info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // Colours only for a person at a terminal: escape codes in a file
        // or a journal would break every `grep route=`.
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

/// `credlog migrate`: every record of the data directory's log (its
/// archive too), in order, into an empty PostgreSQL database, with a bar
/// on a terminal; then both are checked. Login sessions are not in the
/// log and stay behind: users sign in again.
async fn run_migrate(migrate: Migrate) -> Result<ExitCode, Failure> {
    let dir = DataDir {
        data: Some(migrate.from.clone()),
        postgres: None,
        config: migrate.config.clone(),
    };
    // `--data` given: the settings' `postgres` is passed over.
    let config = dir.config()?;
    let settings = config.settings();
    let source = open(&config, &settings, Usage::Once).await?;
    let window = settings.oauth1.timestamp_window;
    let target = PostgresStore::open_with_nonce_window(&migrate.to, window).await?;
    let held = target.last_seq().await?;
    if held > 0 {
        return Err(Failure::from(format!(
            "the database already holds {held} records; migrate into an empty one"
        )));
    }
    let last = source.last_seq().await?;
    let bar = credlog_http::progress::records_bar(last, "migrating");
    let mut next = 1;
    loop {
        let records = audit::records_page(&*source, next, true).await?;
        let Some(end) = records.last().map(|record| record.seq) else {
            break;
        };
        target
            .import(records)
            .await
            .inspect_err(|_| bar.abandon())?;
        bar.set_position(end);
        next = end + 1;
    }
    bar.finish();
    for (name, store) in [
        ("the data directory", &*source),
        ("PostgreSQL", &target as &dyn CredentialStore),
    ] {
        let report = store.check().await?;
        if !report.is_consistent() {
            for mismatch in &report.mismatches {
                println!("{mismatch}");
            }
            eprintln!("credlog: the check of {name} after the migration found mismatches");
            return Ok(ExitCode::from(1));
        }
    }
    println!(
        "migrated {} records into PostgreSQL; the check passes on both",
        target.last_seq().await?
    );
    Ok(ExitCode::SUCCESS)
}

async fn run_log(log: Log) -> Result<ExitCode, Failure> {
    let filter = audit::Filter {
        client: log.client,
        user: log.user,
    };
    let config = log.data.config()?;
    let data = config.data.clone();
    let source = match open_store(&config, &config.settings(), Usage::Once).await {
        Ok(store) => LogSource::Local(store),
        Err(StoreError::Locked { path }) => {
            // A server holds the directory: ask it.
            let Some(serve) = ServeFile::read(&data) else {
                return Err(Failure::from(format!(
                    "the data directory {path} is in use by another process that left no {}; stop it to read the log",
                    credlog_http::admin::SERVE_FILE
                )));
            };
            LogSource::Remote(serve, reqwest::Client::new())
        }
        Err(error) => return Err(error.into()),
    };
    let mut next = log.since.max(1);
    loop {
        let page = source.page(next, log.follow, log.archive).await?;
        for line in page.lines.iter().filter(|line| filter.admits(line)) {
            if log.json {
                println!("{}", line.json());
            } else {
                println!("{}", line.text());
            }
        }
        let more = page.next > next;
        next = page.next;
        if !more {
            if !log.follow {
                return Ok(ExitCode::SUCCESS);
            }
            if let LogSource::Local(_) = source {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// Where `credlog log` reads: the data directory, or the server holding it.
enum LogSource {
    Local(Box<dyn CredentialStore>),
    Remote(ServeFile, reqwest::Client),
}

impl LogSource {
    /// The page from `since` on; from a server, with `follow`, it waits a
    /// while for new records before answering an empty page.
    async fn page(&self, since: u64, follow: bool, archive: bool) -> Result<LogPage, Failure> {
        let (serve, client) = match self {
            LogSource::Local(store) => {
                return Ok(audit::page(store.as_ref(), since, archive).await?)
            }
            LogSource::Remote(serve, client) => (serve, client),
        };
        let wait = if follow { MAX_WAIT } else { 0 };
        let url = format!(
            "{}/admin/log?since={since}&wait={wait}&archive={}",
            serve.url,
            u8::from(archive)
        );
        let response = client
            .get(&url)
            .bearer_auth(&serve.token)
            .send()
            .await
            .map_err(|e| Failure::from(format!("cannot reach the server at {}: {e}", serve.url)))?;
        if !response.status().is_success() {
            return Err(Failure::from(format!(
                "the server at {} answered {} to the log request",
                serve.url,
                response.status()
            )));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::from(format!("the server's log page could not be read: {e}")))?;
        serde_json::from_slice(&body)
            .map_err(|e| Failure::from(format!("the server's log page could not be read: {e}")))
    }
}
