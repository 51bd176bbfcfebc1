//! Properties of signing and verifying (RFC 5849 3.4, 3.5): every method in
//! every transmission round-trips over arbitrary parameters, and a signed
//! request changed after signing no longer verifies.

use std::sync::LazyLock;

use credlog_conformance::{FixedCredentials, TEST_RSA_PRIVATE_KEY_PEM, TEST_RSA_PUBLIC_KEY_PEM};
use credlog_core::rfc5849::encoding::{form_decode, form_encode};
use credlog_core::rfc5849::parameters::{parse_authorization_header, query_of};
use credlog_core::rfc5849::signature::{rsa_private_key_from_pem, rsa_public_key_from_pem};
use credlog_core::rfc5849::{
    ClientCredentials, Endpoint, HmacSha1, HmacSha256, Oauth1Config, Oauth1Error, Oauth1Server,
    Plaintext, RsaSha1, SignatureMethod, SignatureMethods, SignedRequest, Signer, TokenCredentials,
    TokenKind, Transmission, VerifiedRequest,
};
use credlog_core::Request;
use futures::executor::block_on;
use proptest::prelude::*;
use rsa::{RsaPrivateKey, RsaPublicKey};

const NOW: u64 = 1_700_000_000;
const CLIENT: (&str, &str) = ("client key", "client secret &=%");
const TOKEN: (&str, &str) = ("token key", "token secret \u{2708}");

static PRIVATE_KEY: LazyLock<RsaPrivateKey> =
    LazyLock::new(|| rsa_private_key_from_pem(TEST_RSA_PRIVATE_KEY_PEM).unwrap());
static PUBLIC_KEY: LazyLock<RsaPublicKey> =
    LazyLock::new(|| rsa_public_key_from_pem(TEST_RSA_PUBLIC_KEY_PEM).unwrap());

fn method(index: usize) -> Box<dyn SignatureMethod> {
    match index {
        0 => Box::new(HmacSha1),
        1 => Box::new(HmacSha256),
        2 => Box::new(RsaSha1),
        _ => Box::new(Plaintext),
    }
}

fn transmission(index: usize) -> Transmission {
    [
        Transmission::Header,
        Transmission::Body,
        Transmission::Query,
    ][index]
}

/// A fresh source: no nonce used yet, so a refusal is never a replay.
fn credentials() -> FixedCredentials {
    FixedCredentials::new()
        .with_client(CLIENT.0, CLIENT.1)
        .with_client_change(CLIENT.0, |c| c.rsa_public_key = Some(PUBLIC_KEY.clone()))
        .with_token(CLIENT.0, TOKEN.0, TOKEN.1, TokenKind::Token)
}

fn verify(request: &Request) -> Result<VerifiedRequest, Oauth1Error> {
    let server = Oauth1Server::new(Oauth1Config {
        signature_methods: SignatureMethods::all_builtin(),
        over_tls: true,
        ..Oauth1Config::default()
    });
    block_on(server.verify(request, Endpoint::Resource, NOW, &credentials()))
}

/// Parameter names: a small alphabet (so names repeat), reserved ASCII and
/// any Unicode; never a protocol parameter.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c]".prop_map(String::from),
        "[ -~]{0,6}",
        any::<String>(),
    ]
    .prop_filter("protocol parameters are the signer's", |n| {
        !n.starts_with("oauth_")
    })
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[ -~]{0,8}", any::<String>()]
}

#[derive(Debug, Clone)]
struct Case {
    method: usize,
    transmission: usize,
    http_method: &'static str,
    uri: String,
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..4usize,
        0..3usize,
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "patch"]),
        "(http|https|HTTPS)://[a-zA-Z]{1,8}\\.example(:[0-9]{1,5})?(/[a-zA-Z0-9._~%-]{0,8}){0,3}",
        prop::collection::vec((name(), value()), 0..5),
        prop::collection::vec((name(), value()), 0..5),
    )
        .prop_map(
            |(method, transmission, http_method, uri, query, body)| Case {
                method,
                transmission,
                http_method,
                uri,
                query,
                body,
            },
        )
}

fn sign(case: &Case) -> Request {
    let mut uri = case.uri.clone();
    if !case.query.is_empty() {
        uri.push('?');
        uri.push_str(&form_encode(
            case.query.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        ));
    }
    let mut request = Request::new(case.http_method, uri);
    if !case.body.is_empty() {
        request = request.with_form(&case.body);
    }
    let client = ClientCredentials {
        rsa_private_key: Some(PRIVATE_KEY.clone()),
        ..ClientCredentials::new(CLIENT.0, CLIENT.1)
    };
    Signer::new(client)
        .with_shared_method(method(case.method).into())
        .with_token(TokenCredentials::new(TOKEN.0, TOKEN.1))
        .with_transmission(transmission(case.transmission))
        .with_realm("any realm")
        .sign_at(request, &[], NOW, "a nonce")
        .unwrap()
}

/// What a verified request means: who signed it, and what they signed.
fn meaning(
    request: &Request,
    signs_base_string: bool,
) -> (Option<String>, Option<String>, Option<String>) {
    let signed = SignedRequest::parse(request).unwrap();
    let base_string = signs_base_string.then(|| signed.base_string().unwrap());
    (
        base_string,
        signed.signature().map(str::to_owned),
        signed.consumer_key().map(str::to_owned),
    )
}

