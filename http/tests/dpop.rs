//! DPoP (RFC 9449) over HTTP on every store: tokens bound to a proof's
//! key at the token endpoint, used at `/api/me` and UserInfo in the
//! `DPoP` scheme, refused as `Bearer` or with another key's proof; each
//! rule of a proof played by an attacker's request; refresh tokens of
//! public clients and codes bound by `dpop_jkt` traded only with their
//! key; clients registered for DPoP-bound tokens; server nonces; and a
//! proof replayed across two servers on one PostgreSQL database. The
//! proofs are made here with `p256` (ES256) and `rsa` (PS256, RS256),
//! never by credlog's own code.

mod support;

use std::sync::OnceLock;

use base64::Engine;
use credlog_core::rfc6749::{Oauth2Config, Oauth2Server};
use credlog_http::accounts::ClientMetadata;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::oauth2::*;
use support::{get_page, http, Answer};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A client's DPoP key pair.
enum Private {
    Es256(p256::ecdsa::SigningKey),
    Ps256(rsa::RsaPrivateKey),
    Rs256(rsa::RsaPrivateKey),
}

struct DpopKey {
    private: Private,
    jwk: Value,
}

/// One RSA key for the whole test binary: making one is slow.
fn rsa_key() -> rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
        .clone()
}

fn rsa_jwk(key: &rsa::RsaPrivateKey) -> Value {
    json!({"kty": "RSA", "e": b64(&key.e().to_bytes_be()), "n": b64(&key.n().to_bytes_be())})
}

impl DpopKey {
    fn es256() -> DpopKey {
        let signing = p256::ecdsa::SigningKey::random(&mut rand::thread_rng());
        let point = signing.verifying_key().to_encoded_point(false);
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()),
        });
        DpopKey {
            private: Private::Es256(signing),
            jwk,
        }
    }

    fn ps256() -> DpopKey {
        let key = rsa_key();
        DpopKey {
            jwk: rsa_jwk(&key),
            private: Private::Ps256(key),
        }
    }

    fn rs256() -> DpopKey {
        let key = rsa_key();
        DpopKey {
            jwk: rsa_jwk(&key),
            private: Private::Rs256(key),
        }
    }

    fn alg(&self) -> &'static str {
        match self.private {
            Private::Es256(_) => "ES256",
            Private::Ps256(_) => "PS256",
            Private::Rs256(_) => "RS256",
        }
    }

    /// The RFC 7638 thumbprint, by hand.
    fn jkt(&self) -> String {
        let canonical = match self.private {
            Private::Es256(_) => format!(
                r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
                self.jwk["x"], self.jwk["y"]
            ),
            _ => format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                self.jwk["e"], self.jwk["n"]
            ),
        };
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    /// A JWS with this header and these claims, signed with the key.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = match &self.private {
            Private::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
                signature.to_bytes().to_vec()
            }
            Private::Ps256(key) => rsa::pss::SigningKey::<Sha256>::new(key.clone())
                .sign_with_rng(&mut rand::thread_rng(), input.as_bytes())
                .to_vec(),
            Private::Rs256(key) => rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone())
                .sign(input.as_bytes())
                .to_vec(),
        };
        format!("{input}.{}", b64(&signature))
    }

    /// A proof with these claims under a good header.
    fn proof_with(&self, claims: &Value) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk});
        self.sign(&header, claims)
    }

    /// A fresh proof (new `jti`, `iat` now) for `method` at `url`, with
    /// `ath` for `token` and the server's `nonce` when given.
    fn proof(
        &self,
        w: &World,
        method: &str,
        url: &str,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        self.proof_with(&claims(w.clock.now(), method, url, token, nonce))
    }
}

fn claims(now: u64, method: &str, url: &str, token: Option<&str>, nonce: Option<&str>) -> Value {
    let mut claims = json!({
        "jti": credlog_core::random::random_token(),
        "htm": method,
        "htu": url,
        "iat": now,
    });
    if let Some(token) = token {
        claims["ath"] = b64(&Sha256::digest(token.as_bytes())).into();
    }
    if let Some(nonce) = nonce {
        claims["nonce"] = nonce.into();
    }
    claims
}

