//! The edit log, which is the Raft log: openraft's log store (`RaftLogStorage`) over
//! append-only segment files made durable by one syncer thread (group commit), the vote, and the
//! fsimage, which is the Raft snapshot.
//!
//! An append is encoded into a shared buffer and readable at once; the syncer thread writes
//! whatever has accumulated to the open segment, `fdatasync`s it, and only then tells openraft
//! the entries are durable, so nothing is acknowledged (by this member's vote in a commit, or to
//! a client) before it is on disk. Every append that arrives while one sync runs shares the next.
//! The vote is written (fsynced, renamed into place) before openraft hears it is saved.
//!
//! Entries since the last purge are kept in memory too, for followers that need them; a purge
//! (openraft asks for one behind each snapshot) rolls to a new segment and deletes the segments
//! it covers. A truncation (a follower dropping entries its new leader never had) cuts the files
//! at the first dropped record.
//!
//! Start-up reads the segments back. A record cut short at the very end of the last segment is
//! what a crash in the middle of a write leaves: it was never acknowledged, so it is dropped.
//! Anything else that does not check out is refused with the file and index: a member never
//! applies a bad entry, and one whose log is damaged is moved aside by an operator and catches
//! up from its peers.
//!
//! By file: [`sync`](self::sync) (the group-commit syncer), [`segment`](self::segment) (record
//! format, reading and repairing segments), [`image`](self::image) (fsimage and `raft-meta`),
//! [`lock`](self::lock) (one namenode per directory).

mod image;
mod lock;
mod segment;
mod sync;

use std::collections::VecDeque;
use std::fmt::Debug;
use std::fs;
use std::ops::{Bound, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::{read_file, write_file};
pub use image::{read_image, write_image};
pub use lock::in_use;
use lock::lock_dir;
use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, OptionalSend, StorageIOError};
use segment::{list_segments, read_segment, segment_path};
use serde::{Deserialize, Serialize};
use sync::Shared;

use crate::error::{Error, Result};
use crate::metrics::EditLogMetrics;
use crate::raft::{Entry, LogId, StorageError, TypeConfig, Vote};

const META_FILE: &str = "raft-meta";
const META_MAGIC: &[u8; 8] = b"HDFSRFT1";

/// What `raft-meta` holds.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Meta {
    vote: Option<Vote>,
    /// The last entry dropped behind a snapshot.
    purged: Option<LogId>,
    /// A hint, written when the file is written for another reason and at shutdown: entries up
    /// to here may be applied at start-up without waiting to hear from a leader.
    committed: Option<LogId>,
}

/// How many of the newest entries are kept decoded in memory; older ones (wanted only by a
/// member catching up) are read back from their segment.
const CACHED: usize = 4096;

/// One entry after the purge point: where it sits on disk, and the entry itself while it is
/// among the newest (48 bytes a slot otherwise, so the log costs little memory per op).
struct Slot {
    log_id: LogId,
    segment: u64,
    offset: u64,
    entry: Option<Box<Entry>>,
}

/// The entries in memory, and where each sits on disk.
struct Mem {
    meta: Meta,
    /// Entries after `meta.purged`, in index order.
    entries: VecDeque<Slot>,
    /// The open segment: its first index and its length including what is pending.
    segment_first: u64,
    segment_len: u64,
    /// Position in `entries` of the first slot still holding its entry.
    cached_from: usize,
}

impl Mem {
    fn last_log_id(&self) -> Option<LogId> {
        self.entries.back().map(|s| s.log_id).or(self.meta.purged)
    }

    /// Position in `entries` of `index`.
    fn position(&self, index: u64) -> Option<usize> {
        let first = self.entries.front()?.log_id.index;
        index.checked_sub(first).map(|p| p as usize).filter(|&p| p < self.entries.len())
    }

    /// Drops the decoded entries of all but the newest [`CACHED`] slots that are on disk
    /// (`durable`: the highest index written and synced).
    fn evict(&mut self, durable: u64) {
        let keep_from = self.entries.len().saturating_sub(CACHED);
        while self.cached_from < keep_from && self.entries[self.cached_from].log_id.index <= durable {
            self.entries[self.cached_from].entry = None;
            self.cached_from += 1;
        }
    }
}

struct Inner {
    dir: PathBuf,
    mem: Mutex<Mem>,
    shared: Arc<Shared>,
}

/// The log store; clones share it (one is openraft's, others read).
#[derive(Clone)]
pub struct EditLog {
    inner: Arc<Inner>,
}

