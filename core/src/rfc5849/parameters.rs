//! Where OAuth parameters travel (RFC 5849 3.5) and how they are collected
//! for signing (RFC 5849 3.4.1.3.1): the `Authorization` header, the form
//! body and the query.

use std::borrow::Cow;
use std::fmt;

use crate::form::{form_decode, percent_decode, DecodeError, FormPair};
use crate::request::Request;

pub use crate::form::query_of;

/// Where a parameter was carried (RFC 5849 3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The `Authorization: OAuth ...` header (3.5.1).
    Header,
    /// The `application/x-www-form-urlencoded` entity body (3.5.2).
    Body,
    /// The query component of the request URI (3.5.3).
    Query,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Header => "the Authorization header",
            Source::Body => "the form body",
            Source::Query => "the query",
        })
    }
}

/// One decoded name/value pair and where it came from, borrowed from the
/// request where nothing was escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter<'r> {
    /// The decoded name.
    pub name: Cow<'r, str>,
    /// The decoded value (may be empty).
    pub value: Cow<'r, str>,
    /// Where it was carried.
    pub source: Source,
}

/// Why an `Authorization: OAuth` header does not parse (RFC 5849 3.5.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A parameter has no name before its `=`.
    #[error("a parameter has no name")]
    EmptyName,
    /// A name is not followed at once by `="`.
    #[error("parameter {name:?} is not followed by =\"value\"")]
    UnquotedValue {
        /// The parameter's name as written.
        name: String,
    },
    /// A quoted value has no closing quote.
    #[error("the value of {name:?} has no closing quote")]
    UnterminatedValue {
        /// The parameter's name as written.
        name: String,
    },
    /// Something other than `,` follows a value.
    #[error("the value of {name:?} is not followed by a comma")]
    MissingComma {
        /// The parameter's name as written.
        name: String,
    },
    /// A name or value is not valid percent-encoding (3.6).
    #[error("{name:?} is not valid percent-encoding: {reason}")]
    BadEncoding {
        /// The parameter's name as written.
        name: String,
        /// What was wrong with the encoding.
        reason: DecodeError,
    },
    /// More than one `Authorization` header uses the OAuth scheme.
    #[error("more than one Authorization header uses the OAuth scheme")]
    MultipleHeaders,
    /// `realm` is given twice.
    #[error("realm is given twice")]
    DuplicateRealm,
}

/// Why the OAuth parameters of a request cannot be collected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    /// The `Authorization: OAuth` header does not parse.
    #[error("malformed Authorization header: {0}")]
    MalformedHeader(#[from] HeaderError),
    /// The query is not valid form encoding.
    #[error("malformed query: {0}")]
    MalformedQuery(DecodeError),
    /// The form body is not valid form encoding.
    #[error("malformed form body: {0}")]
    MalformedBody(DecodeError),
    /// The header, body and query together hold more parameters than
    /// [`MAX_REQUEST_PARAMETERS`].
    #[error("the request has more than {limit} parameters")]
    TooManyParameters {
        /// [`MAX_REQUEST_PARAMETERS`].
        limit: usize,
    },
    /// A protocol parameter (`oauth_*`) appears twice, in one place or two.
    #[error("protocol parameter {name} is given twice (in {first} and in {second})")]
    DuplicateParameter {
        /// The duplicated name.
        name: String,
        /// Where it was first seen.
        first: Source,
        /// Where it was seen again.
        second: Source,
    },
}

/// The parsed `Authorization: OAuth` header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthorizationHeader<'a> {
    /// The `realm`, as written (not signed, 3.4.1.3.1).
    pub realm: Option<&'a str>,
    /// The other parameters, decoded, in order.
    pub parameters: Vec<FormPair<'a>>,
}

