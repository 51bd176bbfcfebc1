//! `credlog serve`: the OAuth endpoints, pages and /api/me, and the
//! operators' listener, until Ctrl-C or SIGTERM.
//!
//! [`run`] reads the settings, then each step is a function of its own:
//! the store ([`store`]), the demo ([`demo`]), the listeners and the serve
//! file ([`listeners`]), logs and signals ([`process`]).

mod demo;
mod listeners;
mod process;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use credlog_core::rfc6749::Oauth2Server;
use credlog_http::app::{AdminToken, PublicUrl};
use credlog_http::config::{self, Config, ConfigError, Flags};
use credlog_http::metrics::Metrics;
use credlog_http::tls::TlsAcceptor;
use credlog_http::Settings;

use self::listeners::{bind, Listeners};
use self::store::ServedStore;
use crate::failure::Failure;
use crate::store::{config_file, env, now};

#[derive(Args)]
pub(crate) struct Serve {
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

/// The target of the server's own log lines (`shutting down`, `stopped`):
/// the binary's name, as operators filter and read them (`CREDLOG_LOG`),
/// whichever module writes them.
const LOG_TARGET: &str = "credlog";

/// Runs `credlog serve`: with `--print-config`, prints the settings and
/// exits; else serves until a signal.
pub(crate) async fn run(serve: Serve) -> Result<(), Failure> {
    let config = serve_config(&serve)?;
    if serve.print_config {
        print!("{}", toml::to_string(&config)?);
        return Ok(());
    }
    serve_with(config).await
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

/// The OAuth 2 server `credlog serve` runs with `settings`: what clients
/// register against.
pub(crate) fn served_oauth2(settings: &Settings) -> Oauth2Server {
    Oauth2Server::new(settings.oauth2.clone())
}

/// Serves `config` until a signal; then, the store closed, removes the
/// serve file and a demo key written outside a data directory.
async fn serve_with(config: Config) -> Result<(), Failure> {
    process::init_tracing(config.log_format);
    // One signal stops both listeners.
    let shutdown = futures::FutureExt::shared(process::shutdown_signal());
    let admin_bind = listeners::admin_bind(&config);
    // Recording from the start, so the demo's appends are counted too.
    let metrics = match admin_bind {
        Some(_) => Some(Metrics::install().map_err(Failure::Metrics)?),
        None => None,
    };
    let mut settings = config.settings();
    let tls = tls(&config)?;
    settings.tls = tls.is_some();
    let served = ServedStore::open(&config, &settings).await?;
    let oauth2 = served_oauth2(&settings);
    // OpenID Connect: the first signing key is made at the first start.
    credlog_core::oidc::keys::create_first(served.store.as_ref(), now()).await?;
    let demo_clients = if config.demo {
        Some(demo::ensure(&oauth2, &served).await?)
    } else {
        None
    };
    let (listener, addr) = bind(config.addr).await?;
    println!("listening on {}://{addr}", settings.scheme());
    let admin = match admin_bind {
        Some(wanted) => Some(bind(wanted).await?),
        None => None,
    };
    if let (Some((_, admin_addr)), Some(_)) = (&admin, config.admin_addr) {
        println!("admin on http://{admin_addr}");
    }
    if let Some(clients) = demo_clients {
        demo::print(clients);
    }
    let mut settings = settings.reached_at(addr, config.public_url.clone());
    let serve_file = listeners::write_serve_file(&config, &admin)?;
    if let Some(file) = &serve_file {
        settings.admin_token = Some(AdminToken(file.token.clone()));
    }
    let demo_key = served.demo_key.clone();
    let app = served.into_app(settings, oauth2);
    let listeners = Listeners {
        public: listener,
        admin: admin.map(|(listener, _)| listener),
        metrics,
        tls,
        limits: config.limits(),
    };
    listeners.serve(app, shutdown).await;
    // The app, and with it the store, was dropped: sled has flushed.
    if serve_file.is_some() {
        listeners::remove_serve_file(&config);
    }
    if !store::on_data_dir(&config) && config.demo {
        let _ = std::fs::remove_file(&demo_key);
    }
    tracing::info!(target: LOG_TARGET, "stopped");
    Ok(())
}

/// The TLS acceptor, when a certificate and key are set: both are checked
/// now, before anything listens.
fn tls(config: &Config) -> Result<Option<TlsAcceptor>, Failure> {
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => credlog_http::tls::acceptor(cert, key)
            .map(Some)
            .map_err(Failure::Tls),
        _ => Ok(None),
    }
}
