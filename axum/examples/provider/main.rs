//! credlog's whole provider in an axum app with its own users (`users.rs`)
//! and pages (`consent.rs`), and one protected route (`app.rs`):
//! `cargo run -p credlog-axum --example provider [ADDRESS] [--sled DIR]`.

mod app;
mod consent;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use credlog_core::store::CredentialStore;
use credlog_storage_memory::MemoryStore;
use credlog_storage_sled::SledStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut address, mut sled) = ("127.0.0.1:8090".to_owned(), None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sled" => sled = Some(args.next().ok_or("--sled needs a directory")?),
            _ => address = arg,
        }
    }
    let store: Arc<dyn CredentialStore> = match &sled {
        Some(dir) => Arc::new(SledStore::open(dir)?),
        None => Arc::new(MemoryStore::new()),
    };
    let key_file = sled.clone().unwrap_or("credlog-example".into()) + ".client-key.pem";
    let listener = tokio::net::TcpListener::bind(&address).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (router, clients) = app::start(store, &base, key_file.as_ref()).await?;
    println!("listening on {base}");
    println!("{}\n{}", users::listing(), clients.join("\n"));
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).await?;
    Ok(())
}
