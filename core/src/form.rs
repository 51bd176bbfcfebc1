//! Forms as HTML pages submit them (`application/x-www-form-urlencoded`):
//! what the authorization pages read from a query or a posted body.

use crate::request::Request;

/// Fields of a submitted form (an HTML form's body, or a query string):
/// the first value of each name. `None` when the text is not form-encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Decodes `application/x-www-form-urlencoded` text.
    pub fn parse(text: &[u8]) -> Option<Fields> {
        let text = std::str::from_utf8(text).ok()?;
        let pairs = crate::rfc5849::encoding::form_decode(text).ok()?;
        Some(Fields(
            pairs
                .into_iter()
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        ))
    }

    /// The query of a request URI (empty when it has none).
    pub fn query(request: &Request) -> Option<Fields> {
        match crate::rfc5849::parameters::query_of(&request.uri) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_of_a_name_counts() {
        let fields = Fields::parse(b"a=1&b=two%20words&a=3").unwrap();
        assert_eq!(fields.get("a"), Some("1"));
        assert_eq!(fields.get("b"), Some("two words"));
        assert_eq!(fields.get("c"), None);
        assert_eq!(Fields::parse(&[0xff]), None);
        let request = Request::new("GET", "https://h.example/p?x=%41#y=2");
        assert_eq!(Fields::query(&request).unwrap().get("x"), Some("A"));
        assert_eq!(Fields::query(&request).unwrap().get("y"), None);
        let bare = Request::new("GET", "https://h.example/p");
        assert_eq!(Fields::query(&bare), Some(Fields::default()));
    }
}
