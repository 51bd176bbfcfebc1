//! The tests' one clock: stopped at the wall clock's now until the test
//! moves it, read by the server (seconds since the epoch) and by the
//! client's temporary-credential cache (a monotonic `Instant`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_http::Clock;

/// A clock only the test moves.
#[derive(Clone)]
pub struct TestClock {
    seconds: Arc<AtomicU64>,
    /// Where it started, in both readings.
    start: (u64, Instant),
}

impl TestClock {
    /// A clock stopped at the wall clock's now.
    pub fn starting_now() -> TestClock {
        let now = super::now();
        TestClock {
            seconds: Arc::new(AtomicU64::new(now)),
            start: (now, Instant::now()),
        }
    }

    /// The clock as the app reads it.
    pub fn clock(&self) -> Clock {
        let time = Arc::clone(&self.seconds);
        Arc::new(move || time.load(Ordering::SeqCst))
    }

    /// The clock as `credlog_client::MemoryCache` reads it.
    pub fn monotonic(&self) -> credlog_client::cache::Now {
        let (time, (start, instant)) = (Arc::clone(&self.seconds), self.start);
        Arc::new(move || instant + Duration::from_secs(time.load(Ordering::SeqCst) - start))
    }

    /// Now, for the server.
    pub fn now(&self) -> u64 {
        self.seconds.load(Ordering::SeqCst)
    }

    /// Moves time on by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.seconds.fetch_add(seconds, Ordering::SeqCst);
    }
}