/// `POST /oauth2/token` with `form`, the client authenticating its way,
/// and these `DPoP` headers.
async fn token_with(w: &World, client: &Oauth2Client, form: &Form, proofs: &[&str]) -> Answer {
    let mut form = form.clone();
    let mut request = http()
        .post(w.server.url("/oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded");
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    match client.method {
        AuthMethod::Basic => request = request.basic_auth(&client.id, client.secret.as_deref()),
        AuthMethod::Post => {
            form = form.with("client_id", &client.id);
            if let Some(secret) = &client.secret {
                form = form.with("client_secret", secret);
            }
        }
        AuthMethod::None => form = form.with("client_id", &client.id),
    }
    Answer::from(request.body(form.encoded()).send().await.unwrap()).await
}

/// A token request with a fresh proof of `key`.
async fn token_bound(w: &World, client: &Oauth2Client, form: &Form, key: &DpopKey) -> Answer {
    let proof = key.proof(w, "POST", &w.server.url("/oauth2/token"), None, None);
    token_with(w, client, form, &[&proof]).await
}

/// A 200 token response binding its tokens: `token_type` DPoP.
fn bound_tokens(answer: &Answer) -> (String, Option<String>) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json = answer.json();
    assert_eq!(json["token_type"], "DPoP", "{json}");
    (
        json["access_token"].as_str().unwrap().to_owned(),
        json["refresh_token"].as_str().map(str::to_owned),
    )
}

/// `GET path` with `Authorization: SCHEME token` and these `DPoP` headers.
async fn get_with(w: &World, path: &str, authorization: &str, proofs: &[&str]) -> Answer {
    let mut request = http()
        .get(w.server.url(path))
        .header("Authorization", authorization);
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    Answer::from(request.send().await.unwrap()).await
}

/// `GET path` in the `DPoP` scheme with a fresh proof of `key`.
async fn get_bound(w: &World, path: &str, token: &str, key: &DpopKey) -> Answer {
    let proof = key.proof(w, "GET", &w.server.url(path), Some(token), None);
    get_with(w, path, &format!("DPoP {token}"), &[&proof]).await
}

/// A 401 with a `DPoP` challenge naming `error` and the algorithms.
fn assert_dpop_refusal(answer: &Answer, error: &str) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    let challenges = answer.challenges();
    let dpop = challenges
        .iter()
        .find(|c| c.starts_with("DPoP "))
        .unwrap_or_else(|| panic!("no DPoP challenge: {challenges:?}"));
    assert!(dpop.contains(&format!("error=\"{error}\"")), "{dpop}");
    assert!(dpop.contains("algs=\"ES256 PS256 RS256 EdDSA\""), "{dpop}");
    assert_eq!(answer.json()["error"], error, "{}", answer.body);
}

/// A public client of alice's for `openid profile` by code and refresh.
async fn public_client(w: &World) -> Oauth2Client {
    let mut metadata = ClientMetadata::named("DPoP phone app");
    metadata.redirect_uris = vec![REDIRECT.to_owned()];
    metadata.scope = "openid profile".to_owned();
    metadata.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    register_metadata(w.server.store.as_ref(), metadata, AuthMethod::None).await
}

fn openid_request(client: &Oauth2Client) -> Form {
    code_request(client).with("scope", "openid profile")
}

/// A public client's code flow with `key`'s proof: the bound tokens.
async fn bound_code_flow(w: &World, client: &Oauth2Client, key: &DpopKey) -> (String, String) {
    let code = code_for(w, &openid_request(client)).await;
    let answer = token_bound(w, client, &exchange_form(client, &code), key).await;
    let (access, refresh) = bound_tokens(&answer);
    (access, refresh.expect("a refresh token"))
}

fn client_credentials() -> Form {
    Form::new()
        .with("grant_type", "client_credentials")
        .with("scope", "profile")
}

