//! The checked vectors of VECTORS.md, byte for byte, through the same
//! validator that serves live requests, with the clock injected.

use credlog_conformance::vectors::{self, Vector, RFC5849_3_4_1_PRINTED_SIGNATURE};
use credlog_core::rfc5849::{
    ClientCredentials, Endpoint, HmacSha1, HmacSha256, Oauth1Config, Oauth1Error, Oauth1Server,
    Plaintext, SignedRequest, Signer, TokenCredentials,
};
use credlog_core::Request;
use futures::executor::block_on;

fn verify(
    vector: &Vector,
    request: &Request,
) -> Result<credlog_core::rfc5849::VerifiedRequest, Oauth1Error> {
    let server = Oauth1Server::new(Vector::config());
    block_on(server.verify(
        request,
        vector.endpoint,
        vector.now(),
        &vector.credentials(),
    ))
}

#[test]
fn base_strings_and_normalised_parameters_match_byte_for_byte() {
    for vector in vectors::all() {
        let request = vector.request();
        let signed = SignedRequest::parse(&request).unwrap();
        if let Some(base_string) = vector.base_string {
            assert_eq!(
                signed.base_string().unwrap(),
                base_string,
                "{}",
                vector.name
            );
        }
        if let Some(normalized) = vector.normalized_parameters {
            let parameters = signed
                .parameters()
                .parameters
                .iter()
                .map(|p| (p.name.as_ref(), p.value.as_ref()));
            assert_eq!(
                credlog_core::rfc5849::normalized_parameters(parameters),
                normalized,
                "{}",
                vector.name
            );
        }
        assert_eq!(
            signed.signature(),
            Some(vector.signature),
            "{}",
            vector.name
        );
    }
}

#[test]
fn every_vector_verifies_through_the_live_validator() {
    for vector in vectors::all() {
        let verified =
            verify(&vector, &vector.request()).unwrap_or_else(|e| panic!("{}: {e}", vector.name));
        assert_eq!(verified.endpoint, vector.endpoint, "{}", vector.name);
        assert_eq!(verified.client_key, vector.client.0, "{}", vector.name);
        assert_eq!(
            verified.token.as_deref(),
            vector.token.map(|t| t.0),
            "{}",
            vector.name
        );
        assert_eq!(verified.timestamp, vector.timestamp, "{}", vector.name);
        assert_eq!(verified.nonce.as_deref(), vector.nonce, "{}", vector.name);
        assert_eq!(
            verified.callback.as_deref(),
            vector.callback,
            "{}",
            vector.name
        );
    }
}

#[test]
fn the_token_request_carries_its_verifier_to_the_store() {
    let token_request = &vectors::rfc5849_1_2()[1];
    let verified = verify(token_request, &token_request.request()).unwrap();
    assert_eq!(verified.verifier.as_deref(), Some("hfdp7dh39dks9884"));
}

#[test]
fn a_vector_replayed_in_its_window_is_refused() {
    for vector in vectors::all().into_iter().filter(|v| v.nonce.is_some()) {
        let server = Oauth1Server::new(Vector::config());
        let credentials = vector.credentials();
        let request = vector.request();
        block_on(server.verify(&request, vector.endpoint, vector.now(), &credentials)).unwrap();
        let again =
            block_on(server.verify(&request, vector.endpoint, vector.now() + 1, &credentials));
        assert_eq!(again, Err(Oauth1Error::NonceReused), "{}", vector.name);
    }
}

#[test]
fn the_signature_printed_in_rfc_5849_3_4_1_is_refused() {
    let vector = vectors::rfc5849_3_4_1()[0];
    let printed = vector.authorization.replace(
        "r6%2FTJjbCOr97%2F%2BUU0NsvSne7s5g%3D",
        &credlog_core::rfc5849::encoding::percent_encode(RFC5849_3_4_1_PRINTED_SIGNATURE),
    );
    let mut request = vector.request();
    request.headers.retain(|(name, _)| name != "Authorization");
    let request = request.with_header("Authorization", printed);
    assert_eq!(
        verify(&vector, &request),
        Err(Oauth1Error::InvalidSignature)
    );
}

#[test]
fn vectors_fail_outside_their_time_window() {
    for vector in vectors::all().into_iter().filter(|v| v.timestamp.is_some()) {
        let server = Oauth1Server::new(Vector::config());
        for now in [vector.now() + 301, vector.now() - 301] {
            let result = block_on(server.verify(
                &vector.request(),
                vector.endpoint,
                now,
                &vector.credentials(),
            ));
            assert!(
                matches!(
                    result,
                    Err(Oauth1Error::TimestampOutOfWindow { window: 300, .. })
                ),
                "{}: {result:?}",
                vector.name
            );
        }
        let edge = block_on(server.verify(
            &vector.request(),
            vector.endpoint,
            vector.now() + 300,
            &vector.credentials(),
        ));
        assert!(edge.is_ok(), "{}: {edge:?}", vector.name);
    }
}

#[test]
fn the_default_configuration_allows_hmac_sha1_only() {
    let server = Oauth1Server::new(Oauth1Config::default());
    for vector in vectors::all() {
        let result = block_on(server.verify(
            &vector.request(),
            vector.endpoint,
            vector.now(),
            &vector.credentials(),
        ));
        if vector.authorization.contains("\"HMAC-SHA1\"") {
            assert!(result.is_ok(), "{}: {result:?}", vector.name);
        } else {
            assert!(
                matches!(result, Err(Oauth1Error::UnsupportedSignatureMethod { .. })),
                "{}: {result:?}",
                vector.name
            );
        }
    }
}

/// The client signer reproduces each vector's signature from the same inputs.
#[test]
fn the_client_signer_reproduces_every_vector() {
    for vector in vectors::all() {
        let (key, secret) = vector.client;
        let mut signer = Signer::new(ClientCredentials::new(key, secret));
        if let Some((token, token_secret)) = vector.token {
            signer = signer.with_token(TokenCredentials::new(token, token_secret));
        }
        signer = if vector.authorization.contains("\"HMAC-SHA256\"") {
            signer.with_method(HmacSha256)
        } else if vector.authorization.contains("\"PLAINTEXT\"") {
            signer.with_method(Plaintext)
        } else {
            signer.with_method(HmacSha1)
        };
        let mut unsigned = vector.request();
        unsigned.headers.retain(|(name, _)| name != "Authorization");
        let mut extra = Vec::new();
        if let Some(callback) = vector.callback {
            extra.push(("oauth_callback", callback));
        }
        if vector.endpoint == Endpoint::Token {
            extra.push(("oauth_verifier", "hfdp7dh39dks9884"));
        }
        if vector.authorization.contains("oauth_version") {
            extra.push(("oauth_version", "1.0"));
        }
        let signed = signer
            .sign_at(unsigned, &extra, vector.now(), vector.nonce.unwrap_or("n"))
            .unwrap();
        let parsed = SignedRequest::parse(&signed).unwrap();
        assert_eq!(
            parsed.signature(),
            Some(vector.signature),
            "{}",
            vector.name
        );
        if let Some(base_string) = vector.base_string {
            assert_eq!(
                parsed.base_string().unwrap(),
                base_string,
                "{}",
                vector.name
            );
        }
        assert!(verify(&vector, &signed).is_ok(), "{}", vector.name);
    }
}
