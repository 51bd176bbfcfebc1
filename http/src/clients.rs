//! `POST /clients` (RFC 7591-shaped registration by the signed-in owner)
//! and `GET /clients` (the owner's clients, as a page or as JSON, each
//! linking to its own page, [`crate::client_page`]).

use credlog_core::rfc5849::encoding::percent_encode;
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::accounts::{register_client_on, registration_json, AccountError, ClientMetadata};
use crate::adapter::{answer_with_session, json, same_origin};
use crate::app::App;
use crate::pages::{self, escape, hidden};
use crate::sessions::Session;

/// `GET /clients` and `POST /clients`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let list = warp::path!("clients")
        .and(warp::get())
        .and(answer_with_session(app.clone(), list));
    let register = warp::path!("clients")
        .and(warp::post())
        .and(same_origin(&app))
        .and(answer_with_session(app, register));
    list.or(register).unify().boxed()
}

fn json_error(status: u16, error: &str, description: &str) -> Response {
    json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

/// 401: JSON for a program, else a page with a link to sign in.
pub(crate) fn not_signed_in(wants_json: bool) -> Response {
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

/// How a registration arrived: JSON (RFC 7591), or the page's own form.
enum Submitted {
    Json,
    Form,
}

fn media_type(request: &Request) -> Option<Submitted> {
    let value = request.header_values("content-type").next()?;
    let media = value.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/json") {
        Some(Submitted::Json)
    } else if request.has_form_body() {
        Some(Submitted::Form)
    } else {
        None
    }
}

async fn register(app: App, session: Option<Session>, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let submitted = media_type(request);
    let Some(session) = session else {
        return not_signed_in(!matches!(submitted, Some(Submitted::Form)));
    };
    let metadata = match submitted {
        None => {
            return json_error(
                415,
                "invalid_request",
                "client registrations are application/json (RFC 7591), or the form on /clients",
            )
        }
        Some(Submitted::Json) => match serde_json::from_slice::<ClientMetadata>(&request.body) {
            Ok(metadata) => metadata,
            Err(error) => {
                return json_error(
                    400,
                    "invalid_client_metadata",
                    &format!("the body is not client metadata in JSON: {error}"),
                )
            }
        },
        Some(Submitted::Form) => match from_form(&session, request) {
            Ok(metadata) => metadata,
            Err(refused) => return refused,
        },
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
    let as_page = matches!(submitted, Some(Submitted::Form));
    match registered {
        Ok(registered) if as_page => registered_page(&registered),
        Ok(registered) => json(201, &registered.response_json()),
        Err(AccountError::Store(error)) => app.store_failure(&error),
        Err(error) if as_page => pages::error_page(400, "Not registered", &error.to_string()),
        Err(error) => json_error(
            400,
            error
                .registration_error()
                .unwrap_or("invalid_client_metadata"),
            &error.to_string(),
        ),
    }
}

/// The grant types the form offers, with whether each is checked at first.
const FORM_GRANT_TYPES: [(&str, bool); 5] = [
    ("authorization_code", true),
    ("refresh_token", true),
    ("client_credentials", false),
    ("password", false),
    ("implicit", false),
];

/// The authentication methods the form offers, with what each means; the
/// first is the default.
const FORM_AUTH_METHODS: [(&str, &str); 3] = [
    ("client_secret_basic", "the secret in HTTP Basic"),
    ("client_secret_post", "the secret in the form body"),
    ("none", "a public client: no secret, PKCE"),
];

/// The metadata of the form on `/clients`, once its CSRF token is this
/// session's (403 else): `client_name`, `redirect_uris` one a line,
/// `scope`, `grant_types` (checkboxes; none checked, or an older form
/// without them, means the ones checked at first) and
/// `token_endpoint_auth_method`. The response types follow from the grant
/// types: `code` for `authorization_code`, `token` for `implicit`.
fn from_form(session: &Session, request: &Request) -> Result<ClientMetadata, Response> {
    let fields = pages::form_of(session, &request.body, "/clients")?;
    let mut metadata = ClientMetadata::named(fields.get("client_name").unwrap_or_default().trim());
    metadata.redirect_uris = fields
        .get("redirect_uris")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|uri| !uri.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(scope) = fields
        .get("scope")
        .map(str::trim)
        .filter(|scope| !scope.is_empty())
    {
        metadata.scope = scope.to_owned();
    }
    let mut grant_types: Vec<String> = Vec::new();
    for grant in fields.all("grant_types") {
        if !grant_types.iter().any(|kept| kept == grant) {
            grant_types.push(grant.to_owned());
        }
    }
    if grant_types.is_empty() {
        grant_types = FORM_GRANT_TYPES
            .iter()
            .filter(|(_, checked)| *checked)
            .map(|(grant, _)| (*grant).to_owned())
            .collect();
    }
    let answers = |grant: &str| grant_types.iter().any(|kept| kept == grant);
    metadata.response_types = [("authorization_code", "code"), ("implicit", "token")]
        .into_iter()
        .filter(|(grant, _)| answers(grant))
        .map(|(_, response)| response.to_owned())
        .collect();
    metadata.grant_types = grant_types;
    if let Some(method) = fields
        .get("token_endpoint_auth_method")
        .filter(|method| !method.is_empty())
    {
        metadata.token_endpoint_auth_method = method.to_owned();
    }
    Ok(metadata)
}

/// 201: the new client's id and secret, shown this once.
fn registered_page(registered: &crate::accounts::Registered) -> Response {
    let id = &registered.record.client_id;
    let secret = registered
        .secret
        .as_deref()
        .map_or(String::new(), |secret| {
            format!(
                "<p>Client secret: <code id=\"client_secret\">{}</code></p>\n\
                 <p><strong>Copy it now: it will not be shown again.</strong> If it is lost, \
                 rotate it on the client's page.</p>\n",
                escape(secret)
            )
        });
    pages::page(
        201,
        "Client registered",
        &format!(
            "<p>Registered <strong>{}</strong>.</p>\n<p>Client id: <code id=\"client_id\">{}</code></p>\n{secret}\
             <p><a id=\"client_page\" href=\"{}\">The client's page</a> · <a href=\"/clients\">Your clients</a></p>",
            escape(&registered.record.name),
            escape(id),
            client_path(id),
        ),
    )
}

/// `/clients/{id}`, the id percent-encoded: only unreserved characters,
/// `%` and `/`, so it goes into HTML as it is.
pub(crate) fn client_path(client_id: &str) -> String {
    format!("/clients/{}", percent_encode(client_id))
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
            match crate::accounts::client_issued_at(app.store(), client).await {
                Ok(at) => registrations.push(registration_json(&client.record, None, at)),
                Err(error) => return app.store_failure(&error),
            }
        }
        return json(200, &serde_json::Value::Array(registrations));
    }
    let rows: String = live
        .map(|client| {
            format!(
                "<tr><td><a href=\"{}\">{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
                client_path(&client.record.client_id),
                escape(&client.record.name),
                escape(&client.record.client_id),
                escape(&client.record.redirect_uris.join(" ")),
                escape(&client.record.scope.to_string()),
            )
        })
        .collect();
    let body = if rows.is_empty() {
        "<p>You have registered no clients yet.</p>".to_owned()
    } else {
        format!(
            "<table>\n<tr><th>Name</th><th>Client id</th><th>Redirect URIs</th><th>Scope</th></tr>\n{rows}</table>"
        )
    };
    let grant_types: String = FORM_GRANT_TYPES
        .iter()
        .map(|(grant, checked)| {
            format!(
                "<label><input type=\"checkbox\" name=\"grant_types\" value=\"{grant}\"{}> {grant}</label>\n",
                if *checked { " checked" } else { "" }
            )
        })
        .collect();
    let auth_methods: String = FORM_AUTH_METHODS
        .iter()
        .map(|(method, meaning)| {
            format!("<option value=\"{method}\">{method} ({meaning})</option>")
        })
        .collect();
    let form = format!(
        "<h2>Register a client</h2>\n<form method=\"post\" action=\"/clients\">\n{}\n\
         <label>Name <input name=\"client_name\" required></label>\n\
         <label>Redirect URIs, one a line (also the OAuth 1 callbacks; none needed for \
         client_credentials or password alone) <textarea name=\"redirect_uris\" rows=\"3\"></textarea></label>\n\
         <label>Scope, space-separated <input name=\"scope\" value=\"profile\"></label>\n\
         <fieldset><legend>Grant types</legend>\n{grant_types}</fieldset>\n\
         <label>Token endpoint authentication <select name=\"token_endpoint_auth_method\">{auth_methods}</select></label>\n\
         <button type=\"submit\">Register</button>\n</form>",
        hidden("csrf_token", &session.csrf_token)
    );
    pages::page(
        200,
        "Your clients",
        &format!("{body}\n{form}\n<p><a href=\"/\">Home</a></p>"),
    )
}
