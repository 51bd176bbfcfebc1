//! Every protocol endpoint through the one dispatch of `credlog-core`
//! ([`credlog_core::Provider::handle`]): OAuth 1's three, the OAuth 2
//! authorization, token, revocation and introspection endpoints, both
//! metadata documents, the JWK Set, UserInfo, and the device flow's
//! endpoint and page. Paths the provider does not serve pass on to the
//! app's other routes before anything is read.

use std::net::IpAddr;

use credlog_core::Request;
use warp::filters::BoxedFilter;
use warp::path::FullPath;
use warp::Filter;

use crate::adapter::{incoming, peer, reply};
use crate::app::App;
use crate::consent::Accounts;
use crate::pages;

/// The filter serving the provider's endpoints.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let served = app.clone();
    let protocol_path = warp::path::full()
        .and_then(move |path: FullPath| {
            let served = served.provider().endpoint_at(path.as_str()).is_some();
            async move {
                if served {
                    Ok(())
                } else {
                    Err(warp::reject::not_found())
                }
            }
        })
        .untuple_one();
    protocol_path
        .and(peer())
        .and(incoming(&app))
        .then(move |address: Option<IpAddr>, request: Request| {
            let app = app.clone();
            async move {
                let host = Accounts::from(&app, address);
                let answer = app
                    .provider()
                    .handle(app.store(), &host, &request, app.now())
                    .await;
                // The path was a served endpoint's, so the provider answers.
                reply(answer.unwrap_or_else(|| {
                    pages::error_page(404, "Not found", "There is nothing at this address.")
                }))
            }
        })
        .boxed()
}
