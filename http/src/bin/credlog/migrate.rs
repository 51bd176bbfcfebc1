//! `credlog migrate`: a data directory's log into an empty PostgreSQL
//! database.

use std::path::PathBuf;

use clap::Args;
use credlog_core::store::CredentialStore;
use credlog_http::audit;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::Usage;

use crate::failure::Failure;
use crate::store::{open, DataDir};

#[derive(Args)]
pub(crate) struct Migrate {
    /// The data directory (embedded sled) to read.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// The PostgreSQL database to write (postgres://USER@HOST:PORT/DB):
    /// it must hold no records yet.
    #[arg(long, value_name = "URL")]
    to: String,
    /// The settings file `credlog serve` reads (the protocol settings the
    /// store is kept under). Also read from CREDLOG_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// `credlog migrate`: every record of the data directory's log (its
/// archive too), in order, into an empty PostgreSQL database, with a bar
/// on a terminal; then both are checked. Login sessions are not in the
/// log and stay behind: users sign in again.
pub(crate) async fn run(migrate: Migrate) -> Result<(), Failure> {
    let dir = DataDir {
        data: Some(migrate.from),
        postgres: None,
        config: migrate.config,
    };
    // `--data` given: the settings' `postgres` is passed over.
    let config = dir.config()?;
    let settings = config.settings();
    let source = open(&config, &settings, Usage::Once).await?;
    let window = settings.oauth1.timestamp_window;
    let target = PostgresStore::open_with_nonce_window(&migrate.to, window).await?;
    let held = target.last_seq().await?;
    if held > 0 {
        return Err(Failure::NotEmpty { held });
    }
    copy(&*source, &target).await?;
    check(&*source, "the data directory").await?;
    check(&target, "PostgreSQL").await?;
    println!(
        "migrated {} records into PostgreSQL; the check passes on both",
        target.last_seq().await?
    );
    Ok(())
}

/// Every record of `source`, page by page, imported into `target`.
async fn copy(source: &dyn CredentialStore, target: &PostgresStore) -> Result<(), Failure> {
    let last = source.last_seq().await?;
    let bar = credlog_http::progress::records_bar(last, "migrating");
    let mut next = 1;
    loop {
        let records = audit::records_page(source, next, true).await?;
        let Some(end) = records.last().map(|record| record.seq) else {
            break;
        };
        target
            .import(records)
            .await
            .inspect_err(|_| bar.abandon())?;
        bar.set_position(end);
        next = end + 1;
    }
    bar.finish();
    Ok(())
}

/// The check of `store` (called `name`) after the migration: each mismatch
/// a line on stdout, and a failure if there is any.
async fn check(store: &dyn CredentialStore, name: &'static str) -> Result<(), Failure> {
    let report = store.check().await?;
    if report.is_consistent() {
        return Ok(());
    }
    for mismatch in &report.mismatches {
        println!("{mismatch}");
    }
    Err(Failure::MigrationMismatches { store: name })
}
