//! credlog's own accounts as the host of the one dispatch ([`Host`]): the
//! session cookie says who is signed in, the login page signs them in, the
//! consent and device pages ask, the session's CSRF token proves the form,
//! passwords are the app's users', and attempts are counted in the app's
//! throttle for the client's address. The engines in `credlog-core`
//! decide; this only answers for the app.

use std::net::IpAddr;

use async_trait::async_trait;
use credlog_core::consent::{CodeForm, Consent, Page, Prompt, ReturnsTo};
use credlog_core::form::Fields;
use credlog_core::provider::Host;
use credlog_core::rfc6749::{OwnerCheckError, ResourceOwners};
use credlog_core::throttle::{Attempt, Throttle};
use credlog_core::{Request, Response};

use crate::accounts::sign_in;
use crate::app::App;
use crate::device;
use crate::login::login_then;
use crate::pages::{self, escape, hidden};
use crate::sessions::{self, Session};

/// The host side of the protocol endpoints, with credlog's accounts, for
/// a request from `address`.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    app: &'a App,
    address: Option<IpAddr>,
}

impl<'a> Accounts<'a> {
    /// The app's sessions and pages, for a request from an unknown address.
    pub fn new(app: &'a App) -> Self {
        Accounts { app, address: None }
    }

    /// The app's sessions and pages, for a request from `address`.
    pub fn from(app: &'a App, address: Option<IpAddr>) -> Self {
        Accounts { app, address }
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
            ReturnsTo::Device { user_code } => {
                return device::consent_page(owner, prompt, user_code, &self.scopes(prompt.scope))
            }
            ReturnsTo::OutOfBand => {
                "You will be shown a verification code to give to the application.".to_owned()
            }
            ReturnsTo::Uri(uri) => format!("You will then return to <code>{}</code>.", escape(uri)),
            _ => String::new(),
        };
        let fields = pages::hidden_fields(&prompt.fields);
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

    fn genuine(&self, owner: &Session, form: &Fields) -> Result<(), Response> {
        pages::genuine(owner, form, "the page")
    }

    fn enter_code(&self, owner: &Session, form: &CodeForm<'_>) -> Response {
        device::code_page(owner, form)
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
            Page::DeviceAnswered {
                client_name,
                approved,
            } => device::done_page(client_name, *approved),
            Page::Refused {
                status,
                title,
                message,
            } => pages::error_page(*status, title, message),
            _ => pages::server_error(),
        }
    }
}

/// Resource owners are the app's users, signing in from the request's
/// address: their passwords are argon2-checked, throttled as on the
/// login form.
#[async_trait]
impl ResourceOwners for Accounts<'_> {
    async fn authenticate(&self, username: &str, password: &str) -> Result<bool, OwnerCheckError> {
        let attempt = Attempt::password(username, self.address);
        Ok(sign_in(self.app, &attempt, password).await?.is_some())
    }
}

impl Host for Accounts<'_> {
    fn throttle(&self) -> &dyn Throttle {
        self.app.throttle()
    }

    fn address(&self) -> Option<IpAddr> {
        self.address
    }
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
