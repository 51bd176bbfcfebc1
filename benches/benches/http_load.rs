//! The HTTP load harness: how many requests a second the real credlog
//! server answers on its OAuth routes, next to a bare warp route that does
//! no work, with the same connections, in the same process run; and the
//! same for credlog embedded in an axum app through `credlog-axum`, next to
//! a bare axum route. The routes, in the order they run:
//!
//! - `bare`: `GET /bare` on a bare warp server, the yardstick;
//! - `bare-axum`: `GET /bare` on a bare axum server (`axum::serve`), the
//!   axum app's yardstick, with the same headers;
//! - `oauth1`: signed OAuth 1 `GET /api/me` (HMAC-SHA1; on sled every
//!   request appends a `Verified` event, its nonce, and waits for its
//!   group commit);
//! - `bearer`: `GET /api/me` with `Authorization: Bearer`, scope `profile`
//!   (a read: no append). One access token per connection is seeded in the
//!   store (stored hashed, as the token endpoint stores them);
//! - `axum-bearer`: the same requests to the axum app's `/api/me`: the
//!   [`Authorized`] extractor, scope `profile` by [`RequireScope`],
//!   answering `{"user","client_id","scope"}` as credlog-axum's example
//!   app does, over the same store and tokens;
//! - `dpop`: `GET /api/me` with a DPoP-bound token (RFC 9449 7.1):
//!   `Authorization: DPoP` and a `DPoP` proof (ES256) of the key it is
//!   bound to, each with its own `jti`, made before the route runs (on
//!   every core, `LOAD_DPOP_RATE` a second for the route's time, default
//!   20000) with an `iat` that holds for the whole run (warm-up and
//!   measured time together at most 110 s). Every request checks the
//!   proof's signature and appends its `jti` use (on sled, a durable
//!   append), beside the `bearer` route's read;
//! - `token`: `POST /oauth2/token` with `grant_type=client_credentials`
//!   and `client_secret_basic`: each request issues a new access token (on
//!   sled, a durable append). A 200 must carry `access_token`.
//!
//! Four servers run on one tokio runtime (2 worker threads, `server`):
//! credlog's [`credlog_http::serve`] over a sled store (durable) or a
//! memory store; `warp::path!("bare")`, served by warp the same way; the
//! axum app, a router from [`Credlog::router`] (the provider built from the
//! warp server's settings, a host with no users) plus `/api/me`, over the
//! warp server's store; and a bare axum `/bare`. Both axum servers run
//! `axum::serve` with `TCP_NODELAY`, as credlog's server sets it. The load
//! generator runs on a second runtime (`load`): each of N tasks holds one
//! keep-alive HTTP/1.1 connection (hyper) and sends requests one after the
//! other; a route is its method, path, headers and body. The bare routes
//! get the same `Host` and `Authorization` headers as a signed request,
//! so both read the same bytes; only the work behind them differs.
//!
//! Every signed request needs its own nonce, so all of them are signed
//! before any load starts (enough for `LOAD_MAX_RATE` requests a second
//! for the whole run; only when `oauth1` runs); signing is never in the
//! measured time. After a warm-up, requests that complete inside the
//! measured window are counted and their latencies kept. Any answer other
//! than 200 (or a 200 without the text the route expects: the user for
//! `/api/me`, `access_token` for the token endpoint) is an error, and a
//! run with errors fails.
//!
//! With `LOAD_ROUNDS` above 1, every route runs again in each round, in the
//! same order, and the summary gives each route's median rate over the
//! rounds and the median of its per-round ratios to the bare route (and,
//! for `axum-bearer`, to `bare-axum` and to `bearer`).
//!
//! Each route prints its rate, p50, p99 and worst latency, and (on Linux,
//! from `/proc`) the cores each thread group used in the window (`server`,
//! `load`, sled's `credlog-writer` and `sled-io`), the cores other
//! processes took from the machine, and the CPU time per request (the
//! process's, and the server side's: all but the `load` runtime and the
//! main thread). A summary then gives each rate, its ratio to bare warp
//! and the targets: signed OAuth 1 >= 0.5 of bare, bearer >= 0.70 of
//! bare, client credentials issuance >= 0.25 of bare (durable); the axum
//! bearer route also its ratio to bare axum and to the warp bearer route.
//! On sled it ends with the data directory's size on disk and per log
//! record. When other processes are busy the rates mean little; the CPU
//! per request still does, and `LOAD_PIN=1` keeps the two sides apart.
//!
//! ```text
//! cargo bench -p credlog-benches --bench http_load
//! LOAD_STORE=memory LOAD_SECONDS=5 cargo bench -p credlog-benches --bench http_load
//! LOAD_ROUTES=bare,token cargo bench -p credlog-benches --bench http_load
//! LOAD_PIN=1 LOAD_STORE=memory LOAD_ROUTES=bare,bare-axum,bearer,axum-bearer LOAD_ROUNDS=3 \
//!     cargo bench -p credlog-benches --bench http_load
//! ```
//!
//! **Pinned.** With `LOAD_PIN=1` (Linux, at least two CPUs) the server
//! side runs on CPU 0 and the load on CPU 1: every thread of the `server`
//! runtime, and sled's threads (`credlog-writer`, `sled-io`, the nonce
//! pruner: they start from the main thread while it sits on CPU 0, or
//! from one another, and a thread inherits its creator's CPUs) on CPU 0;
//! every thread of the `load` runtime and the main thread (which drives
//! the load's measuring) on CPU 1. Signing, before any load, still uses
//! every CPU. The summary then lists the CPUs each thread group may use.
//!
//! Settings, from the environment: `LOAD_SECONDS` (measured seconds per
//! route, default 10), `LOAD_WARMUP` (seconds, default 2),
//! `LOAD_CONNECTIONS` (default 64), `LOAD_STORE` (`sled`, `memory` or
//! `postgres`, default `sled`; sled writes under `TMPDIR`), `LOAD_ROUTES` (which
//! routes run, comma-separated, from `bare,bare-axum,oauth1,bearer,axum-bearer,dpop,token`;
//! default `bare,oauth1,bearer,token`; they always run in that order, and
//! the ratios need `bare`, and `bare-axum` for the axum app's),
//! `LOAD_PIN` (1: pinned as above; default 0, unpinned),
//! `LOAD_ROUNDS` (default 1; the issue figures are medians of 3),
//! `LOAD_NODES` (with `LOAD_STORE=postgres`: that many credlog servers,
//! each its own store and pool, on one database made for the run on the
//! tests' PostgreSQL, `CREDLOG_TEST_POSTGRES`; the connections take them
//! in turn; default 1),
//! `LOAD_CLIENT_THREADS` (the load generator's worker threads, default 2)
//! `LOAD_MAX_RATE` (signed requests a second to sign for, default
//! 60000).
//!
//! **Disk under a retention.** With `LOAD_RETAIN` (seconds) the sled store
//! runs with that retention for `Verified` records (`LOAD_ARCHIVE=1` keeps
//! them in archive segments; by default they are dropped) and a nonce
//! window of `LOAD_WINDOW` seconds (default 30; at most half the
//! retention), the server validating with the same window. Signed
//! requests are then signed as they are sent, at the current time (a run
//! may be longer than the window), and every `LOAD_DISK_EVERY` seconds
//! (default 30) of the signed route the harness prints the data
//! directory's size on disk, the archive's, and the records appended: a
//! retention holds the size level once the load has run longer than it.
//! Issue 15's figure, ten minutes at a one-minute retention:
//!
//! ```text
//! LOAD_RETAIN=60 LOAD_ROUTES=oauth1 LOAD_SECONDS=600 cargo bench -p credlog-benches --bench http_load
//! ```
#![forbid(unsafe_code)]

