//! The device flow's two HTTP sides (RFC 8628): the device authorization
//! endpoint a device posts to, and the `/device` page where the person
//! types the user code and approves or denies. The engine in
//! `credlog_core::rfc8628` decides, guesses and request rates included
//! ([`rfc8628::pending_for`], [`credlog_core::rfc6749::Oauth2Server::guarded`]);
//! this module routes and shows the pages, with the app's throttle and the
//! client's address.

use std::net::IpAddr;

use credlog_core::consent::path_and_query;
use credlog_core::rfc6749::Guarded;
use credlog_core::rfc8628::{self, PendingDevice, VerificationError, VERIFICATION_PATH};
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{
    answer_from, answer_with_session, answer_with_session_from, same_origin, Fields,
};
use crate::app::App;
use crate::consent::Accounts;
use crate::login::login_then;
use crate::pages::{self, escape, hidden};
use crate::sessions::Session;

/// `POST /oauth2/device_authorization`, `GET` and `POST /device`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let endpoint = warp::path!("oauth2" / "device_authorization")
        .and(warp::post())
        .and(answer_from(app.clone(), device_authorization));
    let form = warp::path!("device")
        .and(warp::get())
        .and(answer_with_session(app.clone(), code_form));
    let submit = warp::path!("device")
        .and(warp::post())
        .and(same_origin(&app))
        .and(answer_with_session_from(app, submit));
    endpoint.or(form).unify().or(submit).unify().boxed()
}

/// RFC 8628 3.1: the core's endpoint, behind the client-authentication
/// throttle and its request rates (CONTRACT.md "Users and sessions").
async fn device_authorization(app: App, address: Option<IpAddr>, request: Request) -> Response {
    let answer = app
        .oauth2()
        .device_authorization(app.store(), &request, app.now());
    crate::oauth2::guarded(
        &app,
        address,
        Guarded::DeviceAuthorization,
        &request,
        answer,
    )
    .await
}

/// `GET /device[?user_code=...]`: the form to type the code, filled in
/// from `verification_uri_complete` (RFC 8628 3.3.1). Nothing is looked
/// up before the person submits it, so every look-up is throttled.
async fn code_form(_app: App, session: Option<Session>, request: Request) -> Response {
    let Some(session) = session else {
        return login_then(path_and_query(&request.uri));
    };
    let query = Fields::query(&request).unwrap_or_default();
    let typed = query.get("user_code").unwrap_or_default();
    code_page(200, &session, typed, None)
}

/// `POST /device`: the typed code, then (with `confirm`) the answer.
async fn submit(
    app: App,
    session: Option<Session>,
    address: Option<IpAddr>,
    request: Request,
) -> Response {
    let Some(session) = session else {
        return login_then(VERIFICATION_PATH);
    };
    let fields = match pages::form_of(&session, &request.body, "the device page") {
        Ok(fields) => fields,
        Err(refused) => return refused,
    };
    let typed = fields.get("user_code").unwrap_or_default();
    let now = app.now();
    let found = rfc8628::pending_for(
        app.store(),
        app.throttle(),
        &session.user,
        address,
        typed,
        now,
    )
    .await;
    let device = match found {
        Ok(device) => device,
        Err(VerificationError::Store(error)) => return app.store_failure(&error),
        Err(VerificationError::Throttled { retry_after }) => return throttled(retry_after),
        Err(wrong) => {
            tracing::info!(user = %session.user, address = ?address, "a wrong user code was typed");
            return code_page(400, &session, typed, Some(&wrong.to_string()));
        }
    };
    let approved = match fields.get("confirm") {
        None => return consent_page(&app, &session, &device),
        Some("yes") => true,
        Some("no") => false,
        Some(_) => {
            return pages::error_page(400, "Bad request", "confirm must be \"yes\" or \"no\".")
        }
    };
    let answered = if approved {
        let auth_time = Some(session.signed_in_at);
        rfc8628::approve(app.store(), &device, &session.user, auth_time, now).await
    } else {
        rfc8628::deny(app.store(), &device, now).await
    };
    match answered {
        Ok(()) => done_page(&device, approved),
        Err(VerificationError::Store(error)) => app.store_failure(&error),
        // Answered meanwhile (another tab), or expired since the page was shown.
        Err(late) => code_page(400, &session, typed, Some(&late.to_string())),
    }
}

/// The form to type the code, with `typed` filled in and `error` above it.
fn code_page(status: u16, session: &Session, typed: &str, error: Option<&str>) -> Response {
    let error = error.map_or(String::new(), |error| {
        format!("<p id=\"error\">{}</p>\n", escape(error))
    });
    let body = format!(
        "{error}<p>Signed in as <strong>{user}</strong>.</p>\n\
         <p>Type the code your device shows.</p>\n\
         <form method=\"post\" action=\"{VERIFICATION_PATH}\">\n{csrf}\n\
         <label>Code <input name=\"user_code\" id=\"user_code\" value=\"{typed}\" \
         autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" required></label>\n\
         <button type=\"submit\">Continue</button>\n</form>",
        user = escape(&session.user),
        typed = escape(typed),
        csrf = hidden("csrf_token", &session.csrf_token),
    );
    pages::page(status, "Connect a device", &body)
}

/// RFC 8628 3.3: which client asks for what, to allow or deny.
fn consent_page(app: &App, session: &Session, device: &PendingDevice) -> Response {
    let scope = device.scope.to_string();
    let body = format!(
        "<p>Signed in as <strong>{user}</strong>.</p>\n\
         <p>The device showing the code <code id=\"user-code\">{code}</code> runs \
         <strong id=\"client\">{client}</strong>, which asks to act on your behalf \
         with scope <code id=\"scope\">{scope_text}</code>{scopes}\n\
         <p>Allow it only if you started this on a device of your own.</p>\n\
         <form method=\"post\" action=\"{VERIFICATION_PATH}\">\n{user_code}\n{csrf}\n\
         <button type=\"submit\" name=\"confirm\" value=\"yes\">Allow</button>\n\
         <button type=\"submit\" name=\"confirm\" value=\"no\">Deny</button>\n</form>",
        user = escape(&session.user),
        code = escape(&device.user_code.display()),
        client = escape(&device.client.record.name),
        scope_text = escape(&scope),
        scopes = Accounts::new(app).scopes(&scope),
        user_code = hidden("user_code", &device.user_code.display()),
        csrf = hidden("csrf_token", &session.csrf_token),
    );
    pages::page(200, "Authorize a device", &body)
}

/// After the answer: the person goes back to the device.
fn done_page(device: &PendingDevice, approved: bool) -> Response {
    let client = escape(&device.client.record.name);
    let (title, body) = if approved {
        (
            "Device connected",
            format!(
                "<p>You allowed <strong id=\"client\">{client}</strong>.</p>\n\
                 <p id=\"approved\">You may return to your device.</p>"
            ),
        )
    } else {
        (
            "Device refused",
            format!(
                "<p>You denied <strong id=\"client\">{client}</strong>; it gets no access.</p>\n\
                 <p id=\"denied\">You may return to your device.</p>"
            ),
        )
    };
    pages::page(
        200,
        title,
        &format!("{body}\n<p><a href=\"/\">Home</a></p>"),
    )
}

/// 429 with `Retry-After`: too many wrong codes from this user or address.
fn throttled(retry_after: u64) -> Response {
    let mut page = pages::error_page(
        429,
        "Too many attempts",
        &format!(
            "Too many wrong codes or failed sign-ins from this account or address. \
             Try again in {retry_after} seconds."
        ),
    );
    page.headers
        .push(("Retry-After".to_owned(), retry_after.to_string()));
    page
}
