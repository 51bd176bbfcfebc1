//! The OAuth 1.0 endpoints of RFC 5849 2 over warp: temporary credentials
//! (`/oauth1/initiate`), resource owner authorization
//! (`/oauth1/authorize`), token credentials (`/oauth1/token`). The
//! provider in `credlog-core` decides; these routes only translate.

use credlog_core::rfc5849::Oauth1Error;
use credlog_core::Response;
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{answer, same_origin};
use crate::app::App;
use crate::consent::Accounts;

/// Every OAuth 1 endpoint.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let initiate = warp::path!("oauth1" / "initiate")
        .and(warp::post())
        .and(answer(app.clone(), |app: App, request| async move {
            app.oauth1()
                .initiate(app.store(), &request, app.now())
                .await
        }));
    let token = warp::path!("oauth1" / "token")
        .and(warp::post())
        .and(answer(app.clone(), |app: App, request| async move {
            app.oauth1().token(app.store(), &request, app.now()).await
        }));
    let consent = warp::path!("oauth1" / "authorize")
        .and(warp::get())
        .and(answer(app.clone(), |app: App, request| async move {
            let now = app.now();
            app.oauth1()
                .authorize_page(app.store(), &Accounts::new(&app), &request, now)
                .await
        }));
    let decide = warp::path!("oauth1" / "authorize")
        .and(warp::post())
        .and(same_origin(&app))
        .and(answer(app, |app: App, request| async move {
            let now = app.now();
            app.oauth1()
                .authorize_decision(app.store(), &Accounts::new(&app), &request, now)
                .await
        }));
    initiate
        .or(token)
        .unify()
        .or(consent)
        .unify()
        .or(decide)
        .unify()
        .boxed()
}

/// A refused OAuth 1 request: form-encoded `error` and `error_description`,
/// the realm's challenge on a 401 (the store's detail is logged, not sent).
pub fn oauth1_error(app: &App, error: &Oauth1Error) -> Response {
    app.oauth1().error_response(error)
}
