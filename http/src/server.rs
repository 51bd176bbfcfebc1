//! Every route together, and serving them over HTTP/1.1 under the
//! connection [`Limits`] until a shutdown signal: the public listener's
//! routes, and the admin listener's ([`admin::routes`]) on a second one.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use warp::Filter;

use crate::adapter::recover;
use crate::app::App;
use crate::client_addr::{ClientAddr, TrustedProxies, FORWARDED_FOR};
use crate::limits::{DeadlineBody, Limits};
use crate::metrics::Metrics;
use crate::tls::TlsAcceptor;
use crate::{admin, authorizations, client_page, clients, login, metrics, protector, protocol};

/// Every route of CONTRACT.md, with every rejection turned into an answer.
pub fn routes(
    app: App,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone + Send + Sync + 'static
{
    // The resource and the token endpoint first: the routes under load.
    protector::me(app.clone())
        .or(protocol::routes(app.clone()))
        .unify()
        .or(login::routes(app.clone()))
        .unify()
        .or(clients::routes(app.clone()))
        .unify()
        .or(client_page::routes(app.clone()))
        .unify()
        .or(authorizations::routes(app))
        .unify()
        .recover(recover)
        .unify()
        .with(warp::log::custom(|info| {
            metrics::record_request(info.path(), info.status().as_u16(), info.elapsed());
            log_request(&info);
        }))
}

/// One INFO line a request: its method, its route, its status and how
/// long it took (`latency_ms`). The route is the contract's
/// ([`metrics::route_name`]: `/clients/{id}`, or `other` for any path the
/// contract does not name), never the path itself: the route is all an
/// operator needs to read the line, and a path holds a client id or
/// whatever a scanner typed. Nothing else of the request is logged: its
/// query and body can carry signatures, codes, tokens and passwords, its
/// headers credentials and cookies.
fn log_request(info: &warp::log::Info<'_>) {
    tracing::info!(
        method = %info.method(),
        route = metrics::route_name(info.path()),
        status = info.status().as_u16(),
        // Whole microseconds, so that the number reads as it is (0.405,
        // not 0.40565399999999996).
        latency_ms = info.elapsed().as_micros() as f64 / 1000.0,
        "request"
    );
}

/// Serves `app` on `listener` under the contract's [`Limits`] until
/// `shutdown` completes; requests in flight then finish (for
/// [`Limits::shutdown_grace`] at most) before this returns.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_with(app, listener, shutdown, Limits::default()).await;
}

/// [`serve`] under `limits`. HTTP/1.1 (and 1.0) only: every limit is one
/// on an HTTP/1 connection.
///
/// At most [`Limits::max_connections`] connections are served at once;
/// past that no connection is accepted until one closes, so new ones wait
/// in the listener's backlog. When `shutdown` completes the listener is
/// closed, idle connections are closed, and each busy one is closed after
/// its response; connections still open [`Limits::shutdown_grace`] later
/// are dropped, request and all.
pub async fn serve_with(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
) {
    serve_on(app, listener, shutdown, limits, None).await;
}

/// [`serve_with`], speaking HTTPS through `tls` when it is given. The TLS
/// handshake must end within [`Limits::head_timeout`], like a request head.
pub async fn serve_on(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
    tls: Option<TlsAcceptor>,
) {
    serve_service(warp::service(routes(app)), listener, shutdown, limits, tls).await;
}

/// Serves the admin listener's routes ([`admin::routes`]: `/healthz`,
/// `/metrics` when `metrics` is given, `/admin/log` when the app has an
/// admin token) on `listener`, under the same `limits` and shutdown as
/// [`serve_with`].
pub async fn serve_admin(
    app: App,
    metrics: Option<Metrics>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
) {
    let routes = warp::service(admin::routes(app, metrics));
    serve_service(routes, listener, shutdown, limits, None).await;
}

