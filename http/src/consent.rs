//! credlog's own accounts as the embedding seam ([`Consent`]): the session
//! cookie says who is signed in, the login page signs them in, the consent
//! page asks, and the session's CSRF token proves the form. Also the OAuth
//! 2 authorization endpoint's routes (`GET` and `POST /oauth2/authorize`);
//! the engines in `credlog-core` decide, these only translate.

use async_trait::async_trait;
use credlog_core::consent::{Consent, Page, Prompt, ReturnsTo};
use credlog_core::form::Fields;
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{answer, same_origin};
use crate::app::App;
use crate::login::login_then;
use crate::pages::{self, escape, hidden};
use crate::sessions::{self, Session};

/// The host side of the authorization endpoints, with credlog's accounts.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    app: &'a App,
}

impl<'a> Accounts<'a> {
    /// The app's sessions and pages.
    pub fn new(app: &'a App) -> Self {
        Accounts { app }
    }

    /// The end of the consent page's sentence about `scope`: a list of
    /// what each scope lets the application do, in the words of the
    /// settings ([`crate::Settings::scope_descriptions`]), or its name
    /// where they have none. Every `<li>` names its scope in an id.
    pub(crate) fn scopes(&self, scope: &str) -> String {
        let descriptions = &self.app.settings().scope_descriptions;
        let items: String = scope
            .split(' ')
            .filter(|name| !name.is_empty())
            .map(|name| {
                let id = escape(name);
                match descriptions.get(name) {
                    Some(description) => format!(
                        "<li><span id=\"scope-{id}\">{}</span> (<code>{id}</code>)</li>\n",
                        escape(description)
                    ),
                    None => format!("<li><code id=\"scope-{id}\">{id}</code></li>\n"),
                }
            })
            .collect();
        if items.is_empty() {
            ".</p>".to_owned()
        } else {
            format!(":</p>\n<ul id=\"scopes\">\n{items}</ul>")
        }
    }
}

/// The value of the session cookie among a request's `Cookie` headers.
fn session_cookie(request: &Request) -> Option<&str> {
    sessions::cookie_value(request, sessions::COOKIE)
}

#[async_trait]
impl Consent for Accounts<'_> {
    type Owner = Session;

    /// A store that fails to answer reads as nobody signed in (logged):
    /// [`Consent::owner`] has no way to say more, and the owner is then
    /// asked to sign in, which grants nothing.
    async fn owner(&self, request: &Request) -> Option<Session> {
        let id = session_cookie(request)?;
        self.app.sessions().signed_in(id, self.app.now()).await
    }

    fn user<'s>(&self, owner: &'s Session) -> &'s str {
        &owner.user
    }

    fn auth_time(&self, owner: &Session) -> Option<u64> {
        Some(owner.signed_in_at)
    }

    fn sign_in(&self, return_to: &str) -> Response {
        login_then(return_to)
    }

    fn ask(&self, owner: &Session, prompt: &Prompt<'_>) -> Response {
        let returns_to = match prompt.returns_to {
            ReturnsTo::OutOfBand => {
                "You will be shown a verification code to give to the application.".to_owned()
            }
            ReturnsTo::Uri(uri) => format!("You will then return to <code>{}</code>.", escape(uri)),
        };
        let fields: String = prompt
            .fields
            .iter()
            .map(|(name, value)| hidden(name, value) + "\n")
            .collect();
        let scopes = self.scopes(prompt.scope);
        let body = format!(
            "<p>Signed in as <strong>{user}</strong>.</p>\n\
             <p>The application <strong id=\"client\">{client}</strong> asks to act on your behalf \
             with scope <code id=\"scope\">{scope}</code>{scopes}\n<p>{returns_to}</p>\n\
             <form method=\"post\" action=\"{action}\">\n{fields}{csrf}\n\
             <button type=\"submit\" name=\"confirm\" value=\"yes\">Allow</button>\n\
             <button type=\"submit\" name=\"confirm\" value=\"no\">Deny</button>\n</form>",
            user = escape(&owner.user),
            client = escape(prompt.client_name),
            scope = escape(prompt.scope),
            action = escape(prompt.action),
            csrf = hidden("csrf_token", &owner.csrf_token),
        );
        pages::page(200, "Authorize access", &body)
    }

    fn answer(&self, owner: &Session, form: &Fields) -> Result<bool, Response> {
        pages::decision(owner, form.get("csrf_token"), form.get("confirm"))
    }

    fn own_fields(&self) -> &[&str] {
        &["csrf_token", "confirm"]
    }

    fn show(&self, page: &Page<'_>) -> Response {
        match page {
            Page::Verifier {
                client_name,
                verifier,
            } => pages::page(
                200,
                "Access granted",
                &format!(
                    "<p>You allowed <strong>{}</strong>. Give it this verification code:</p>\n\
                     <p><code id=\"verifier\">{}</code></p>",
                    escape(client_name),
                    escape(verifier)
                ),
            ),
            Page::Denied { client_name } => pages::page(
                200,
                "Access denied",
                &format!(
                    "<p id=\"denied\">You denied <strong>{}</strong>. It gets no access.</p>",
                    escape(client_name)
                ),
            ),
            Page::Refused {
                status,
                title,
                message,
            } => pages::error_page(*status, title, message),
        }
    }
}

/// `GET` and `POST /oauth2/authorize`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let page = warp::path!("oauth2" / "authorize")
        .and(warp::get())
        .and(answer(app.clone(), |app: App, request| async move {
            let now = app.now();
            app.oauth2()
                .authorize_page(app.store(), &Accounts::new(&app), &request, now)
                .await
        }));
    let decide = warp::path!("oauth2" / "authorize")
        .and(warp::post())
        .and(same_origin(&app))
        .and(answer(app, |app: App, request| async move {
            let now = app.now();
            app.oauth2()
                .authorize_decision(app.store(), &Accounts::new(&app), &request, now)
                .await
        }));
    page.or(decide).unify().boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let request = Request::new("GET", "http://h/")
            .with_header("cookie", "a=1; credlog_session=abc ;b=2")
            .with_header("cookie", "credlog_session=later");
        assert_eq!(session_cookie(&request), Some("abc"));
        let none = Request::new("GET", "http://h/").with_header("cookie", "credlog_sessionx=1");
        assert_eq!(session_cookie(&none), None);
    }
}
