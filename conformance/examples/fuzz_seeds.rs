//! Writes the fuzz targets' seed corpora from the RFC vectors, and for the
//! OAuth 2 targets from RFC 6749 and RFC 6750's examples:
//! `cargo run -p credlog-conformance --example fuzz_seeds -- fuzz/seeds`.

use std::path::Path;
use std::{env, fs, io};

use credlog_conformance::vectors;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::SignedRequest;

fn main() -> io::Result<()> {
    let root = env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/seeds".to_owned());
    let root = Path::new(&root);
    for target in [
        "header_parser",
        "form_parser",
        "base_string",
        "verify",
        "token_request",
        "bearer_header",
        "http_head",
        "jwt_verify",
        "device_codes",
        "scope",
        "grant_requests",
        "par_request",
        "dpop_proof",
    ] {
        fs::create_dir_all(root.join(target))?;
    }
    let write = |target: &str, index: usize, content: &str| {
        fs::write(root.join(target).join(format!("seed-{index}")), content)
    };
    for (i, vector) in vectors::all().iter().enumerate() {
        let request = vector.request();
        write("header_parser", i, vector.authorization)?;

        let query = vector.uri.split_once('?').map_or("", |(_, q)| q);
        write("form_parser", 2 * i, query)?;
        write("form_parser", 2 * i + 1, vector.form_body.unwrap_or(""))?;

        let signed = SignedRequest::parse(&request).expect("the vectors parse");
        let parameters = form_encode(
            signed
                .parameters()
                .parameters
                .iter()
                .map(|p| (p.name.as_ref(), p.value.as_ref())),
        );
        write(
            "base_string",
            i,
            &format!("{}\n{}\n{parameters}", vector.method, vector.uri),
        )?;

        let mut http = format!("{} {}\n", request.method, request.uri);
        for (name, value) in &request.headers {
            http.push_str(&format!("{name}: {value}\n"));
        }
        http.push('\n');
        http.push_str(vector.form_body.unwrap_or(""));
        write("verify", i, &http)?;
    }
    for (i, seed) in token_requests().iter().enumerate() {
        write("token_request", i, seed)?;
    }
    for (i, seed) in BEARER_HEADERS.iter().enumerate() {
        write("bearer_header", i, seed)?;
    }
    for (i, seed) in http_streams().iter().enumerate() {
        fs::write(root.join("http_head").join(format!("seed-{i}")), seed)?;
    }
    for (i, seed) in jwts().iter().enumerate() {
        write("jwt_verify", i, seed)?;
    }
    for (i, seed) in DEVICE_CODES.iter().enumerate() {
        write("device_codes", i, seed)?;
    }
    for (i, seed) in scopes().iter().enumerate() {
        write("scope", i, seed)?;
    }
    for (i, seed) in grant_requests().iter().enumerate() {
        fs::write(root.join("grant_requests").join(format!("seed-{i}")), seed)?;
    }
    for (i, seed) in par_requests().iter().enumerate() {
        write("par_request", i, seed)?;
    }
    for (i, seed) in dpop_proofs().iter().enumerate() {
        write("dpop_proof", i, seed)?;
    }
    println!(
        "wrote the seeds of {} vectors under {}",
        vectors::all().len(),
        root.display()
    );
    Ok(())
}

/// `jwt_verify` inputs: RFC 7515's A.2 and A.3 tokens (which verify
/// against the target's keys), and their payload under headers each check
/// refuses: `none`, an HMAC, an unknown `kid`, a `crit` extension; a
/// fourth part, and a padded part.
fn jwts() -> Vec<String> {
    use credlog_core::jose::examples::{A2_JWS, A3_JWS};
    let b64 = |text: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    };
    let payload = A2_JWS.split('.').nth(1).expect("three parts");
    let signature = A2_JWS.rsplit('.').next().expect("three parts");
    let mut seeds = vec![A2_JWS.to_owned(), A3_JWS.to_owned()];
    for header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"RS256","kid":"x"}"#,
        r#"{"alg":"RS256","crit":["b64"]}"#,
    ] {
        seeds.push(format!("{}.{payload}.{signature}", b64(header)));
    }
    seeds.push(format!("{A2_JWS}.e30"));
    seeds.push(format!("e30=.{payload}.{signature}"));
    seeds
}