/// Changes the value of the `index`-th pair of a form string.
fn change_pair(text: &str, index: usize) -> Option<String> {
    let mut pairs = form_decode(text).ok()?;
    let len = pairs.len();
    let pair = pairs.get_mut(index % len.max(1))?;
    pair.1.to_mut().push('x');
    Some(form_encode(
        pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref())),
    ))
}

/// Changes one signed value of the request, wherever it travels.
fn change_one_value(request: &Request, index: usize) -> Request {
    let mut changed = request.clone();
    let header = request
        .header_values("authorization")
        .next()
        .map(str::to_owned);
    let places = [
        header.is_some(),
        query_of(&request.uri).is_some(),
        !request.body.is_empty(),
    ];
    let place = (0..3)
        .cycle()
        .skip(index % 3)
        .take(3)
        .find(|p| places[*p])
        .unwrap();
    match place {
        0 => {
            let header = header.unwrap();
            let mut parsed = parse_authorization_header(&header).unwrap().unwrap();
            let len = parsed.parameters.len();
            parsed.parameters[index % len].1.to_mut().push('x');
            let value = format!(
                "OAuth {}",
                parsed
                    .parameters
                    .iter()
                    .map(|(n, v)| format!(
                        "{}=\"{}\"",
                        credlog_core::rfc5849::encoding::percent_encode(n),
                        credlog_core::rfc5849::encoding::percent_encode(v)
                    ))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            changed
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
            changed.headers.push(("Authorization".into(), value));
        }
        1 => {
            let (base, query) = request.uri.split_once('?').unwrap();
            changed.uri = format!("{base}?{}", change_pair(query, index).unwrap());
        }
        _ => {
            let body = std::str::from_utf8(&request.body).unwrap();
            changed.body = change_pair(body, index).unwrap().into_bytes();
        }
    }
    changed
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips(case in case()) {
        let request = sign(&case);
        let verified = verify(&request);
        prop_assert!(verified.is_ok(), "{:?} -> {:?}", request, verified);
        let verified = verified.unwrap();
        prop_assert_eq!(verified.client_key, CLIENT.0);
        prop_assert_eq!(verified.token.as_deref(), Some(TOKEN.0));
        prop_assert_eq!(verified.nonce.as_deref(), Some("a nonce"));
        let expected_method = method(case.method);
        prop_assert_eq!(verified.signature_method.as_str(), expected_method.name());
    }

    /// Changing any signed value (a parameter's value, the signature, the
    /// method, the host or path) makes a base-string method fail; PLAINTEXT
    /// signs only the secrets, so for it the signature is what must not change.
    #[test]
    fn a_changed_value_fails_verification(case in case(), index in any::<usize>(), what in 0..4usize) {
        let request = sign(&case);
        let plaintext = case.method == 3;
        let changed = match what {
            0 => change_one_value(&request, index),
            1 if !plaintext => Request { method: if case.http_method == "GET" { "POST".into() } else { "GET".into() }, ..request.clone() },
            2 if !plaintext => Request { uri: request.uri.replacen(".example", ".example.org", 1), ..request.clone() },
            3 if !plaintext => {
                let mut uri = request.uri.clone();
                let path_start = uri.find(".example").unwrap() + ".example".len();
                let path_start = uri[path_start..].find('/').map_or(uri.len(), |i| path_start + i);
                uri.insert_str(path_start, "/more");
                Request { uri, ..request.clone() }
            }
            _ => change_one_value(&request, index),
        };
        let result = verify(&changed);
        if plaintext && result.is_ok() {
            // Only the signature is signed: the change touched something else.
            prop_assert_eq!(meaning(&changed, false).1, meaning(&request, false).1);
        } else {
            prop_assert!(result.is_err(), "a changed request verified: {:?}", changed);
        }
    }

    /// Flipping any byte of the URI, the header or the body either fails
    /// verification or leaves the request meaning exactly what was signed
    /// (e.g. a changed realm, header-name case or hex-digit case).
    #[test]
    fn any_byte_change_fails_or_changes_nothing_signed(case in case(), place in 0..3usize, index in any::<usize>(), byte in 0u8..128) {
        let request = sign(&case);
        prop_assume!(place != 1 || !request.headers.is_empty());
        let mut changed = request.clone();
        let target: &mut Vec<u8> = &mut match place {
            0 => changed.uri.clone().into_bytes(),
            1 => changed.headers.last().unwrap().1.clone().into_bytes(),
            _ => changed.body.clone(),
        };
        prop_assume!(!target.is_empty());
        let i = index % target.len();
        prop_assume!(target[i] != byte);
        target[i] = byte;
        match place {
            0 => changed.uri = String::from_utf8(target.clone()).map_err(|_| TestCaseError::reject("not UTF-8"))?,
            1 => changed.headers.last_mut().unwrap().1 = String::from_utf8(target.clone()).map_err(|_| TestCaseError::reject("not UTF-8"))?,
            _ => changed.body = target.clone(),
        }
        if verify(&changed).is_ok() {
            let signs_base_string = case.method != 3;
            prop_assert_eq!(meaning(&changed, signs_base_string), meaning(&request, signs_base_string));
        }
    }
}