on_both_stores!(
    a_bound_token_works_with_its_keys_proofs_and_not_as_bearer,
    bad_proofs_are_refused_at_the_resource,
    bad_proofs_are_refused_at_the_token_endpoint,
    a_public_clients_refresh_token_is_bound_to_its_key,
    a_code_bound_by_dpop_jkt_is_traded_only_with_its_key,
    a_client_registered_for_dpop_bound_tokens_must_send_a_proof,
    a_proof_at_the_par_endpoint_binds_the_code,
);
on_both_stores!(
    server_nonces_are_asked_for_and_accepted,
    oauth2 = with_nonces
);

async fn a_bound_token_works_with_its_keys_proofs_and_not_as_bearer(w: &World) {
    // A request with no token is told of both schemes (RFC 9449 7.1).
    let bare = get_page(&w.server, "/api/me", None).await;
    assert_eq!(bare.status, 401, "{}", bare.body);
    let challenges = bare.challenges();
    assert!(
        challenges
            .iter()
            .any(|c| c.starts_with("DPoP ") && c.contains("algs=\"ES256 PS256 RS256 EdDSA\"")),
        "{challenges:?}"
    );
    let metadata = support::get_page(&w.server, "/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "PS256", "RS256", "EdDSA"])
    );
    let client = public_client(w).await;
    for key in [DpopKey::es256(), DpopKey::ps256(), DpopKey::rs256()] {
        let (bound, _) = bound_code_flow(w, &client, &key).await;
        let me = get_bound(w, "/api/me", &bound, &key).await;
        assert_eq!(me.status, 200, "{}: {}", key.alg(), me.body);
        assert_eq!(me.json()["user"], "alice");
        let userinfo = get_bound(w, "/oauth2/userinfo", &bound, &key).await;
        assert_eq!(userinfo.status, 200, "{}: {}", key.alg(), userinfo.body);
        assert!(userinfo.json()["sub"].is_string());

        // The attacker who stole the token has no key: as Bearer, or in
        // the DPoP scheme with a proof of their own key, it is refused.
        for path in ["/api/me", "/oauth2/userinfo"] {
            let bearer = get_with(w, path, &format!("Bearer {bound}"), &[]).await;
            assert_dpop_refusal(&bearer, "invalid_token");
            let theirs = get_bound(w, path, &bound, &DpopKey::es256()).await;
            assert_dpop_refusal(&theirs, "invalid_token");
        }
    }

    // Introspection names the key (RFC 9449 6.2); a confidential client.
    let key = DpopKey::es256();
    let (bound, _) = bound_tokens(&token_bound(w, &w.basic, &client_credentials(), &key).await);
    let introspected = introspect(w, &w.basic, &bound).await.json();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["token_type"], "DPoP", "{introspected}");
    assert_eq!(introspected["cnf"]["jkt"], key.jkt(), "{introspected}");

    // An unbound token keeps working as Bearer, and is no DPoP token.
    let unbound = token(w, &w.basic, &client_credentials()).await.tokens();
    assert_eq!(me(w, &unbound.access_token).await.status, 200);
    let introspected = introspect(w, &w.basic, &unbound.access_token).await.json();
    assert_eq!(introspected["token_type"], "Bearer");
    assert!(introspected.get("cnf").is_none(), "{introspected}");
    let as_dpop = get_bound(w, "/api/me", &unbound.access_token, &key).await;
    assert_dpop_refusal(&as_dpop, "invalid_token");
}