/// The syncer thread and the directory's lock (two namenodes appending to one segment would
/// garble it): dropping it writes what is pending, stops the thread, then releases the lock.
pub struct Syncer {
    thread: Option<std::thread::JoinHandle<()>>,
    shared: Arc<Shared>,
    _lock: fs::File,
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.shared.lock_pending().closed = true;
        self.shared.arrived.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn io_err(subject: ErrorSubject<u64>, verb: ErrorVerb, e: impl std::fmt::Display) -> StorageError {
    StorageIOError::new(subject, verb, openraft::AnyError::error(e)).into()
}

fn store_err(e: Error) -> StorageError {
    io_err(ErrorSubject::Logs, ErrorVerb::Write, e.detail())
}

impl EditLog {
    /// Opens (or creates) the log in `dir`. The returned guard stops the syncer when dropped.
    pub fn open(dir: &Path) -> Result<(Self, Syncer)> {
        fs::create_dir_all(dir).map_err(|e| Error::storage("create", dir, e))?;
        let lock = lock_dir(dir)?;
        for old in ["editlog", "edits-"] {
            let found = fs::read_dir(dir)
                .map_err(|e| Error::storage("list", dir, e))?
                .flatten()
                .find(|e| e.file_name().to_string_lossy().starts_with(old));
            if let Some(f) = found {
                return Err(Error::storage_refused(format!(
                    "refusing to start: {}: an edit log of an earlier format (single namenode, before the Raft log); \
                     this version reads only log-* segments",
                    f.path().display()
                )));
            }
        }
        let meta: Meta = read_file(dir, META_FILE, META_MAGIC)?.unwrap_or_default();
        // The first index a kept entry may have: the log starts at 0 (openraft's first
        // membership), or right after the purge point.
        let first_kept = meta.purged.map_or(0, |l| l.index + 1);
        let segments = list_segments(dir)?;
        let mut entries = VecDeque::new();
        let mut next = first_kept;
        for (n, (first, path)) in segments.iter().enumerate() {
            for (offset, entry) in read_segment(path, n + 1 == segments.len())? {
                let index = entry.log_id.index;
                if index < first_kept {
                    continue;
                }
                if index != next {
                    return Err(Error::CorruptLog {
                        index,
                        reason: format!("{}: expected entry {next} here (a gap)", path.display()),
                    });
                }
                next = index + 1;
                entries.push_back(Slot { log_id: entry.log_id, segment: *first, offset, entry: Some(Box::new(entry)) });
            }
        }
        let (segment_first, path) = match segments.last() {
            Some((first, path)) => (*first, path.clone()),
            None => (next, segment_path(dir, next)),
        };
        let segment = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::storage("open", &path, e))?;
        let segment_len = segment.metadata().map_err(|e| Error::storage("stat", &path, e))?.len();
        sync_dir(dir)?;
        tracing::info!(dir = %dir.display(), entries = entries.len(), next_index = next, "edit log opened");
        let shared = Arc::new(Shared::new(segment));
        let syncer = std::thread::Builder::new()
            .name("editlog-sync".into())
            .spawn({
                let shared = shared.clone();
                move || shared.run_syncer()
            })
            .map_err(|e| Error::storage("start the syncer for", dir, e))?;
        let mut mem = Mem { meta, entries, segment_first, segment_len, cached_from: 0 };
        mem.evict(next.saturating_sub(1));
        let inner = Inner { dir: dir.to_path_buf(), mem: Mutex::new(mem), shared: shared.clone() };
        Ok((Self { inner: Arc::new(inner) }, Syncer { thread: Some(syncer), shared, _lock: lock }))
    }

