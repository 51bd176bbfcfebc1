//! What a long-running server needs of its process: logs on stderr, and a
//! clean stop on a signal.

use credlog_http::config::LogFormat;

/// Ctrl-C or SIGTERM, listened for from the moment this is called: a
/// signal that comes right after `listening on` is printed (as a
/// supervisor or a test may send it) stops the server cleanly instead of
/// killing it, which a handler installed only on the first poll would not.
pub(super) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let listening = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        )
    };
    async move {
        #[cfg(unix)]
        match listening {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!(target: super::LOG_TARGET, "shutting down: finishing requests in flight");
    }
}

/// Logs go to stderr, in `format`, filtered by `CREDLOG_LOG` (tracing's
/// directives, e.g. `debug` or `warn,credlog_http::server=info`). By
/// default credlog's own crates log at `info`, so an operator sees each
/// request line (method, route, status, latency) and the shutdown,
/// and every other crate only its warnings (a directive's target matches
/// by prefix: `credlog` covers `credlog_http`, `credlog_core` ...).
pub(super) fn init_tracing(format: LogFormat) {
    use std::io::IsTerminal;

    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDLOG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,credlog=info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // Colours only for a person at a terminal: escape codes in a file
        // or a journal would break every `grep route=`.
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
