//! The OAuth 2 authorization endpoint (RFC 6749 3.1): `GET
//! /oauth2/authorize` checks the request and shows the signed-in resource
//! owner a consent page; `POST /oauth2/authorize` takes the decision. The
//! form carries the request's own parameters, which are checked again on
//! submit, so no state waits on the server between the two.

use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc6749::{AuthorizationError, AuthorizationRequest, Oauth2Error, Params};
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::answer_with_session;
use crate::app::App;
use crate::login::{login_redirect, login_then};
use crate::pages::{self, escape, hidden};
use crate::sessions::Session;

const PATH: &str = "/oauth2/authorize";

/// `GET` and `POST /oauth2/authorize`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let page = warp::path!("oauth2" / "authorize")
        .and(warp::get())
        .and(answer_with_session(app.clone(), consent_page));
    let decide = warp::path!("oauth2" / "authorize")
        .and(warp::post())
        .and(answer_with_session(app, decide));
    page.or(decide).unify().boxed()
}

/// An error before the redirect URI is trusted is shown, never redirected
/// (RFC 6749 4.1.2.1); after, it goes back to the client.
fn refusal(error: AuthorizationError) -> Response {
    match error {
        AuthorizationError::Untrusted(Oauth2Error::Store(detail)) => {
            tracing::error!(%detail, "the credential store failed");
            pages::error_page(
                500,
                "Server error",
                "The server could not complete the request. Try again later.",
            )
        }
        AuthorizationError::Untrusted(error) => pages::error_page(
            400,
            "Invalid authorization request",
            &format!(
                "This request cannot be completed: {} ({}). Return to the application and \
                 try again, or tell its developers.",
                error.description(),
                error.code()
            ),
        ),
        AuthorizationError::Redirect { location, error } => {
            if let Oauth2Error::Store(detail) = &error {
                tracing::error!(%detail, "the credential store failed");
            }
            pages::redirect(302, &location)
        }
    }
}

async fn checked(
    app: &App,
    params: Result<Params, Oauth2Error>,
) -> Result<AuthorizationRequest, Response> {
    let params = params.map_err(|error| refusal(AuthorizationError::Untrusted(error)))?;
    app.oauth2()
        .authorization_request(app.store(), params)
        .await
        .map_err(refusal)
}

fn query_params(request: &Request) -> Result<Params, Oauth2Error> {
    let query = credlog_core::rfc5849::parameters::query_of(&request.uri).unwrap_or("");
    Params::parse(query.as_bytes())
}

/// RFC 6749 4.1.1, 4.2.1: the request, checked, put to the resource owner.
async fn consent_page(app: App, session: Option<Session>, request: Request) -> Response {
    let Some(session) = session else {
        return login_redirect(&request);
    };
    let authorization = match checked(&app, query_params(&request)).await {
        Ok(authorization) => authorization,
        Err(response) => return response,
    };
    let fields: String = authorization
        .params
        .iter()
        .map(|(name, value)| hidden(name, value) + "\n")
        .collect();
    let body = format!(
        "<p>Signed in as <strong>{user}</strong>.</p>\n\
         <p>The application <strong id=\"client\">{client}</strong> asks to act on your behalf \
         with scope <code id=\"scope\">{scope}</code>.</p>\n\
         <p>You will then return to <code>{redirect}</code>.</p>\n\
         <form method=\"post\" action=\"{PATH}\">\n{fields}{csrf}\n\
         <button type=\"submit\" name=\"confirm\" value=\"yes\">Allow</button>\n\
         <button type=\"submit\" name=\"confirm\" value=\"no\">Deny</button>\n</form>",
        user = escape(&session.user),
        client = escape(&authorization.client.record.name),
        scope = escape(&authorization.scope.to_string()),
        redirect = escape(&authorization.redirect_uri),
        csrf = hidden("csrf_token", &session.csrf_token),
    );
    pages::page(200, "Authorize access", &body)
}

/// RFC 6749 4.1.2, 4.2.2: the owner's decision, on the request checked again.
async fn decide(app: App, session: Option<Session>, request: Request) -> Response {
    let form = match Params::parse(&request.body) {
        Ok(form) => form,
        Err(_) => return pages::error_page(400, "Bad request", "The form could not be read."),
    };
    let params = Params::from_pairs(
        form.iter()
            .filter(|(name, _)| !matches!(*name, "csrf_token" | "confirm")),
    );
    let Some(session) = session else {
        return login_then(&format!("{PATH}?{}", form_encode(params.iter())));
    };
    let grant = match pages::decision(&session, form.get("csrf_token"), form.get("confirm")) {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    let authorization = match checked(&app, Ok(params)).await {
        Ok(authorization) => authorization,
        Err(response) => return response,
    };
    if !grant {
        return pages::redirect(302, &app.oauth2().deny_authorization(&authorization));
    }
    match app
        .oauth2()
        .grant_authorization(app.store(), &authorization, &session.user, app.now())
        .await
    {
        Ok(location) => pages::redirect(302, &location),
        Err(error) => refusal(error),
    }
}
