//! Group commit: openraft hands the log store entries to append; they are encoded into a shared
//! buffer at once, and one syncer thread writes whatever has accumulated to the open segment,
//! `fdatasync`s it, and only then tells openraft (each append's `LogFlushed` callback) that its
//! entries are durable. Every append that arrives while one sync runs shares the next (HDFS's
//! `logSync`), so many client operations share one disk flush. A failed write or sync poisons
//! the log: every waiting callback gets the error, and so does every later append. Each sync
//! is counted and timed (`hdfs_namenode_editlog_sync_seconds`).

use std::fs;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use openraft::storage::LogFlushed;

use crate::metrics::EditLogMetrics;
use crate::raft::TypeConfig;

/// Records appended but not yet handed to the syncer, and who waits for them.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) buf: Vec<u8>,
    /// The index of the last entry in `buf`.
    pub(super) last_index: u64,
    pub(super) callbacks: Vec<LogFlushed<TypeConfig>>,
    pub(super) closed: bool,
}

/// What the syncer thread and the appenders share.
pub(super) struct Shared {
    pub(super) pending: Mutex<Pending>,
    pub(super) arrived: Condvar,
    /// The open segment; held by the syncer while it writes, and by whoever rolls or truncates.
    pub(super) segment: Mutex<fs::File>,
    pub(super) failed: AtomicBool,
    /// The highest index written and synced.
    durable: AtomicU64,
    /// Set by tests to make the next write fail as on a full disk.
    pub(super) full: AtomicBool,
    pub(super) metrics: EditLogMetrics,
}

/// ENOSPC ("No space left on device") on Linux.
fn libc_enospc() -> i32 {
    28
}

impl Shared {
    pub(super) fn new(segment: fs::File) -> Self {
        Self {
            pending: Mutex::new(Pending::default()),
            arrived: Condvar::new(),
            segment: Mutex::new(segment),
            failed: AtomicBool::new(false),
            durable: AtomicU64::new(0),
            full: AtomicBool::new(false),
            metrics: EditLogMetrics::default(),
        }
    }

    pub(super) fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn lock_segment(&self) -> std::sync::MutexGuard<'_, fs::File> {
        self.segment.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes out and syncs everything pending to `segment`, then answers its callbacks.
    pub(super) fn flush(&self, segment: &mut fs::File) -> std::io::Result<()> {
        let (buf, callbacks, last) = {
            let mut p = self.lock_pending();
            (std::mem::take(&mut p.buf), std::mem::take(&mut p.callbacks), p.last_index)
        };
        let result = if buf.is_empty() {
            Ok(())
        } else if self.full.load(Ordering::Acquire) {
            Err(std::io::Error::from_raw_os_error(libc_enospc()))
        } else {
            let started = Instant::now();
            let r = segment.write_all(&buf).and_then(|_| segment.sync_data());
            if r.is_ok() {
                self.metrics.synced(buf.len(), started.elapsed());
            }
            r
        };
        match &result {
            Err(e) => self.fail(e),
            Ok(()) if !buf.is_empty() => {
                self.durable.fetch_max(last, Ordering::AcqRel);
            }
            Ok(()) => {}
        }
        for cb in callbacks {
            cb.log_io_completed(result.as_ref().map(|_| ()).map_err(|e| std::io::Error::new(e.kind(), e.to_string())));
        }
        result
    }

    fn fail(&self, e: &std::io::Error) {
        tracing::error!(error = %e, "edit log write failed; this namenode stops acknowledging");
        self.metrics.failed();
        self.failed.store(true, Ordering::Release);
    }

    /// The highest index written and synced so far.
    pub(super) fn durable_index(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    pub(super) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// The syncer thread: waits for records, writes and syncs them, answers their callbacks.
    pub(super) fn run_syncer(self: Arc<Self>) {
        loop {
            {
                let mut p = self.lock_pending();
                while p.callbacks.is_empty() && p.buf.is_empty() && !p.closed {
                    p = self.arrived.wait(p).unwrap_or_else(|e| e.into_inner());
                }
                if p.callbacks.is_empty() && p.buf.is_empty() && p.closed {
                    return;
                }
            }
            let mut segment = self.lock_segment();
            if self.flush(&mut segment).is_err() {
                // Later appends are refused; answer any that raced in with the same error.
                loop {
                    let mut p = self.lock_pending();
                    let cbs = std::mem::take(&mut p.callbacks);
                    if p.closed && cbs.is_empty() {
                        return;
                    }
                    for cb in cbs {
                        cb.log_io_completed(Err(std::io::Error::other("edit log failed earlier")));
                    }
                    p.buf.clear();
                    drop(self.arrived.wait(p).unwrap_or_else(|e| e.into_inner()));
                }
            }
        }
    }
}
