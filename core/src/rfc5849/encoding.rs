//! Percent-encoding (RFC 5849 3.6), once and twice, and the order of
//! encoded strings. Decoding and forms, which every RFC module reads, are
//! in [`crate::form`] (re-exported here, where RFC 5849 3.4.1.3.1 uses them).

use std::cmp::Ordering;

pub use crate::form::{form_decode, form_encode, percent_decode, DecodeError, FormPair};

/// RFC 5849 3.6: the unreserved set `ALPHA DIGIT - . _ ~`, kept as it is.
fn is_unreserved(byte: u8) -> bool {
    UNRESERVED[usize::from(byte)]
}

/// [`is_unreserved`] as a table: it runs for every byte of every base string.
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        byte += 1;
    }
    table
};

/// The escape of every byte, `prefix` then two upper-case hex digits;
/// byte `b`'s escape is at `b * (prefix.len() + 2)`.
const fn escape_table<const N: usize>(prefix: &[u8]) -> [u8; N] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let width = prefix.len() + 2;
    let mut table = [0u8; N];
    let mut byte = 0;
    while byte < 256 {
        let mut i = 0;
        while i < prefix.len() {
            table[width * byte + i] = prefix[i];
            i += 1;
        }
        table[width * byte + i] = HEX[byte >> 4];
        table[width * byte + i + 1] = HEX[byte & 0xF];
        byte += 1;
    }
    table
}

const fn ascii(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => panic!("escape tables are ASCII"),
    }
}

/// `%XX` for every byte: RFC 5849 3.6.
const SINGLE: &str = ascii(&{ escape_table::<768>(b"%") });
/// `%25XX` for every byte: the encoding of an encoding, as the base string
/// needs for its parameters (3.4.1.1 encodes the normalised string again).
const DOUBLE: &str = ascii(&{ escape_table::<1280>(b"%25") });

/// RFC 5849 3.6: UTF-8 encode, then percent-encode every byte but the
/// unreserved characters, as `%XX` with upper-case hex digits.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    percent_encode_into(&mut out, text);
    out
}

/// Appends the RFC 5849 3.6 encoding of `text` to `out`.
pub fn percent_encode_into(out: &mut String, text: &str) {
    encode_with(out, text, SINGLE);
}

/// Appends the encoding of the encoding of `text`: what `text` becomes
/// inside the base string's parameter part, in one pass.
pub fn percent_encode_twice_into(out: &mut String, text: &str) {
    encode_with(out, text, DOUBLE);
}

/// The hot loop of every base string: runs of unreserved bytes are copied
/// whole, every other byte is replaced by its escape from `table`.
fn encode_with(out: &mut String, text: &str, table: &str) {
    let width = table.len() / 256;
    let mut plain_start = 0;
    for (i, byte) in text.bytes().enumerate() {
        if !is_unreserved(byte) {
            // A run of unreserved bytes is ASCII, so it starts and ends on
            // character boundaries; an empty run may sit inside a character.
            if plain_start < i {
                out.push_str(&text[plain_start..i]);
            }
            let at = width * usize::from(byte);
            out.push_str(&table[at..at + width]);
            plain_start = i + 1;
        }
    }
    out.push_str(&text[plain_start..]);
}

/// Orders two strings as their RFC 5849 3.6 encodings order, without
/// encoding them (3.4.1.3.2 sorts by the encoded bytes, which is not the
/// order of the decoded ones: "Z" < "[" but "%5B" < "Z").
///
/// Up to the first differing byte the encodings agree. There, two
/// unreserved bytes, or two escapes (`%` and upper-case hex), order as the
/// bytes do; an escape sorts before any unreserved byte, since `%` (0x25)
/// is below every unreserved character.
pub fn cmp_encoded(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).position(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some(i) => match (is_unreserved(a[i]), is_unreserved(b[i])) {
            (false, true) => Ordering::Less,
            (true, false) => Ordering::Greater,
            _ => a[i].cmp(&b[i]),
        },
    }
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
    fn encoding_twice_in_one_pass_equals_encoding_twice() {
        for text in ["", "abc", "a b&c=d", "%", "\u{2708}x", "~-._"] {
            let mut once = String::new();
            percent_encode_twice_into(&mut once, text);
            assert_eq!(once, percent_encode(&percent_encode(text)), "{text:?}");
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
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect();
        assert_eq!(pairs, expected);
    }

    proptest! {
        #[test]
        fn percent_encoding_round_trips(text in any::<String>()) {
            let encoded = percent_encode(&text);
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            prop_assert_eq!(percent_decode(&encoded, false).unwrap(), text.as_str());
            prop_assert_eq!(percent_decode(&encoded, true).unwrap(), text.as_str());
        }

        #[test]
        fn ordering_by_encoding_is_the_order_of_the_encoded_strings(
            prefix in "[a-c%]{0,3}",
            a in prop_oneof!["[ -~\u{80}-\u{3000}]{0,5}", any::<String>()],
            b in prop_oneof!["[ -~\u{80}-\u{3000}]{0,5}", any::<String>()],
        ) {
            let (a, b) = (format!("{prefix}{a}"), format!("{prefix}{b}"));
            prop_assert_eq!(cmp_encoded(&a, &b), percent_encode(&a).cmp(&percent_encode(&b)));
            let mut twice_a = String::new();
            percent_encode_twice_into(&mut twice_a, &a);
            prop_assert_eq!(twice_a, percent_encode(&percent_encode(&a)));
        }

        #[test]
        fn form_encoding_round_trips(pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..8)) {
            let encoded = form_encode(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            let decoded: Vec<(String, String)> = form_decode(&encoded)
                .unwrap()
                .into_iter()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
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
