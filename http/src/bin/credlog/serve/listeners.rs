//! The public listener and the operators' one, and the serve file through
//! which `credlog log` reads the log while the server holds the data
//! directory.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use credlog_http::admin::ServeFile;
use credlog_http::config::Config;
use credlog_http::metrics::Metrics;
use credlog_http::tls::TlsAcceptor;
use credlog_http::{App, Limits};
use tokio::net::TcpListener;

use super::store::on_data_dir;
use crate::failure::Failure;

/// Where the admin listener binds: where the operator asked, or, for
/// `credlog log` while a data directory is held, loopback on a free port
/// (the public listener no longer answers /admin/log). With `--memory` or
/// PostgreSQL and no `--admin-addr` there is no log to read from outside,
/// so none.
pub(super) fn admin_bind(config: &Config) -> Option<SocketAddr> {
    let loopback = || SocketAddr::from(([127, 0, 0, 1], 0));
    config.admin_addr.or(on_data_dir(config).then(loopback))
}

/// A listener on `addr`, and the address it got.
pub(super) async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), Failure> {
    credlog_http::bind(addr)
        .await
        .map_err(|source| Failure::Listen { addr, source })
}

/// While it runs, `credlog log` in another process reads the log through
/// the server: the data directory is this process's alone. On a data
/// directory with an admin listener, writes the serve file (its URL and a
/// fresh token) and answers it.
pub(super) fn write_serve_file(
    config: &Config,
    admin: &Option<(TcpListener, SocketAddr)>,
) -> Result<Option<ServeFile>, Failure> {
    let file = match admin {
        Some((_, admin_addr)) if on_data_dir(config) => ServeFile {
            url: format!("http://{}", reachable(*admin_addr)),
            token: credlog_http::app::random_token(),
        },
        _ => return Ok(None),
    };
    file.write(&config.data).map_err(|source| Failure::Write {
        path: ServeFile::path(&config.data),
        source,
    })?;
    Ok(Some(file))
}

/// Removes the serve file, once the server has stopped (a file already
/// gone is no matter).
pub(super) fn remove_serve_file(config: &Config) {
    let _ = std::fs::remove_file(ServeFile::path(&config.data));
}

/// Where a client on this machine reaches a listener bound to `addr`: an
/// unspecified address (`0.0.0.0`, `[::]`) becomes loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(ip, addr.port())
}

/// The bound listeners and how each serves.
pub(super) struct Listeners {
    /// The public one: the OAuth endpoints, pages and /api/me.
    pub(super) public: TcpListener,
    /// The operators' one (/healthz, /metrics, /admin/log), if any.
    pub(super) admin: Option<TcpListener>,
    /// What /metrics renders.
    pub(super) metrics: Option<Metrics>,
    /// HTTPS on the public listener.
    pub(super) tls: Option<TlsAcceptor>,
    /// The connection limits of both.
    pub(super) limits: Limits,
}

impl Listeners {
    /// Serves `app` on both until `shutdown`; the app (and with it the
    /// store) is dropped before this returns.
    pub(super) async fn serve<S>(self, app: App, shutdown: S)
    where
        S: Future<Output = ()> + Clone + Send + 'static,
    {
        let admin_limits = self.limits.clone();
        let admin_served = async {
            if let Some(admin) = self.admin {
                credlog_http::serve_admin(
                    app.clone(),
                    self.metrics,
                    admin,
                    shutdown.clone(),
                    admin_limits,
                )
                .await;
            }
        };
        let public_served = credlog_http::serve_on(
            app.clone(),
            self.public,
            shutdown.clone(),
            self.limits,
            self.tls,
        );
        tokio::join!(public_served, admin_served);
        drop(app);
    }
}