async fn bad_proofs_are_refused_at_the_resource(w: &World) {
    let key = DpopKey::es256();
    let (token, _) = bound_tokens(&token_bound(w, &w.basic, &client_credentials(), &key).await);
    let url = w.server.url("/api/me");
    let auth = format!("DPoP {token}");
    let now = w.clock.now();
    let refused = [
        // For another URI, another method.
        key.proof(
            w,
            "GET",
            &w.server.url("/oauth2/userinfo"),
            Some(&token),
            None,
        ),
        key.proof(w, "POST", &url, Some(&token), None),
        // Made 61 s ago, or 61 s ahead.
        key.proof_with(&claims(now - 61, "GET", &url, Some(&token), None)),
        key.proof_with(&claims(now + 61, "GET", &url, Some(&token), None)),
        // For another token, or without `ath`.
        key.proof(w, "GET", &url, Some("another token"), None),
        key.proof(w, "GET", &url, None, None),
        // Not a DPoP proof's header; a private key in it; no signature.
        key.sign(
            &json!({"typ": "JWT", "alg": "ES256", "jwk": key.jwk}),
            &claims(now, "GET", &url, Some(&token), None),
        ),
        {
            let proof = key.proof(w, "GET", &url, Some(&token), None);
            let (signed, _) = proof.rsplit_once('.').unwrap();
            format!("{signed}.{}", b64(b"forged"))
        },
    ];
    for proof in &refused {
        let answer = get_with(w, "/api/me", &auth, &[proof]).await;
        assert_dpop_refusal(&answer, "invalid_dpop_proof");
    }
    // No proof at all; two proofs.
    assert_dpop_refusal(
        &get_with(w, "/api/me", &auth, &[]).await,
        "invalid_dpop_proof",
    );
    let one = key.proof(w, "GET", &url, Some(&token), None);
    let two = key.proof(w, "GET", &url, Some(&token), None);
    let both = get_with(w, "/api/me", &auth, &[&one, &two]).await;
    assert_dpop_refusal(&both, "invalid_dpop_proof");

    // A good proof works once: its replay is refused.
    assert_eq!(get_with(w, "/api/me", &auth, &[&one]).await.status, 200);
    let replayed = get_with(w, "/api/me", &auth, &[&one]).await;
    assert_dpop_refusal(&replayed, "invalid_dpop_proof");
    // A proof made now is stale a minute later.
    let late = key.proof(w, "GET", &url, Some(&token), None);
    w.clock.advance(61);
    assert_dpop_refusal(
        &get_with(w, "/api/me", &auth, &[&late]).await,
        "invalid_dpop_proof",
    );
    assert_eq!(get_bound(w, "/api/me", &token, &key).await.status, 200);
}

async fn bad_proofs_are_refused_at_the_token_endpoint(w: &World) {
    let key = DpopKey::es256();
    let url = w.server.url("/oauth2/token");
    let now = w.clock.now();
    let private = {
        let mut jwk = key.jwk.clone();
        jwk["d"] = "c2VjcmV0".into();
        key.sign(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}),
            &claims(now, "POST", &url, None, None),
        )
    };
    let refused = [
        key.proof(w, "POST", &w.server.url("/oauth2/revoke"), None, None),
        key.proof(w, "GET", &url, None, None),
        key.proof_with(&claims(now - 61, "POST", &url, None, None)),
        private,
        key.sign(
            &json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk}),
            &claims(now, "POST", &url, None, None),
        ),
    ];
    for proof in &refused {
        let answer = token_with(w, &w.basic, &client_credentials(), &[proof]).await;
        answer.assert_oauth2_error(400, "invalid_dpop_proof");
    }
    // Exactly one DPoP header.
    let one = key.proof(w, "POST", &url, None, None);
    let two = key.proof(w, "POST", &url, None, None);
    token_with(w, &w.basic, &client_credentials(), &[&one, &two])
        .await
        .assert_oauth2_error(400, "invalid_dpop_proof");
    // A proof is used once here too.
    let proof = key.proof(w, "POST", &url, None, None);
    bound_tokens(&token_with(w, &w.basic, &client_credentials(), &[&proof]).await);
    token_with(w, &w.basic, &client_credentials(), &[&proof])
        .await
        .assert_oauth2_error(400, "invalid_dpop_proof");
}