/// The allocator the `credlog` binary ships with, so the server measured
/// here allocates as the real one does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::http::request::Parts;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Extension, Json};
use credlog_axum::{Authorized, Credlog, MakeHost, RequireScope};
use credlog_benches::setting;
use credlog_core::consent::{CodeForm, Consent, Page, Prompt};
use credlog_core::form::Fields;
use credlog_core::provider::{Host, Provider};
use credlog_core::rfc5849::{ClientCredentials, Oauth1Provider, Signer, TokenCredentials};
use credlog_core::rfc6749::client_auth::parse_basic;
use credlog_core::rfc6749::{
    ClientAuthMethod, GrantType, Oauth2Server, OwnerCheckError, ResourceOwners, Scope,
};
use credlog_core::store::{
    token_id, ClientRecord, Constrained, CredentialKind, CredentialStore, Event, Issued, Secret,
    TokenRecord, UserRecord,
};
use credlog_core::throttle::{MemoryThrottle, Throttle};
use credlog_http::{App, Settings};
use credlog_storage_memory::MemoryStore;
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::{Retention, SledStore, Usage};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::Method;
use hyper_util::rt::TokioIo;
use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use warp::Filter;

type Failure = Box<dyn Error + Send + Sync>;

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-client-secret";
const TOKEN: &str = "bench-token";
const TOKEN_SECRET: &str = "bench-token-secret";
const USER: &str = "bench-user";

/// How many error answers are printed in full.
const ERRORS_SHOWN: usize = 5;

/// How long the seeded access tokens live, in seconds: longer than any run.
const BEARER_LIFETIME: u64 = 7 * 24 * 60 * 60;

/// Every route the harness loads, in the order they run: the bare routes
/// first (the others' ratios are to them), the token endpoint last (it
/// grows the store).
const ROUTES: [&str; 7] = [
    "bare",
    "bare-axum",
    "oauth1",
    "bearer",
    "axum-bearer",
    "dpop",
    "token",
];

/// The DPoP-bound access token of the `dpop` route (one for every
/// connection: each proof carries its hash, `ath`).
const DPOP_TOKEN: &str = "bench-dpop-token";

/// The routes that run unless `LOAD_ROUTES` says otherwise: warp's.
const DEFAULT_ROUTES: &str = "bare,oauth1,bearer,token";

/// With `LOAD_PIN=1`: the CPU of the server side, and of the load.
const SERVER_CPU: usize = 0;
const LOAD_CPU: usize = 1;

/// The run's settings, read from the environment.
struct Config {
    seconds: u64,
    warmup: u64,
    connections: usize,
    store: String,
    routes: Vec<&'static str>,
    client_threads: usize,
    max_rate: u64,
    /// `LOAD_DPOP_RATE`: DPoP proofs a second to make for the `dpop` route.
    dpop_rate: u64,
    rounds: usize,
    /// `LOAD_RETAIN`, `LOAD_ARCHIVE`: the sled store's retention.
    retention: Option<Retention>,
    window: u64,
    disk_every: u64,
    /// `LOAD_NODES`: credlog servers on one PostgreSQL database, the
    /// connections spread over them.
    nodes: usize,
    /// `LOAD_PIN=1`: the server on [`SERVER_CPU`], the load on [`LOAD_CPU`].
    pin: bool,
}

impl Config {
    fn from_env() -> Result<Self, Failure> {
        let config = Config {
            seconds: setting("LOAD_SECONDS", 10)?,
            warmup: setting("LOAD_WARMUP", 2)?,
            connections: setting("LOAD_CONNECTIONS", 64)?,
            store: setting("LOAD_STORE", "sled".to_owned())?,
            routes: routes(&setting("LOAD_ROUTES", DEFAULT_ROUTES.to_owned())?)?,
            client_threads: setting("LOAD_CLIENT_THREADS", 2)?,
            max_rate: setting("LOAD_MAX_RATE", 60_000)?,
            dpop_rate: setting("LOAD_DPOP_RATE", 20_000)?,
            rounds: setting("LOAD_ROUNDS", 1)?,
            retention: match setting("LOAD_RETAIN", 0)? {
                0 => None,
                seconds => Some(Retention {
                    seconds,
                    archive: setting("LOAD_ARCHIVE", 0)? == 1,
                }),
            },
            window: setting("LOAD_WINDOW", 30)?,
            disk_every: setting("LOAD_DISK_EVERY", 30)?,
            nodes: setting("LOAD_NODES", 1)?,
            pin: match setting("LOAD_PIN", 0)? {
                0 => false,
                1 => true,
                _ => return Err("LOAD_PIN is 0 or 1".into()),
            },
        };
        if config.routes.contains(&"dpop") && config.warmup + config.seconds > 110 {
            return Err(
                "the dpop route's proofs hold for 120 s: LOAD_WARMUP + LOAD_SECONDS <= 110".into(),
            );
        }
        if config.nodes == 0 || (config.nodes > 1 && config.store != "postgres") {
            return Err("LOAD_NODES is 1, or more with LOAD_STORE=postgres".into());
        }
        if let Some(retention) = config.retention {
            if config.store != "sled" || retention.seconds < 2 * config.window || config.window == 0
            {
                return Err(
                    "LOAD_RETAIN needs LOAD_STORE=sled and at least twice LOAD_WINDOW (> 0)".into(),
                );
            }
        }
        if !["sled", "memory", "postgres"].contains(&config.store.as_str()) {
            return Err(format!(
                "LOAD_STORE={} is none of sled, memory and postgres",
                config.store
            )
            .into());
        }
        if config.connections == 0
            || config.client_threads == 0
            || config.seconds == 0
            || config.rounds == 0
        {
            return Err(
                "LOAD_CONNECTIONS, LOAD_CLIENT_THREADS, LOAD_SECONDS and LOAD_ROUNDS must be > 0"
                    .into(),
            );
        }
        Ok(config)
    }

