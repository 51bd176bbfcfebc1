//! The plain HTTP answer every engine returns; the adapter writes it out.

/// An HTTP response as the protocol engines produce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header fields in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A `200` form-encoded response (RFC 5849 2.1, 2.3).
    pub fn form<'a>(status: u16, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Response {
            status,
            headers: vec![(
                "Content-Type".to_owned(),
                crate::request::FORM_CONTENT_TYPE.to_owned(),
            )],
            body: crate::form::form_encode(pairs).into_bytes(),
        }
    }

    /// A JSON response that no cache may keep (RFC 6749 5.1: `Cache-Control:
    /// no-store` and `Pragma: no-cache` on anything holding a token).
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Response {
            status,
            headers: vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("Cache-Control".to_owned(), "no-store".to_owned()),
                ("Pragma".to_owned(), "no-cache".to_owned()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    /// A redirect to `location`, never cached (a 302 back to a client, a
    /// 303 after a form).
    pub fn redirect(status: u16, location: &str) -> Self {
        Response {
            status,
            headers: vec![
                ("Location".to_owned(), location.to_owned()),
                ("Cache-Control".to_owned(), "no-store".to_owned()),
            ],
            body: Vec::new(),
        }
    }

    /// The first value of a header field (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A realm or description made safe for a quoted-string (RFC 7230 3.2.6):
/// no `"`, `\` or control character, which no header value may hold.
pub(crate) fn quoted(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}
