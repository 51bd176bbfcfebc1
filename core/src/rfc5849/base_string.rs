//! The signature base string (RFC 5849 3.4.1).

use super::encoding::{cmp_encoded, percent_encode_into, percent_encode_twice_into};

/// Why a request URI cannot give a base string URI (RFC 5849 3.4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The URI has no `scheme://` prefix.
    #[error("the request URI is not absolute (no scheme://)")]
    NotAbsolute,
    /// The URI has no host.
    #[error("the request URI has no host")]
    EmptyHost,
    /// The port is not a number.
    #[error("the request URI's port is not a number")]
    BadPort,
}

/// RFC 5849 3.4.1.2: the base string URI of an absolute request URI. Scheme
/// and host are lower-cased, the default port of the scheme (80 for http,
/// 443 for https) is dropped, the path is kept as sent (`/` when empty),
/// and the query and fragment are removed.
pub fn base_string_uri(uri: &str) -> Result<String, UriError> {
    let mut out = String::with_capacity(uri.len());
    push_base_string_uri(&mut out, uri)?;
    Ok(out)
}

fn push_base_string_uri(out: &mut String, uri: &str) -> Result<(), UriError> {
    let scheme_end = uri
        .bytes()
        .position(|b| b == b':')
        .ok_or(UriError::NotAbsolute)?;
    let (scheme, rest) = (&uri[..scheme_end], &uri[scheme_end..]);
    let rest = rest.strip_prefix("://").ok_or(UriError::NotAbsolute)?;
    let scheme_is_valid = scheme
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_is_valid {
        return Err(UriError::NotAbsolute);
    }
    let position = |text: &str, stop: &[u8]| {
        text.bytes()
            .position(|b| stop.contains(&b))
            .unwrap_or(text.len())
    };
    let authority_end = position(rest, b"/?#");
    let authority = &rest[..authority_end];
    let after_authority = &rest[authority_end..];
    let path = &after_authority[..position(after_authority, b"?#")];

    let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port_separator = match host_and_port.rfind(']') {
        Some(bracket) => host_and_port[bracket..].find(':').map(|i| bracket + i),
        None => host_and_port.rfind(':'),
    };
    let (host, port) = match port_separator {
        Some(i) => (&host_and_port[..i], &host_and_port[i + 1..]),
        None => (host_and_port, ""),
    };
    if host.is_empty() {
        return Err(UriError::EmptyHost);
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UriError::BadPort);
    }
    let port = port.trim_start_matches('0');
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        "80"
    } else if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else {
        ""
    };

    let start = out.len();
    out.push_str(scheme);
    out.push_str("://");
    out.push_str(host);
    out[start..].make_ascii_lowercase();
    if !port.is_empty() && port != default_port {
        out.push(':');
        out.push_str(port);
    }
    out.push_str(if path.is_empty() { "/" } else { path });
    Ok(())
}

/// RFC 5849 3.4.1.3.2 steps 1 and 2: the parameters without
/// `oauth_signature`, sorted by encoded name, then by encoded value.
fn sorted<'a>(parameters: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    let mut pairs: Vec<(&str, &str)> = parameters
        .into_iter()
        .filter(|(name, _)| *name != "oauth_signature")
        .collect();
    pairs.sort_unstable_by(|(n1, v1), (n2, v2)| {
        cmp_encoded(n1, n2).then_with(|| cmp_encoded(v1, v2))
    });
    pairs
}

/// RFC 5849 3.4.1.3.2: the normalised parameter string. Names and values
/// are encoded (3.6), sorted by name and then by value (byte order), joined
/// as `name=value` pairs with `&`; `oauth_signature` is left out.
pub fn normalized_parameters<'a>(
    parameters: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut out = String::new();
    for (i, (name, value)) in sorted(parameters).into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, name);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