    fn runs(&self, route: &str) -> bool {
        self.routes.contains(&route)
    }
}

/// The routes `LOAD_ROUTES` lists, in the order they run.
fn routes(listed: &str) -> Result<Vec<&'static str>, Failure> {
    let listed: Vec<&str> = listed
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    if let Some(unknown) = listed.iter().find(|name| !ROUTES.contains(name)) {
        return Err(format!(
            "LOAD_ROUTES: no route {unknown:?}; the routes are {}",
            ROUTES.join(",")
        )
        .into());
    }
    let routes: Vec<_> = ROUTES
        .into_iter()
        .filter(|route| listed.contains(route))
        .collect();
    if routes.is_empty() {
        return Err(format!(
            "LOAD_ROUTES names no route; the routes are {}",
            ROUTES.join(",")
        )
        .into());
    }
    Ok(routes)
}

/// The `Authorization` headers the load sends: each signed one once, or
/// each connection one header of its own again and again (connection `i`
/// sends the `i % len`th).
enum Headers {
    Signed {
        headers: Vec<HeaderValue>,
        next: AtomicUsize,
    },
    PerConnection(Vec<HeaderValue>),
    /// Signed when sent, at the current time, each with a nonce of its
    /// own: for a run longer than the timestamp window.
    Live {
        signer: Box<Signer>,
        uri: String,
        next: AtomicUsize,
    },
}

impl Headers {
    /// The next header for `connection`, or `None` when every signed one
    /// was sent.
    fn next(&self, connection: usize) -> Option<HeaderValue> {
        match self {
            Headers::Signed { headers, next } => {
                headers.get(next.fetch_add(1, Ordering::Relaxed)).cloned()
            }
            Headers::PerConnection(headers) => headers.get(connection % headers.len()).cloned(),
            Headers::Live { signer, uri, next } => {
                let nonce = format!("live{:x}", next.fetch_add(1, Ordering::Relaxed));
                signed_header(signer, uri, unix_now(), &nonce).ok()
            }
        }
    }
}

/// One route's requests: the method, path, other headers and body are the
/// same for all of them; the `Authorization` header comes from `authorization`.
struct Requests {
    method: Method,
    path: &'static str,
    authorization: Headers,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// A `DPoP` proof for each request, when the route sends them.
    proofs: Option<Headers>,
    body: Bytes,
    /// Text a 200 answer must contain.
    expect: Option<&'static str>,
}

impl Requests {
    /// `GET path` with these `Authorization` headers.
    fn get(path: &'static str, authorization: Headers, expect: Option<&'static str>) -> Self {
        Requests {
            method: Method::GET,
            path,
            authorization,
            headers: Vec::new(),
            proofs: None,
            body: Bytes::new(),
            expect,
        }
    }

