//! `POST /clients` (RFC 7591-shaped registration by the signed-in owner)
//! and `GET /clients` (the owner's clients, as a page or as JSON).

use credlog_core::store::{ClientState, StoreError};
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::accounts::{register_client_on, registration_json, AccountError, ClientMetadata};
use crate::adapter::{answer_with_session, json};
use crate::app::App;
use crate::pages::{self, escape};
use crate::sessions::Session;

/// `GET /clients` and `POST /clients`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let list = warp::path!("clients")
        .and(warp::get())
        .and(answer_with_session(app.clone(), list));
    let register = warp::path!("clients")
        .and(warp::post())
        .and(answer_with_session(app, register));
    list.or(register).unify().boxed()
}

fn json_error(status: u16, error: &str, description: &str) -> Response {
    json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

fn not_signed_in(wants_json: bool) -> Response {
    if wants_json {
        json_error(401, "unauthorized", "sign in first (POST /login)")
    } else {
        pages::page(
            401,
            "Sign in first",
            "<p>Your clients are shown once you <a href=\"/login?next=/clients\">sign in</a>.</p>",
        )
    }
}

async fn register(app: App, session: Option<Session>, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let Some(session) = session else {
        return not_signed_in(true);
    };
    let metadata: ClientMetadata = match serde_json::from_slice(&request.body) {
        Ok(metadata) => metadata,
        Err(error) => {
            return json_error(
                400,
                "invalid_client_metadata",
                &format!("the body is not client metadata in JSON: {error}"),
            )
        }
    };
    let registered = register_client_on(
        app.oauth2(),
        app.store(),
        &session.user,
        metadata,
        None,
        app.now(),
    )
    .await;
    match registered {
        Ok(registered) => json(
            201,
            &registration_json(
                &registered.record,
                registered.secret.as_deref(),
                registered.issued_at,
            ),
        ),
        Err(AccountError::Store(error)) => app.store_failure(&error),
        Err(error) => json_error(
            400,
            error
                .registration_error()
                .unwrap_or("invalid_client_metadata"),
            &error.to_string(),
        ),
    }
}

fn wants_json(request: &Request) -> bool {
    request
        .header_values("accept")
        .any(|accept| accept.contains("application/json"))
}

async fn list(app: App, session: Option<Session>, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let wants_json = wants_json(request);
    let Some(session) = session else {
        return not_signed_in(wants_json);
    };
    let clients = match app.store().clients_owned_by(&session.user).await {
        Ok(clients) => clients,
        Err(error) => return app.store_failure(&error),
    };
    let live = clients.iter().filter(|client| !client.revoked);
    if wants_json {
        let mut registrations = Vec::new();
        for client in live {
            match issued_at(app, client).await {
                Ok(at) => registrations.push(registration_json(&client.record, None, at)),
                Err(error) => return app.store_failure(&error),
            }
        }
        return json(200, &serde_json::Value::Array(registrations));
    }
    let rows: String = live
        .map(|client| {
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
                escape(&client.record.name),
                escape(&client.record.client_id),
                escape(&client.record.redirect_uris.join(" ")),
                escape(&client.record.scope.to_string()),
            )
        })
        .collect();
    let body = if rows.is_empty() {
        "<p>You have registered no clients yet. Register one with a JSON <code>POST /clients</code> \
         (see the README).</p>"
            .to_owned()
    } else {
        format!(
            "<table>\n<tr><th>Name</th><th>Client id</th><th>Redirect URIs</th><th>Scope</th></tr>\n{rows}</table>"
        )
    };
    pages::page(
        200,
        "Your clients",
        &format!("{body}\n<p><a href=\"/\">Home</a></p>"),
    )
}

/// When a client was registered: the time of the record that issued it.
async fn issued_at(app: &App, client: &ClientState) -> Result<u64, StoreError> {
    let records = app.store().read_log(client.issued_seq, 1).await?;
    Ok(records.first().map_or(0, |record| record.time))
}
