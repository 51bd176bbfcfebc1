//! Percent-encoding (RFC 5849 3.6) and the form decoding of query and body
//! (RFC 5849 3.4.1.3.1, W3C HTML 4.01 17.13.4).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// RFC 5849 3.6: every byte but the unreserved set `ALPHA DIGIT - . _ ~` is
/// encoded, as `%XX` with upper-case hex digits.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a percent-encoded or form-encoded string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    #[error("a '%' is not followed by two hex digits")]
    BadEscape,
    /// The decoded bytes are not UTF-8 (RFC 5849 3.6 encodes text as UTF-8).
    #[error("the decoded bytes are not UTF-8")]
    NotUtf8,
}

/// RFC 5849 3.6: UTF-8 encode, then percent-encode all but unreserved characters.
pub fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
}

/// Appends the RFC 5849 3.6 encoding of `text` to `out`, without an allocation of its own.
pub fn percent_encode_into(out: &mut String, text: &str) {
    out.extend(percent_encoding::utf8_percent_encode(text, RESERVED));
}

/// Strict percent-decoding: every `%` must start a `%XX` escape and the
/// result must be UTF-8. With `plus_is_space`, `+` decodes to a space, as in
/// form bodies and queries.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Result<String, DecodeError> {
    if !text
        .bytes()
        .any(|b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Ok(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
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
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// Decodes an `application/x-www-form-urlencoded` string (a query or a form
/// body) into name/value pairs in order. A pair without `=` has an empty
/// value; empty pairs (`a=1&&b=2`) are skipped.
pub fn form_decode(text: &str) -> Result<Vec<(String, String)>, DecodeError> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// VECTORS.md V4: the OAuth test cases for percent-encoding.
    #[test]
    fn encodes_the_oauth_test_cases() {
        let cases = [
            ("abcABC123", "abcABC123"),
            ("-._~", "-._~"),
            ("%", "%25"),
            ("+", "%2B"),
            (" ", "%20"),
            ("&=*", "%26%3D%2A"),
            ("\u{000A}", "%0A"),
            ("\u{007F}", "%7F"),
            ("\u{0080}", "%C2%80"),
            ("\u{2708}", "%E2%9C%88"),
            ("\u{3001}", "%E3%80%81"),
        ];
        for (text, encoded) in cases {
            assert_eq!(percent_encode(text), encoded, "encoding {text:?}");
            assert_eq!(percent_decode(encoded, false).unwrap(), text);
        }
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(percent_decode("a%2", false), Err(DecodeError::BadEscape));
        assert_eq!(percent_decode("a%zz", false), Err(DecodeError::BadEscape));
        assert_eq!(percent_decode("%FF", false), Err(DecodeError::NotUtf8));
        assert_eq!(percent_decode("a+b", false).unwrap(), "a+b");
        assert_eq!(percent_decode("a+b%2B", true).unwrap(), "a b+");
        assert_eq!(percent_decode("%e2%9c%88", false).unwrap(), "\u{2708}");
    }

    #[test]
    fn form_decoding_keeps_order_empty_values_and_repeats() {
        let pairs = form_decode("b5=%3D%253D&a3=a&c%40=&a2=r%20b&c2&&a3=2+q").unwrap();
        let expected = [
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("c2", ""),
            ("a3", "2 q"),
        ];
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, expected);
    }

    proptest! {
        #[test]
        fn percent_encoding_round_trips(text in any::<String>()) {
            let encoded = percent_encode(&text);
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            prop_assert_eq!(percent_decode(&encoded, false).unwrap(), text.clone());
            prop_assert_eq!(percent_decode(&encoded, true).unwrap(), text);
        }

        #[test]
        fn form_encoding_round_trips(pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..8)) {
            let encoded = form_encode(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            let decoded = form_decode(&encoded).unwrap();
            // Pairs with an empty name and value encode as "=", which decodes back to ("", "").
            prop_assert_eq!(decoded, pairs);
        }

        #[test]
        fn decoding_never_panics(text in any::<String>(), plus in any::<bool>()) {
            let _ = percent_decode(&text, plus);
            let _ = form_decode(&text);
        }
    }
}
