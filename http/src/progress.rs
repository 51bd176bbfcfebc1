//! Progress of the commands that can run long (`credlog check`; later
//! `migrate`): a bar with counts and rate on stderr when stderr is a
//! terminal, and nothing at all when it is not, so a script or a log
//! sees only the command's own lines. Drawn by indicatif, which rate
//! limits its redraws: counting a record costs an atomic add.

use std::sync::OnceLock;

use credlog_core::store::{CheckReport, CredentialStore, Seq, StoreError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `total` records, drawn on stderr only if it is a terminal.
pub fn records_bar(total: u64, verb: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = format!(
        "{verb} [{{bar:32}}] {{human_pos}}/{{human_len}} records ({{per_sec}}, {{eta}} left)"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// [`CredentialStore::check`] (from the store's snapshot unless `full`),
/// with a bar counting the records replayed. The bar stays drawn at its
/// end count, so the terminal shows how many records were read and how
/// fast.
pub async fn check(store: &dyn CredentialStore, full: bool) -> Result<CheckReport, StoreError> {
    let bar = records_bar(store.last_seq().await?, "replaying");
    let replayed = |seq| bar.set_position(seq);
    let report = if full {
        store.check_observed(&replayed).await
    } else {
        store.check_from_snapshot(&replayed).await
    };
    match report {
        Ok(_) => bar.finish(),
        Err(_) => bar.abandon(),
    }
    report
}

/// A bar for a rebuild of the projections on open, drawn only if one
/// happens (the store tells of its first record replayed).
#[derive(Debug, Default)]
pub struct Rebuilding {
    bar: OnceLock<ProgressBar>,
}

impl Rebuilding {
    /// Record `seq` of `last` was replayed.
    pub fn replayed(&self, seq: Seq, last: Seq) {
        self.bar
            .get_or_init(|| records_bar(last, "rebuilding the projections"))
            .set_position(seq);
    }

    /// The rebuild is over (or never began).
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish();
        }
    }
}
