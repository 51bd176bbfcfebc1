//! One client's page, for its owner (CONTRACT.md "Client registration"):
//! `GET /clients/{id}` shows what it registered, `POST /clients/{id}/secret`
//! gives it a new secret (the old one dead at once) and
//! `POST /clients/{id}/delete` removes it with every credential issued to
//! it. The decisions are [`credlog_core::manage`]'s, one event each.
//!
//! Anyone but the owner, and anyone after the client is removed, gets the
//! same 404 as for an id nobody registered: a page never says that a
//! client it will not show exists.

use std::future::Future;

use credlog_core::form::percent_decode;
use credlog_core::manage::{self, ManageError};
use credlog_core::store::ClientState;
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::reject::Rejection;
use warp::Filter;

use crate::adapter::{incoming, reply, same_origin};
use crate::app::App;
use crate::clients::{client_path, not_signed_in};
use crate::pages::{self, escape, hidden};
use crate::sessions::Session;

/// `GET /clients/{id}`, `POST /clients/{id}/secret`, `POST /clients/{id}/delete`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let show = warp::path!("clients" / String).and(warp::get());
    let rotate = warp::path!("clients" / String / "secret")
        .and(warp::post())
        .and(same_origin(&app));
    let delete = warp::path!("clients" / String / "delete")
        .and(warp::post())
        .and(same_origin(&app));
    for_client(show, app.clone(), show_page)
        .or(for_client(rotate, app.clone(), rotate_secret))
        .unify()
        .or(for_client(delete, app, delete_client))
        .unify()
        .boxed()
}

