//! Every rule of RFC 5849 3.2 the validator enforces, each refusal asserted
//! by its reason and status.

use async_trait::async_trait;
use credlog_conformance::{FixedCredentials, TEST_RSA_PRIVATE_KEY_PEM, TEST_RSA_PUBLIC_KEY_PEM};
use credlog_core::rfc5849::parameters::{HeaderError, ParameterError, Source};
use credlog_core::rfc5849::signature::{rsa_private_key_from_pem, rsa_public_key_from_pem};
use credlog_core::rfc5849::{
    Client, ClientCredentials, CredentialSource, Endpoint, NonceUse, Oauth1Config, Oauth1Error,
    Oauth1Server, Plaintext, RsaSha1, SignatureMethods, Signer, TokenCredentials, TokenKind,
    Transmission, VerifiedRequest,
};
use credlog_core::store::StoreError;
use credlog_core::Request;
use futures::executor::block_on;

const NOW: u64 = 1_700_000_000;
const CALLBACK: &str = "https://app.example/callback";

fn credentials() -> FixedCredentials {
    FixedCredentials::new()
        .with_client("client-a", "secret-a")
        .with_client_change("client-a", |c| c.callback_uris.push(CALLBACK.into()))
        .with_client("client-b", "secret-b")
        .with_token(
            "client-a",
            "temporary-a",
            "temporary-secret-a",
            TokenKind::Temporary,
        )
        .with_token("client-a", "token-a", "token-secret-a", TokenKind::Token)
        .with_token("client-b", "token-b", "token-secret-b", TokenKind::Token)
}

/// Every built-in method, reached over TLS (so PLAINTEXT is allowed).
fn all_methods() -> Oauth1Server {
    Oauth1Server::new(Oauth1Config {
        signature_methods: SignatureMethods::all_builtin(),
        over_tls: true,
        ..Oauth1Config::default()
    })
}

fn signer(client: &str, secret: &str) -> Signer {
    Signer::new(ClientCredentials::new(client, secret))
}

fn resource_request() -> Request {
    Request::new("GET", "https://api.example/api/me?x=1")
}

fn verify_with(
    source: &FixedCredentials,
    request: &Request,
    endpoint: Endpoint,
) -> Result<VerifiedRequest, Oauth1Error> {
    block_on(all_methods().verify(request, endpoint, NOW, source))
}

fn verify(request: &Request, endpoint: Endpoint) -> Result<VerifiedRequest, Oauth1Error> {
    verify_with(&credentials(), request, endpoint)
}

fn signed_resource(client: &str, secret: &str, token: &str, token_secret: &str) -> Request {
    signer(client, secret)
        .with_token(TokenCredentials::new(token, token_secret))
        .sign_at(resource_request(), &[], NOW, "nonce-1")
        .unwrap()
}

fn assert_refused(
    result: Result<VerifiedRequest, Oauth1Error>,
    expected: Oauth1Error,
    status: u16,
) {
    let error = result.expect_err("the request must be refused");
    assert_eq!(error, expected);
    assert_eq!(error.status(), status, "{error}");
}

#[test]
fn a_good_request_passes_at_each_endpoint() {
    let initiate = signer("client-a", "secret-a")
        .sign_at(
            Request::new("POST", "https://api.example/oauth1/initiate"),
            &[("oauth_callback", CALLBACK)],
            NOW,
            "n1",
        )
        .unwrap();
    let verified = verify(&initiate, Endpoint::Initiate).unwrap();
    assert_eq!(verified.callback.as_deref(), Some(CALLBACK));
    assert_eq!(verified.token, None);

    let token = signer("client-a", "secret-a")
        .with_token(TokenCredentials::new("temporary-a", "temporary-secret-a"))
        .sign_at(
            Request::new("POST", "https://api.example/oauth1/token"),
            &[("oauth_verifier", "v")],
            NOW,
            "n2",
        )
        .unwrap();
    let verified = verify(&token, Endpoint::Token).unwrap();
    assert_eq!(verified.verifier.as_deref(), Some("v"));
    assert_eq!(verified.token.as_deref(), Some("temporary-a"));

    let resource = signed_resource("client-a", "secret-a", "token-a", "token-secret-a");
    assert_eq!(
        verify(&resource, Endpoint::Resource).unwrap().client_key,
        "client-a"
    );
}

#[test]
fn a_bad_signature_is_refused_and_burns_no_nonce() {
    let source = credentials();
    let request = signed_resource("client-a", "wrong-secret", "token-a", "token-secret-a");
    assert_refused(
        verify_with(&source, &request, Endpoint::Resource),
        Oauth1Error::InvalidSignature,
        401,
    );
    assert_eq!(source.nonces_recorded(), 0);
}

