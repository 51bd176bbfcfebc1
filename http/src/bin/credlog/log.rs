//! `credlog log`: the audit trail, one event a line, read from the store
//! or, while a server holds the data directory, through that server.

use std::time::Duration;

use clap::Args;
use credlog_core::store::{CredentialStore, StoreError};
use credlog_http::admin::{ServeFile, MAX_WAIT};
use credlog_http::audit::{self, LogPage};
use credlog_storage_sled::Usage;

use crate::failure::Failure;
use crate::store::{open_store, DataDir};

#[derive(Args)]
pub(crate) struct Log {
    #[command(flatten)]
    data: DataDir,
    /// Start at this sequence number.
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    since: u64,
    /// Only events about this client.
    #[arg(long, value_name = "ID")]
    client: Option<String>,
    /// Only events about this user.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// One JSON object a line.
    #[arg(long)]
    json: bool,
    /// Keep printing events as they are appended.
    #[arg(long)]
    follow: bool,
    /// Also the signed requests a retention moved to the archive
    /// (`[store] retain_verified_seconds`), in order among the rest.
    #[arg(long)]
    archive: bool,
}

/// Runs `credlog log`: prints the pages from `--since` on, and with
/// `--follow` goes on waiting for more.
pub(crate) async fn run(log: Log) -> Result<(), Failure> {
    let filter = audit::Filter {
        client: log.client,
        user: log.user,
    };
    let source = LogSource::open(&log.data).await?;
    let mut next = log.since.max(1);
    loop {
        let page = source.page(next, log.follow, log.archive).await?;
        for line in page.lines.iter().filter(|line| filter.admits(line)) {
            if log.json {
                println!("{}", line.json());
            } else {
                println!("{}", line.text());
            }
        }
        let more = page.next > next;
        next = page.next;
        if !more {
            if !log.follow {
                return Ok(());
            }
            if let LogSource::Local(_) = source {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// Where `credlog log` reads: the data directory, or the server holding it.
enum LogSource {
    Local(Box<dyn CredentialStore>),
    Remote(ServeFile, reqwest::Client),
}

impl LogSource {
    /// The store, or, when a server holds the data directory, that server
    /// (through the serve file it left).
    async fn open(data: &DataDir) -> Result<LogSource, Failure> {
        let config = data.config()?;
        match open_store(&config, &config.settings(), Usage::Once).await {
            Ok(store) => Ok(LogSource::Local(store)),
            Err(StoreError::Locked { path }) => match ServeFile::read(&config.data) {
                Some(serve) => Ok(LogSource::Remote(serve, reqwest::Client::new())),
                None => Err(Failure::HeldWithoutServeFile { path }),
            },
            Err(error) => Err(error.into()),
        }
    }

    /// The page from `since` on; from a server, with `follow`, it waits a
    /// while for new records before answering an empty page.
    async fn page(&self, since: u64, follow: bool, archive: bool) -> Result<LogPage, Failure> {
        let (serve, client) = match self {
            LogSource::Local(store) => {
                return Ok(audit::page(store.as_ref(), since, archive).await?)
            }
            LogSource::Remote(serve, client) => (serve, client),
        };
        let wait = if follow { MAX_WAIT } else { 0 };
        let url = format!(
            "{}/admin/log?since={since}&wait={wait}&archive={}",
            serve.url,
            u8::from(archive)
        );
        let response = client
            .get(&url)
            .bearer_auth(&serve.token)
            .send()
            .await
            .map_err(|source| Failure::Unreachable {
                url: serve.url.clone(),
                source,
            })?;
        if !response.status().is_success() {
            return Err(Failure::Refused {
                url: serve.url.clone(),
                status: response.status(),
            });
        }
        let body = response.bytes().await.map_err(Failure::LogPageBody)?;
        serde_json::from_slice(&body).map_err(Failure::LogPageJson)
    }
}
