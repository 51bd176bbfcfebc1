//! The OAuth 1.0 endpoints of RFC 5849 2: temporary credentials
//! (`/oauth1/initiate`), resource owner authorization
//! (`/oauth1/authorize`), token credentials (`/oauth1/token`). The
//! validator and the store do the work; this module turns their answers
//! into the responses CONTRACT.md names.

use credlog_core::rfc5849::encoding::percent_encode;
use credlog_core::rfc5849::{Endpoint, Oauth1Error, VerifiedRequest};
use credlog_core::rfc6749::redirect::{self, ResponseMode};
use credlog_core::store::{
    AppendError, Authorized, CredentialKind, CredentialState, Event, Exchanged, Failure, Issued,
    Precondition, RevocationReason, Revoked, Secret, Status, TokenRecord,
};
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{answer, answer_with_session, Fields};
use crate::app::{random_token, App};
use crate::login::{login_redirect, login_then};
use crate::pages::{self, escape, hidden};
use crate::sessions::Session;

/// Every OAuth 1 endpoint.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let initiate = warp::path!("oauth1" / "initiate")
        .and(warp::post())
        .and(answer(app.clone(), initiate));
    let token = warp::path!("oauth1" / "token")
        .and(warp::post())
        .and(answer(app.clone(), token));
    let consent = warp::path!("oauth1" / "authorize")
        .and(warp::get())
        .and(answer_with_session(app.clone(), consent_page));
    let decide = warp::path!("oauth1" / "authorize")
        .and(warp::post())
        .and(answer_with_session(app, decide));
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
    if let Oauth1Error::Store(detail) = error {
        tracing::error!(%detail, "the credential store failed");
    }
    error.to_response(&app.oauth1().config().realm)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers
        .push(("Cache-Control".to_owned(), "no-store".to_owned()));
    response
}

/// A signed request the validator accepted at `now`, with the temporary or
/// token credential it read to check the signature (so no one reads it again).
pub struct Accepted {
    /// What the request carried.
    pub request: VerifiedRequest,
    /// The live credential named by `oauth_token`, at endpoints that take one.
    pub token: Option<CredentialState>,
    /// When it was judged.
    pub now: u64,
}

/// Validates a request for `endpoint` (RFC 5849 3.2) against the app's
/// store; on success its nonce is used and its `Verified` event appended.
pub async fn verify(
    app: &App,
    request: &Request,
    endpoint: Endpoint,
) -> Result<Accepted, Response> {
    accept(app, request, endpoint)
        .await
        .map_err(|error| oauth1_error(app, &error))
}

/// [`verify`], refusing with the engine's error rather than its response,
/// for a caller that answers some refusals its own way.
pub async fn accept(
    app: &App,
    request: &Request,
    endpoint: Endpoint,
) -> Result<Accepted, Oauth1Error> {
    let now = app.now();
    let source = app.source(now);
    let verified = app.oauth1().verify(request, endpoint, now, &source).await?;
    Ok(Accepted {
        request: verified,
        token: source.into_token(),
        now,
    })
}

fn store_refusal(app: &App, error: AppendError) -> Response {
    match error {
        AppendError::Store(error) => oauth1_error(app, &Oauth1Error::Store(error.to_string())),
        // The credential changed between the check and the write (another
        // request won): to this client it is simply no longer usable.
        AppendError::Refused(_) => oauth1_error(app, &Oauth1Error::UnknownToken),
    }
}

/// RFC 5849 2.1: a signed request with `oauth_callback` gets a temporary credential.
async fn initiate(app: App, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let (verified, now) = match verify(app, request, Endpoint::Initiate).await {
        Ok(accepted) => (accepted.request, accepted.now),
        Err(response) => return response,
    };
    let client = match app.store().client(&verified.client_key).await {
        Ok(Some(client)) => client,
        Ok(None) => return oauth1_error(app, &Oauth1Error::UnknownClient),
        Err(error) => return oauth1_error(app, &Oauth1Error::Store(error.to_string())),
    };
    let (token, secret) = (random_token(), random_token());
    let record = TokenRecord {
        kind: CredentialKind::Temporary,
        id: token.clone(),
        secret: Secret::Plain(secret.clone()),
        client_id: verified.client_key.clone(),
        user: None,
        scope: client.record.scope.to_string(),
        expires_at: Some(now.saturating_add(app.settings().temporary_lifetime)),
        parent: None,
        redirect_uri: verified.callback,
        code_challenge: None,
    };
    let preconditions = [
        Precondition::ClientLive {
            client_id: verified.client_key,
        },
        Precondition::Absent {
            kind: CredentialKind::Temporary,
            id: token.clone(),
        },
    ];
    let events = vec![Event::Issued(Issued::Token(record))];
    if let Err(error) = app.store().append(&preconditions, events, now).await {
        return match error {
            AppendError::Refused(_) => oauth1_error(app, &Oauth1Error::UnknownClient),
            AppendError::Store(error) => oauth1_error(app, &Oauth1Error::Store(error.to_string())),
        };
    }
    no_store(Response::form(
        200,
        [
            ("oauth_token", token.as_str()),
            ("oauth_token_secret", secret.as_str()),
            ("oauth_callback_confirmed", "true"),
        ],
    ))
}

