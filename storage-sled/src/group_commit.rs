//! Group commit: appends that finish their transaction while a flush is
//! running wait for the next one, so that one fsync makes many appends
//! durable (DESIGN.md rule 2).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use credlog_core::store::StoreError;
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), StoreError>>;

/// How long the flusher waits for more appends to join a flush, per round.
const GATHER_PAUSE: Duration = Duration::from_micros(100);
/// At most this many rounds: an append waits at most about a millisecond
/// longer than its flush.
const GATHER_ROUNDS: usize = 10;

#[derive(Default)]
struct Queue {
    waiters: Vec<Waiter>,
    stopping: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The flusher: one thread that flushes the database whenever appends wait.
pub struct GroupCommit {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the flusher for `db`.
    pub fn start(db: sled::Db) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let flusher = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("credlog-flusher".into())
            .spawn(move || run(&flusher, &db))?;
        Ok(GroupCommit {
            shared,
            thread: Some(thread),
        })
    }

    /// Waits until everything written before this call is on disk.
    pub async fn durable(&self) -> Result<(), StoreError> {
        let (sender, receiver) = oneshot::channel();
        {
            let mut queue = self.shared.lock();
            if queue.stopping {
                return Err(StoreError::Backend("the store is closing".into()));
            }
            queue.waiters.push(sender);
        }
        self.shared.wake.notify_one();
        receiver
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("the flusher stopped".into())))
    }
}

fn run(shared: &Shared, db: &sled::Db) {
    loop {
        let waiters = {
            let mut queue = shared.lock();
            while queue.waiters.is_empty() && !queue.stopping {
                queue = shared.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
            if queue.waiters.is_empty() {
                return;
            }
            // Let appends that are finishing their transactions join this
            // flush: wait while the queue still grows, a short while at most.
            for _ in 0..GATHER_ROUNDS {
                let waiting = queue.waiters.len();
                drop(queue);
                thread::sleep(GATHER_PAUSE);
                queue = shared.lock();
                if queue.waiters.len() == waiting {
                    break;
                }
            }
            std::mem::take(&mut queue.waiters)
        };
        // Every waiter taken here finished its write before it queued, so
        // this flush covers it; later ones wait for the next round.
        let result = db
            .flush()
            .map(|_| ())
            .map_err(|e| StoreError::Backend(format!("flush failed: {e}")));
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
    }
}

impl Drop for GroupCommit {
    /// Flushes what is waiting, then stops the thread.
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
