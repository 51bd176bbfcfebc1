//! What the admin listener's `GET /metrics` shows, in Prometheus text
//! format (CONTRACT.md "Deployment").
//!
//! Every count goes through the `metrics` facade, a no-op until
//! [`Metrics::install`] puts the Prometheus recorder in place (the
//! `credlog serve` binary does; an app embedded in tests need not). The
//! store reports its own (`credlog_store_*`, from the sled and PostgreSQL
//! backends' writers).
//! No label holds a secret or a value from outside: a route is one of the
//! contract's paths or `other`, a status is a three-digit code.

use std::sync::OnceLock;
use std::time::Duration;

use credlog_core::store::Sizes;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered on the public listener, by route and status.
pub const REQUESTS: &str = "credlog_http_requests_total";
/// Seconds from a request's head to its answer, by route.
pub const REQUEST_DURATION: &str = "credlog_http_request_duration_seconds";
/// Login sessions live now.
pub const SESSIONS_ACTIVE: &str = "credlog_sessions_active";
/// OAuth 1 nonces the store keeps for the timestamp window.
pub const NONCES_HELD: &str = "credlog_oauth1_nonces_held";
/// Sign-ins (form or password grant) refused with 429 before any check.
pub const SIGN_INS_THROTTLED: &str = "credlog_sign_ins_throttled_total";

/// Latency buckets, in seconds: from a page served from memory (under a
/// millisecond) to a sign-in's argon2 check, and a long-polled log read.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Appends per group commit.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The process's Prometheus recorder; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

static INSTALLED: OnceLock<Result<Metrics, String>> = OnceLock::new();

impl Metrics {
    /// Installs the Prometheus recorder as the process's `metrics`
    /// recorder, once: later calls answer the same one. Fails when another
    /// recorder was installed first.
    pub fn install() -> Result<Metrics, String> {
        INSTALLED
            .get_or_init(|| {
                let handle = PrometheusBuilder::new()
                    .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                    .and_then(|builder| {
                        builder.set_buckets_for_metric(
                            Matcher::Full("credlog_store_append_batch_size".into()),
                            BATCH_BUCKETS,
                        )
                    })
                    .and_then(PrometheusBuilder::install_recorder)
                    .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
                describe();
                Ok(Metrics { handle })
            })
            .clone()
    }

    /// Everything recorded so far, in Prometheus text format.
    pub fn render(&self) -> String {
        // Folds the histograms' recent samples in and drops idle ones.
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(REQUESTS, "Requests answered on the public listener.");
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Time from a request's head to its answer."
    );
    describe_gauge!(SESSIONS_ACTIVE, "Login sessions live now.");
    describe_gauge!(
        NONCES_HELD,
        "OAuth 1 nonces kept for the timestamp window (the nonce window's size)."
    );
    describe_counter!(
        SIGN_INS_THROTTLED,
        "Sign-ins refused with 429 (too many failures for a name or an address)."
    );
    describe_counter!(
        "credlog_store_appends_total",
        "Appends the store answered: written, refused by a precondition, or failed."
    );
    describe_counter!(
        "credlog_store_appends_refused_total",
        "Appends refused by a precondition, by reason."
    );
    describe_histogram!(
        "credlog_store_append_batch_size",
        "Appends written together in one group commit."
    );
    describe_histogram!(
        "credlog_store_flush_duration_seconds",
        Unit::Seconds,
        "Time a group commit's flush to disk (on PostgreSQL, its commit) took."
    );
}

/// Counts one answered request on the public listener.
pub fn record_request(path: &str, status: u16, elapsed: Duration) {
    let route = route_name(path);
    metrics::counter!(REQUESTS, "route" => route, "status" => status_label(status)).increment(1);
    metrics::histogram!(REQUEST_DURATION, "route" => route).record(elapsed.as_secs_f64());
}

/// Counts a sign-in refused by the throttle.
pub fn record_throttled_sign_in() {
    metrics::counter!(SIGN_INS_THROTTLED).increment(1);
}

/// Sets the gauges of what the store holds.
pub fn set_sizes(sizes: Sizes) {
    metrics::gauge!(SESSIONS_ACTIVE).set(sizes.live_sessions as f64);
    metrics::gauge!(NONCES_HELD).set(sizes.nonces as f64);
}

/// A status code as a label: hyper's codes are three digits, 100 to 999.
fn status_label(status: u16) -> String {
    status.to_string()
}

/// The contract's paths (CONTRACT.md); a `{id}` segment stands for any one segment.
const ROUTES: &[&str] = &[
    "/",
    "/login",
    "/logout",
    "/clients",
    "/clients/{id}",
    "/clients/{id}/secret",
    "/clients/{id}/delete",
    "/authorizations",
    "/authorizations/revoke",
    "/oauth1/initiate",
    "/oauth1/authorize",
    "/oauth1/token",
    "/oauth2/authorize",
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/jwks",
    "/oauth2/userinfo",
    "/oauth2/device_authorization",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/device",
    "/api/me",
];

/// The route a request path falls under, as a label: one of `ROUTES`
/// (ids replaced by `{id}`), or `other` for any path the contract does not name.
pub fn route_name(path: &str) -> &'static str {
    let given = path.split('/').skip(1);
    ROUTES
        .iter()
        .find(|route| {
            let mut given = given.clone();
            let fits = route.split('/').skip(1).all(|segment| match given.next() {
                Some(part) if segment == "{id}" => !part.is_empty(),
                Some(part) => part == segment,
                None => false,
            });
            fits && given.next().is_none()
        })
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::route_name;

    #[test]
    fn routes_are_named_by_the_contract_never_by_their_ids() {
        assert_eq!(route_name("/"), "/");
        assert_eq!(route_name("/oauth1/initiate"), "/oauth1/initiate");
        assert_eq!(route_name("/clients/abc123"), "/clients/{id}");
        assert_eq!(route_name("/clients/abc123/secret"), "/clients/{id}/secret");
        assert_eq!(
            route_name("/.well-known/oauth-authorization-server"),
            "/.well-known/oauth-authorization-server"
        );
        for unknown in [
            "/nope",
            "/clients/",
            "/clients/a/b",
            "/oauth1/initiate/x",
            "/admin/log",
            "/metrics",
            "//",
            "",
        ] {
            assert_eq!(route_name(unknown), "other", "{unknown:?}");
        }
    }
}