/// `dpop_proof` inputs: RFC 9449's example proofs (4.1's at the token
/// endpoint, 7.1's at a resource, which pass the target's checks), 4.1's
/// claims under headers each check refuses (no `typ`, `alg: none`, no
/// `jwk`), and URIs to normalise.
fn dpop_proofs() -> Vec<String> {
    use credlog_core::rfc9449::{EXAMPLE_PROOF, EXAMPLE_RESOURCE_PROOF};
    let b64 = |text: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    };
    let mut parts = EXAMPLE_PROOF.split('.');
    let header = parts.next().expect("three parts");
    let payload = parts.next().expect("three parts");
    let signature = parts.next().expect("three parts");
    let mut seeds = vec![EXAMPLE_PROOF.to_owned(), EXAMPLE_RESOURCE_PROOF.to_owned()];
    for refused in [
        r#"{"alg":"ES256"}"#,
        r#"{"typ":"dpop+jwt","alg":"none"}"#,
        r#"{"typ":"dpop+jwt","alg":"ES256"}"#,
    ] {
        seeds.push(format!("{}.{payload}.{signature}", b64(refused)));
    }
    seeds.push(format!("{header}.{payload}"));
    seeds.push("HTTPS://Server.Example.COM:443/a/../token?x#y".to_owned());
    seeds.push("http://[::1]:80/%7e%2f".to_owned());
    seeds
}

/// `device_codes` inputs: RFC 8628 6.1's user code as typed every way,
/// one letter off the alphabet, RFC 8628 3.2's device code, and an
/// over-long one.
const DEVICE_CODES: [&str; 6] = [
    "WDJB-MJHT",
    "wdjbmjht",
    "WDJB MJHT",
    "WDJB-MJHA",
    "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/// `scope` inputs: RFC 6749's and OpenID Connect's scopes, a repeated
/// token, 64 tokens and 65, tokens of 128 and 129 characters, and the
/// refusals of RFC 6749 3.3 (two spaces, an edge space, a quote).
fn scopes() -> Vec<String> {
    let tokens = |n: usize| {
        (0..n)
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    vec![
        "profile".to_owned(),
        "openid profile email offline_access".to_owned(),
        "read write read".to_owned(),
        "https://api.example/read urn:example:write".to_owned(),
        tokens(64),
        tokens(65),
        "x".repeat(128),
        format!("a {}", "x".repeat(129)),
        "a  b".to_owned(),
        " a".to_owned(),
        "a \"b\"".to_owned(),
    ]
}

/// `Basic` credentials of the client the `token_request` target registers
/// (`app`, secret `s3cret`: RFC 6749 2.3.1).
const APP_BASIC: &str = "Basic YXBwOnMzY3JldA==";

/// `token_request` inputs: the `Authorization` line, then the form body
/// (RFC 6749 4.1.3, 4.3.2, 4.4.2, 6), for the client, code and refresh
/// token of that target's store, and a few refusals.
fn token_requests() -> Vec<String> {
    let form = |pairs: &[(&str, &str)]| form_encode(pairs.iter().copied());
    let code = form(&[
        ("grant_type", "authorization_code"),
        ("code", "code-1"),
        ("redirect_uri", "https://app.example/cb"),
        (
            "code_verifier",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ),
    ]);
    let refresh = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "refresh-1"),
        ("scope", "profile"),
    ]);
    let password = form(&[
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "secret"),
    ]);
    let in_body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "app"),
        ("client_secret", "s3cret"),
    ]);
    vec![
        format!("{APP_BASIC}\n{code}"),
        format!("{APP_BASIC}\n{refresh}"),
        format!("{APP_BASIC}\n{password}"),
        format!("{APP_BASIC}\ngrant_type=client_credentials&scope=profile+email"),
        format!("{APP_BASIC}\ngrant_type=client_credentials&grant_type=password"),
        format!("\n{in_body}"),
        "Basic !!!\ngrant_type=client_credentials".to_owned(),
    ]
}