    /// What the error messages call it: `GET /api/me`.
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// `Basic base64(id:secret)` (RFC 6749 2.3.1; neither needs form-encoding
/// here), checked against the engine's own parser.
fn basic_authorization(id: &str, secret: &str) -> Result<HeaderValue, Failure> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut value = String::from("Basic ");
    for chunk in format!("{id}:{secret}").as_bytes().chunks(3) {
        let bits = chunk.iter().enumerate().fold(0u32, |bits, (i, &byte)| {
            bits | u32::from(byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            value.push(if i <= chunk.len() {
                char::from(ALPHABET[(bits >> (18 - 6 * i)) as usize & 63])
            } else {
                '='
            });
        }
    }
    match parse_basic(&value) {
        Some(Ok((parsed_id, parsed_secret))) if parsed_id == id && parsed_secret == secret => {
            Ok(HeaderValue::from_str(&value)?)
        }
        _ => Err(format!("{value:?} does not decode to the client's credentials").into()),
    }
}

/// The seconds since the epoch.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The signer of the seeded client and token credential.
fn bench_signer() -> Signer {
    Signer::new(ClientCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .with_token(TokenCredentials::new(TOKEN, TOKEN_SECRET))
}

/// The `Authorization` header of `GET uri` signed at `timestamp` with `nonce`.
fn signed_header(
    signer: &Signer,
    uri: &str,
    timestamp: u64,
    nonce: &str,
) -> Result<HeaderValue, Failure> {
    let signed = signer.sign_at(
        credlog_core::Request::new("GET", uri),
        &[],
        timestamp,
        nonce,
    )?;
    let (_, value) = signed
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .ok_or("the signer gave no Authorization header")?;
    Ok(HeaderValue::from_str(value)?)
}

/// Signs `count` requests for `GET http://{addr}/api/me`, each with its own
/// nonce, on every core.
fn sign_all(addr: SocketAddr, count: usize) -> Result<Vec<HeaderValue>, Failure> {
    let timestamp = unix_now();
    let signer = bench_signer();
    let uri = format!("http://{addr}/api/me");
    let sign = |nonce: usize| signed_header(&signer, &uri, timestamp, &format!("n{nonce:x}"));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = count.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..count)
            .step_by(chunk)
            .map(|start| {
                scope.spawn(move || {
                    (start..count.min(start + chunk))
                        .map(sign)
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(count);
        for part in parts {
            all.extend(part.join().map_err(|_| "a signing thread panicked")??);
        }
        Ok(all)
    })
}

/// A client (OAuth 1 consumer and OAuth 2 client credentials client), its
/// user, a token credential and the access tokens `bearer` (stored as the
/// token endpoint stores them: by their hash, no secret), appended as events.
async fn seed(store: &dyn CredentialStore, bearer: &[String]) -> Result<(), Failure> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let client = ClientRecord {
        client_id: CLIENT_ID.into(),
        secret: Secret::Plain(CLIENT_SECRET.into()),
        owner: USER.into(),
        name: "load benchmark".into(),
        redirect_uris: vec!["http://127.0.0.1/callback".into()],
        scope: Scope::parse("profile")?,
        grant_types: vec![GrantType::ClientCredentials],
        response_types: Vec::new(),
        auth_method: ClientAuthMethod::ClientSecretBasic,
        rsa_public_key: None,
    };
    let user = UserRecord {
        name: USER.into(),
        password: Secret::None,
    };
    let token = TokenRecord {
        kind: CredentialKind::TokenCredential,
        id: TOKEN.into(),
        secret: Secret::Plain(TOKEN_SECRET.into()),
        client_id: CLIENT_ID.into(),
        user: Some(USER.into()),
        scope: "profile".into(),
        expires_at: None,
        parent: None,
        redirect_uri: None,
        code_challenge: None,
    };
    let events = [
        Issued::User(user),
        Issued::Client(client),
        Issued::Token(token),
    ];
    for event in events {
        store.append(&[], vec![Event::Issued(event)], now).await?;
    }
    let access_tokens = bearer
        .iter()
        .map(|value| {
            Event::Issued(Issued::Token(TokenRecord {
                kind: CredentialKind::AccessToken,
                id: token_id(value),
                secret: Secret::None,
                client_id: CLIENT_ID.into(),
                user: Some(USER.into()),
                scope: "profile".into(),
                expires_at: Some(now + BEARER_LIFETIME),
                parent: None,
                redirect_uri: None,
                code_challenge: None,
            }))
        })
        .collect::<Vec<_>>();
    if !access_tokens.is_empty() {
        store.append(&[], access_tokens, now).await?;
    }
    Ok(())
}

/// The `dpop` route's ES256 key (RFC 9449 4.2).
struct DpopKey {
    signing: p256::ecdsa::SigningKey,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

impl DpopKey {
    fn new() -> Self {
        let signing = p256::ecdsa::SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let point = signing.verifying_key().to_encoded_point(false);
        let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| b64(c)).unwrap_or_default();
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": coordinate(point.x()), "y": coordinate(point.y()),
        });
        DpopKey { signing, jwk }
    }

    /// `count` proofs for `GET uri` with [`DPOP_TOKEN`], each with its own
    /// `jti` (unique across `round`s), at `iat`, made on every core.
    fn proofs(
        &self,
        uri: &str,
        iat: u64,
        count: usize,
        round: usize,
    ) -> Result<Vec<HeaderValue>, Failure> {
        use p256::ecdsa::signature::Signer as _;
        use sha2::Digest;
        let header = b64(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk})
            .to_string()
            .as_bytes());
        let ath = b64(&sha2::Sha256::digest(DPOP_TOKEN.as_bytes()));
        let proof = |n: usize| {
            let claims = json!({
                "jti": format!("r{round}-{n:x}"), "htm": "GET", "htu": uri, "iat": iat, "ath": ath,
            });
            let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
            let signature: p256::ecdsa::Signature = self.signing.sign(input.as_bytes());
            HeaderValue::from_str(&format!("{input}.{}", b64(&signature.to_bytes())))
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = count.div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..count)
                .step_by(chunk)
                .map(|start| {
                    scope.spawn(move || {
                        (start..count.min(start + chunk))
                            .map(proof)
                            .collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(count);
            for part in parts {
                all.extend(
                    part.join()
                        .map_err(|_| "a proof-making thread panicked")??,
                );
            }
            Ok(all)
        })
    }
}

/// [`DPOP_TOKEN`], bound to `key` as the token endpoint binds a token to a
/// proof's key (a `Constrained` event after it).
async fn seed_dpop(store: &dyn CredentialStore, key: &DpopKey) -> Result<(), Failure> {
    let now = unix_now();
    let token = TokenRecord {
        kind: CredentialKind::AccessToken,
        id: token_id(DPOP_TOKEN),
        secret: Secret::None,
        client_id: CLIENT_ID.into(),
        user: Some(USER.into()),
        scope: "profile".into(),
        expires_at: Some(now + BEARER_LIFETIME),
        parent: None,
        redirect_uri: None,
        code_challenge: None,
    };
    let bound = Constrained {
        id: token_id(DPOP_TOKEN),
        jkt: Some(credlog_core::jose::thumbprint(&key.jwk)?),
        audience: Vec::new(),
    };
    let events = vec![
        Event::Issued(Issued::Token(token)),
        Event::Constrained(bound),
    ];
    store.append(&[], events, now).await?;
    Ok(())
}

/// The axum app's users: none. Only `/api/me` is loaded, and the
/// extractor behind it asks nothing of the host.
struct NoUsers(MemoryThrottle);

/// One request's host on the axum app: nobody is signed in, no password
/// is right, and there are no pages.
struct Nobody<'a>(&'a MemoryThrottle);

impl MakeHost for NoUsers {
    type Host<'a> = Nobody<'a>;

    fn host<'a>(&'a self, _parts: &Parts, _address: Option<IpAddr>) -> Nobody<'a> {
        Nobody(&self.0)
    }
}

/// What [`Nobody`] answers for a page: there are none.
fn no_page() -> credlog_core::Response {
    credlog_core::Response {
        status: 404,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: b"no pages here".to_vec(),
    }
}

#[async_trait]
impl Consent for Nobody<'_> {
    type Owner = ();
    async fn owner(&self, _: &credlog_core::Request) -> Option<()> {
        None
    }
    fn user<'o>(&self, _: &'o ()) -> &'o str {
        ""
    }
    fn sign_in(&self, _: &str) -> credlog_core::Response {
        no_page()
    }
    fn ask(&self, _: &(), _: &Prompt<'_>) -> credlog_core::Response {
        no_page()
    }
    fn answer(&self, _: &(), _: &Fields) -> Result<bool, credlog_core::Response> {
        Ok(false)
    }
    fn own_fields(&self) -> &[&str] {
        &[]
    }
    fn genuine(&self, _: &(), _: &Fields) -> Result<(), credlog_core::Response> {
        Err(no_page())
    }
    fn enter_code(&self, _: &(), _: &CodeForm<'_>) -> credlog_core::Response {
        no_page()
    }
    fn show(&self, _: &Page<'_>) -> credlog_core::Response {
        no_page()
    }
}

#[async_trait]
impl ResourceOwners for Nobody<'_> {
    async fn authenticate(&self, _: &str, _: &str) -> Result<bool, OwnerCheckError> {
        Ok(false)
    }
}

impl Host for Nobody<'_> {
    fn throttle(&self) -> &dyn Throttle {
        self.0
    }
    fn address(&self) -> Option<IpAddr> {
        None
    }
}

