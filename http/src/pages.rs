//! The server-rendered pages: plain HTML that works without JavaScript.
//! Everything a user or client typed goes through [`escape`].

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use crate::sessions::Session;
use credlog_core::form::Fields;
use credlog_core::Response;

/// HTML-escapes text for an element's content or a quoted attribute.
pub fn escape(text: &str) -> Cow<'_, str> {
    html_escape::encode_safe(text)
}

/// A whole page: `title` (escaped here) and `body`, which must already be
/// HTML. Pages are never cached and never framed (the consent page must not
/// be clickjacked).
pub fn page(status: u16, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · credlog</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         code{{background:#eee;padding:.1rem .3rem}}label{{display:block;margin:.5rem 0}}\
         button{{margin-right:.5rem}}table{{border-collapse:collapse}}td,th{{padding:.2rem .5rem;border-bottom:1px solid #ccc;text-align:left}}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n",
        title = escape(title),
    );
    Response {
        status,
        headers: vec![
            (
                "Content-Type".to_owned(),
                "text/html; charset=utf-8".to_owned(),
            ),
            ("Cache-Control".to_owned(), "no-store".to_owned()),
            ("X-Frame-Options".to_owned(), "DENY".to_owned()),
            (
                "Content-Security-Policy".to_owned(),
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".to_owned(),
            ),
        ],
        body: html.into_bytes(),
    }
}

/// A page that says what went wrong in one sentence (escaped here).
pub fn error_page(status: u16, title: &str, message: &str) -> Response {
    page(
        status,
        title,
        &format!(
            "<p id=\"error\">{}</p>\n<p><a href=\"/\">Home</a></p>",
            escape(message)
        ),
    )
}

/// The 500 page for a failure that is not the user's fault; its cause is
/// logged where it happened, never shown.
pub fn server_error() -> Response {
    error_page(
        500,
        "Server error",
        "The server could not complete the request. Try again later.",
    )
}

/// The page while the store cannot be reached: 503, try again.
pub fn unavailable() -> Response {
    error_page(
        503,
        "Service unavailable",
        "The server cannot reach its credential store just now. Try again in a moment.",
    )
}

/// A redirect (`303 See Other` after a form, `302 Found` to a callback).
pub fn redirect(status: u16, location: &str) -> Response {
    Response::redirect(status, location)
}

/// The resource owner's answer on a consent form (OAuth 1 or 2): `Ok(true)`
/// to grant, `Ok(false)` to deny; 403 when the form's CSRF token is not
/// this session's, 400 when `confirm` is neither `yes` nor `no`.
pub fn decision(
    session: &Session,
    csrf_token: Option<&str>,
    confirm: Option<&str>,
) -> Result<bool, Response> {
    if !csrf_token.is_some_and(|token| session.csrf_matches(token)) {
        return Err(error_page(
            403,
            "Forbidden",
            "The form did not come from this session. Reload the authorization page and try again.",
        ));
    }
    match confirm {
        Some("yes") => Ok(true),
        Some("no") => Ok(false),
        _ => Err(error_page(
            400,
            "Bad request",
            "confirm must be \"yes\" or \"no\".",
        )),
    }
}

/// A posted page form's fields, once its `csrf_token` is this session's:
/// 400 when the body is not a form, 403 when the token is missing or
/// another session's (`retry` says where to reload; nothing was changed).
pub fn form_of(session: &Session, body: &[u8], retry: &str) -> Result<Fields, Response> {
    let Some(fields) = Fields::parse(body) else {
        return Err(error_page(
            400,
            "Bad request",
            "The form could not be read.",
        ));
    };
    genuine(session, &fields, retry)?;
    Ok(fields)
}

/// `Ok` when a posted form's `csrf_token` is this session's; else 403
/// (`retry` says where to reload; nothing was changed).
pub fn genuine(session: &Session, fields: &Fields, retry: &str) -> Result<(), Response> {
    if fields
        .get("csrf_token")
        .is_some_and(|token| session.csrf_matches(token))
    {
        return Ok(());
    }
    Err(error_page(
        403,
        "Forbidden",
        &format!("The form did not come from this session. Reload {retry} and try again; nothing was changed."),
    ))
}

/// A time (seconds since the epoch) as people read it: RFC 3339 in UTC,
/// to the second.
pub fn utc(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds)).to_string()
}

/// A hidden form input (name and value escaped here).
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// A hidden input for each of `fields`, one a line: what a consent form
/// posts back as it was given ([`credlog_core::consent::Prompt::fields`]).
pub fn hidden_fields(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| hidden(name, value) + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_users_typed_is_escaped() {
        let response = error_page(400, "<script>", "\"a\" & 'b' <img>");
        let html = String::from_utf8(response.body).unwrap();
        assert!(
            html.contains("<title>&lt;script&gt; · credlog</title>"),
            "{html}"
        );
        assert!(
            html.contains("&quot;a&quot; &amp; &#x27;b&#x27; &lt;img&gt;"),
            "{html}"
        );
        assert!(!html.contains("<img>"));
        assert_eq!(
            hidden("n", "\"><x"),
            "<input type=\"hidden\" name=\"n\" value=\"&quot;&gt;&lt;x\">"
        );
    }

    #[test]
    fn times_read_as_utc() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