/// RFC 5849 3.5.1: parses one `Authorization` header value. Answers
/// `Ok(None)` when the header uses another scheme (`Basic`, `Bearer` ...).
pub fn parse_authorization_header(
    value: &str,
) -> Result<Option<AuthorizationHeader<'_>>, HeaderError> {
    let value = skip_linear_whitespace(value);
    let scheme_end = value
        .bytes()
        .position(is_linear_whitespace)
        .unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case("OAuth") {
        return Ok(None);
    }
    let mut header = AuthorizationHeader {
        realm: None,
        parameters: Vec::with_capacity(8),
    };
    let mut rest = &value[scheme_end..];
    loop {
        rest = skip_linear_whitespace(rest);
        if rest.is_empty() {
            return Ok(Some(header));
        }
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
            continue;
        }
        let name_end = rest
            .bytes()
            .position(|b| matches!(b, b'=' | b',' | b'"') || is_linear_whitespace(b))
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name.is_empty() {
            return Err(HeaderError::EmptyName);
        }
        let Some(quoted) = rest[name_end..].strip_prefix("=\"") else {
            return Err(HeaderError::UnquotedValue { name: name.into() });
        };
        let Some(value_end) = memchr::memchr(b'"', quoted.as_bytes()) else {
            return Err(HeaderError::UnterminatedValue { name: name.into() });
        };
        let raw_value = &quoted[..value_end];
        rest = skip_linear_whitespace(&quoted[value_end + 1..]);
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(HeaderError::MissingComma { name: name.into() });
        }
        if name == "realm" {
            if header.realm.replace(raw_value).is_some() {
                return Err(HeaderError::DuplicateRealm);
            }
            continue;
        }
        let bad_encoding = |reason| HeaderError::BadEncoding {
            name: name.into(),
            reason,
        };
        let decoded_name = percent_decode(name, false).map_err(bad_encoding)?;
        let decoded_value = percent_decode(raw_value, false).map_err(bad_encoding)?;
        header.parameters.push((decoded_name, decoded_value));
    }
}

fn is_linear_whitespace(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn skip_linear_whitespace(text: &str) -> &str {
    let start = text
        .bytes()
        .position(|b| !is_linear_whitespace(b))
        .unwrap_or(text.len());
    &text[start..]
}

/// The protocol parameters of RFC 5849 that the validator reads, indexed
/// as they are collected so that each look-up is one step.
const PROTOCOL_NAMES: [&str; 9] = [
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_version",
    "oauth_callback",
    "oauth_verifier",
];

/// The most parameters one signed request may carry, header, body and
/// query together; more is refused before any signature work.
pub const MAX_REQUEST_PARAMETERS: usize = 256;

fn protocol_index(name: &str) -> Option<usize> {
    PROTOCOL_NAMES.iter().position(|known| *known == name)
}

/// Every parameter of a request, from all three places, with the realm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestParameters<'r> {
    /// The header's `realm`, if the header gave one.
    pub realm: Option<&'r str>,
    /// Every parameter in order: header, then body, then query.
    pub parameters: Vec<Parameter<'r>>,
    /// Where each of [`PROTOCOL_NAMES`] sits in `parameters`.
    protocol: [Option<usize>; PROTOCOL_NAMES.len()],
}

impl<'r> RequestParameters<'r> {
    /// RFC 5849 3.4.1.3.1 and 3.5: collects the parameters of the header,
    /// the form body (only when the body is a single-part form) and the
    /// query. A protocol parameter (`oauth_*`) given twice is an error.
    pub fn collect(request: &'r Request) -> Result<Self, ParameterError> {
        let mut collected = RequestParameters {
            parameters: Vec::with_capacity(16),
            ..RequestParameters::default()
        };
        let mut oauth_headers = request
            .header_values("authorization")
            .filter_map(|value| parse_authorization_header(value).transpose());
        if let Some(header) = oauth_headers.next() {
            if oauth_headers.next().is_some() {
                return Err(HeaderError::MultipleHeaders.into());
            }
            let header = header?;
            collected.realm = header.realm;
            collected.add(header.parameters, Source::Header)?;
        }
        if request.has_form_body() {
            let body = std::str::from_utf8(&request.body)
                .map_err(|_| ParameterError::MalformedBody(DecodeError::NotUtf8))?;
            let pairs = form_decode(body).map_err(ParameterError::MalformedBody)?;
            collected.add(pairs, Source::Body)?;
        }
        if let Some(query) = query_of(&request.uri) {
            let pairs = form_decode(query).map_err(ParameterError::MalformedQuery)?;
            collected.add(pairs, Source::Query)?;
        }
        Ok(collected)
    }