/// credlog embedded in an axum app through credlog-axum: the provider
/// (built as the warp server builds it from `settings`) over `store`, its
/// router with a host that has no users, and `/api/me` as credlog-axum's
/// example app serves it.
fn axum_app(store: Arc<dyn CredentialStore>, settings: &Settings) -> axum::Router {
    let oauth1 = Oauth1Provider::new(settings.oauth1.clone(), settings.temporary_lifetime)
        .with_token_lifetime(settings.token_lifetime);
    let provider = Provider::new(oauth1, Oauth2Server::new(settings.oauth2.clone()));
    let credlog = Credlog::new(provider, store);
    let api = get(me).layer(Extension(RequireScope::new("profile")));
    credlog
        .router(NoUsers(MemoryThrottle::new(settings.throttle)))
        .route("/api/me", api)
        .with_state(credlog)
}

/// Who the credential speaks for: the JSON credlog's own `/api/me` answers.
async fn me(Authorized(credential): Authorized) -> Json<Value> {
    let c = credential;
    Json(json!({ "user": c.user(), "client_id": c.client_id(), "scope": c.scope() }))
}

/// Where the load is: warming up, measured, or over.
const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPED: u8 = 2;

/// What every connection shares during one route's run.
struct Shared {
    /// Where the connections go, in turn.
    addrs: Vec<SocketAddr>,
    host: HeaderValue,
    requests: Requests,
    phase: AtomicU8,
    errors: AtomicU64,
    exhausted: AtomicU64,
    shown: Mutex<Vec<String>>,
}

impl Shared {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if shown.len() < ERRORS_SHOWN {
            shown.push(what);
        }
    }
}

/// Connection `index`: one keep-alive connection sending requests one after
/// another until the run stops; returns the latencies (µs) of the requests
/// measured.
async fn connection(shared: Arc<Shared>, index: usize) -> Vec<u32> {
    let mut latencies = Vec::new();
    let addr = shared.addrs[index % shared.addrs.len()];
    let stream = match tokio::net::TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(error) => {
            shared.error(format!("connect: {error}"));
            return latencies;
        }
    };
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    {
        Ok(pair) => pair,
        Err(error) => {
            shared.error(format!("handshake: {error}"));
            return latencies;
        }
    };
    tokio::spawn(conn);
    while shared.phase.load(Ordering::Relaxed) != STOPPED {
        let requests = &shared.requests;
        let Some(authorization) = requests.authorization.next(index) else {
            shared.exhausted.fetch_add(1, Ordering::Relaxed);
            break;
        };
        let mut request = hyper::Request::builder()
            .method(requests.method.clone())
            .uri(requests.path)
            .header(HOST, shared.host.clone())
            .header(AUTHORIZATION, authorization);
        for (name, value) in &requests.headers {
            request = request.header(name, value);
        }
        if let Some(proofs) = &requests.proofs {
            let Some(proof) = proofs.next(index) else {
                shared.exhausted.fetch_add(1, Ordering::Relaxed);
                break;
            };
            request = request.header("DPoP", proof);
        }
        // An empty body is no body: a GET goes out as it would with `Empty`.
        let request = request.body(Full::new(requests.body.clone()));
        let request = match request {
            Ok(request) => request,
            Err(error) => {
                shared.error(format!("request: {error}"));
                break;
            }
        };
        let started = Instant::now();
        let answer = match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status();
                response
                    .into_body()
                    .collect()
                    .await
                    .map(|body| (status, body.to_bytes()))
            }
            Err(error) => Err(error),
        };
        let elapsed = started.elapsed();
        match answer {
            Ok((status, body))
                if status == hyper::StatusCode::OK
                    && !requests.expect.is_none_or(|text| contains(&body, text)) =>
            {
                shared.error(format!(
                    "{status} without {:?}: {}",
                    requests.expect.unwrap_or_default(),
                    String::from_utf8_lossy(&body)
                ));
            }
            Ok((status, _)) if status == hyper::StatusCode::OK => {
                if shared.phase.load(Ordering::Relaxed) == MEASURING {
                    latencies.push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
                }
            }
            Ok((status, body)) => {
                shared.error(format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
            Err(error) => {
                shared.error(format!("connection: {error}"));
                break;
            }
        }
    }
    latencies
}

fn contains(body: &[u8], text: &str) -> bool {
    body.windows(text.len())
        .any(|window| window == text.as_bytes())
}

/// CPU time in clock ticks (1/100 s on Linux) by thread name, read from
/// `/proc`: empty where there is none.
fn thread_cpu() -> BTreeMap<String, u64> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = group(head.split_once('(').map_or("?", |(_, name)| name));
        // utime and stime: fields 14 and 15, the 12th and 13th after the name.
        let ticks: u64 = rest
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|field| field.parse::<u64>().ok())
            .sum();
        *by_name.entry(name.to_owned()).or_default() += ticks;
    }
    by_name
}

/// The group a thread's name puts it in: `sled-io-3` and `sled-io-4` are
/// one, `sled-io`.
fn group(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((prefix, n)) if n.bytes().all(|b| b.is_ascii_digit()) => prefix,
        _ => name,
    }
}

/// Clock ticks every core of the machine spent busy (not idle, not waiting for I/O).
fn machine_busy() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    let idle = fields.get(3)? + fields.get(4)?;
    Some(fields.iter().sum::<u64>() - idle)
}

/// The CPU time used so far, by this process's threads and by the machine.
struct CpuUse {
    threads: BTreeMap<String, u64>,
    machine: Option<u64>,
}

impl CpuUse {
    const TICKS_PER_SECOND: f64 = 100.0;

    fn now() -> Self {
        CpuUse {
            threads: thread_cpu(),
            machine: machine_busy(),
        }
    }

    /// One line: the cores each thread group and other processes used
    /// from `self` to `after`, and this process's CPU time per request,
    /// and the server side's (every thread but the `load` runtime's and
    /// the main thread).
    fn report(&self, after: &CpuUse, seconds: f64, requests: usize) -> String {
        let main = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
        let mut line = String::from("cores:");
        let (mut ours, mut server) = (0, 0);
        for (name, ticks) in &after.threads {
            let used = ticks.saturating_sub(self.threads.get(name).copied().unwrap_or(0));
            ours += used;
            if name != "load" && name != group(main.trim()) {
                server += used;
            }
            if used > 0 {
                let cores = used as f64 / Self::TICKS_PER_SECOND / seconds;
                line.push_str(&format!(" {name} {cores:.2},"));
            }
        }
        if let (Some(before), Some(after)) = (self.machine, after.machine) {
            let others = after.saturating_sub(before).saturating_sub(ours);
            let cores = others as f64 / Self::TICKS_PER_SECOND / seconds;
            line.push_str(&format!(" other processes {cores:.2},"));
        }
        let micros =
            |ticks: u64| ticks as f64 / Self::TICKS_PER_SECOND * 1e6 / requests.max(1) as f64;
        line.push_str(&format!(
            " {:.0} µs CPU/request (server and load), {:.1} µs of it the server's",
            micros(ours),
            micros(server)
        ));
        line
    }
}