async fn a_public_clients_refresh_token_is_bound_to_its_key(w: &World) {
    let client = public_client(w).await;
    let key = DpopKey::es256();
    let (_, refresh_token) = bound_code_flow(w, &client, &key).await;
    let form = Form::new()
        .with("grant_type", "refresh_token")
        .with("refresh_token", &refresh_token);
    // The thief's key, or no proof: refused, and the token still works.
    token_bound(w, &client, &form, &DpopKey::es256())
        .await
        .assert_oauth2_error(400, "invalid_grant");
    token_with(w, &client, &form, &[])
        .await
        .assert_oauth2_error(400, "invalid_dpop_proof");
    let (access, again) = bound_tokens(&token_bound(w, &client, &form, &key).await);
    assert_eq!(get_bound(w, "/api/me", &access, &key).await.status, 200);
    // The new refresh token is bound to the same key.
    let next = Form::new()
        .with("grant_type", "refresh_token")
        .with("refresh_token", again.as_deref().unwrap());
    token_bound(w, &client, &next, &DpopKey::ps256())
        .await
        .assert_oauth2_error(400, "invalid_grant");
    bound_tokens(&token_bound(w, &client, &next, &key).await);

    // A confidential client's refresh token is bound by its
    // authentication: it refreshes without a proof, to a Bearer token.
    let code = code_for(w, &code_request(&w.basic)).await;
    let answer = token_bound(w, &w.basic, &exchange_form(&w.basic, &code), &key).await;
    let (_, refresh_token) = bound_tokens(&answer);
    let refreshed = refresh(w, &w.basic, refresh_token.as_deref().unwrap(), None).await;
    assert_eq!(refreshed.tokens().json["token_type"], "Bearer");
}

async fn a_code_bound_by_dpop_jkt_is_traded_only_with_its_key(w: &World) {
    let client = public_client(w).await;
    let key = DpopKey::es256();
    let request = openid_request(&client).with("dpop_jkt", &key.jkt());
    let code = code_for(w, &request).await;
    let form = exchange_form(&client, &code);
    token_bound(w, &client, &form, &DpopKey::es256())
        .await
        .assert_oauth2_error(400, "invalid_grant");
    token_with(w, &client, &form, &[])
        .await
        .assert_oauth2_error(400, "invalid_dpop_proof");
    let (access, _) = bound_tokens(&token_bound(w, &client, &form, &key).await);
    assert_eq!(get_bound(w, "/api/me", &access, &key).await.status, 200);

    // A dpop_jkt that is no thumbprint is refused at once.
    let malformed = openid_request(&client).with("dpop_jkt", "not a thumbprint");
    let page = get_page(
        &w.server,
        &format!("/oauth2/authorize?{}", malformed.encoded()),
        Some(&w.cookie),
    )
    .await;
    assert_eq!(Location::of(&page).query("error"), Some("invalid_request"));
}

/// `POST /oauth2/par` for a public client with these `DPoP` headers.
async fn push_with(w: &World, client: &Oauth2Client, form: &Form, proofs: &[&str]) -> Answer {
    let mut request = http()
        .post(w.server.url("/oauth2/par"))
        .header("Content-Type", "application/x-www-form-urlencoded");
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    let form = form.clone().with("client_id", &client.id);
    Answer::from(request.body(form.encoded()).send().await.unwrap()).await
}

/// RFC 9449 10.1: a proof sent with a pushed request binds the code to
/// its key, as `dpop_jkt` would (openid-client sends one); a `dpop_jkt`
/// naming another key than the proof's is refused.
async fn a_proof_at_the_par_endpoint_binds_the_code(w: &World) {
    let client = public_client(w).await;
    let key = DpopKey::es256();
    let par = w.server.url("/oauth2/par");
    let proof = key.proof(w, "POST", &par, None, None);
    let answer = push_with(w, &client, &openid_request(&client), &[&proof]).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let request_uri = answer.json()["request_uri"].as_str().unwrap().to_owned();
    let by_reference = Form::new()
        .with("client_id", &client.id)
        .with("request_uri", &request_uri);
    let location = Location::of(&authorize(w, &by_reference, "yes").await);
    let code = location.query("code").expect("a code").to_owned();
    let form = exchange_form(&client, &code);
    // The thief's key does not trade the code; the pusher's does.
    token_bound(w, &client, &form, &DpopKey::es256())
        .await
        .assert_oauth2_error(400, "invalid_grant");
    let (access, _) = bound_tokens(&token_bound(w, &client, &form, &key).await);
    assert_eq!(get_bound(w, "/api/me", &access, &key).await.status, 200);

    // A proof for another endpoint is no proof for this one.
    let elsewhere = key.proof(w, "POST", &w.server.url("/oauth2/token"), None, None);
    push_with(w, &client, &openid_request(&client), &[&elsewhere])
        .await
        .assert_oauth2_error(400, "invalid_dpop_proof");
    // dpop_jkt and the proof must name one key.
    let other = DpopKey::es256();
    let proof = key.proof(w, "POST", &par, None, None);
    let request = openid_request(&client).with("dpop_jkt", &other.jkt());
    push_with(w, &client, &request, &[&proof])
        .await
        .assert_oauth2_error(400, "invalid_dpop_proof");
}

