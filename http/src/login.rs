//! The home page, signing in and out.

use credlog_core::rfc5849::encoding::percent_encode;
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use std::net::IpAddr;

use credlog_core::throttle::Attempt;

use crate::accounts;
use crate::adapter::{answer, answer_from, same_origin, session, Fields};
use crate::app::App;
use crate::pages::{self, escape, hidden};
use crate::sessions::{self, same_secret, Session};

/// A 303 to the login form, which returns to `next` (a local path and query).
pub fn login_then(next: &str) -> Response {
    pages::redirect(303, &format!("/login?next={}", percent_encode(next)))
}

/// `next` is followed only when it is a path on this server; anything
/// else (another origin, `//host`, a scheme) sends the user home.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && !next.chars().any(|c| c.is_control() || c == '\\') =>
        {
            next
        }
        _ => "/",
    }
}

/// The cookie that carries the login form's CSRF token before anyone is
/// signed in (a double-submit token: the form's `csrf_token` must equal it).
pub const LOGIN_COOKIE: &str = "credlog_login";

/// `GET /`, `GET /login`, `POST /login`, `POST /logout`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let home = warp::path::end()
        .and(warp::get())
        .and(session(app.clone()))
        .map(|session: Option<Session>| crate::adapter::reply(home_page(session.as_ref())));
    let form = warp::path!("login").and(warp::get()).and(answer(
        app.clone(),
        |app: App, request: Request| async move {
            let fields = Fields::query(&request).unwrap_or_default();
            let token = LoginToken::of(&request);
            token.with_cookie(
                &app,
                login_page(200, safe_next(fields.get("next")), &token.value, None),
            )
        },
    ));
    let submit = warp::path!("login")
        .and(warp::post())
        .and(same_origin(&app))
        .and(answer_from(app.clone(), sign_in));
    let logout = warp::path!("logout")
        .and(warp::post())
        .and(same_origin(&app))
        .and(answer(app, sign_out));
    home.or(form)
        .unify()
        .or(submit)
        .unify()
        .or(logout)
        .unify()
        .boxed()
}

/// The login form's CSRF token: the browser's, or a new one.
struct LoginToken {
    value: String,
    is_new: bool,
}

impl LoginToken {
    fn of(request: &Request) -> LoginToken {
        match sessions::cookie_value(request, LOGIN_COOKIE).filter(|token| is_token(token)) {
            Some(token) => LoginToken {
                value: token.to_owned(),
                is_new: false,
            },
            None => LoginToken {
                value: crate::app::random_token(),
                is_new: true,
            },
        }
    }

    /// `response`, setting the cookie when the token is new.
    fn with_cookie(&self, app: &App, mut response: Response) -> Response {
        if self.is_new {
            response.headers.push((
                "Set-Cookie".to_owned(),
                sessions::cookie(
                    LOGIN_COOKIE,
                    &self.value,
                    app.settings().secure_cookies(),
                    None,
                ),
            ));
        }
        response
    }
}

/// What [`crate::app::random_token`] makes: 32 ASCII letters and digits.
fn is_token(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

async fn sign_in(app: App, address: Option<IpAddr>, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let Some(fields) = Fields::parse(&request.body) else {
        return pages::error_page(400, "Bad request", "The form could not be read.");
    };
    let query = Fields::query(request).unwrap_or_default();
    let next = safe_next(fields.get("next").or(query.get("next")));
    let token = LoginToken::of(request);
    let form_token = fields.get("csrf_token");
    if token.is_new || !form_token.is_some_and(|sent| same_secret(&token.value, sent)) {
        return token.with_cookie(app, pages::page(
            403,
            "Sign in again",
            &format!(
                "<p id=\"error\">The sign-in form had expired or came from another site; nobody was signed in.</p>\n{}",
                login_form(next, &token.value)
            ),
        ));
    }
    let (Some(username), Some(password)) = (fields.get("username"), fields.get("password")) else {
        return login_page(
            400,
            next,
            &token.value,
            Some("Enter a user name and a password."),
        );
    };
    let attempt = Attempt::password(username, address);
    match accounts::sign_in(app, &attempt, password).await {
        Ok(Some(user)) => {
            let session = match app.sessions().create(&user.name, app.now()).await {
                Ok(session) => session,
                Err(error) => return app.store_failure(&error),
            };
            let mut response = pages::redirect(303, next);
            response.headers.push((
                "Set-Cookie".to_owned(),
                sessions::set_cookie(&session, app.settings().secure_cookies()),
            ));
            response
        }
        Ok(None) => login_page(
            401,
            next,
            &token.value,
            Some("Wrong user name or password."),
        ),
        Err(error) => accounts::owner_check_failure(app, &error),
    }
}

/// `POST /logout`: ends the session when the form carries its CSRF token.
///
/// Unlike the pages, sign-out does not read a store failure as "signed
/// out": it answers 500 and clears no cookie, because the session would
/// live on in the store (and on every server sharing it) while the user
/// was told it had ended.
async fn sign_out(app: App, request: Request) -> Response {
    let session = match sessions::cookie_value(&request, sessions::COOKIE) {
        Some(id) => match app.sessions().get(id, app.now()).await {
            Ok(session) => session,
            Err(error) => return app.store_failure(&error),
        },
        None => None,
    };
    if let Some(session) = &session {
        let fields = Fields::parse(&request.body).unwrap_or_default();
        if !fields
            .get("csrf_token")
            .is_some_and(|token| session.csrf_matches(token))
        {
            return pages::error_page(
                403,
                "Forbidden",
                "The sign-out form did not come from this session; you are still signed in.",
            );
        }
        if let Err(error) = app.sessions().remove(&session.id).await {
            return app.store_failure(&error);
        }
    }
    let mut response = pages::redirect(303, "/");
    response.headers.push((
        "Set-Cookie".to_owned(),
        sessions::clear_cookie(app.settings().secure_cookies()),
    ));
    response
}

fn login_form(next: &str, csrf_token: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/login\">\n{}\n{}\n\
         <label>User name <input name=\"username\" autocomplete=\"username\" required></label>\n\
         <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\n\
         <button type=\"submit\">Sign in</button>\n</form>",
        hidden("next", next),
        hidden("csrf_token", csrf_token),
    )
}