/// What one route's run measured.
struct Outcome {
    rate: f64,
    latencies: Vec<u32>,
    errors: u64,
    cpu: String,
}

impl Outcome {
    fn percentile(&self, p: f64) -> f64 {
        let Some(last) = self.latencies.len().checked_sub(1) else {
            return f64::NAN;
        };
        let at = ((last as f64) * p).round() as usize;
        f64::from(self.latencies[at.min(last)]) / 1000.0
    }

    fn print(&self, name: &str) {
        println!(
            "{name:<21} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms   errors {}",
            self.rate,
            self.percentile(0.50),
            self.percentile(0.99),
            self.percentile(1.0),
            self.errors,
        );
        println!("{:21} {}", "", self.cpu);
    }
}

/// Sends `requests` to `addr` over `config.connections` connections:
/// warm-up, then the measured window.
async fn run(
    config: &Config,
    addrs: Vec<SocketAddr>,
    requests: Requests,
) -> Result<Outcome, Failure> {
    let name = requests.name();
    let shared = Arc::new(Shared {
        host: HeaderValue::from_str(&addrs[0].to_string())?,
        addrs,
        requests,
        phase: AtomicU8::new(WARMING),
        errors: AtomicU64::new(0),
        exhausted: AtomicU64::new(0),
        shown: Mutex::new(Vec::new()),
    });
    let tasks: Vec<_> = (0..config.connections)
        .map(|index| tokio::spawn(connection(Arc::clone(&shared), index)))
        .collect();
    tokio::time::sleep(Duration::from_secs(config.warmup)).await;
    shared.phase.store(MEASURING, Ordering::Relaxed);
    let started = Instant::now();
    let cpu_before = CpuUse::now();
    tokio::time::sleep(Duration::from_secs(config.seconds)).await;
    shared.phase.store(STOPPED, Ordering::Relaxed);
    let measured = started.elapsed();
    let cpu_after = CpuUse::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    latencies.sort_unstable();
    for shown in shared
        .shown
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        eprintln!("  error on {name}: {shown}");
    }
    if shared.exhausted.load(Ordering::Relaxed) > 0 {
        return Err(format!(
            "{name}: ran out of signed requests; raise LOAD_MAX_RATE (LOAD_DPOP_RATE for dpop)"
        )
        .into());
    }
    let seconds = measured.as_secs_f64();
    Ok(Outcome {
        rate: latencies.len() as f64 / seconds,
        cpu: cpu_before.report(&cpu_after, seconds, latencies.len()),
        latencies,
        errors: shared.errors.load(Ordering::Relaxed),
    })
}

/// A runtime of `workers` threads named `name`; with `cpu`, each of its
/// threads (workers and blocking ones) is pinned to that CPU as it starts.
fn runtime(name: &str, workers: usize, cpu: Option<usize>) -> std::io::Result<Runtime> {
    let name = name.to_owned();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(workers)
        .thread_name(&name)
        .enable_all();
    if let Some(cpu) = cpu {
        builder.on_thread_start(move || {
            if let Err(error) = pin_to(cpu) {
                eprintln!("http_load: a {name} thread stays unpinned: {error}");
            }
        });
    }
    builder.build()
}

/// Pins the calling thread (and the threads it starts from now on) to `cpu`.
fn pin_to(cpu: usize) -> std::io::Result<()> {
    let mut cpus = CpuSet::new();
    cpus.set(cpu);
    sched_setaffinity(None, &cpus).map_err(std::io::Error::from)
}

/// The CPUs each thread group of this process may run on, as `/proc` lists
/// them (`0`, `0-1`): empty where there is no `/proc`.
fn thread_cpus() -> BTreeMap<String, BTreeSet<String>> {
    let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for task in tasks.flatten() {
        let (Ok(name), Ok(status)) = (
            std::fs::read_to_string(task.path().join("comm")),
            std::fs::read_to_string(task.path().join("status")),
        ) else {
            continue;
        };
        let allowed = status
            .lines()
            .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
            .map_or("?", str::trim);
        by_name
            .entry(group(name.trim()).to_owned())
            .or_default()
            .insert(allowed.to_owned());
    }
    by_name
}