/// RFC 5849 2.3: a temporary credential, granted, and its verifier get a
/// token credential, once. A wrong verifier ends the temporary credential.
async fn token(app: App, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let Accepted {
        request: verified,
        token: state,
        now,
    } = match verify(app, request, Endpoint::Token).await {
        Ok(accepted) => accepted,
        Err(response) => return response,
    };
    // The validator read the temporary credential to check the signature.
    let (Some(state), Some(verifier)) = (state, verified.verifier) else {
        return oauth1_error(app, &Oauth1Error::UnknownToken);
    };
    let temporary = state.record.id.clone();
    let granted = Precondition::Credential {
        id: temporary.clone(),
        kind: CredentialKind::Temporary,
        client_id: verified.client_key.clone(),
        status: Status::Authorized,
        now,
    };
    let matches = Precondition::VerifierMatches {
        id: temporary.clone(),
        verifier,
    };
    let (token, secret) = (random_token(), random_token());
    let record = TokenRecord {
        kind: CredentialKind::TokenCredential,
        id: token.clone(),
        secret: Secret::Plain(secret.clone()),
        client_id: verified.client_key.clone(),
        user: state.record.user.clone(),
        scope: state.record.scope.clone(),
        expires_at: None,
        parent: Some(temporary.clone()),
        redirect_uri: None,
        code_challenge: None,
    };
    let events = vec![
        Event::Exchanged(Exchanged {
            id: temporary.clone(),
        }),
        Event::Issued(Issued::Token(record)),
    ];
    match app
        .store()
        .append(&[granted.clone(), matches], events, now)
        .await
    {
        Ok(_) => no_store(Response::form(
            200,
            [
                ("oauth_token", token.as_str()),
                ("oauth_token_secret", secret.as_str()),
            ],
        )),
        Err(AppendError::Refused(refused)) => match refused.failure {
            Failure::VerifierMismatch => {
                // No guessing: the temporary credential ends with the first wrong verifier.
                let revoke = Event::Revoked(Revoked {
                    id: temporary,
                    kind: CredentialKind::Temporary,
                    reason: RevocationReason::WrongVerifier,
                    whole_family: false,
                });
                match app.store().append(&[granted], vec![revoke], now).await {
                    Ok(_) | Err(AppendError::Refused(_)) => {
                        oauth1_error(app, &Oauth1Error::InvalidVerifier)
                    }
                    Err(error) => store_refusal(app, error),
                }
            }
            // Not granted yet: there is no verifier to match.
            Failure::WrongStatus {
                actual: Status::Issued,
            } => oauth1_error(app, &Oauth1Error::InvalidVerifier),
            _ => oauth1_error(app, &Oauth1Error::UnknownToken),
        },
        Err(error) => store_refusal(app, error),
    }
}

/// A temporary credential waiting for its owner's decision, and its client's name.
async fn pending(app: &App, token: Option<&str>) -> Result<(CredentialState, String), Response> {
    let unknown = || {
        pages::error_page(
            400,
            "Unknown request",
            "This authorization request is unknown, has expired, or was already answered. \
             Start again from the application.",
        )
    };
    let token = token.ok_or_else(|| {
        pages::error_page(400, "Bad request", "The oauth_token parameter is missing.")
    })?;
    let state = match app.store().credential(token).await {
        Ok(Some(state)) => state,
        Ok(None) => return Err(unknown()),
        Err(error) => return Err(app.store_failure(&error)),
    };
    if state.record.kind != CredentialKind::Temporary
        || state.status != Status::Issued
        || state.is_expired(app.now())
    {
        return Err(unknown());
    }
    match app.store().client(&state.record.client_id).await {
        Ok(Some(client)) if !client.revoked => Ok((state, client.record.name)),
        Ok(_) => Err(unknown()),
        Err(error) => Err(app.store_failure(&error)),
    }
}

