//! The application's consent and device pages (CONTRACT.md's shapes: one
//! form, its hidden inputs, the session's `csrf_token`, `confirm=yes|no`)
//! and every page credlog has it show.

use async_trait::async_trait;
use credlog_core::consent::{CodeForm, Consent, Page, Prompt, ReturnsTo};
use credlog_core::form::Fields;
use credlog_core::rfc5849::encoding::percent_encode;
use credlog_core::{Request, Response};

use super::users::{Session, Visit};

#[async_trait]
impl Consent for Visit<'_> {
    type Owner = Session;

    async fn owner(&self, request: &Request) -> Option<Session> {
        request
            .header_values("cookie")
            .find_map(|cookies| self.users.session(cookies))
    }

    fn user<'a>(&self, owner: &'a Session) -> &'a str {
        &owner.user
    }

    fn auth_time(&self, owner: &Session) -> Option<u64> {
        Some(owner.auth_time)
    }

    fn sign_in(&self, return_to: &str) -> Response {
        Response::redirect(303, &format!("/login?next={}", percent_encode(return_to)))
    }

    fn ask(&self, owner: &Session, prompt: &Prompt<'_>) -> Response {
        let then = match prompt.returns_to {
            ReturnsTo::OutOfBand => "You will get a code to type into the app.".to_owned(),
            ReturnsTo::Uri(uri) => format!("You will go back to {}.", escape(uri)),
            ReturnsTo::Device { user_code } => {
                format!("Your device shows <code>{}</code>.", escape(user_code))
            }
            _ => String::new(),
        };
        let fields: String = prompt
            .fields
            .iter()
            .chain([&("csrf_token", owner.csrf.as_str())])
            .map(|(name, value)| hidden(name, value))
            .collect();
        let body = format!(
            "<p>Signed in as {user}. <b id=\"client\">{client}</b> asks to use your account \
             (<span id=\"scope\">{scope}</span>). {then}</p>\n\
             <form method=\"post\" action=\"{action}\">\n{fields}\
             <button name=\"confirm\" value=\"yes\">Allow</button>\n\
             <button name=\"confirm\" value=\"no\">Deny</button>\n</form>",
            user = escape(&owner.user),
            client = escape(prompt.client_name),
            scope = escape(prompt.scope),
            action = escape(prompt.action),
        );
        html(200, "Allow access?", &body)
    }

    fn answer(&self, owner: &Session, form: &Fields) -> Result<bool, Response> {
        self.genuine(owner, form)?;
        match form.get("confirm") {
            Some("yes") => Ok(true),
            Some("no") => Ok(false),
            _ => Err(html(400, "Bad request", "<p>Choose Allow or Deny.</p>")),
        }
    }

    fn own_fields(&self) -> &[&str] {
        &["csrf_token", "confirm"]
    }

    fn genuine(&self, owner: &Session, form: &Fields) -> Result<(), Response> {
        if form.get("csrf_token") == Some(owner.csrf.as_str()) {
            Ok(())
        } else {
            Err(html(
                403,
                "Forbidden",
                "<p>This form was not sent from our page.</p>",
            ))
        }
    }

    fn enter_code(&self, owner: &Session, form: &CodeForm<'_>) -> Response {
        let error = form.error.map_or(String::new(), |error| {
            format!("<p id=\"error\">{}</p>\n", escape(error))
        });
        let body = format!(
            "{error}<form method=\"post\" action=\"{action}\">\n{csrf}\
             <label>The code your device shows \
             <input name=\"user_code\" value=\"{typed}\"></label>\n\
             <button>Continue</button>\n</form>",
            action = escape(form.action),
            csrf = hidden("csrf_token", &owner.csrf),
            typed = escape(form.typed),
        );
        html(form.status, "Connect a device", &body)
    }

    fn show(&self, page: &Page<'_>) -> Response {
        match page {
            Page::Verifier {
                client_name,
                verifier,
            } => html(
                200,
                "Allowed",
                &format!(
                    "<p>Type this code into {}: <code id=\"verifier\">{}</code></p>",
                    escape(client_name),
                    escape(verifier)
                ),
            ),
            Page::Denied { client_name } => html(
                200,
                "Denied",
                &format!("<p>{} was kept out.</p>", escape(client_name)),
            ),
            Page::DeviceAnswered {
                client_name,
                approved,
            } => {
                let outcome = if *approved { "allowed" } else { "denied" };
                let text = format!(
                    "<p id=\"outcome\">You {outcome} {}. Go back to your device.</p>",
                    escape(client_name)
                );
                html(200, "Done", &text)
            }
            Page::Refused {
                status,
                title,
                message,
            } => html(*status, title, &format!("<p>{}</p>", escape(message))),
            _ => html(500, "Server error", "<p>Something went wrong.</p>"),
        }
    }
}

/// A small HTML page that no other site may frame.
pub fn html(status: u16, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<title>{title}</title>\n<h1>{title}</h1>\n{body}\n",
        title = escape(title)
    );
    Response {
        status,
        headers: vec![
            (
                "Content-Type".to_owned(),
                "text/html; charset=utf-8".to_owned(),
            ),
            ("X-Frame-Options".to_owned(), "DENY".to_owned()),
            ("Cache-Control".to_owned(), "no-store".to_owned()),
        ],
        body: page.into_bytes(),
    }
}

/// A hidden input.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        escape(name),
        escape(value)
    )
}

/// `text` safe in HTML text and in double-quoted attributes.
fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}
