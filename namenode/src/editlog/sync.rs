//! Group commit: appenders add encoded records to a shared buffer under the namespace lock; one
//! syncer thread writes whatever has accumulated to the open segment and `fdatasync`s it, then
//! publishes the last index it made durable, which callers await outside the lock through
//! [`LogSync`]. Every op that arrives while one sync runs shares the next (HDFS's `logSync`).
//! A failed write or sync poisons the log: every waiter gets an error.

use std::fs;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::error::{Error, Result};

/// Records appended but not yet handed to the syncer.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) buf: Vec<u8>,
    pub(super) last_index: u64,
    pub(super) closed: bool,
}

/// What the syncer thread and the appenders share.
pub(super) struct Shared {
    pub(super) pending: Mutex<Pending>,
    pub(super) arrived: Condvar,
    /// The open segment; held by the syncer while it writes, and by a checkpoint while it rolls.
    pub(super) segment: Mutex<fs::File>,
    /// The highest index known durable.
    pub(super) synced: tokio::sync::watch::Sender<u64>,
    pub(super) failed: AtomicBool,
}

impl Shared {
    pub(super) fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes out and syncs everything pending to the open segment.
    pub(super) fn flush(&self, segment: &mut fs::File) -> std::io::Result<()> {
        let (buf, last) = {
            let mut p = self.lock_pending();
            (std::mem::take(&mut p.buf), p.last_index)
        };
        if buf.is_empty() {
            return Ok(());
        }
        segment.write_all(&buf)?;
        segment.sync_data()?;
        self.synced.send_if_modified(|s| {
            let newer = last > *s;
            *s = (*s).max(last);
            newer
        });
        Ok(())
    }

    pub(super) fn fail(&self, e: &std::io::Error) {
        tracing::error!(error = %e, "edit log write failed; the namenode refuses further mutations");
        self.failed.store(true, Ordering::Release);
        // Wake every waiter so it sees the failure.
        self.synced.send_modify(|_| {});
    }

    /// The syncer thread: waits for records, writes and syncs them, publishes the index.
    pub(super) fn run_syncer(self: Arc<Self>) {
        loop {
            {
                let mut p = self.lock_pending();
                while p.buf.is_empty() && !p.closed {
                    p = self.arrived.wait(p).unwrap_or_else(|e| e.into_inner());
                }
                if p.buf.is_empty() && p.closed {
                    return;
                }
            }
            let mut segment = self.segment.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = self.flush(&mut segment) {
                self.fail(&e);
                return;
            }
        }
    }
}

/// A handle for waiting until an index is durable, usable without the namespace lock.
#[derive(Clone)]
pub struct LogSync {
    shared: Arc<Shared>,
}

impl LogSync {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Returns once record `index` (and all before it) is on disk.
    pub async fn wait(&self, index: u64) -> Result<()> {
        let mut rx = self.shared.synced.subscribe();
        loop {
            if self.shared.failed.load(Ordering::Acquire) {
                return Err(Error::storage_refused("edit log write failed; restart the namenode"));
            }
            if *rx.borrow_and_update() >= index {
                return Ok(());
            }
            if rx.changed().await.is_err() {
                return Err(Error::storage_refused("edit log closed"));
            }
        }
    }
}