/// The accept loop of [`serve_on`], for any of warp's services.
async fn serve_service<S>(
    routes: S,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
    tls: Option<TlsAcceptor>,
) where
    S: tower_service::Service<
            Request<DeadlineBody<Incoming>>,
            Response = warp::reply::Response,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let service = Deadlined {
        routes,
        body_timeout: limits.body_timeout,
        peer: None,
        proxies: limits.trusted_proxies.clone(),
    };
    let http = http1(&limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer, permit) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = accept(&listener, &permits) => match accepted {
                Some(accepted) => accepted,
                None => continue,
            },
        };
        // Reap the connections that ended, so the set holds only live ones.
        while connections.try_join_next().is_some() {}
        // Responses go out in one write; waiting to coalesce only adds latency.
        let _ = stream.set_nodelay(true);
        let service = Deadlined {
            peer: Some(peer),
            ..service.clone()
        };
        let (http, tls, watcher) = (http.clone(), tls.clone(), graceful.watcher());
        let handshake = limits.head_timeout;
        connections.spawn(async move {
            let served = match tls {
                None => {
                    watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await
                }
                Some(acceptor) => {
                    match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            watcher
                                .watch(http.serve_connection(TokioIo::new(stream), service))
                                .await
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%error, "TLS handshake failed");
                            return drop(permit);
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake timed out");
                            return drop(permit);
                        }
                    }
                }
            };
            if let Err(error) = served {
                // A slow or broken client, not a server fault.
                tracing::debug!(%error, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            "shutting down: dropping the connections still open after {} s",
            limits.shutdown_grace.as_secs_f64()
        );
    }
    connections.shutdown().await;
}

/// The next connection, once fewer than the most are open. `None` after
/// an error: a connection that failed before it was accepted is skipped;
/// any other error (out of file descriptors) waits a second first, as
/// hyper's servers always have, so the loop does not spin.
async fn accept(
    listener: &tokio::net::TcpListener,
    permits: &Arc<Semaphore>,
) -> Option<(tokio::net::TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .expect("the connection semaphore is never closed");
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, permit)),
        Err(error) => {
            use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
            if !matches!(
                error.kind(),
                ConnectionAborted | ConnectionRefused | ConnectionReset
            ) {
                tracing::error!(%error, "cannot accept a connection");
                drop(permit);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            None
        }
    }
}

/// The HTTP/1.1 settings every connection gets under `limits`: hyper's
/// own header-read timer (on tokio's clock) for [`Limits::head_timeout`],
/// which also closes an idle keep-alive connection, and hyper's head size
/// limit for [`Limits::max_head_bytes`] (431 past it).
pub fn http1(limits: &Limits) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_header_size(limits.max_head_bytes)
        .keep_alive(true);
    http
}

/// [`routes`] as a hyper service: each request's body must arrive within
/// [`Limits::body_timeout`] of its head ([`DeadlineBody`]). With [`http1()`](fn@http1),
/// the whole stack [`serve_with`] runs on each connection, for a caller
/// with a transport of its own (an in-memory pipe: the fuzz target).
pub fn service(
    app: App,
    limits: &Limits,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = warp::reply::Response,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    Deadlined {
        routes: warp::service(routes(app)),
        body_timeout: limits.body_timeout,
        peer: None,
        proxies: limits.trusted_proxies.clone(),
    }
}

/// A tower service (warp's) under hyper, each request body given its
/// deadline as the request arrives, and the client's address (the
/// connection's peer, or behind a trusted proxy the one it forwards)
/// put in its extensions ([`ClientAddr`]: every throttle reads it).
#[derive(Clone)]
struct Deadlined<S> {
    routes: S,
    body_timeout: Duration,
    peer: Option<SocketAddr>,
    proxies: TrustedProxies,
}

impl<S> hyper::service::Service<Request<Incoming>> for Deadlined<S>
where
    S: tower_service::Service<Request<DeadlineBody<Incoming>>> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, request: Request<Incoming>) -> S::Future {
        let mut request = request.map(|body| DeadlineBody::new(body, self.body_timeout));
        // A target with no path (authority-form outside CONNECT) reads as
        // `/`, as the routes always treated it: warp's full-path filter
        // panics on a URI without one.
        if request.uri().path_and_query().is_none() {
            let mut parts = request.uri().clone().into_parts();
            parts.path_and_query = Some(hyper::http::uri::PathAndQuery::from_static("/"));
            *request.uri_mut() = hyper::http::Uri::from_parts(parts)
                .unwrap_or_else(|_| hyper::http::Uri::from_static("/"));
        }
        if let Some(peer) = self.peer {
            // Read as bytes: a line that is not ASCII must not hide the
            // address a trusted proxy appended to it.
            let forwarded: Vec<String> = request
                .headers()
                .get_all(FORWARDED_FOR)
                .iter()
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .collect();
            let client = self
                .proxies
                .client_of(peer.ip(), forwarded.iter().map(String::as_str));
            request.extensions_mut().insert(ClientAddr(client));
        }
        // warp's service is always ready: `poll_ready` has nothing to wait for.
        self.routes.clone().call(request)
    }
}

/// Binds `addr` (port 0 picks a free one) and returns the listener and the
/// address it got.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
