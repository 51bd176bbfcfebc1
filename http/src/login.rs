//! The home page, signing in and out.

use credlog_core::rfc5849::encoding::percent_encode;
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::accounts::authenticate;
use crate::adapter::{answer, incoming, Fields};
use crate::app::App;
use crate::pages::{self, escape, hidden};
use crate::sessions::{self, Session};

/// The signed-in session of a request, if any.
pub fn session(
    app: App,
) -> impl Filter<Extract = (Option<Session>,), Error = std::convert::Infallible> + Clone {
    warp::cookie::optional::<String>(sessions::COOKIE)
        .map(move |id: Option<String>| id.and_then(|id| app.sessions().get(&id, app.now())))
}

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

/// `GET /`, `GET /login`, `POST /login`, `POST /logout`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let limit = app.settings().body_limit;
    let home = warp::path::end()
        .and(warp::get())
        .and(session(app.clone()))
        .map(|session: Option<Session>| crate::adapter::reply(home_page(session.as_ref())));
    let form = warp::path!("login")
        .and(warp::get())
        .and(incoming(limit))
        .map(|request: Request| {
            let fields = Fields::query(&request).unwrap_or_default();
            crate::adapter::reply(login_page(200, safe_next(fields.get("next")), None))
        });
    let submit = warp::path!("login")
        .and(warp::post())
        .and(answer(app.clone(), sign_in));
    let logout = warp::path!("logout")
        .and(warp::post())
        .and(session(app.clone()))
        .map(move |session: Option<Session>| {
            let mut response = pages::redirect(303, "/");
            if let Some(session) = session {
                app.sessions().remove(&session.id);
            }
            response
                .headers
                .push(("Set-Cookie".to_owned(), sessions::clear_cookie()));
            crate::adapter::reply(response)
        });
    home.or(form)
        .unify()
        .or(submit)
        .unify()
        .or(logout)
        .unify()
        .boxed()
}

async fn sign_in(app: App, request: Request) -> Response {
    let (app, request) = (&app, &request);
    let Some(fields) = Fields::parse(&request.body) else {
        return pages::error_page(400, "Bad request", "The form could not be read.");
    };
    let next = safe_next(fields.get("next"));
    let (Some(username), Some(password)) = (fields.get("username"), fields.get("password")) else {
        return login_page(400, next, Some("Enter a user name and a password."));
    };
    match authenticate(app.store(), username, password).await {
        Ok(Some(user)) => {
            let session = app.sessions().create(&user.name, app.now());
            let mut response = pages::redirect(303, next);
            response
                .headers
                .push(("Set-Cookie".to_owned(), sessions::set_cookie(&session)));
            response
        }
        Ok(None) => login_page(401, next, Some("Wrong user name or password.")),
        Err(error) => crate::accounts::owner_check_failure(app, &error),
    }
}

fn login_page(status: u16, next: &str, error: Option<&str>) -> Response {
    let error = error.map_or(String::new(), |error| {
        format!("<p id=\"error\">{}</p>\n", escape(error))
    });
    pages::page(
        status,
        "Sign in",
        &format!(
            "{error}<form method=\"post\" action=\"/login\">\n{}\n\
             <label>User name <input name=\"username\" autocomplete=\"username\" required></label>\n\
             <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\n\
             <button type=\"submit\">Sign in</button>\n</form>",
            hidden("next", next)
        ),
    )
}

fn home_page(session: Option<&Session>) -> Response {
    let body = match session {
        Some(session) => format!(
            "<p>Signed in as <strong id=\"user\">{}</strong>.</p>\n\
             <p><a href=\"/clients\">Your clients</a></p>\n\
             <form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>",
            escape(&session.user)
        ),
        None => "<p>Not signed in.</p>\n<p><a href=\"/login\">Sign in</a></p>".to_owned(),
    };
    pages::page(200, "credlog", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

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
