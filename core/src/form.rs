//! Forms and queries (`application/x-www-form-urlencoded`, W3C HTML 4.01
//! 17.13.4; RFC 5849 3.4.1.3.1, RFC 6749 appendix B): decoding, encoding,
//! the query of a URI, parameters added to a URI, and the fields an HTML
//! page posts. Every RFC module shares these.

use std::borrow::Cow;

use crate::request::Request;
use crate::rfc5849::encoding::percent_encode_into;

/// Why a percent-encoded or form-encoded string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    #[error("a '%' is not followed by two hex digits")]
    BadEscape,
    /// The decoded bytes are not UTF-8 (RFC 5849 3.6 encodes text as UTF-8).
    #[error("the decoded bytes are not UTF-8")]
    NotUtf8,
    /// More name/value pairs than any OAuth request needs: refused before
    /// any further work (a form of thousands of pairs is an attack, not a
    /// request).
    #[error("more than {limit} parameters")]
    TooManyPairs {
        /// [`MAX_FORM_PAIRS`].
        limit: usize,
    },
}

/// The most name/value pairs one query or form body may hold. OAuth
/// requests carry a dozen; a page form a few more.
pub const MAX_FORM_PAIRS: usize = 256;

/// Strict percent-decoding: every `%` must start a `%XX` escape and the
/// result must be UTF-8. With `plus_is_space`, `+` decodes to a space, as in
/// form bodies and queries. Text with nothing to decode is borrowed.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Result<Cow<'_, str>, DecodeError> {
    let bytes = text.as_bytes();
    let first = if plus_is_space {
        memchr::memchr2(b'%', b'+', bytes)
    } else {
        memchr::memchr(b'%', bytes)
    };
    let Some(first) = first else {
        return Ok(Cow::Borrowed(text));
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(DecodeError::BadEscape),
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| DecodeError::NotUtf8)
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// A decoded name/value pair, borrowed from the input where nothing was escaped.
pub type FormPair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Decodes an `application/x-www-form-urlencoded` string (a query or a form
/// body) into name/value pairs in order. A pair without `=` has an empty
/// value; empty pairs (`a=1&&b=2`) are skipped. More than
/// [`MAX_FORM_PAIRS`] pairs is [`DecodeError::TooManyPairs`], found before
/// any pair past the limit is decoded.
pub fn form_decode(text: &str) -> Result<Vec<FormPair<'_>>, DecodeError> {
    let mut pairs = Vec::with_capacity(4);
    let mut rest = text;
    while !rest.is_empty() {
        if pairs.len() == MAX_FORM_PAIRS {
            // Decided once: what follows may only be empty pairs. (Checking
            // on every later `&` would rescan the rest each time.)
            if rest.split('&').any(|pair| !pair.is_empty()) {
                return Err(DecodeError::TooManyPairs {
                    limit: MAX_FORM_PAIRS,
                });
            }
            break;
        }
        let end = memchr::memchr(b'&', rest.as_bytes()).unwrap_or(rest.len());
        let pair = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match memchr::memchr(b'=', pair.as_bytes()) {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, ""),
        };
        pairs.push((percent_decode(name, true)?, percent_decode(value, true)?));
    }
    Ok(pairs)
}

/// Encodes name/value pairs as a form string, each name and value encoded
/// per RFC 5849 3.6 (which every form decoder reads back unchanged).
pub fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(&mut out, name);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

/// The query of a request URI, without the fragment, if it has one.
pub fn query_of(uri: &str) -> Option<&str> {
    let end = memchr::memchr(b'#', uri.as_bytes()).unwrap_or(uri.len());
    let start = memchr::memchr(b'?', &uri.as_bytes()[..end])?;
    Some(&uri[start + 1..end])
}

/// `uri` with `pairs` added to its query, keeping what is there.
pub fn add_to_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let encoded = form_encode(pairs.iter().copied());
    let mut out = uri.to_owned();
    if !encoded.is_empty() {
        out.push(if uri.contains('?') { '&' } else { '?' });
        out.push_str(&encoded);
    }
    out
}

/// `uri` with `pairs` as its fragment (it must have none).
pub fn with_fragment(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    out.push('#');
    out.push_str(&form_encode(pairs.iter().copied()));
    out
}

/// Fields of a submitted form (an HTML form's body, or a query string):
/// the first value of each name. `None` when the text is not form-encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Decodes `application/x-www-form-urlencoded` text.
    pub fn parse(text: &[u8]) -> Option<Fields> {
        let text = std::str::from_utf8(text).ok()?;
        let pairs = form_decode(text).ok()?;
        Some(Fields(
            pairs
                .into_iter()
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        ))
    }

    /// The query of a request URI (empty when it has none).
    pub fn query(request: &Request) -> Option<Fields> {
        match query_of(&request.uri) {
            Some(query) => Fields::parse(query.as_bytes()),
            None => Some(Fields::default()),
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order: what a group of checkboxes sends.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_holds_at_most_max_form_pairs() {
        let form = |count: usize| {
            (0..count)
                .map(|i| format!("n{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(
            form_decode(&form(MAX_FORM_PAIRS)).unwrap().len(),
            MAX_FORM_PAIRS
        );
        // Empty pairs past the limit are no pairs.
        let trailing = form(MAX_FORM_PAIRS) + "&&&";
        assert_eq!(form_decode(&trailing).unwrap().len(), MAX_FORM_PAIRS);
        assert_eq!(
            form_decode(&form(MAX_FORM_PAIRS + 1)),
            Err(DecodeError::TooManyPairs {
                limit: MAX_FORM_PAIRS
            })
        );
        // Found before a bad escape further on is even read.
        let flood = form(6000) + "&bad=%zz";
        assert_eq!(
            form_decode(&flood),
            Err(DecodeError::TooManyPairs {
                limit: MAX_FORM_PAIRS
            })
        );
    }

    #[test]
    fn the_first_value_of_a_name_counts() {
        let fields = Fields::parse(b"a=1&b=two%20words&a=3").unwrap();
        assert_eq!(fields.get("a"), Some("1"));
        assert_eq!(fields.get("b"), Some("two words"));
        assert_eq!(fields.get("c"), None);
        assert_eq!(fields.all("a").collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(fields.all("c").count(), 0);
        assert_eq!(Fields::parse(&[0xff]), None);
        let request = Request::new("GET", "https://h.example/p?x=%41#y=2");
        assert_eq!(Fields::query(&request).unwrap().get("x"), Some("A"));
        assert_eq!(Fields::query(&request).unwrap().get("y"), None);
        let bare = Request::new("GET", "https://h.example/p");
        assert_eq!(Fields::query(&bare), Some(Fields::default()));
    }
}
