//! The admin listener (CONTRACT.md "Deployment", `--admin-addr`): for
//! operators, never on the public listener.
//!
//! - `GET /healthz`: 200 `{"status":"ok"}` when the store answers a read
//!   and a write ([`CredentialStore::probe`]) within [`HEALTH_DEADLINE`];
//!   503 `{"status":"unavailable","reason":"..."}` otherwise.
//! - `GET /metrics`: the Prometheus text format ([`crate::metrics`]).
//! - `GET /admin/log`: the audit log of a running server, for `credlog log`
//!   in another process. sled lets one process hold a data directory, so
//!   while `serve` runs, the log command cannot open it. Instead `serve`
//!   writes `serve.json` in the data directory (the admin listener's URL and
//!   a random token, readable by its owner only) and answers this route to
//!   whoever presents that token. The file is removed at a graceful shutdown.
//!
//! [`CredentialStore::probe`]: credlog_core::store::CredentialStore::probe

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::Duration;

use credlog_core::{Request, Response};
use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{incoming, json, recover, reply, Fields};
use crate::app::{AdminToken, App};
use crate::audit;
use crate::metrics::Metrics;

/// The file `serve` leaves in its data directory.
pub const SERVE_FILE: &str = "serve.json";

/// What `serve.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeFile {
    /// The admin listener's base URL (`http://ADDR`).
    pub url: String,
    /// The token `GET /admin/log` asks for.
    pub token: String,
}

impl ServeFile {
    /// Where it lives in a data directory.
    pub fn path(data: &Path) -> PathBuf {
        data.join(SERVE_FILE)
    }

    /// Writes it, readable by its owner only.
    pub fn write(&self, data: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let path = ServeFile::path(data);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
        options.open(path)?.write_all(text.as_bytes())
    }

    /// Reads it, if a server left one.
    pub fn read(data: &Path) -> Option<ServeFile> {
        let text = std::fs::read_to_string(ServeFile::path(data)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// The longest a request may wait for new records, in seconds.
pub const MAX_WAIT: u64 = 10;

/// The longest [`CredentialStore::probe`] may take before `/healthz` says 503.
///
/// [`CredentialStore::probe`]: credlog_core::store::CredentialStore::probe
pub const HEALTH_DEADLINE: Duration = Duration::from_secs(2);

/// Every admin route, with every rejection turned into an answer (404 for
/// any other path): `/healthz`; `/metrics` when `metrics` is given;
/// `/admin/log` when the app has an admin token.
pub fn routes(
    app: App,
    metrics: Option<Metrics>,
) -> impl warp::Filter<Extract = (warp::reply::Response,), Error = Infallible>
       + Clone
       + Send
       + Sync
       + 'static {
    let health = {
        let app = app.clone();
        warp::path!("healthz")
            .and(warp::get())
            .then(move || {
                let app = app.clone();
                async move { reply(health(&app).await) }
            })
            .boxed()
    };
    let shown = {
        let app = app.clone();
        warp::path!("metrics")
            .and(warp::get())
            .and_then(move || {
                let (app, metrics) = (app.clone(), metrics.clone());
                async move {
                    match metrics {
                        Some(metrics) => Ok(reply(scrape(&app, &metrics).await)),
                        None => Err(warp::reject::not_found()),
                    }
                }
            })
            .boxed()
    };
    health
        .or(shown)
        .unify()
        .or(log_route(app))
        .unify()
        .recover(recover)
        .unify()
}

/// `GET /healthz`: the store's probe, under [`HEALTH_DEADLINE`].
pub async fn health(app: &App) -> Response {
    let reason = match tokio::time::timeout(HEALTH_DEADLINE, app.store().probe()).await {
        Ok(Ok(())) => return json(200, &serde_json::json!({"status": "ok"})),
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!(
            "the store did not answer a read and a write within {} s",
            HEALTH_DEADLINE.as_secs()
        ),
    };
    tracing::warn!(%reason, "the health check failed");
    let mut response = json(
        503,
        &serde_json::json!({"status": "unavailable", "reason": reason}),
    );
    response
        .headers
        .push(("Cache-Control".to_owned(), "no-store".to_owned()));
    response
}

/// `GET /metrics`: the gauges read now, then everything recorded. A store
/// that cannot say its sizes leaves the gauges as they were (`/healthz`
/// says why); the rest is still shown.
async fn scrape(app: &App, metrics: &Metrics) -> Response {
    let read = tokio::time::timeout(
        HEALTH_DEADLINE,
        app.store().sizes(app.sessions().limits(), app.now()),
    )
    .await;
    match read {
        Ok(Ok(sizes)) => crate::metrics::set_sizes(sizes),
        Ok(Err(error)) => tracing::warn!(%error, "the store's sizes could not be read"),
        Err(_) => tracing::warn!("the store's sizes were not read in time"),
    }
    Response {
        status: 200,
        headers: vec![(
            "Content-Type".to_owned(),
            "text/plain; version=0.0.4; charset=utf-8".to_owned(),
        )],
        body: metrics.render().into_bytes(),
    }
}

/// `GET /admin/log` when the app has an admin token; no route otherwise.
fn log_route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    match app.settings().admin_token.clone() {
        Some(AdminToken(token)) => log(app, token),
        None => warp::any()
            .and_then(|| async { Err::<warp::reply::Response, _>(warp::reject::not_found()) })
            .boxed(),
    }
}

/// `GET /admin/log?since=SEQ&wait=SECONDS&archive=1` with `Authorization:
/// Bearer TOKEN`: up to 1024 records from `since` on (with `archive=1`,
/// the archived ones among them); with `wait`, holds the request until one
/// is appended or the wait is over.
fn log(app: App, token: String) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("admin" / "log")
        .and(warp::get())
        .and(incoming(&app))
        .then(move |request: Request| {
            let (app, token) = (app.clone(), token.clone());
            async move { reply(log_page(&app, &token, &request).await) }
        })
        .boxed()
}

fn authorized(request: &Request, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    request.header_values("authorization").any(|value| {
        value
            .strip_prefix("Bearer ")
            .is_some_and(|given| given.as_bytes().ct_eq(token.as_bytes()).into())
    })
}

async fn log_page(app: &App, token: &str, request: &Request) -> Response {
    if !authorized(request, token) {
        let mut response = json(
            401,
            &serde_json::json!({"error": "invalid_token", "error_description": "the admin token from serve.json is needed"}),
        );
        response.headers.push((
            "WWW-Authenticate".to_owned(),
            "Bearer realm=\"credlog-admin\"".to_owned(),
        ));
        return response;
    }
    let query = Fields::query(request).unwrap_or_default();
    let number = |name: &str, default: u64| {
        query
            .get(name)
            .map_or(Some(default), |value| value.parse::<u64>().ok())
    };
    let (Some(since), Some(wait)) = (number("since", 1), number("wait", 0)) else {
        return json(
            400,
            &serde_json::json!({"error": "invalid_request", "error_description": "since and wait are whole numbers"}),
        );
    };
    let archive = match query.get("archive") {
        None | Some("0") => false,
        Some("1") => true,
        Some(_) => {
            return json(
                400,
                &serde_json::json!({"error": "invalid_request", "error_description": "archive is 0 or 1"}),
            )
        }
    };
    let since = since.max(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait.min(MAX_WAIT));
    loop {
        let page = match audit::page(app.store(), since, archive).await {
            Ok(page) => page,
            Err(error) => return app.store_failure(&error),
        };
        if page.next > since || tokio::time::Instant::now() >= deadline {
            return json(200, &serde_json::to_value(&page).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
