//! The fields of a form-encoded text: a credential endpoint's answer, the
//! callback's query, a temporary credential kept in the cache.

use credlog_core::rfc5849::encoding::form_decode;

/// Fields of an `application/x-www-form-urlencoded` text: the first value
/// of each name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Decodes `text`; `None` when it is not form-encoded UTF-8.
    pub(crate) fn parse(text: &[u8]) -> Option<Fields> {
        let text = std::str::from_utf8(text).ok()?;
        let pairs = form_decode(text).ok()?;
        Some(Fields(
            pairs
                .into_iter()
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        ))
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
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
    fn the_first_value_of_a_name_wins_and_bad_text_is_none() {
        let fields = Fields::parse(b"a=1&b=x%20y&a=2").unwrap();
        assert_eq!(fields.get("a"), Some("1"));
        assert_eq!(fields.get("b"), Some("x y"));
        assert_eq!(fields.get("c"), None);
        assert_eq!(Fields::parse(b"a=%zz"), None);
        assert_eq!(Fields::parse(&[0xff]), None);
    }
}