/// `http_head` inputs: two bytes of pad length (big-endian; an `X-Pad`
/// header that long goes after the first line), then a request stream. A
/// metadata `GET` with heads of exactly 16 KiB (served) and one byte more
/// (431), a token request whose form has one pair too many, a pipelined
/// pair, and a chunked body after `Expect: 100-continue`.
fn http_streams() -> Vec<Vec<u8>> {
    const LIMIT: usize = 16 * 1024;
    let get = "GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: a\r\n\r\n";
    // The pad header adds "X-Pad: " and "\r\n" around its pad.
    let pad_to = |size: usize| (size - get.len() - "X-Pad: \r\n".len()) as u16;
    let seed = |pad: u16, stream: &str| [&pad.to_be_bytes()[..], stream.as_bytes()].concat();
    let pairs = vec!["a=1"; 257].join("&");
    vec![
        seed(0, get),
        seed(pad_to(LIMIT), get),
        seed(pad_to(LIMIT + 1), get),
        seed(
            0,
            &format!(
                "POST /oauth2/token?x=1 HTTP/1.1\r\nHost: a\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {}\r\n\r\n{pairs}",
                pairs.len()
            ),
        ),
        seed(0, &format!("{get}GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n")),
        seed(
            0,
            "POST /oauth2/token HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Transfer-Encoding: chunked\r\n\r\n\
             1d\r\ngrant_type=client_credentials\r\n0\r\n\r\n",
        ),
    ]
}

/// `bearer_header` inputs: RFC 6750 2.1's example and near misses, and a
/// 2.2 form body.
const BEARER_HEADERS: &[&str] = &[
    "Bearer mF_9.B5f-4.1JqM",
    "bearer abc==",
    "Bearer a b",
    "Bearer =abc",
    "Bearer",
    "Basic YXBwOnMzY3JldA==",
    "access_token=mF_9.B5f-4.1JqM",
];

/// `grant_requests` inputs: a selector byte (even: the token endpoint,
/// odd: device authorization), the `Authorization` line, the form. RFC
/// 8628 3.1's and 3.4's requests (the fixture's device code stands in for
/// `DEVICE_CODE`), and RFC 7523 2.1's grant with RFC 7515 A.3's JWS and
/// with another's, authenticated and not.
fn grant_requests() -> Vec<Vec<u8>> {
    use credlog_core::jose::examples::{A2_JWS, A3_JWS};
    let basic = "Basic YXBwOnMzY3JldA==";
    let bearer = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
    let device = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code";
    let seed = |pick: u8, header: &str, body: String| {
        let mut bytes = vec![pick];
        bytes.extend_from_slice(header.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(body.as_bytes());
        bytes
    };
    vec![
        seed(1, basic, "scope=profile".to_owned()),
        seed(1, "", "client_id=app&scope=profile+email".to_owned()),
        seed(1, basic, "scope=profile+admin".to_owned()),
        seed(0, basic, format!("{device}&device_code=DEVICE_CODE")),
        seed(
            0,
            "",
            format!("{device}&device_code=DEVICE_CODE&client_id=app"),
        ),
        seed(0, basic, format!("{device}&device_code=unknown")),
        seed(0, basic, format!("{bearer}&assertion={A3_JWS}")),
        seed(
            0,
            basic,
            format!("{bearer}&assertion={A3_JWS}&scope=profile"),
        ),
        seed(0, "", format!("{bearer}&assertion={A2_JWS}&client_id=app")),
        seed(
            0,
            basic,
            "grant_type=client_credentials&scope=profile".to_owned(),
        ),
    ]
}

/// `par_request` inputs: RFC 9126 2.1's example (its Basic credentials,
/// then its body), and beside it what the endpoint refuses: a pushed
/// `request_uri` and `request`, an unregistered redirect URI, a wrong
/// secret, a public client without PKCE; and a public client's push.
fn par_requests() -> Vec<String> {
    let basic = "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3";
    let example = "response_type=code&client_id=s6BhdRkqt3&state=af0ifjsldkj\
        &redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb\
        &code_challenge=K2-ltc83acc4h0c9w6ESC_rEMTJ3bww-uCHaoeK1t8U\
        &code_challenge_method=S256&scope=account-information";
    let seed = |header: &str, body: String| format!("{header}\n{body}");
    vec![
        seed(basic, example.to_owned()),
        seed(
            basic,
            format!("{example}&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax"),
        ),
        seed(basic, format!("{example}&request=eyJhbGciOiJub25lIn0.e30.")),
        seed(
            basic,
            example.replace("client.example.org", "attacker.example"),
        ),
        seed("Basic czZCaGRSa3F0Mzp3cm9uZw==", example.to_owned()),
        seed(
            "",
            "response_type=token&client_id=phone&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb"
                .to_owned(),
        ),
        seed(
            "",
            example
                .replace("s6BhdRkqt3", "phone")
                .replace("response_type=code", "response_type=code&prompt=none"),
        ),
        seed("", "response_type=code&client_id=phone".to_owned()),
    ]
}
