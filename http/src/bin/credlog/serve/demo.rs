//! `credlog serve --demo`: user demo/demo and one client of each kind,
//! created if absent and printed.

use credlog_core::rfc6749::Oauth2Server;
use credlog_http::demo::{self, DemoClient};

use super::store::ServedStore;
use crate::failure::Failure;
use crate::store::now;

/// Creates what is missing of the demo in `served`'s store, registered for
/// what `oauth2` has, and answers every demo client.
pub(super) async fn ensure(
    oauth2: &Oauth2Server,
    served: &ServedStore,
) -> Result<Vec<DemoClient>, Failure> {
    let store = served.store.as_ref();
    Ok(demo::ensure(oauth2, store, &served.demo_key, now()).await?)
}

/// Prints the demo user, one line a client (with its secret or its key
/// file) and the callbacks.
pub(super) fn print(clients: Vec<DemoClient>) {
    println!("demo user: {} / password {}", demo::USER.0, demo::USER.1);
    for client in clients {
        let mut line = format!(
            "demo client ({}): client_id={}",
            client.label, client.client_id
        );
        if let Some(secret) = client.client_secret {
            line.push_str(&format!(" client_secret={secret}"));
        }
        if let Some(key) = client.private_key {
            line.push_str(&format!(" private_key={key}"));
        }
        println!("{line}");
    }
    println!(
        "demo callbacks: {} (and oob)",
        demo::REDIRECT_URIS.join(", ")
    );
}
