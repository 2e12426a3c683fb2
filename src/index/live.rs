//! An index searched by a long-running process (the API, the daemon's control socket) while
//! another one writes it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::warn;

use super::MailIndex;

/// How often a long-running reader looks for the writer's commits.
const RELOAD_EVERY: Duration = Duration::from_millis(250);

/// Picks up the commits another writer (the daemon's) made, at most every [`RELOAD_EVERY`]:
/// a reload at every request would read the index's meta file each time.
#[derive(Debug)]
pub struct Reloader(Mutex<Instant>);

impl Default for Reloader {
    fn default() -> Self {
        Reloader(Mutex::new(Instant::now()))
    }
}

impl Reloader {
    /// Reloads `index` when the last reload is older than [`RELOAD_EVERY`], and keeps its
    /// threads' activity for the segments it reads (a long-running reader searches often).
    pub fn refresh(&self, index: &MailIndex) {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= RELOAD_EVERY {
            if let Err(e) = index.reload() {
                warn!(error = %e, "Index reload failed");
            }
            *last = Instant::now();
        }
        index.keep_thread_activity();
    }
}