#[test]
fn an_unknown_client_is_refused() {
    let request = signed_resource("nobody", "secret", "token-a", "token-secret-a");
    assert_refused(
        verify(&request, Endpoint::Resource),
        Oauth1Error::UnknownClient,
        401,
    );
}

#[test]
fn a_token_of_another_client_or_kind_is_refused() {
    let foreign = signed_resource("client-a", "secret-a", "token-b", "token-secret-b");
    assert_refused(
        verify(&foreign, Endpoint::Resource),
        Oauth1Error::UnknownToken,
        401,
    );
    let temporary_as_token =
        signed_resource("client-a", "secret-a", "temporary-a", "temporary-secret-a");
    assert_refused(
        verify(&temporary_as_token, Endpoint::Resource),
        Oauth1Error::UnknownToken,
        401,
    );
}

#[test]
fn a_replayed_nonce_is_refused_but_another_timestamp_is_not() {
    let source = credentials();
    let request = signed_resource("client-a", "secret-a", "token-a", "token-secret-a");
    verify_with(&source, &request, Endpoint::Resource).unwrap();
    assert_refused(
        verify_with(&source, &request, Endpoint::Resource),
        Oauth1Error::NonceReused,
        401,
    );
    let later = signer("client-a", "secret-a")
        .with_token(TokenCredentials::new("token-a", "token-secret-a"))
        .sign_at(resource_request(), &[], NOW + 1, "nonce-1")
        .unwrap();
    assert!(verify_with(&source, &later, Endpoint::Resource).is_ok());
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    for timestamp in [NOW - 301, NOW + 301] {
        let request = signer("client-a", "secret-a")
            .with_token(TokenCredentials::new("token-a", "token-secret-a"))
            .sign_at(resource_request(), &[], timestamp, "n")
            .unwrap();
        assert_refused(
            verify(&request, Endpoint::Resource),
            Oauth1Error::TimestampOutOfWindow {
                timestamp,
                window: 300,
            },
            401,
        );
    }
}

#[test]
fn the_window_is_configurable() {
    let server = Oauth1Server::new(Oauth1Config {
        timestamp_window: 10,
        ..Oauth1Config::default()
    });
    let request = signer("client-a", "secret-a")
        .with_token(TokenCredentials::new("token-a", "token-secret-a"))
        .sign_at(resource_request(), &[], NOW - 11, "n")
        .unwrap();
    let result = block_on(server.verify(&request, Endpoint::Resource, NOW, &credentials()));
    assert!(matches!(
        result,
        Err(Oauth1Error::TimestampOutOfWindow { window: 10, .. })
    ));
}

#[test]
fn callbacks_must_be_present_registered_or_oob() {
    let initiate = |extra: &[(&str, &str)]| {
        signer("client-a", "secret-a")
            .sign_at(
                Request::new("POST", "https://api.example/oauth1/initiate"),
                extra,
                NOW,
                "n",
            )
            .unwrap()
    };
    assert_refused(
        verify(&initiate(&[]), Endpoint::Initiate),
        Oauth1Error::MissingParameter {
            name: "oauth_callback",
        },
        400,
    );
    assert_refused(
        verify(
            &initiate(&[("oauth_callback", "https://evil.example/cb")]),
            Endpoint::Initiate,
        ),
        Oauth1Error::InvalidCallback,
        400,
    );
    assert_refused(
        verify(
            &initiate(&[("oauth_callback", "not a uri")]),
            Endpoint::Initiate,
        ),
        Oauth1Error::InvalidCallback,
        400,
    );
    assert_refused(
        verify(
            &initiate(&[("oauth_callback", "https://app.example/callback#frag")]),
            Endpoint::Initiate,
        ),
        Oauth1Error::InvalidCallback,
        400,
    );
    let oob = verify(&initiate(&[("oauth_callback", "oob")]), Endpoint::Initiate).unwrap();
    assert_eq!(oob.callback.as_deref(), Some("oob"));
}

#[test]
fn each_endpoint_requires_its_parameters() {
    let token_without_verifier = signer("client-a", "secret-a")
        .with_token(TokenCredentials::new("temporary-a", "temporary-secret-a"))
        .sign_at(
            Request::new("POST", "https://api.example/oauth1/token"),
            &[],
            NOW,
            "n",
        )
        .unwrap();
    assert_refused(
        verify(&token_without_verifier, Endpoint::Token),
        Oauth1Error::MissingParameter {
            name: "oauth_verifier",
        },
        400,
    );
    let resource_without_token = signer("client-a", "secret-a")
        .sign_at(resource_request(), &[], NOW, "n")
        .unwrap();
    assert_refused(
        verify(&resource_without_token, Endpoint::Resource),
        Oauth1Error::MissingParameter {
            name: "oauth_token",
        },
        400,
    );
    let header = "OAuth oauth_consumer_key=\"client-a\", oauth_token=\"token-a\", \
        oauth_signature_method=\"HMAC-SHA1\", oauth_nonce=\"n\", oauth_signature=\"x\"";
    let no_timestamp = resource_request().with_header("Authorization", header);
    assert_refused(
        verify(&no_timestamp, Endpoint::Resource),
        Oauth1Error::MissingParameter {
            name: "oauth_timestamp",
        },
        400,
    );
    let no_signature = resource_request().with_header(
        "Authorization",
        "OAuth oauth_consumer_key=\"client-a\", oauth_signature_method=\"HMAC-SHA1\"",
    );
    assert_refused(
        verify(&no_signature, Endpoint::Resource),
        Oauth1Error::MissingParameter {
            name: "oauth_signature",
        },
        400,
    );
}

