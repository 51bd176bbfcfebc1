//! Where temporary credentials wait between the redirect to the provider
//! and the callback: a small trait, and an in-memory cache with expiry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

/// A cache of short-lived values (temporary credentials, in the login
/// dance). A shared cache (Redis, a database) implements it for an app
/// that runs on several nodes.
#[async_trait]
pub trait TemporaryCache: Send + Sync {
    /// The value under `key`, unless it expired.
    async fn get(&self, key: &str) -> Option<String>;
    /// Keeps `value` under `key` for `ttl`.
    async fn set(&self, key: &str, value: String, ttl: Duration);
    /// Forgets `key`.
    async fn delete(&self, key: &str);
}

/// A monotonic clock, injectable for tests.
pub type Now = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The default cache: in this process's memory, each entry dropped once
/// its time is up (expired entries are swept on every `set`).
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (String, Instant)>>,
    now: Now,
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::with_clock(Arc::new(Instant::now))
    }
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache").finish_non_exhaustive()
    }
}

impl MemoryCache {
    /// An empty cache.
    pub fn new() -> Self {
        MemoryCache::default()
    }

    /// An empty cache on its own clock.
    pub fn with_clock(now: Now) -> Self {
        MemoryCache {
            entries: Mutex::new(HashMap::new()),
            now,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl TemporaryCache for MemoryCache {
    async fn get(&self, key: &str) -> Option<String> {
        let now = (self.now)();
        let mut entries = self.entries();
        match entries.get(key) {
            Some((value, until)) if now < *until => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    async fn set(&self, key: &str, value: String, ttl: Duration) {
        let now = (self.now)();
        let mut entries = self.entries();
        entries.retain(|_, (_, until)| now < *until);
        entries.insert(key.to_owned(), (value, now + ttl));
    }

    async fn delete(&self, key: &str) {
        self.entries().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_expire_and_are_swept() {
        let start = Instant::now();
        let offset = Arc::new(Mutex::new(Duration::ZERO));
        let clock = Arc::clone(&offset);
        let cache = MemoryCache::with_clock(Arc::new(move || start + *clock.lock().unwrap()));
        cache.set("a", "1".into(), Duration::from_secs(10)).await;
        assert_eq!(cache.get("a").await.as_deref(), Some("1"));
        *offset.lock().unwrap() = Duration::from_secs(10);
        assert_eq!(cache.get("a").await, None);
        cache.set("b", "2".into(), Duration::from_secs(1)).await;
        cache.delete("b").await;
        assert_eq!(cache.get("b").await, None);
        assert!(cache.entries().is_empty());
    }
}
