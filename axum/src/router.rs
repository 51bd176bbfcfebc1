//! The provider as a [`Router`]: one route per endpoint it serves, each
//! answered by the one dispatch, [`Provider::handle`].
//!
//! [`Provider::handle`]: credlog_core::provider::Provider::handle

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::any;
use axum::Router;
use credlog_core::provider::Host;

use crate::convert::{refusal, Reply};
use crate::Credlog;

/// Makes the [`Host`] for one request: the application's users, pages and
/// throttle, and the client's address. The host may borrow from `self`
/// (the application's shared state), so making one is cheap.
pub trait MakeHost: Send + Sync + 'static {
    /// The host of one request.
    type Host<'a>: Host
    where
        Self: 'a;

    /// The host for the request with head `parts` (its extensions hold
    /// whatever the application's own layers put there), from the client
    /// at `address`: the peer's, when the router is served with
    /// `into_make_service_with_connect_info::<SocketAddr>()`, else `None`.
    /// Behind a proxy, the host may read the forwarded address from
    /// `parts` instead.
    fn host<'a>(&'a self, parts: &Parts, address: Option<IpAddr>) -> Self::Host<'a>;
}

/// What every route of the router shares.
struct Served<M> {
    credlog: Credlog,
    hosts: M,
}

impl Credlog {
    /// Every endpoint the provider serves, at its path, for every method
    /// (one it does not answer gets 405 with `Allow`), with `hosts` making
    /// each request's [`Host`]. Merge it into the application's router, or
    /// add the application's routes and layers to it.
    pub fn router<M: MakeHost, S: Clone + Send + Sync + 'static>(&self, hosts: M) -> Router<S> {
        let served = Arc::new(Served {
            credlog: self.clone(),
            hosts,
        });
        self.provider
            .endpoints()
            .fold(Router::new(), |router, endpoint| {
                router.route(endpoint.path(), any(serve::<M>))
            })
            .with_state(served)
    }
}

/// One request to an endpoint: converted, answered, converted back.
async fn serve<M: MakeHost>(
    State(served): State<Arc<Served<M>>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let credlog = &served.credlog;
    let request = match credlog.request(&parts, body).await {
        Ok(request) => request,
        Err(refused) => return refused.into_response(),
    };
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let host = served.hosts.host(&parts, address);
    let answer = credlog
        .provider
        .handle(credlog.store.as_ref(), &host, &request, credlog.now())
        .await;
    match answer {
        Some(answer) => Reply(answer).into_response(),
        // Only the provider's own paths are routed here.
        None => refusal(404, "Not found.").into_response(),
    }
}