async fn a_client_registered_for_dpop_bound_tokens_must_send_a_proof(w: &World) {
    let mut metadata = ClientMetadata::named("DPoP service");
    metadata.scope = "profile".to_owned();
    metadata.grant_types = vec!["client_credentials".into()];
    metadata.response_types = Vec::new();
    metadata.dpop_bound_access_tokens = true;
    let client = register_metadata(w.server.store.as_ref(), metadata, AuthMethod::Basic).await;
    token_with(w, &client, &client_credentials(), &[])
        .await
        .assert_oauth2_error(400, "invalid_dpop_proof");
    let key = DpopKey::rs256();
    let (access, _) = bound_tokens(&token_bound(w, &client, &client_credentials(), &key).await);
    assert_eq!(get_bound(w, "/api/me", &access, &key).await.status, 200);
}

fn with_nonces() -> Oauth2Server {
    Oauth2Server::new(Oauth2Config {
        dpop_nonces: true,
        ..Oauth2Config::default()
    })
}

async fn server_nonces_are_asked_for_and_accepted(w: &World) {
    let key = DpopKey::es256();
    let url = w.server.url("/oauth2/token");
    // Without a nonce: use_dpop_nonce, and one to use.
    let first = key.proof(w, "POST", &url, None, None);
    let answer = token_with(w, &w.basic, &client_credentials(), &[&first]).await;
    answer.assert_oauth2_error(400, "use_dpop_nonce");
    let nonce = answer
        .header("dpop-nonce")
        .expect("a DPoP-Nonce")
        .to_owned();
    // A made-up nonce is no better.
    let made_up = key.proof(w, "POST", &url, None, Some("bm90IGEgbm9uY2U"));
    token_with(w, &w.basic, &client_credentials(), &[&made_up])
        .await
        .assert_oauth2_error(400, "use_dpop_nonce");
    let proof = key.proof(w, "POST", &url, None, Some(&nonce));
    let (token, _) = bound_tokens(&token_with(w, &w.basic, &client_credentials(), &[&proof]).await);

    // The resource asks too; the same nonce works there.
    let answer = get_bound(w, "/api/me", &token, &key).await;
    assert_dpop_refusal(&answer, "use_dpop_nonce");
    assert!(answer.header("dpop-nonce").is_some());
    let me_url = w.server.url("/api/me");
    let proof = key.proof(w, "GET", &me_url, Some(&token), Some(&nonce));
    let answer = get_with(w, "/api/me", &format!("DPoP {token}"), &[&proof]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // Nonces age out: ten minutes on, the old one is refused.
    w.clock.advance(600);
    let proof = key.proof(w, "GET", &me_url, Some(&token), Some(&nonce));
    let answer = get_with(w, "/api/me", &format!("DPoP {token}"), &[&proof]).await;
    assert_dpop_refusal(&answer, "use_dpop_nonce");
}

/// Two `credlog serve --postgres` processes on one database, behind one
/// `--public-url`: a proof used at one is refused at the other.
mod two_nodes {
    use super::*;
    use credlog_storage_postgres::testing::TestDatabase;
    use support::process::{credlog, Running};
    use support::TestServer;

    const PUBLIC: &str = "http://auth.test";

    fn node(database: &TestDatabase, demo: bool) -> (Running, TestServer) {
        let mut command = credlog();
        command.args(["serve", "--addr", "127.0.0.1:0", "--public-url", PUBLIC]);
        command.args(["--postgres", &database.url()]);
        if demo {
            command.arg("--demo");
        }
        let mut running = Running::spawn(&mut command);
        let key = format!("credlog-demo-rsa-private-{}.pem", running.id());
        running.remove_on_drop([std::env::temp_dir().join(key)]);
        let base = running.base();
        (running, TestServer::remote(&base))
    }

    fn now() -> u64 {
        support::now()
    }

    async fn send(node: &TestServer, path: &str, token: &str, proof: &str) -> Answer {
        let request = http()
            .get(node.url(path))
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", proof);
        Answer::from(request.send().await.unwrap()).await
    }

    #[tokio::test]
    async fn a_proof_used_on_one_node_is_refused_on_the_other() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let (a_process, a) = node(&database, true);
        let (id, secret) = a_process.demo_confidential();
        let (_b_process, b) = node(&database, false);
        let key = DpopKey::es256();
        let proof = key.proof_with(&claims(
            now(),
            "POST",
            &format!("{PUBLIC}/oauth2/token"),
            None,
            None,
        ));
        let answer = Answer::from(
            http()
                .post(a.url("/oauth2/token"))
                .basic_auth(&id, Some(&secret))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("DPoP", &proof)
                .body("grant_type=client_credentials&scope=profile")
                .send()
                .await
                .unwrap(),
        )
        .await;
        let (token, _) = bound_tokens(&answer);
        let me = format!("{PUBLIC}/api/me");
        let proof = key.proof_with(&claims(now(), "GET", &me, Some(&token), None));
        assert_eq!(send(&a, "/api/me", &token, &proof).await.status, 200);
        assert_dpop_refusal(
            &send(&b, "/api/me", &token, &proof).await,
            "invalid_dpop_proof",
        );
        // Each node takes a fresh proof.
        let fresh = key.proof_with(&claims(now(), "GET", &me, Some(&token), None));
        assert_eq!(send(&b, "/api/me", &token, &fresh).await.status, 200);
        // Two nodes racing with one proof: exactly one wins.
        let raced = key.proof_with(&claims(now(), "GET", &me, Some(&token), None));
        let (first, second) = tokio::join!(
            send(&a, "/api/me", &token, &raced),
            send(&b, "/api/me", &token, &raced)
        );
        let mut statuses = [first.status, second.status];
        statuses.sort();
        assert_eq!(statuses, [200, 401]);
    }
}

