//! credlog's provider embedded in an axum app with its own users and
//! sign-in: OAuth 1 and OAuth 2 endpoints, and `/api/me`, over
//! `credlog-core` alone (no warp, no credlog accounts).
//!
//! ```text
//! cargo run -p credlog-http --example axum_embed [ADDRESS]
//! ```
//!
//! `adapter.rs` turns axum requests into credlog's and back; `users.rs` is
//! the app's own sign-in and consent page (the `Consent` seam); `app.rs`
//! has the routes.

mod adapter;
mod app;
mod users;

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let app = app::App::new();
    let clients = app.register_clients().await?;
    let listener = tokio::net::TcpListener::bind(&address).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("credlog in axum at {base}");
    println!("  metadata: {base}{}", credlog_core::rfc8414::METADATA_PATH);
    println!("  users: {}", users_line());
    println!(
        "  confidential client (OAuth 1 HMAC-SHA1, OAuth 2 client_secret_basic): id {} secret {}",
        clients.confidential.id,
        clients.confidential.secret.as_deref().unwrap_or("")
    );
    println!(
        "  public client (OAuth 2 with PKCE): id {}",
        clients.public.id
    );
    println!("  callback: {}", app::CALLBACK);
    axum::serve(listener, app::router(Arc::new(app))).await?;
    Ok(())
}

fn users_line() -> String {
    app::ACCOUNTS
        .iter()
        .map(|(name, password)| format!("{name} / {password}"))
        .collect::<Vec<_>>()
        .join(", ")
}