fn bench(config: &Config) -> Result<bool, Failure> {
    // Pinned, the main thread sits on the server's CPU until signing, so
    // the threads the stores start (sled's) inherit it.
    let every_cpu = config
        .pin
        .then(|| sched_getaffinity(None))
        .transpose()
        .map_err(std::io::Error::from)?;
    if config.pin {
        for cpu in [LOAD_CPU, SERVER_CPU] {
            pin_to(cpu).map_err(|error| format!("LOAD_PIN=1: cannot run on CPU {cpu}: {error}"))?;
        }
    }
    let servers = runtime("server", 2, config.pin.then_some(SERVER_CPU))?;
    let load = runtime(
        "load",
        config.client_threads,
        config.pin.then_some(LOAD_CPU),
    )?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let mut settings = Settings::default();
    let window = settings.oauth1.timestamp_window;
    // With LOAD_STORE=postgres: the database, and the stores of the nodes
    // after the first (each its own pool, as another process's would be).
    let database = match config.store.as_str() {
        "postgres" => servers.block_on(TestDatabase::create()),
        _ => None,
    };
    let mut others: Vec<Arc<dyn CredentialStore>> = Vec::new();
    let store: Arc<dyn CredentialStore> = if let Some(retention) = config.retention {
        settings.oauth1.timestamp_window = config.window;
        Arc::new(SledStore::open_retaining(
            &data,
            config.window,
            Some(retention),
            Usage::Serving,
            &|_, _| {},
        )?)
    } else if config.store == "sled" {
        Arc::new(SledStore::open(&data)?)
    } else if config.store == "postgres" {
        let database = database.as_ref().ok_or("no PostgreSQL answers")?;
        for _ in 1..config.nodes {
            let node = PostgresStore::connect(database.config.clone(), window);
            others.push(Arc::new(servers.block_on(node)?));
        }
        Arc::new(servers.block_on(PostgresStore::connect(database.config.clone(), window))?)
    } else {
        Arc::new(MemoryStore::new())
    };
    // One access token per connection, for the bearer routes.
    let bearer: Vec<String> = if config.runs("bearer") || config.runs("axum-bearer") {
        (0..config.connections)
            .map(|i| format!("bench-bearer-{i:04}"))
            .collect()
    } else {
        Vec::new()
    };
    servers.block_on(seed(store.as_ref(), &bearer))?;
    // The dpop route's key, and its token bound to it.
    let dpop_key = DpopKey::new();
    if config.runs("dpop") {
        servers.block_on(seed_dpop(store.as_ref(), &dpop_key))?;
    }

    let localhost: SocketAddr = ([127, 0, 0, 1], 0).into();
    let (stop_credlog, credlog_stopped) = oneshot::channel::<()>();
    let (stop_bare, bare_stopped) = oneshot::channel::<()>();
    let (credlog_listener, credlog_addr) = servers.block_on(credlog_http::bind(localhost))?;
    let (bare_listener, bare_addr) = servers.block_on(credlog_http::bind(localhost))?;
    let app = App::new(Arc::clone(&store), settings.clone());
    let credlog = servers.spawn(credlog_http::serve(app, credlog_listener, async {
        let _ = credlog_stopped.await;
    }));
    // The other nodes answer until the run ends.
    let mut credlog_addrs = vec![credlog_addr];
    for other in &others {
        let (listener, addr) = servers.block_on(credlog_http::bind(localhost))?;
        let app = App::new(Arc::clone(other), settings.clone());
        servers.spawn(credlog_http::serve(app, listener, std::future::pending()));
        credlog_addrs.push(addr);
    }
    let bare = warp::path!("bare").map(|| "ok");
    let bare = servers.spawn(
        warp::serve(bare)
            .incoming(bare_listener)
            .graceful(async {
                let _ = bare_stopped.await;
            })
            .run(),
    );
    // The axum servers: credlog's provider in an axum app, and a bare route.
    let (stop_axum, axum_stopped) = oneshot::channel::<()>();
    let (axum_listener, axum_addr) = servers.block_on(credlog_http::bind(localhost))?;
    let (bare_axum_listener, bare_axum_addr) = servers.block_on(credlog_http::bind(localhost))?;
    let nodelay = |tcp: &mut tokio::net::TcpStream| {
        let _ = tcp.set_nodelay(true);
    };
    let app = axum_app(Arc::clone(&store), &settings);
    let axum_app = servers.spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let shutdown = async {
            let _ = axum_stopped.await;
        };
        axum::serve(axum_listener.tap_io(nodelay), app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    // Stopped when the runtime is.
    let bare_axum = axum::Router::new().route("/bare", get(|| async { "ok" }));
    servers.spawn(async move { axum::serve(bare_axum_listener.tap_io(nodelay), bare_axum).await });

    // Without the OAuth 1 route, one signed header is enough for the bare one.
    let per_round = usize::try_from((config.warmup + config.seconds) * config.max_rate)?;
    let count = if config.runs("oauth1") && config.retention.is_none() {
        per_round * config.rounds
    } else {
        1
    };
    let signing = Instant::now();
    if let Some(cpus) = &every_cpu {
        sched_setaffinity(None, cpus).map_err(std::io::Error::from)?;
    }
    let mut signed = sign_all(credlog_addr, count)?;
    if config.pin {
        pin_to(LOAD_CPU)?;
    }
    let sample = signed.first().cloned().ok_or("nothing was signed")?;
    println!(
        "signed {count} requests in {:.1} s; {} connections, {} s warm-up, {} s measured per route, store {}, routes {}, {}",
        signing.elapsed().as_secs_f64(),
        config.connections,
        config.warmup,
        config.seconds,
        config.store,
        config.routes.join(","),
        if config.pin {
            format!("server pinned to CPU {SERVER_CPU}, load to CPU {LOAD_CPU}")
        } else {
            "unpinned".to_owned()
        },
    );
    let bearer_headers = bearer
        .iter()
        .map(|token| HeaderValue::from_str(&format!("Bearer {token}")))
        .collect::<Result<Vec<_>, _>>()?;

    let mut outcomes = Vec::new();
    let rounds =
        (1..=config.rounds).flat_map(|round| config.routes.iter().map(move |r| (round, *r)));
    for (round, route) in rounds {
        let (label, addr, requests) = match route {
            "bare" => (
                "bare warp".to_owned(),
                bare_addr,
                Requests::get("/bare", Headers::PerConnection(vec![sample.clone()]), None),
            ),
            "bare-axum" => (
                "bare axum".to_owned(),
                bare_axum_addr,
                Requests::get("/bare", Headers::PerConnection(vec![sample.clone()]), None),
            ),
            "oauth1" => {
                let headers = match config.retention {
                    Some(_) => Headers::Live {
                        signer: Box::new(bench_signer()),
                        uri: format!("http://{credlog_addr}/api/me"),
                        next: AtomicUsize::new(0),
                    },
                    None => Headers::Signed {
                        headers: signed.split_off(signed.len().saturating_sub(per_round)),
                        next: AtomicUsize::new(0),
                    },
                };
                let requests = Requests::get("/api/me", headers, Some(USER));
                (format!("signed {}", config.store), credlog_addr, requests)
            }
            "bearer" | "axum-bearer" => {
                let headers = Headers::PerConnection(bearer_headers.clone());
                let requests = Requests::get("/api/me", headers, Some(USER));
                match route {
                    "bearer" => (format!("bearer {}", config.store), credlog_addr, requests),
                    _ => (format!("axum bearer {}", config.store), axum_addr, requests),
                }
            }
            "dpop" => {
                let total = config.warmup + config.seconds;
                let count = usize::try_from(total * config.dpop_rate)?;
                let making = Instant::now();
                if let Some(cpus) = &every_cpu {
                    sched_setaffinity(None, cpus).map_err(std::io::Error::from)?;
                }
                // Valid from `iat` - 60 s to `iat` + 60 s: the whole run.
                let iat = unix_now() + (total / 2).min(60);
                let uri = format!("http://{credlog_addr}/api/me");
                let proofs = dpop_key.proofs(&uri, iat, count, round)?;
                if config.pin {
                    pin_to(LOAD_CPU)?;
                }
                println!(
                    "made {count} DPoP proofs in {:.1} s",
                    making.elapsed().as_secs_f64()
                );
                let authorization = HeaderValue::from_str(&format!("DPoP {DPOP_TOKEN}"))?;
                let mut requests = Requests::get(
                    "/api/me",
                    Headers::PerConnection(vec![authorization]),
                    Some(USER),
                );
                requests.proofs = Some(Headers::Signed {
                    headers: proofs,
                    next: AtomicUsize::new(0),
                });
                (format!("dpop {}", config.store), credlog_addr, requests)
            }
            "token" => {
                let requests = Requests {
                    method: Method::POST,
                    path: "/oauth2/token",
                    authorization: Headers::PerConnection(vec![basic_authorization(
                        CLIENT_ID,
                        CLIENT_SECRET,
                    )?]),
                    headers: vec![(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    )],
                    proofs: None,
                    body: Bytes::from_static(b"grant_type=client_credentials"),
                    expect: Some("access_token"),
                };
                (format!("token {}", config.store), credlog_addr, requests)
            }
            other => return Err(format!("no route {other}").into()),
        };
        let sampling = (route == "oauth1" && config.retention.is_some())
            .then(|| DiskSampler::start(&data, Arc::clone(&store), config.disk_every));
        let addrs = if addr == credlog_addr {
            credlog_addrs.clone()
        } else {
            vec![addr]
        };
        let outcome = load.block_on(run(config, addrs, requests))?;
        drop(sampling);
        let label = if config.rounds > 1 {
            format!("{label} #{round}")
        } else {
            label
        };
        outcome.print(&label);
        outcomes.push((round, route, outcome));
    }

    println!(
        "summary, store {}, {} round(s):",
        config.store, config.rounds
    );
    let rate_of = |round: usize, route: &str| {
        outcomes
            .iter()
            .find(|(r, name, _)| *r == round && *name == route)
            .map(|(_, _, outcome)| outcome.rate)
    };
    // The median over the rounds of `route`'s rate over `yardstick`'s,
    // as text.
    let ratio = |route: &str, yardstick: &str, name: &str| {
        let ratios: Vec<f64> = (1..=config.rounds)
            .filter_map(|round| Some(rate_of(round, route)? / rate_of(round, yardstick)?))
            .collect();
        match median(ratios) {
            Some(ratio) => format!("{ratio:.3} of {name}"),
            None => format!("? of {name} (LOAD_ROUTES has no {yardstick})"),
        }
    };
    let of_bare = |route: &str| ratio(route, "bare", "bare");
    for &route in &config.routes {
        let rates = (1..=config.rounds).filter_map(|round| rate_of(round, route));
        let rate = median(rates.collect()).unwrap_or_default();
        let of_bare = |_: f64| of_bare(route);
        match route {
            "bare" => println!("  bare warp: {rate:.0}/s"),
            "bare-axum" => println!("  bare axum: {rate:.0}/s = {}", of_bare(rate)),
            "oauth1" => println!(
                "  signed OAuth 1 /api/me: {rate:.0}/s = {} (target >= 0.5)",
                of_bare(rate)
            ),
            "bearer" => println!(
                "  bearer /api/me: {rate:.0}/s = {} (target >= 0.70)",
                of_bare(rate)
            ),
            "axum-bearer" => println!(
                "  bearer /api/me on axum: {rate:.0}/s = {} = {} = {}",
                of_bare(rate),
                ratio(route, "bare-axum", "bare axum"),
                ratio(route, "bearer", "bearer on warp"),
            ),
            "dpop" => println!(
                "  DPoP-bound /api/me (ES256 proof, jti appended): {rate:.0}/s = {} = {}",
                of_bare(rate),
                ratio(route, "bearer", "bearer"),
            ),
            "token" if config.store != "memory" => println!(
                "  client_credentials issuance: {rate:.0}/s durable = {} (target >= 0.25)",
                of_bare(rate)
            ),
            "token" => println!(
                "  client_credentials issuance: {rate:.0}/s in memory, not durable = {} (the target >= 0.25 is for sled)",
                of_bare(rate)
            ),
            other => println!("  {other}: {rate:.0}/s = {}", of_bare(rate)),
        }
    }

    if config.pin {
        let groups: Vec<String> = thread_cpus()
            .into_iter()
            .map(|(name, cpus)| format!("{name} {}", Vec::from_iter(cpus).join(" ")))
            .collect();
        println!("  CPUs each thread group may use: {}", groups.join(", "));
    }

    let _ = stop_credlog.send(());
    let _ = stop_bare.send(());
    let _ = stop_axum.send(());
    servers.block_on(async {
        let _ = credlog.await;
        let _ = bare.await;
        let _ = axum_app.await;
    });
    if config.store == "sled" {
        let records = servers.block_on(store.last_seq())?;
        drop(store);
        let bytes = credlog_benches::disk_use(&data)?;
        println!(
            "  data directory: {bytes} bytes on disk for {records} log records = {:.0} bytes a record",
            bytes as f64 / records.max(1) as f64
        );
    }
    Ok(outcomes.iter().all(|(_, _, outcome)| outcome.errors == 0))
}

/// Prints the data directory's size on disk, the archive's and the
/// records appended, every `every` seconds, until dropped.
struct DiskSampler {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DiskSampler {
    fn start(data: &std::path::Path, store: Arc<dyn CredentialStore>, every: u64) -> DiskSampler {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let data = data.to_path_buf();
        let started = Instant::now();
        let thread = std::thread::spawn(move || loop {
            let bytes = credlog_benches::disk_use(&data).unwrap_or(0);
            let archive = credlog_benches::disk_use(&data.join(credlog_storage_sled::ARCHIVE_DIR))
                .unwrap_or(0);
            let records = credlog_benches::ready(store.last_seq()).unwrap_or(0);
            println!(
                "  disk at {:>4} s: {:>6.1} MB in the data directory ({:.1} MB of it archive), {records} records appended",
                started.elapsed().as_secs(),
                bytes as f64 / 1e6,
                archive as f64 / 1e6,
            );
            match stopped.recv_timeout(Duration::from_secs(every.max(1))) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                _ => return,
            }
        });
        DiskSampler {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for DiskSampler {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The middle value (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

fn main() -> ExitCode {
    let outcome = Config::from_env().and_then(|config| bench(&config));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("http_load: the run had errors; its rates do not count");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("http_load: {error}");
            ExitCode::FAILURE
        }
    }
}