/// EdDSA (RFC 8037) proofs: an OKP key's proof binds a token like any
/// other. The key is RFC 8037 A.1's; the proofs are signed by
/// `jsonwebtoken`.
#[tokio::test]
async fn an_eddsa_proof_binds_a_token() {
    const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    // RFC 7638 over {"crv","kty","x"}.
    let jkt = b64(&Sha256::digest(
        format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{X}"}}"#).as_bytes(),
    ));
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
    );
    // RFC 8410 PKCS#8 of the seed.
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(D)
            .unwrap(),
    );
    let key = jsonwebtoken::EncodingKey::from_ed_der(&pkcs8);
    let sign = |claims: &Value| {
        let header = json!({"typ": "dpop+jwt", "alg": "EdDSA",
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": X}});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::EdDSA)
                .unwrap();
        format!("{input}.{signature}")
    };
    let w = World::start(support::Backend::Memory, None).await;
    let proof = sign(&claims(
        w.clock.now(),
        "POST",
        &w.server.url("/oauth2/token"),
        None,
        None,
    ));
    let answer = token_with(&w, &w.basic, &client_credentials(), &[&proof]).await;
    let (token, _) = bound_tokens(&answer);
    let introspected = introspect(&w, &w.basic, &token).await.json();
    assert_eq!(introspected["cnf"]["jkt"], jkt, "{introspected}");
    let url = w.server.url("/api/me");
    let proof = sign(&claims(w.clock.now(), "GET", &url, Some(&token), None));
    let me = get_with(&w, "/api/me", &format!("DPoP {token}"), &[&proof]).await;
    assert_eq!(me.status, 200, "{}", me.body);
    w.stop().await;
}
