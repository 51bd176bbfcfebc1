//! Every route together, and serving them until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;

use std::convert::Infallible;

use warp::Filter;

use crate::adapter::recover;
use crate::app::{AdminToken, App};
use crate::{admin, clients, consent, login, oauth1, oauth2, protector};
use warp::filters::BoxedFilter;

/// Every route of CONTRACT.md, with every rejection turned into an answer.
pub fn routes(
    app: App,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone + Send + Sync + 'static
{
    // The resource and the token endpoint first: the routes under load.
    protector::me(app.clone())
        .or(oauth2::routes(app.clone()))
        .unify()
        .or(login::routes(app.clone()))
        .unify()
        .or(clients::routes(app.clone()))
        .unify()
        .or(oauth1::routes(app.clone()))
        .unify()
        .or(consent::routes(app.clone()))
        .unify()
        .or(admin_routes(app))
        .unify()
        .recover(recover)
        .unify()
        .with(warp::log::custom(|info| {
            // The path only: queries can carry signatures and tokens.
            tracing::info!(
                method = %info.method(),
                path = info.path(),
                status = info.status().as_u16(),
                micros = info.elapsed().as_micros() as u64,
                "request"
            );
        }))
}

/// `GET /admin/log` when the app has an admin token; no route otherwise.
fn admin_routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    match app.settings().admin_token.clone() {
        Some(AdminToken(token)) => admin::routes(app, token),
        None => warp::any()
            .and_then(|| async { Err::<warp::reply::Response, _>(warp::reject::not_found()) })
            .boxed(),
    }
}

/// Serves `app` on `listener` until `shutdown` completes; requests in
/// flight then finish before this returns.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    warp::serve(routes(app))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

/// Binds `addr` (port 0 picks a free one) and returns the listener and the
/// address it got.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