#[test]
fn malformed_values_are_refused_with_400() {
    let with_header = |header: &str| resource_request().with_header("Authorization", header);
    let base = "oauth_consumer_key=\"client-a\", oauth_token=\"token-a\", oauth_signature=\"x\", oauth_nonce=\"n\"";
    assert_refused(
        verify(
            &with_header(&format!(
                "OAuth {base}, oauth_signature_method=\"HMAC-MD5\", oauth_timestamp=\"{NOW}\""
            )),
            Endpoint::Resource,
        ),
        Oauth1Error::UnsupportedSignatureMethod {
            method: "HMAC-MD5".into(),
        },
        400,
    );
    assert_refused(
        verify(
            &with_header(&format!(
                "OAuth {base}, oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"soon\""
            )),
            Endpoint::Resource,
        ),
        Oauth1Error::NonNumericTimestamp {
            value: "soon".into(),
        },
        400,
    );
    assert_refused(
        verify(&with_header(&format!("OAuth {base}, oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"99999999999999999999999\"")), Endpoint::Resource),
        Oauth1Error::NonNumericTimestamp { value: "99999999999999999999999".into() },
        400,
    );
    assert_refused(
        verify(&with_header(&format!("OAuth {base}, oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"{NOW}\", oauth_version=\"2.0\"")), Endpoint::Resource),
        Oauth1Error::UnsupportedVersion { version: "2.0".into() },
        400,
    );
    assert_refused(
        verify(
            &with_header("OAuth oauth_consumer_key=client-a"),
            Endpoint::Resource,
        ),
        Oauth1Error::Parameters(ParameterError::MalformedHeader(
            HeaderError::UnquotedValue {
                name: "oauth_consumer_key".into(),
            },
        )),
        400,
    );
    let long_nonce = "n".repeat(129);
    assert_refused(
        verify(&with_header(&format!("OAuth oauth_consumer_key=\"client-a\", oauth_token=\"token-a\", oauth_signature=\"x\", oauth_nonce=\"{long_nonce}\", oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"{NOW}\"")), Endpoint::Resource),
        Oauth1Error::NonceLength { min: 1, max: 128 },
        400,
    );
}

#[test]
fn a_duplicated_protocol_parameter_is_refused() {
    let signed = signed_resource("client-a", "secret-a", "token-a", "token-secret-a");
    let duplicated = Request {
        uri: format!("{}&oauth_nonce=again", signed.uri),
        ..signed
    };
    let error = verify(&duplicated, Endpoint::Resource).unwrap_err();
    assert_eq!(
        error,
        Oauth1Error::Parameters(ParameterError::DuplicateParameter {
            name: "oauth_nonce".into(),
            first: Source::Header,
            second: Source::Query,
        })
    );
    assert_eq!(
        (error.status(), error.error_code()),
        (400, "duplicated_oauth_protocol_parameter")
    );
}

#[test]
fn plaintext_may_omit_timestamp_and_nonce_but_others_may_not() {
    let header = "OAuth oauth_consumer_key=\"client-a\", oauth_token=\"token-a\", \
        oauth_signature_method=\"PLAINTEXT\", oauth_signature=\"secret-a%26token-secret-a\"";
    let request = resource_request().with_header("Authorization", header);
    let verified = verify(&request, Endpoint::Resource).unwrap();
    assert_eq!((verified.timestamp, verified.nonce), (None, None));

    let signed = signer("client-a", "secret-a")
        .with_method(Plaintext)
        .with_token(TokenCredentials::new("token-a", "token-secret-a"))
        .sign_at(resource_request(), &[], NOW, "n")
        .unwrap();
    assert!(verify(&signed, Endpoint::Resource).is_ok());
}

