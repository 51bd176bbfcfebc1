//! The audit log of a running server, for `credlog log` in another process.
//!
//! sled lets one process hold a data directory, so while `serve` runs, the
//! log command cannot open it. Instead `serve` writes `serve.json` in the
//! data directory (its URL and a random token, readable by its owner only)
//! and answers `GET /admin/log` to whoever presents that token. The file
//! is removed at a graceful shutdown.

use std::path::{Path, PathBuf};
use std::time::Duration;

use credlog_core::{Request, Response};
use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{incoming, json, reply, Fields};
use crate::app::App;
use crate::audit;

/// The file `serve` leaves in its data directory.
pub const SERVE_FILE: &str = "serve.json";

/// What `serve.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeFile {
    /// The server's base URL (`http://ADDR`).
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

/// `GET /admin/log?since=SEQ&wait=SECONDS` with `Authorization: Bearer TOKEN`:
/// up to 1024 records from `since` on; with `wait`, holds the request until
/// one is appended or the wait is over.
pub fn routes(app: App, token: String) -> BoxedFilter<(warp::reply::Response,)> {
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
    let since = since.max(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait.min(MAX_WAIT));
    loop {
        let page = match audit::page(app.store(), since).await {
            Ok(page) => page,
            Err(error) => return app.store_failure(&error),
        };
        if page.next > since || tokio::time::Instant::now() >= deadline {
            return json(200, &serde_json::to_value(&page).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
