//! Progress of the commands that can run long (`credlog check`; later
//! `migrate`): a bar with counts and rate on stderr when stderr is a
//! terminal, and nothing at all when it is not, so a script or a log
//! sees only the command's own lines. Drawn by indicatif, which rate
//! limits its redraws: counting a record costs an atomic add.

use credlog_core::store::{CheckReport, CredentialStore, StoreError};
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

/// [`CredentialStore::check`], with a bar counting the records replayed.
/// The bar stays drawn at its end count, so the terminal shows how many
/// records were read and how fast.
pub async fn check(store: &dyn CredentialStore) -> Result<CheckReport, StoreError> {
    let bar = records_bar(store.last_seq().await?, "replaying");
    let report = store.check_observed(&|seq| bar.set_position(seq)).await;
    match report {
        Ok(_) => bar.finish(),
        Err(_) => bar.abandon(),
    }
    report
}