/// RFC 5849 3.4.1.1: the signature base string: the upper-cased method,
/// the encoded base string URI and the encoded normalised parameters,
/// joined by `&`. The normalised string is encoded as it is written (each
/// name and value encoded twice, `=` as `%3D`, `&` as `%26`), in one pass.
pub fn signature_base_string<'a>(
    method: &str,
    uri: &str,
    parameters: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<String, UriError> {
    let pairs = sorted(parameters);
    let parameters_length: usize = pairs.iter().map(|(n, v)| n.len() + v.len() + 6).sum();
    let mut out = String::with_capacity(method.len() + 3 * uri.len() + parameters_length * 2);
    out.push_str(method);
    out.make_ascii_uppercase();
    out.push('&');
    percent_encode_into(&mut out, &base_string_uri(uri)?);
    out.push('&');
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        percent_encode_twice_into(&mut out, name);
        out.push_str("%3D");
        percent_encode_twice_into(&mut out, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base_string_uris_follow_3_4_1_2() {
        // VECTORS.md V2: the two examples of 3.4.1.2.
        assert_eq!(
            base_string_uri("http://EXAMPLE.COM:80/r%20v/X?id=123").unwrap(),
            "http://example.com/r%20v/X"
        );
        assert_eq!(
            base_string_uri("https://www.example.net:8080/?q=1").unwrap(),
            "https://www.example.net:8080/"
        );
        assert_eq!(
            base_string_uri("HTTPS://Example.com:443").unwrap(),
            "https://example.com/"
        );
        assert_eq!(
            base_string_uri("http://example.com#frag").unwrap(),
            "http://example.com/"
        );
        assert_eq!(
            base_string_uri("http://[::1]:8080/a?b").unwrap(),
            "http://[::1]:8080/a"
        );
        assert_eq!(base_string_uri("http://[::1]/a").unwrap(), "http://[::1]/a");
        assert_eq!(
            base_string_uri("http://user:pw@host:81/").unwrap(),
            "http://host:81/"
        );
        assert_eq!(base_string_uri("/relative"), Err(UriError::NotAbsolute));
        assert_eq!(base_string_uri("http:///path"), Err(UriError::EmptyHost));
        assert_eq!(base_string_uri("http://host:8o/"), Err(UriError::BadPort));
    }

    #[test]
    fn normalisation_sorts_by_name_then_value() {
        // VECTORS.md V4.
        let params = [
            ("z", "t"),
            ("f", "50"),
            ("a", "1"),
            ("f", "a"),
            ("c", "hi there"),
            ("z", "p"),
            ("f", "25"),
        ];
        assert_eq!(
            normalized_parameters(params),
            "a=1&c=hi%20there&f=25&f=50&f=a&z=p&z=t"
        );
        assert_eq!(
            signature_base_string("get", "http://example.com", [("n", "v")]).unwrap(),
            "GET&http%3A%2F%2Fexample.com%2F&n%3Dv"
        );
    }

    #[test]
    fn sorting_uses_the_encoded_bytes() {
        // Decoded, "Z" (0x5A) sorts before "[" (0x5B); encoded, "%5B" sorts first.
        assert_eq!(normalized_parameters([("Z", "1"), ("[", "2")]), "%5B=2&Z=1");
        assert_eq!(normalized_parameters([("a", "Z"), ("a", "[")]), "a=%5B&a=Z");
    }

    #[test]
    fn oauth_signature_is_not_signed() {
        assert_eq!(
            normalized_parameters([("oauth_signature", "x"), ("a", "b")]),
            "a=b"
        );
    }

    proptest! {
        #[test]
        fn base_string_builder_never_panics(method in any::<String>(), uri in any::<String>(), params in proptest::collection::vec((any::<String>(), any::<String>()), 0..5)) {
            let _ = signature_base_string(&method, &uri, params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        }

        #[test]
        fn normalisation_ignores_order(mut params in proptest::collection::vec(("[a-c]{0,2}", "[ -~]{0,3}"), 0..6)) {
            let forward = normalized_parameters(params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            params.reverse();
            let backward = normalized_parameters(params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            prop_assert_eq!(forward, backward);
        }
    }
}
