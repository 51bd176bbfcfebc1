//! `credlog check`: replays the log, rebuilds the projections and compares.

use clap::Args;

use crate::failure::Failure;
use crate::store::DataDir;

#[derive(Args)]
pub(crate) struct Check {
    #[command(flatten)]
    data: DataDir,
    /// Replay the whole log, not only the records after the snapshot the
    /// last check kept.
    #[arg(long)]
    full: bool,
}

/// Runs `credlog check`: each mismatch a line on stdout, and a failure
/// (exit 1) if there is any.
pub(crate) async fn run(check: Check) -> Result<(), Failure> {
    let store = check.data.open().await?;
    let report = credlog_http::progress::check(&*store, check.full).await?;
    for mismatch in &report.mismatches {
        println!("{mismatch}");
    }
    if !report.is_consistent() {
        return Err(Failure::Mismatches {
            count: report.mismatches.len(),
        });
    }
    match report.snapshot {
        Some(seq) => println!(
            "ok: {} records replayed after the snapshot at record {seq}, projections match",
            report.records
        ),
        None => println!("ok: {} records replayed, projections match", report.records),
    }
    Ok(())
}
