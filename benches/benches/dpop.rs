//! What DPoP (RFC 9449) costs a protected resource: checking a request
//! with a DPoP-bound token and its ES256 proof (the proof's signature,
//! `htm`, `htu`, `iat`, `ath`, the token, its binding, and the append that
//! uses the proof's `jti` once) against the same request with a bearer
//! token, on a memory store, through the checker that serves live
//! requests; and the proof check alone, on RFC 9449 4.1's example proof
//! and on a proof of each other algorithm (PS256, RS256, EdDSA), whose
//! cost is almost all the signature's.
//!
//! `cargo bench -p credlog-benches --bench dpop`

use base64::Engine;
use credlog_benches::ready;
use credlog_core::jose::{SignatureAlg, SigningKey};
use credlog_core::rfc6749::Scope;
use credlog_core::rfc6750::{self, DpopRules};
use credlog_core::rfc9449::{self, Expected, EXAMPLE_PROOF};
use credlog_core::store::{
    token_id, Constrained, CredentialKind, CredentialStore, Event, Issued, Secret, TokenRecord,
};
use credlog_core::Request;
use credlog_storage_memory::MemoryStore;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use p256::ecdsa::signature::Signer;
use serde_json::json;
use sha2::{Digest, Sha256};

const NOW: u64 = 1_700_000_000;
const URL: &str = "https://rs.example/api/me";
const BEARER: &str = "bench-bearer-token";
const BOUND: &str = "bench-dpop-token";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The client's ES256 key, its JWK and thumbprint.
struct Key {
    signing: p256::ecdsa::SigningKey,
    jwk: serde_json::Value,
}

impl Key {
    fn new() -> Key {
        let signing = p256::ecdsa::SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let point = signing.verifying_key().to_encoded_point(false);
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(point.x().expect("uncompressed")), "y": b64(point.y().expect("uncompressed")),
        });
        Key { signing, jwk }
    }

    fn jkt(&self) -> String {
        credlog_core::jose::thumbprint(&self.jwk).expect("a P-256 JWK")
    }

    /// A fresh proof (its own `jti`) for `GET URL` with the bound token.
    fn proof(&self, jti: u64) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let claims = json!({
            "jti": format!("bench-{jti}"),
            "htm": "GET",
            "htu": URL,
            "iat": NOW,
            "ath": b64(&Sha256::digest(BOUND.as_bytes())),
        });
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature: p256::ecdsa::Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature.to_bytes()))
    }
}

fn access_token(value: &str) -> Event {
    Event::Issued(Issued::Token(TokenRecord {
        kind: CredentialKind::AccessToken,
        id: token_id(value),
        secret: Secret::None,
        client_id: "bench-client".into(),
        user: Some("bench-user".into()),
        scope: "profile".into(),
        expires_at: Some(NOW + 3600),
        parent: None,
        redirect_uri: None,
        code_challenge: None,
    }))
}

/// A memory store with a bearer token and a token bound to `key`.
fn store(key: &Key) -> MemoryStore {
    let store = MemoryStore::new();
    let bound = Event::Constrained(Constrained {
        id: token_id(BOUND),
        jkt: Some(key.jkt()),
        audience: Vec::new(),
    });
    let events = vec![access_token(BEARER), access_token(BOUND), bound];
    ready(store.append(&[], events, NOW)).expect("seeded");
    store
}

fn resource(c: &mut Criterion) {
    let key = Key::new();
    let store = store(&key);
    let scope = Scope::stored("profile");
    let rules = DpopRules::default();
    let bearer = Request::new("GET", URL).with_header("Authorization", format!("Bearer {BEARER}"));
    let dpop = |jti: u64| {
        Request::new("GET", URL)
            .with_header("Authorization", format!("DPoP {BOUND}"))
            .with_header("DPoP", key.proof(jti))
    };
    let protect =
        |request: &Request| ready(rfc6750::protect_with(&store, request, &scope, &rules, NOW));
    assert!(protect(&bearer).is_ok());
    assert!(protect(&dpop(0)).is_ok_and(|token| token.dpop_jkt == Some(key.jkt())));
    assert!(protect(&dpop(0)).is_err(), "a proof works once");

    let mut group = c.benchmark_group("resource");
    group.bench_function("bearer", |b| b.iter(|| protect(black_box(&bearer))));
    let mut jti = 0;
    group.bench_function("dpop ES256", |b| {
        b.iter_batched(
            || {
                jti += 1;
                dpop(jti)
            },
            |request| protect(black_box(&request)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn proof(c: &mut Criterion) {
    let expected = Expected {
        method: "POST",
        uri: "https://server.example.com/token",
        now: 1_562_262_616,
        window: 60,
        access_token: None,
        nonces: None,
    };
    assert!(rfc9449::check(EXAMPLE_PROOF, &expected).is_ok());
    c.bench_function("proof/check RFC 9449 4.1 (ES256)", |b| {
        b.iter(|| rfc9449::check(black_box(EXAMPLE_PROOF), &expected))
    });
    for alg in [
        SignatureAlg::PS256,
        SignatureAlg::RS256,
        SignatureAlg::EdDSA,
    ] {
        let proof = signed_proof(alg, &expected);
        assert!(rfc9449::check(&proof, &expected).is_ok(), "{alg:?}");
        c.bench_function(&format!("proof/check ({})", alg.name()), |b| {
            b.iter(|| rfc9449::check(black_box(&proof), &expected))
        });
    }
}

/// A proof for `expected`'s request signed with a new key for `alg`
/// (made by credlog's own key type, signed by `jsonwebtoken`).
fn signed_proof(alg: SignatureAlg, expected: &Expected<'_>) -> String {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
    );
    let key = SigningKey::generate_for(alg).expect("a signing algorithm");
    let pem = key.to_pkcs8_pem();
    // jsonwebtoken takes DER: PKCS#8 for Ed25519, PKCS#1 for RSA.
    let rsa_der = || {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("credlog's PKCS#8 PEM");
        private
            .to_pkcs1_der()
            .expect("an RSA key")
            .as_bytes()
            .to_vec()
    };
    let (encoding, algorithm) = match alg {
        SignatureAlg::EdDSA => {
            let body: String = pem
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body)
                .expect("PEM is base64");
            (
                jsonwebtoken::EncodingKey::from_ed_der(&der),
                jsonwebtoken::Algorithm::EdDSA,
            )
        }
        SignatureAlg::PS256 => (
            jsonwebtoken::EncodingKey::from_rsa_der(&rsa_der()),
            jsonwebtoken::Algorithm::PS256,
        ),
        _ => (
            jsonwebtoken::EncodingKey::from_rsa_der(&rsa_der()),
            jsonwebtoken::Algorithm::RS256,
        ),
    };
    let mut jwk = key.public_jwk();
    if let Some(jwk) = jwk.as_object_mut() {
        jwk.retain(|name, _| !matches!(name.as_str(), "kid" | "alg" | "use"));
    }
    let header = json!({"typ": "dpop+jwt", "alg": alg.name(), "jwk": jwk});
    let claims = json!({"jti": "bench", "htm": expected.method, "htu": expected.uri,
        "iat": expected.now});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &encoding, algorithm)
        .expect("signing with a fresh key");
    format!("{input}.{signature}")
}

criterion_group!(benches, resource, proof);
criterion_main!(benches);