/// The answer of `route`, which extracts a client id from the path:
/// `handler` gets that id as it came (percent-encoded), the session and
/// the request.
fn for_client<R, F, Fut>(
    route: R,
    app: App,
    handler: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone
where
    R: Filter<Extract = (String,), Error = Rejection> + Clone,
    F: Fn(App, String, Option<Session>, Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    route
        .and(crate::adapter::session(app.clone()))
        .and(incoming(&app))
        .then(
            move |id: String, session: Option<Session>, request: Request| {
                let (app, handler) = (app.clone(), handler.clone());
                async move { reply(handler(app, id, session, request).await) }
            },
        )
}

fn not_found() -> Response {
    pages::error_page(404, "Not found", "There is nothing at this address.")
}

/// The client whose id is `in_path` (percent-encoded) when `session`'s
/// user owns it and it was not removed; else the answer to give (404, or
/// 500 for the store).
async fn owned(app: &App, session: &Session, in_path: &str) -> Result<ClientState, Response> {
    let Ok(client_id) = percent_decode(in_path, false) else {
        return Err(not_found());
    };
    match manage::live_client(app.store(), &client_id).await {
        Ok(client) if client.record.owner == session.user => Ok(client),
        Ok(_) | Err(ManageError::NotFound { .. }) => Err(not_found()),
        Err(error) => Err(failure(app, &error)),
    }
}

/// For a POST to the client's page: the client, when the request comes
/// from a session, carries its CSRF token (checked before any look-up, so
/// a forged POST is 403 whoever's client it names) and its user owns the
/// client; else the answer to give.
async fn posted_to_owned(
    app: &App,
    in_path: &str,
    session: Option<Session>,
    request: &Request,
) -> Result<ClientState, Response> {
    let Some(session) = session else {
        return Err(not_signed_in(false));
    };
    pages::form_of(&session, &request.body, "the client's page")?;
    owned(app, &session, in_path).await
}

fn failure(app: &App, error: &ManageError) -> Response {
    match error {
        ManageError::NotFound { .. } => not_found(),
        ManageError::NoSecret(_) => pages::error_page(
            400,
            "No secret",
            "This client authenticates without a secret (token_endpoint_auth_method none or \
             private_key_jwt): it has none to rotate.",
        ),
        ManageError::Store(error) => app.store_failure(error),
    }
}

async fn show_page(app: App, id: String, session: Option<Session>, _: Request) -> Response {
    let Some(session) = session else {
        return not_signed_in(false);
    };
    let client = match owned(&app, &session, &id).await {
        Ok(client) => client,
        Err(refused) => return refused,
    };
    let registered = match crate::accounts::client_issued_at(app.store(), &client).await {
        Ok(at) => pages::utc(at),
        Err(error) => return app.store_failure(&error),
    };
    client_page(&session, &client, &registered)
}

fn client_page(session: &Session, client: &ClientState, registered: &str) -> Response {
    let record = &client.record;
    let path = client_path(&record.client_id);
    let csrf = hidden("csrf_token", &session.csrf_token);
    let listed = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items
                .iter()
                .map(|item| format!("<code>{}</code>", escape(item)))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let redirect_uris: String = if record.redirect_uris.is_empty() {
        "<p>No redirect URIs.</p>".to_owned()
    } else {
        let items: String = record
            .redirect_uris
            .iter()
            .map(|uri| format!("<li><code>{}</code></li>\n", escape(uri)))
            .collect();
        format!("<ul id=\"redirect_uris\">\n{items}</ul>")
    };
    let grant_types = listed(record.grant_types.iter().map(|g| g.to_string()).collect());
    let response_types = listed(
        record
            .response_types
            .iter()
            .map(|r| r.to_string())
            .collect(),
    );
    let rotate = if !record.auth_method.presents_secret() {
        "<p>This client authenticates without a secret: it has none to rotate.</p>".to_owned()
    } else {
        format!(
            "<h2>Rotate the secret</h2>\n<p>A new secret is shown once; the current one stops working at once.</p>\n\
             <form method=\"post\" action=\"{path}/secret\">\n{csrf}\n\
             <button type=\"submit\">Rotate the secret</button>\n</form>"
        )
    };
    let body = format!(
        "<table>\n\
         <tr><th>Name</th><td id=\"client_name\">{name}</td></tr>\n\
         <tr><th>Client id</th><td><code id=\"client_id\">{id}</code></td></tr>\n\
         <tr><th>Scope</th><td><code id=\"scope\">{scope}</code></td></tr>\n\
         <tr><th>Grant types</th><td id=\"grant_types\">{grant_types}</td></tr>\n\
         <tr><th>Response types</th><td id=\"response_types\">{response_types}</td></tr>\n\
         <tr><th>Token endpoint authentication</th><td><code id=\"auth_method\">{auth_method}</code></td></tr>\n\
         <tr><th>RSA public key (OAuth 1 RSA-SHA1)</th><td>{rsa}</td></tr>\n\
         <tr><th>Registered</th><td id=\"registered\">{registered}</td></tr>\n\
         </table>\n<h2>Redirect URIs</h2>\n{redirect_uris}\n{rotate}\n\
         <h2>Delete</h2>\n<p>Deleting ends the client and every token issued to it, for every user.</p>\n\
         <form method=\"post\" action=\"{path}/delete\">\n{csrf}\n\
         <label><input type=\"checkbox\" required> Yes, delete it and end its tokens</label>\n\
         <button type=\"submit\">Delete this client</button>\n</form>\n\
         <p><a href=\"/clients\">Your clients</a></p>",
        name = escape(&record.name),
        id = escape(&record.client_id),
        scope = escape(&record.scope.to_string()),
        auth_method = escape(&record.auth_method.to_string()),
        rsa = if record.rsa_public_key.is_some() {
            "registered"
        } else {
            "none"
        },
        registered = escape(registered),
    );
    pages::page(200, &record.name, &body)
}

async fn rotate_secret(
    app: App,
    id: String,
    session: Option<Session>,
    request: Request,
) -> Response {
    let client = match posted_to_owned(&app, &id, session, &request).await {
        Ok(client) => client,
        Err(refused) => return refused,
    };
    let record = &client.record;
    match manage::rotate_secret(app.store(), &record.client_id, app.now()).await {
        Ok(secret) => pages::page(
            200,
            "New secret",
            &format!(
                "<p>The secret of <strong>{}</strong> (<code id=\"client_id\">{}</code>) was rotated; \
                 the old one no longer works.</p>\n\
                 <p>New client secret: <code id=\"client_secret\">{}</code></p>\n\
                 <p><strong>Copy it now: it will not be shown again.</strong></p>\n\
                 <p><a href=\"{}\">The client's page</a></p>",
                escape(&record.name),
                escape(&record.client_id),
                escape(&secret),
                client_path(&record.client_id),
            ),
        ),
        Err(error) => failure(&app, &error),
    }
}

async fn delete_client(
    app: App,
    id: String,
    session: Option<Session>,
    request: Request,
) -> Response {
    let client = match posted_to_owned(&app, &id, session, &request).await {
        Ok(client) => client,
        Err(refused) => return refused,
    };
    match manage::remove_client(app.store(), &client.record.client_id, app.now()).await {
        Ok(()) => pages::redirect(303, "/clients"),
        Err(error) => failure(&app, &error),
    }
}
