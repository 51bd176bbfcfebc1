//! Verifying and signing OAuth 1 requests (RFC 5849): the RFC 5849 1.2
//! protected-resource request with each signature method, through the same
//! validator that serves live requests.

use credlog_benches::{ready, AcceptingSource};
use credlog_conformance::vectors::{self, Vector};
use credlog_conformance::{TEST_RSA_PRIVATE_KEY_PEM, TEST_RSA_PUBLIC_KEY_PEM};
use credlog_core::rfc5849::signature::{rsa_private_key_from_pem, rsa_public_key_from_pem};
use credlog_core::rfc5849::{
    ClientCredentials, HmacSha1, Oauth1Server, RsaSha1, Signer, TokenCredentials,
};
use credlog_core::Request;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn bench_verify(
    c: &mut Criterion,
    name: &str,
    vector: &Vector,
    request: &Request,
    source: &AcceptingSource,
) {
    let server = Oauth1Server::new(Vector::config());
    let result = ready(server.verify(request, vector.endpoint, vector.now(), source));
    assert!(result.is_ok(), "{name}: {result:?}");
    c.bench_function(name, |b| {
        b.iter(|| ready(server.verify(black_box(request), vector.endpoint, vector.now(), source)))
    });
}

fn verify(c: &mut Criterion) {
    let [_, _, hmac_sha1, hmac_sha256] = vectors::rfc5849_1_2();
    for (name, vector) in [
        ("verify/HMAC-SHA1", hmac_sha1),
        ("verify/HMAC-SHA256", hmac_sha256),
    ] {
        bench_verify(
            c,
            name,
            &vector,
            &vector.request(),
            &AcceptingSource::for_vector(&vector),
        );
    }
    let plaintext = vectors::rfc5849_3_4_4();
    bench_verify(
        c,
        "verify/PLAINTEXT",
        &plaintext,
        &plaintext.request(),
        &AcceptingSource::for_vector(&plaintext),
    );

    let rsa_request = rsa_signer()
        .sign_at(unsigned(&hmac_sha1), &[], hmac_sha1.now(), "chapoH")
        .unwrap();
    let mut source = AcceptingSource::for_vector(&hmac_sha1);
    source.client.rsa_public_key = Some(rsa_public_key_from_pem(TEST_RSA_PUBLIC_KEY_PEM).unwrap());
    bench_verify(
        c,
        "verify/RSA-SHA1 (2048-bit)",
        &hmac_sha1,
        &rsa_request,
        &source,
    );
}

fn unsigned(vector: &Vector) -> Request {
    let mut request = vector.request();
    request.headers.retain(|(name, _)| name != "Authorization");
    request
}

fn rsa_signer() -> Signer {
    let client = ClientCredentials {
        rsa_private_key: Some(rsa_private_key_from_pem(TEST_RSA_PRIVATE_KEY_PEM).unwrap()),
        ..ClientCredentials::new("dpf43f3p2l4k3l03", "")
    };
    Signer::new(client)
        .with_method(RsaSha1)
        .with_token(TokenCredentials::new(
            "nnch734d00sl2jdk",
            "pfkkdhi9sl3r4s00",
        ))
}

fn sign(c: &mut Criterion) {
    let vector = vectors::rfc5849_1_2()[2];
    let hmac = Signer::new(ClientCredentials::new(vector.client.0, vector.client.1))
        .with_method(HmacSha1)
        .with_token(TokenCredentials::new(
            "nnch734d00sl2jdk",
            "pfkkdhi9sl3r4s00",
        ));
    let request = unsigned(&vector);
    c.bench_function("sign/HMAC-SHA1", |b| {
        b.iter(|| {
            hmac.sign_at(black_box(request.clone()), &[], vector.now(), "chapoH")
                .unwrap()
        })
    });
    let rsa = rsa_signer();
    c.bench_function("sign/RSA-SHA1 (2048-bit)", |b| {
        b.iter(|| {
            rsa.sign_at(black_box(request.clone()), &[], vector.now(), "chapoH")
                .unwrap()
        })
    });
}

criterion_group!(benches, verify, sign);
criterion_main!(benches);
