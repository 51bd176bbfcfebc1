//! The signature base string (RFC 5849 3.4.1).

use super::encoding::percent_encode_into;

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
    let (scheme, rest) = uri.split_once("://").ok_or(UriError::NotAbsolute)?;
    let scheme_is_valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_is_valid {
        return Err(UriError::NotAbsolute);
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let after_authority = &rest[authority_end..];
    let path = &after_authority[..after_authority
        .find(['?', '#'])
        .unwrap_or(after_authority.len())];

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
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => "",
    };

    out.extend(scheme.chars().map(|c| c.to_ascii_lowercase()));
    out.push_str("://");
    out.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    if !port.is_empty() && port != default_port {
        out.push(':');
        out.push_str(port);
    }
    out.push_str(if path.is_empty() { "/" } else { path });
    Ok(())
}

/// RFC 5849 3.4.1.3.2: the normalised parameter string. Names and values
/// are encoded (3.6), sorted by name and then by value (byte order), joined
/// as `name=value` pairs with `&`; `oauth_signature` is left out.
pub fn normalized_parameters<'a>(
    parameters: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut encoded: Vec<(String, String)> = parameters
        .into_iter()
        .filter(|(name, _)| *name != "oauth_signature")
        .map(|(name, value)| {
            let mut n = String::with_capacity(name.len());
            percent_encode_into(&mut n, name);
            let mut v = String::with_capacity(value.len());
            percent_encode_into(&mut v, value);
            (n, v)
        })
        .collect();
    encoded.sort_unstable();
    let length = encoded.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(length);
    for (name, value) in &encoded {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// RFC 5849 3.4.1.1: the signature base string: the upper-cased method,
/// the encoded base string URI and the encoded normalised parameters,
/// joined by `&`.
pub fn signature_base_string<'a>(
    method: &str,
    uri: &str,
    parameters: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<String, UriError> {
    let base_uri = base_string_uri(uri)?;
    let normalized = normalized_parameters(parameters);
    let mut out = String::with_capacity(method.len() + 3 * (base_uri.len() + normalized.len()) + 2);
    out.extend(method.chars().map(|c| c.to_ascii_uppercase()));
    out.push('&');
    percent_encode_into(&mut out, &base_uri);
    out.push('&');
    percent_encode_into(&mut out, &normalized);
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