/// RFC 5849 2.2: the consent page, for the signed-in resource owner.
async fn consent_page(app: App, session: Option<Session>, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let Some(session) = session else {
        return login_redirect(request);
    };
    let Some(query) = Fields::query(request) else {
        return pages::error_page(400, "Bad request", "The query could not be read.");
    };
    let (state, client_name) = match pending(app, query.get("oauth_token")).await {
        Ok(pending) => pending,
        Err(response) => return response,
    };
    let callback = state.record.redirect_uri.as_deref().unwrap_or("oob");
    let returns_to = if callback == "oob" {
        "You will be shown a verification code to give to the application.".to_owned()
    } else {
        format!("You will then return to <code>{}</code>.", escape(callback))
    };
    let body = format!(
        "<p>Signed in as <strong>{user}</strong>.</p>\n\
         <p>The application <strong id=\"client\">{client}</strong> asks to act on your behalf \
         with scope <code id=\"scope\">{scope}</code>.</p>\n<p>{returns_to}</p>\n\
         <form method=\"post\" action=\"/oauth1/authorize\">\n{token}\n{csrf}\n\
         <button type=\"submit\" name=\"confirm\" value=\"yes\">Allow</button>\n\
         <button type=\"submit\" name=\"confirm\" value=\"no\">Deny</button>\n</form>",
        user = escape(&session.user),
        client = escape(&client_name),
        scope = escape(&state.record.scope),
        token = hidden("oauth_token", &state.record.id),
        csrf = hidden("csrf_token", &session.csrf_token),
    );
    pages::page(200, "Authorize access", &body)
}

/// Where the owner's decision goes: the callback with these parameters
/// added to its query (RFC 5849 2.2).
fn callback_with(callback: &str, pairs: &[(&str, &str)]) -> String {
    redirect::with_parameters(callback, ResponseMode::Query, pairs)
}

/// RFC 5849 2.2: the owner's decision. Granting records the verifier
/// (hashed) and sends the owner back with it; denying ends the temporary
/// credential.
async fn decide(app: App, session: Option<Session>, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let Some(fields) = Fields::parse(&request.body) else {
        return pages::error_page(400, "Bad request", "The form could not be read.");
    };
    let Some(session) = session else {
        let token = fields.get("oauth_token").unwrap_or_default();
        return login_then(&format!(
            "/oauth1/authorize?oauth_token={}",
            percent_encode(token)
        ));
    };
    let grant = match pages::decision(&session, fields.get("csrf_token"), fields.get("confirm")) {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    let (state, client_name) = match pending(app, fields.get("oauth_token")).await {
        Ok(pending) => pending,
        Err(response) => return response,
    };
    let now = app.now();
    let token = state.record.id.clone();
    let waiting = Precondition::Credential {
        id: token.clone(),
        kind: CredentialKind::Temporary,
        client_id: state.record.client_id.clone(),
        status: Status::Issued,
        now,
    };
    let verifier = random_token();
    let event = if grant {
        Event::Authorized(Authorized {
            id: token.clone(),
            user: session.user.clone(),
            verifier: Some(Secret::sha256(&verifier)),
        })
    } else {
        Event::Revoked(Revoked {
            id: token.clone(),
            kind: CredentialKind::Temporary,
            reason: RevocationReason::Denied,
            whole_family: false,
        })
    };
    match app.store().append(&[waiting], vec![event], now).await {
        Ok(_) => {}
        Err(AppendError::Refused(_)) => {
            return pages::error_page(
                400,
                "Already answered",
                "This authorization request was already answered or has expired.",
            )
        }
        Err(AppendError::Store(error)) => return app.store_failure(&error),
    }
    let callback = state.record.redirect_uri.as_deref().unwrap_or("oob");
    match (grant, callback) {
        (true, "oob") => pages::page(
            200,
            "Access granted",
            &format!(
                "<p>You allowed <strong>{}</strong>. Give it this verification code:</p>\n\
                 <p><code id=\"verifier\">{}</code></p>",
                escape(&client_name),
                escape(&verifier)
            ),
        ),
        (false, "oob") => pages::page(
            200,
            "Access denied",
            &format!(
                "<p id=\"denied\">You denied <strong>{}</strong>. It gets no access.</p>",
                escape(&client_name)
            ),
        ),
        (true, callback) => pages::redirect(
            302,
            &callback_with(
                callback,
                &[("oauth_token", &token), ("oauth_verifier", &verifier)],
            ),
        ),
        (false, callback) => pages::redirect(302, &callback_with(callback, &[("denied", &token)])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_parameters_are_appended_to_any_query() {
        assert_eq!(
            callback_with(
                "https://app.example/cb",
                &[("oauth_token", "a b"), ("oauth_verifier", "v")]
            ),
            "https://app.example/cb?oauth_token=a%20b&oauth_verifier=v"
        );
        assert_eq!(
            callback_with("https://app.example/cb?state=1", &[("denied", "t")]),
            "https://app.example/cb?state=1&denied=t"
        );
    }
}
