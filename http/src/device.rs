//! The device flow's pages (RFC 8628 3.3), as credlog's accounts show them:
//! the form at `/device` where the person types the user code, the
//! consent page for the device's request, and the page after the answer.
//! The one dispatch in `credlog-core` decides, the guessing limit of RFC
//! 8628 5.1 included; [`crate::consent::Accounts`] calls these to render.

use credlog_core::consent::{CodeForm, Prompt};
use credlog_core::Response;

use crate::pages::{self, escape, hidden};
use crate::sessions::Session;

/// The form to type the code, with what was typed filled in and why the
/// last code led nowhere above it.
pub fn code_page(session: &Session, form: &CodeForm<'_>) -> Response {
    let error = form.error.map_or(String::new(), |error| {
        format!("<p id=\"error\">{}</p>\n", escape(error))
    });
    let body = format!(
        "{error}<p>Signed in as <strong>{user}</strong>.</p>\n\
         <p>Type the code your device shows.</p>\n\
         <form method=\"post\" action=\"{action}\">\n{csrf}\n\
         <label>Code <input name=\"user_code\" id=\"user_code\" value=\"{typed}\" \
         autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" required></label>\n\
         <button type=\"submit\">Continue</button>\n</form>",
        user = escape(&session.user),
        action = escape(form.action),
        typed = escape(form.typed),
        csrf = hidden("csrf_token", &session.csrf_token),
    );
    pages::page(form.status, "Connect a device", &body)
}

/// Which client asks for what, to allow or deny; `scopes` is the list of
/// what each scope means ([`crate::consent::Accounts`]).
pub fn consent_page(
    session: &Session,
    prompt: &Prompt<'_>,
    user_code: &str,
    scopes: &str,
) -> Response {
    let fields = pages::hidden_fields(&prompt.fields);
    let body = format!(
        "<p>Signed in as <strong>{user}</strong>.</p>\n\
         <p>The device showing the code <code id=\"user-code\">{code}</code> runs \
         <strong id=\"client\">{client}</strong>, which asks to act on your behalf \
         with scope <code id=\"scope\">{scope_text}</code>{scopes}\n\
         <p>Allow it only if you started this on a device of your own.</p>\n\
         <form method=\"post\" action=\"{action}\">\n{fields}{csrf}\n\
         <button type=\"submit\" name=\"confirm\" value=\"yes\">Allow</button>\n\
         <button type=\"submit\" name=\"confirm\" value=\"no\">Deny</button>\n</form>",
        user = escape(&session.user),
        code = escape(user_code),
        client = escape(prompt.client_name),
        scope_text = escape(prompt.scope),
        action = escape(prompt.action),
        csrf = hidden("csrf_token", &session.csrf_token),
    );
    pages::page(200, "Authorize a device", &body)
}

/// After the answer: the person goes back to the device.
pub fn done_page(client_name: &str, approved: bool) -> Response {
    let client = escape(client_name);
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