#[test]
fn plaintext_is_refused_when_the_server_is_not_reached_over_tls() {
    let header = "OAuth oauth_consumer_key=\"client-a\", oauth_token=\"token-a\", \
        oauth_signature_method=\"PLAINTEXT\", oauth_signature=\"secret-a%26token-secret-a\"";
    let request = resource_request().with_header("Authorization", header);
    let plain = Oauth1Server::new(Oauth1Config {
        signature_methods: SignatureMethods::all_builtin(),
        ..Oauth1Config::default()
    });
    let error =
        block_on(plain.verify(&request, Endpoint::Resource, NOW, &credentials())).unwrap_err();
    assert_eq!(error, Oauth1Error::PlaintextWithoutTls);
    assert_eq!(
        (error.status(), error.error_code()),
        (400, "signature_method_rejected")
    );
    let response = error.to_response("credlog");
    let body = String::from_utf8(response.body).unwrap();
    assert!(body.contains("TLS"), "{body}");
    // The same request over TLS passes, and HMAC-SHA1 passes either way.
    assert!(verify(&request, Endpoint::Resource).is_ok());
    let hmac = signer("client-a", "secret-a")
        .with_token(TokenCredentials::new("token-a", "token-secret-a"))
        .sign_at(resource_request(), &[], NOW, "n2")
        .unwrap();
    assert!(block_on(plain.verify(&hmac, Endpoint::Resource, NOW, &credentials())).is_ok());
}

#[test]
fn rsa_sha1_verifies_with_the_registered_public_key_only() {
    let private_key = rsa_private_key_from_pem(TEST_RSA_PRIVATE_KEY_PEM).unwrap();
    let public_key = rsa_public_key_from_pem(TEST_RSA_PUBLIC_KEY_PEM).unwrap();
    let client = ClientCredentials {
        rsa_private_key: Some(private_key),
        ..ClientCredentials::new("client-a", "")
    };
    let request = Signer::new(client)
        .with_method(RsaSha1)
        .with_token(TokenCredentials::new("token-a", "token-secret-a"))
        .with_transmission(Transmission::Query)
        .sign_at(resource_request(), &[], NOW, "n")
        .unwrap();

    let registered =
        credentials().with_client_change("client-a", |c| c.rsa_public_key = Some(public_key));
    assert!(verify_with(&registered, &request, Endpoint::Resource).is_ok());
    assert_refused(
        verify(&request, Endpoint::Resource),
        Oauth1Error::InvalidSignature,
        401,
    );
}

struct FailingStore;

#[async_trait]
impl CredentialSource for FailingStore {
    async fn client(&self, _: &str) -> Result<Option<Client>, StoreError> {
        Err(StoreError::Backend("disk on fire".into()))
    }
    async fn token_secret(
        &self,
        _: &str,
        _: &str,
        _: TokenKind,
    ) -> Result<Option<String>, StoreError> {
        Err(StoreError::Backend("disk on fire".into()))
    }
    async fn use_nonce(&self, _: &NonceUse<'_>) -> Result<bool, StoreError> {
        Err(StoreError::Backend("disk on fire".into()))
    }
}

#[test]
fn a_store_failure_is_a_500_not_the_clients_fault() {
    let request = signed_resource("client-a", "secret-a", "token-a", "token-secret-a");
    let error = block_on(all_methods().verify(&request, Endpoint::Resource, NOW, &FailingStore))
        .unwrap_err();
    assert_eq!(
        error,
        Oauth1Error::Store(StoreError::Backend("disk on fire".into()))
    );
    assert_eq!(error.status(), 500);
}

/// A deployment's own method: HMAC-SHA256 under another name, to show the
/// seam, not to suggest the name.
struct Custom;

impl credlog_core::rfc5849::SignatureMethod for Custom {
    fn name(&self) -> &str {
        "X-CUSTOM"
    }
    fn sign(
        &self,
        base_string: &str,
        key: &credlog_core::rfc5849::SigningKey<'_>,
    ) -> Result<String, credlog_core::rfc5849::signature::SignError> {
        credlog_core::rfc5849::HmacSha256.sign(base_string, key)
    }
    fn verify(
        &self,
        base_string: &str,
        signature: &str,
        key: &credlog_core::rfc5849::VerifyingKey<'_>,
    ) -> bool {
        credlog_core::rfc5849::HmacSha256.verify(base_string, signature, key)
    }
}

#[test]
fn a_deployment_can_add_its_own_signature_method() {
    let request = signer("client-a", "secret-a")
        .with_method(Custom)
        .with_token(TokenCredentials::new("token-a", "token-secret-a"))
        .sign_at(resource_request(), &[], NOW, "n")
        .unwrap();
    assert_refused(
        verify(&request, Endpoint::Resource),
        Oauth1Error::UnsupportedSignatureMethod {
            method: "X-CUSTOM".into(),
        },
        400,
    );
    let server = Oauth1Server::new(Oauth1Config {
        signature_methods: SignatureMethods::default().with(Custom),
        ..Oauth1Config::default()
    });
    let verified =
        block_on(server.verify(&request, Endpoint::Resource, NOW, &credentials())).unwrap();
    assert_eq!(verified.signature_method, "X-CUSTOM");
}