    fn mem(&self) -> std::sync::MutexGuard<'_, Mem> {
        self.inner.mem.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes every later write fail as on a full disk (for tests of what a member does then).
    pub fn simulate_full_disk(&self) {
        self.inner.shared.full.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Its syncs, counted and timed (clones share the counts).
    pub fn metrics(&self) -> EditLogMetrics {
        self.inner.shared.metrics.clone()
    }

    /// Whether a write or sync failed: the log then refuses everything.
    pub fn has_failed(&self) -> bool {
        self.inner.shared.has_failed()
    }

    /// The last entry's index (0 for an empty log).
    pub fn last_index(&self) -> u64 {
        self.mem().last_log_id().map_or(0, |l| l.index)
    }

    fn write_meta(&self, meta: &Meta) -> Result<()> {
        write_file(&self.inner.dir, META_FILE, META_MAGIC, meta)
    }

    /// Flushes what is pending, then runs `f` with the open segment held.
    fn with_segment_flushed<T>(&self, f: impl FnOnce(&mut fs::File, &mut Mem) -> Result<T>) -> Result<T> {
        let shared = &self.inner.shared;
        let mut segment = shared.lock_segment();
        shared.flush(&mut segment).map_err(|e| Error::storage("write", &self.inner.dir, e))?;
        let mut mem = self.mem();
        f(&mut segment, &mut mem)
    }

    /// Drops entries from `index` on, here and on disk.
    fn truncate_from(&self, index: u64) -> Result<()> {
        let dir = self.inner.dir.clone();
        self.with_segment_flushed(|segment, mem| {
            let Some(pos) = mem.position(index) else { return Ok(()) };
            let (seg_first, offset) = (mem.entries[pos].segment, mem.entries[pos].offset);
            mem.entries.truncate(pos);
            mem.cached_from = mem.cached_from.min(pos);
            for (first, path) in list_segments(&dir)? {
                if first > seg_first {
                    fs::remove_file(&path).map_err(|e| Error::storage("remove", &path, e))?;
                }
            }
            let path = segment_path(&dir, seg_first);
            let f = fs::OpenOptions::new().append(true).open(&path).map_err(|e| Error::storage("open", &path, e))?;
            f.set_len(offset).and_then(|_| f.sync_all()).map_err(|e| Error::storage("truncate", &path, e))?;
            sync_dir(&dir)?;
            *segment = f;
            mem.segment_first = seg_first;
            mem.segment_len = offset;
            tracing::info!(from = index, "log entries dropped (not in the leader's log)");
            Ok(())
        })
    }

    /// Drops entries up to `log_id` behind a snapshot: rolls to a new segment, then deletes the
    /// segments wholly covered.
    fn purge_to(&self, log_id: LogId) -> Result<()> {
        let dir = self.inner.dir.clone();
        let meta = {
            let mut mem = self.mem();
            mem.meta.purged = Some(log_id);
            mem.meta.clone()
        };
        self.write_meta(&meta)?;
        self.with_segment_flushed(|segment, mem| {
            while mem.entries.front().is_some_and(|s| s.log_id.index <= log_id.index) {
                mem.entries.pop_front();
                mem.cached_from = mem.cached_from.saturating_sub(1);
            }
            let next = mem.last_log_id().map_or(0, |l| l.index + 1);
            if mem.segment_first <= log_id.index && mem.segment_len > 0 {
                let path = segment_path(&dir, next);
                *segment = fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| Error::storage("create", &path, e))?;
                sync_dir(&dir)?;
                mem.segment_first = next;
                mem.segment_len = 0;
            }
            let segments = list_segments(&dir)?;
            for (n, (_, path)) in segments.iter().enumerate() {
                // A segment ends where the next begins; the open one is never removed.
                let Some((next_first, _)) = segments.get(n + 1) else { break };
                if next_first - 1 <= log_id.index {
                    fs::remove_file(path).map_err(|e| Error::storage("remove", path, e))?;
                }
            }
            Ok(())
        })
    }

    /// Writes the commit hint (at shutdown).
    pub fn save_hint(&self) -> Result<()> {
        let meta = self.mem().meta.clone();
        self.write_meta(&meta)
    }
}

impl RaftLogReader<TypeConfig> for EditLog {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let mem = self.mem();
        let Some(first) = mem.entries.front().map(|s| s.log_id.index) else { return Ok(Vec::new()) };
        let start = match range.start_bound() {
            Bound::Included(&i) => i,
            Bound::Excluded(&i) => i + 1,
            Bound::Unbounded => first,
        }
        .max(first);
        let mut out = Vec::new();
        let Some(from) = mem.position(start) else { return Ok(out) };
        for slot in mem.entries.range(from..) {
            if !range.contains(&slot.log_id.index) {
                break;
            }
            let entry = match &slot.entry {
                Some(e) => (**e).clone(),
                None => segment::read_at(&segment_path(&self.inner.dir, slot.segment), slot.offset)
                    .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e.detail()))?,
            };
            out.push(entry);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for EditLog {
    type LogReader = EditLog;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let mem = self.mem();
        Ok(LogState { last_purged_log_id: mem.meta.purged, last_log_id: mem.last_log_id() })
    }

    async fn get_log_reader(&mut self) -> EditLog {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let meta = {
            let mut mem = self.mem();
            mem.meta.vote = Some(*vote);
            mem.meta.clone()
        };
        self.write_meta(&meta).map_err(|e| io_err(ErrorSubject::Vote, ErrorVerb::Write, e.detail()))
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.mem().meta.vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        self.mem().meta.committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        let mem = self.mem();
        // Never past what this member holds.
        Ok(mem.meta.committed.filter(|c| mem.last_log_id().is_some_and(|l| c.index <= l.index)))
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let shared = &self.inner.shared;
        if shared.has_failed() {
            return Err(store_err(Error::storage_refused("edit log write failed earlier; restart the namenode")));
        }
        {
            let mut mem = self.mem();
            let mut p = shared.lock_pending();
            for entry in entries {
                let offset = mem.segment_len;
                let len = segment::encode(&entry, &mut p.buf).map_err(store_err)?;
                mem.segment_len += len;
                let (log_id, segment) = (entry.log_id, mem.segment_first);
                mem.entries.push_back(Slot { log_id, segment, offset, entry: Some(Box::new(entry)) });
                p.last_index = log_id.index;
            }
            p.callbacks.push(callback);
            let durable = shared.durable_index();
            mem.evict(durable);
        }
        shared.arrived.notify_one();
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.truncate_from(log_id.index).map_err(store_err)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.purge_to(log_id).map_err(store_err)
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::storage("sync", dir, e))
}

#[cfg(test)]
mod prop_files;
#[cfg(test)]
mod tests;
