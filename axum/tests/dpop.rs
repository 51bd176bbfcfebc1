//! DPoP (RFC 9449) in the example app over real HTTP: a token bound to a
//! proof's key at the token endpoint works at the app's protected
//! `/api/me` (the [`credlog_axum::Authorized`] extractor) in the `DPoP`
//! scheme with a proof of that key, and is refused there as `Bearer` or
//! with another key's proof. The proofs are made here with `p256`.

#[allow(dead_code)]
#[path = "../examples/provider/app.rs"]
mod app;
#[path = "../examples/provider/consent.rs"]
mod consent;
mod support;
#[allow(dead_code)]
#[path = "../examples/provider/users.rs"]
mod users;

use base64::Engine;
use p256::ecdsa::signature::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::*;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An ES256 DPoP key.
struct DpopKey(p256::ecdsa::SigningKey);

impl DpopKey {
    fn new() -> DpopKey {
        DpopKey(p256::ecdsa::SigningKey::random(&mut rand_core()))
    }

    fn jwk(&self) -> Value {
        let point = self.0.verifying_key().to_encoded_point(false);
        json!({"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())})
    }

    /// A fresh proof for `method` at `url`, with `ath` for `token`.
    fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        let mut claims = json!({
            "jti": credlog_core::random::random_token(),
            "htm": method,
            "htu": url,
            "iat": now(),
        });
        if let Some(token) = token {
            claims["ath"] = b64(&Sha256::digest(token.as_bytes())).into();
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature: p256::ecdsa::Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature.to_bytes()))
    }
}

/// The operating system's random source, as `p256` takes it.
fn rand_core() -> p256::elliptic_curve::rand_core::OsRng {
    p256::elliptic_curve::rand_core::OsRng
}

async fn me(example: &Example, authorization: &str, proof: Option<&str>) -> Answer {
    let mut request = http()
        .get(example.url("/api/me"))
        .header("Authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    Answer::of(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_bound_token_works_at_the_protected_route_only_with_its_keys_proof() {
    let example = Example::start().await;
    let key = DpopKey::new();
    let client = &example.clients.confidential;
    let proof = key.proof("POST", &example.url("/oauth2/token"), None);
    let answer = Answer::of(
        http()
            .post(example.url("/oauth2/token"))
            .basic_auth(&client.id, client.secret.as_deref())
            .header("DPoP", proof)
            .form(&[("grant_type", "client_credentials"), ("scope", "profile")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let tokens = answer.json();
    assert_eq!(tokens["token_type"], "DPoP", "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    let url = example.url("/api/me");

    let proof = key.proof("GET", &url, Some(token));
    let ok = me(&example, &format!("DPoP {token}"), Some(&proof)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["client_id"], client.id.as_str());
    // Once only.
    let replayed = me(&example, &format!("DPoP {token}"), Some(&proof)).await;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert_eq!(replayed.json()["error"], "invalid_dpop_proof");

    // The thief: as Bearer, or with a proof of another key.
    let bearer = me(&example, &format!("Bearer {token}"), None).await;
    let theirs = DpopKey::new().proof("GET", &url, Some(token));
    let other = me(&example, &format!("DPoP {token}"), Some(&theirs)).await;
    for refused in [bearer, other] {
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert_eq!(refused.json()["error"], "invalid_token");
        let challenge = refused.header("www-authenticate").expect("a challenge");
        assert!(challenge.starts_with("DPoP "), "{challenge}");
        assert!(
            challenge.contains("algs=\"ES256 PS256 RS256 EdDSA\""),
            "{challenge}"
        );
    }
    example.stop().await;
}