fn login_page(status: u16, next: &str, csrf_token: &str, error: Option<&str>) -> Response {
    let error = error.map_or(String::new(), |error| {
        format!("<p id=\"error\">{}</p>\n", escape(error))
    });
    pages::page(
        status,
        "Sign in",
        &format!("{error}{}", login_form(next, csrf_token)),
    )
}

fn home_page(session: Option<&Session>) -> Response {
    let body = match session {
        Some(session) => format!(
            "<p>Signed in as <strong id=\"user\">{}</strong>.</p>\n\
             <p><a href=\"/authorizations\">Applications you allowed</a></p>\n\
             <p><a href=\"/clients\">Your clients</a> (as a developer)</p>\n\
             <form method=\"post\" action=\"/logout\">{}<button type=\"submit\">Sign out</button></form>",
            escape(&session.user),
            hidden("csrf_token", &session.csrf_token),
        ),
        None => "<p>Not signed in.</p>\n<p><a href=\"/login\">Sign in</a></p>".to_owned(),
    };
    pages::page(200, "credlog", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use credlog_conformance::{Fault, FaultyStore};
    use credlog_core::store::CredentialStore;
    use credlog_storage_memory::MemoryStore;

    async fn send(
        app: &App,
        method: &str,
        path: &str,
        cookie: &str,
        body: &str,
    ) -> (u16, String, bool) {
        let reply = warp::test::request()
            .method(method)
            .path(path)
            .header("host", "localhost")
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .reply(&crate::server::routes(app.clone()))
            .await;
        let sets_cookie = reply.headers().contains_key("set-cookie");
        let body = String::from_utf8_lossy(reply.body()).into_owned();
        (reply.status().as_u16(), body, sets_cookie)
    }

    #[tokio::test]
    async fn a_failing_store_reads_as_signed_out_but_never_fakes_a_sign_out() {
        let store = Arc::new(FaultyStore::new(MemoryStore::new()));
        let app = App::new(
            Arc::clone(&store) as Arc<dyn CredentialStore>,
            Default::default(),
        );
        let session = app.sessions().create("alice", app.now()).await.unwrap();
        let cookie = format!("{}={}", sessions::COOKIE, session.id);
        let logout = format!("csrf_token={}", session.csrf_token);

        store.set_sessions(Fault::Fails("the session table is gone"));
        let (status, body, _) = send(&app, "GET", "/", &cookie, "").await;
        assert_eq!(status, 200, "the home page works signed out");
        assert!(body.contains("Not signed in"), "{body}");
        let (status, _, sets_cookie) = send(&app, "POST", "/logout", &cookie, &logout).await;
        assert_eq!(status, 500, "a sign-out the store did not record");
        assert!(!sets_cookie, "the cookie stays: the session is not over");
        assert!(app.sessions().create("alice", app.now()).await.is_err());

        store.set_sessions(Fault::Works);
        let (_, body, _) = send(&app, "GET", "/", &cookie, "").await;
        assert!(body.contains("id=\"user\">alice<"), "{body}");
        let (status, _, sets_cookie) = send(&app, "POST", "/logout", &cookie, &logout).await;
        assert_eq!((status, sets_cookie), (303, true));
        let (_, body, _) = send(&app, "GET", "/", &cookie, "").await;
        assert!(body.contains("Not signed in"), "{body}");
    }

    #[test]
    fn next_is_followed_only_to_local_paths() {
        assert_eq!(
            safe_next(Some("/oauth1/authorize?oauth_token=x")),
            "/oauth1/authorize?oauth_token=x"
        );
        for outside in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "evil",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(outside)), "/", "{outside:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
