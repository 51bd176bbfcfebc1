//! credlog's warp adapter: the OAuth 1 and OAuth 2 endpoints, the
//! resource-protector filter, the login, consent and client pages, and the
//! `credlog` binary. (The OAuth 1 client is its own crate, `credlog-client`.)
//!
//! The engines in `credlog-core` decide; this crate only turns HTTP into
//! their [`credlog_core::Request`] and their [`credlog_core::Response`]
//! back into HTTP.
//!
//! Serving the whole contract over an in-memory store:
//!
//! ```no_run
//! use std::sync::Arc;
//! use credlog_http::{App, Settings};
//! use credlog_storage_memory::MemoryStore;
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = App::new(Arc::new(MemoryStore::new()), Settings::default());
//! let (listener, addr) = credlog_http::bind("127.0.0.1:0".parse().unwrap()).await?;
//! println!("listening on http://{addr}");
//! credlog_http::serve(app, listener, async {
//!     tokio::signal::ctrl_c().await.ok();
//! })
//! .await;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accounts;
pub mod adapter;
pub mod admin;
pub mod app;
pub mod audit;
pub mod authorizations;
pub mod client_addr;
pub mod client_page;
pub mod clients;
pub mod config;
pub mod consent;
pub mod demo;
pub mod device;
pub mod limits;
pub mod login;
pub mod metrics;
pub mod operator;
pub mod pages;
pub mod passwords;
pub mod progress;
pub mod protector;
pub mod protocol;
pub mod server;
pub mod sessions;
pub mod tls;

pub use app::{App, AppBuilder, Clock, Settings};
pub use limits::Limits;
pub use server::{bind, routes, serve, serve_admin, serve_on, serve_with};
