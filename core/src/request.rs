//! The plain HTTP request value every engine takes: no socket, no framework.
//!
//! An adapter (warp, hyper, a test) builds a [`Request`] from what it
//! received; the OAuth 1 client builds one and hands it to its transport.

/// The media type of a form body (RFC 5849 3.4.1.3.1, W3C HTML 4.01 17.13.4).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// An HTTP request as the protocol engines see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `GET` or `POST` (upper-cased when signed).
    pub method: String,
    /// The absolute request URI: scheme, host (and port), path and query.
    pub uri: String,
    /// Header fields in the order received; names compare case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The entity body as bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: impl Into<String>, uri: impl Into<String>) -> Self {
        Request {
            method: method.into(),
            uri: uri.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a form body (`application/x-www-form-urlencoded`), replacing any
    /// body and content type the request had.
    pub fn with_form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        self.headers
            .push(("Content-Type".to_owned(), FORM_CONTENT_TYPE.to_owned()));
        self.body = crate::rfc5849::encoding::form_encode(
            pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
        )
        .into_bytes();
        self
    }

    /// The values of every header field with this name, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is a single-part form (`application/x-www-form-urlencoded`,
    /// parameters such as `; charset=utf-8` allowed).
    pub fn has_form_body(&self) -> bool {
        self.header_values("content-type").any(|value| {
            let media_type = value.split(';').next().unwrap_or("").trim();
            media_type.eq_ignore_ascii_case(FORM_CONTENT_TYPE)
        })
    }
}

/// Whether `uri` is an absolute URI without a fragment (RFC 3986 4.3): what
/// RFC 5849 2.1 asks of a callback and RFC 7591 2 of a redirect URI.
pub fn is_absolute_uri(uri: &str) -> bool {
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            is_scheme(scheme)
                && !rest.is_empty()
                && !rest.starts_with('/')
                && !uri.contains('#')
                && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// Whether `scheme` is a URI scheme (RFC 3986 3.1): a letter, then
/// letters, digits, `+`, `-` or `.`.
pub fn is_scheme(scheme: &str) -> bool {
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_body_is_recognised_with_parameters_and_any_case() {
        let request = Request::new("POST", "http://example.com/").with_header(
            "content-TYPE",
            "Application/X-WWW-Form-Urlencoded; charset=utf-8",
        );
        assert!(request.has_form_body());
        let json = Request::new("POST", "http://example.com/")
            .with_header("Content-Type", "application/json");
        assert!(!json.has_form_body());
    }

    #[test]
    fn with_form_replaces_content_type_and_encodes_pairs() {
        let request = Request::new("POST", "http://example.com/")
            .with_header("Content-Type", "text/plain")
            .with_form(&[("a b", "c&d"), ("e", "")]);
        assert_eq!(request.header_values("content-type").count(), 1);
        assert!(request.has_form_body());
        assert_eq!(request.body, b"a%20b=c%26d&e=");
    }
}