    fn add(&mut self, pairs: Vec<FormPair<'r>>, source: Source) -> Result<(), ParameterError> {
        // Bounded here, the duplicate look-up below stays cheap.
        if self.parameters.len() + pairs.len() > MAX_REQUEST_PARAMETERS {
            return Err(ParameterError::TooManyParameters {
                limit: MAX_REQUEST_PARAMETERS,
            });
        }
        for (name, value) in pairs {
            if name.starts_with("oauth_") {
                let known = protocol_index(&name);
                let first = match known {
                    Some(k) => self.protocol[k].map(|i| &self.parameters[i]),
                    None => self.parameters.iter().find(|p| p.name == name),
                };
                if let Some(first) = first {
                    return Err(ParameterError::DuplicateParameter {
                        name: name.into_owned(),
                        first: first.source,
                        second: source,
                    });
                }
                if let Some(k) = known {
                    self.protocol[k] = Some(self.parameters.len());
                }
            }
            self.parameters.push(Parameter {
                name,
                value,
                source,
            });
        }
        Ok(())
    }

    /// Whether any protocol parameter (`oauth_*`) was sent at all.
    pub fn has_protocol_parameters(&self) -> bool {
        self.parameters.iter().any(|p| p.name.starts_with("oauth_"))
    }

    /// The value of a protocol parameter (names starting `oauth_` are unique).
    pub fn protocol(&self, name: &str) -> Option<&str> {
        debug_assert!(name.starts_with("oauth_"));
        let parameter = match protocol_index(name) {
            Some(k) => self.protocol[k].map(|i| &self.parameters[i]),
            None => self.parameters.iter().find(|p| p.name == name),
        };
        parameter.map(|p| p.value.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs<'a>(header: &'a AuthorizationHeader<'_>) -> Vec<(&'a str, &'a str)> {
        header
            .parameters
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect()
    }

    #[test]
    fn parses_the_rfc_header() {
        let header = parse_authorization_header(
            "OAuth realm=\"Photos\",\r\n oauth_consumer_key=\"dpf43f3p2l4k3l03\",\
             oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"137131200\",\
             \toauth_callback=\"http%3A%2F%2Fprinter.example.com%2Fready\",  oauth_signature=\"74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D\"",
        );
        // A CR LF is not linear whitespace in a single header value.
        assert!(header.is_err());

        let header = parse_authorization_header(
            "oauth  realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\",\
             oauth_timestamp=\"137131200\",\toauth_callback=\"http%3A%2F%2Fprinter.example.com%2Fready\",\
             oauth_signature=\"74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D\", oauth_empty=\"\"",
        )
        .unwrap()
        .unwrap();
        assert_eq!(header.realm, Some("Photos"));
        assert_eq!(
            pairs(&header),
            [
                ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
                ("oauth_timestamp", "137131200"),
                ("oauth_callback", "http://printer.example.com/ready"),
                ("oauth_signature", "74KNZJeDHnMBp0EMJ9ZHt/XKycU="),
                ("oauth_empty", ""),
            ]
        );
    }

    #[test]
    fn other_schemes_are_not_oauth() {
        assert_eq!(parse_authorization_header("Bearer abc"), Ok(None));
        assert_eq!(parse_authorization_header("OAuthx a=\"b\""), Ok(None));
        assert_eq!(parse_authorization_header(""), Ok(None));
        assert_eq!(
            parse_authorization_header("OAuth").unwrap(),
            Some(AuthorizationHeader::default())
        );
    }

    #[test]
    fn malformed_headers_name_the_rule() {
        let err = |value| parse_authorization_header(value).unwrap_err();
        assert_eq!(
            err("OAuth a=b"),
            HeaderError::UnquotedValue { name: "a".into() }
        );
        assert_eq!(
            err("OAuth a = \"b\""),
            HeaderError::UnquotedValue { name: "a".into() }
        );
        assert_eq!(
            err("OAuth a=\"b"),
            HeaderError::UnterminatedValue { name: "a".into() }
        );
        assert_eq!(
            err("OAuth a=\"b\" c=\"d\""),
            HeaderError::MissingComma { name: "a".into() }
        );
        assert_eq!(err("OAuth =\"b\""), HeaderError::EmptyName);
        assert_eq!(
            err("OAuth a=\"%zz\""),
            HeaderError::BadEncoding {
                name: "a".into(),
                reason: DecodeError::BadEscape
            }
        );
        assert_eq!(
            err("OAuth realm=\"a\", realm=\"b\""),
            HeaderError::DuplicateRealm
        );
    }

    #[test]
    fn duplicates_are_refused_within_and_across_places() {
        let twice_in_header = Request::new("GET", "http://example.com/").with_header(
            "Authorization",
            "OAuth oauth_nonce=\"a\", oauth_nonce=\"b\"",
        );
        assert_eq!(
            RequestParameters::collect(&twice_in_header),
            Err(ParameterError::DuplicateParameter {
                name: "oauth_nonce".into(),
                first: Source::Header,
                second: Source::Header,
            })
        );
        let header_and_query = Request::new("GET", "http://example.com/?oauth_token=x")
            .with_header("Authorization", "OAuth oauth_token=\"y\"");
        assert_eq!(
            RequestParameters::collect(&header_and_query),
            Err(ParameterError::DuplicateParameter {
                name: "oauth_token".into(),
                first: Source::Header,
                second: Source::Query,
            })
        );
        let body_and_query = Request::new("POST", "http://example.com/?oauth_token=x")
            .with_form(&[("oauth_token", "x")]);
        assert!(matches!(
            RequestParameters::collect(&body_and_query),
            Err(ParameterError::DuplicateParameter {
                first: Source::Body,
                second: Source::Query,
                ..
            })
        ));
        let two_headers = Request::new("GET", "http://example.com/")
            .with_header("Authorization", "OAuth a=\"1\"")
            .with_header("Authorization", "OAuth b=\"1\"");
        assert_eq!(
            RequestParameters::collect(&two_headers),
            Err(ParameterError::MalformedHeader(
                HeaderError::MultipleHeaders
            ))
        );
    }

    #[test]
    fn repeated_non_protocol_parameters_are_kept() {
        let request =
            Request::new("POST", "http://example.com/r?a3=a#frag").with_form(&[("a3", "2 q")]);
        let collected = RequestParameters::collect(&request).unwrap();
        let values: Vec<_> = collected
            .parameters
            .iter()
            .map(|p| (p.value.as_ref(), p.source))
            .collect();
        assert_eq!(values, [("2 q", Source::Body), ("a", Source::Query)]);
    }

    #[test]
    fn a_body_that_is_not_a_form_is_not_read() {
        let request = Request::new("POST", "http://example.com/")
            .with_header("Content-Type", "application/json");
        let request = Request {
            body: b"oauth_token=x".to_vec(),
            ..request
        };
        assert!(RequestParameters::collect(&request)
            .unwrap()
            .parameters
            .is_empty());
    }

    proptest! {
        #[test]
        fn header_parser_never_panics(value in any::<String>()) {
            let _ = parse_authorization_header(&value);
        }

        #[test]
        fn encoded_headers_parse_back(params in proptest::collection::vec(("[a-z_]{1,12}", any::<String>()), 0..6)) {
            let params: Vec<(String, String)> = params.into_iter().filter(|(n, _)| n != "realm").collect();
            let value = format!(
                "OAuth realm=\"r\", {}",
                params
                    .iter()
                    .map(|(n, v)| format!("{}=\"{}\"", super::super::encoding::percent_encode(n), super::super::encoding::percent_encode(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let header = parse_authorization_header(&value).unwrap().unwrap();
            prop_assert_eq!(header.realm, Some("r"));
            prop_assert_eq!(pairs(&header), params.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect::<Vec<_>>());
        }
    }
}
