//! Durable namespace: an append-only edit log of [`Op`]s in segment files, made durable by one
//! syncer thread (group commit), and fsimage checkpoints.
//!
//! A mutation is appended to an in-memory buffer while the namespace lock is held, so log order
//! is apply order; the caller then awaits [`LogSync::wait`] for its index *outside* the lock.
//! The syncer thread takes whatever has accumulated, writes it to the current segment and
//! `fdatasync`s it, then publishes the last index it made durable: every op that arrived while the
//! previous sync ran shares the next one, so concurrency raises throughput instead of queueing
//! (HDFS's `logSync`). A failed write or sync poisons the log: every waiter gets an error and
//! the namesystem refuses further mutations.
//!
//! By file: [`sync`](self::sync) (the group-commit syncer), [`segment`](self::segment) (record
//! format, reading and repairing segments), [`image`](self::image) (the fsimage),
//! [`lock`](self::lock) (one namenode per directory); this file opens, appends and checkpoints.
//!
//! A checkpoint writes the
//! whole namespace to `fsimage` (a temp file, fsync, rename, fsync of the directory), after
//! rolling to a new segment, then deletes the older segments. Start-up loads the image and
//! replays the records after it. A record cut short at the very end of the last segment is what a
//! crash in the middle of a write leaves: it was never acknowledged, so it is dropped (the file
//! is truncated there). Anything else that does not check out is refused with its index.

mod image;
mod lock;
mod segment;
mod sync;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use image::{read_image, write_image};
pub use lock::in_use;
use lock::lock_dir;
use segment::{list_segments, read_segment, segment_path};
pub use sync::LogSync;
use sync::{Pending, Shared};

use crate::error::{Error, Result};
use crate::namespace::{Namespace, Op};

pub struct EditLog {
    dir: PathBuf,
    /// The directory's lock: two namenodes appending to one segment would garble it.
    _lock: fs::File,
    shared: Arc<Shared>,
    syncer: Option<std::thread::JoinHandle<()>>,
    next_index: u64,
    since_checkpoint: u64,
    /// First index of the open segment.
    segment_first: u64,
}

impl EditLog {
    /// Opens (or creates) the log in `dir` and rebuilds the namespace from image and log.
    pub fn open(dir: &Path) -> Result<(Self, Namespace)> {
        fs::create_dir_all(dir).map_err(|e| Error::storage("create", dir, e))?;
        let lock = lock_dir(dir)?;
        let old = dir.join("editlog");
        if old.exists() {
            // Written by the first version, which kept the log in sled: ignoring it would lose
            // every op since the last image without a word.
            return Err(Error::storage_refused(format!(
                "refusing to start: {}: an edit log in the earlier sled format; this version reads only edits-* segments",
                old.display()
            )));
        }
        let (image_index, mut ns) = match read_image(dir)? {
            Some(img) => (img.last_index, img.namespace),
            None => (0, Namespace::default()),
        };
        let segments = list_segments(dir)?;
        let mut last_index = image_index;
        let mut replayed = 0;
        for (n, (first, path)) in segments.iter().enumerate() {
            let is_last = n + 1 == segments.len();
            for (index, op) in read_segment(path, is_last)? {
                if index <= image_index {
                    continue;
                }
                if index != last_index + 1 {
                    return Err(Error::CorruptLog { index, reason: format!("gap after record {last_index}") });
                }
                ns.apply(&op)
                    .map_err(|e| Error::CorruptLog { index, reason: format!("{op:?} does not apply: {e}") })?;
                last_index = index;
                replayed += 1;
            }
            tracing::debug!(segment = %path.display(), first, "segment replayed");
        }
        tracing::info!(dir = %dir.display(), last_index, replayed, inodes = ns.inode_count(), "namespace loaded");
        // Appends go to the last segment if there is one, else to a new one.
        let (segment_first, path) = match segments.last() {
            Some((first, path)) => (*first, path.clone()),
            None => (last_index + 1, segment_path(dir, last_index + 1)),
        };
        let segment = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::storage("open", &path, e))?;
        sync_dir(dir)?;
        let (synced, _) = tokio::sync::watch::channel(last_index);
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending { last_index, ..Default::default() }),
            arrived: Condvar::new(),
            segment: Mutex::new(segment),
            synced,
            failed: AtomicBool::new(false),
        });
        let syncer = std::thread::Builder::new()
            .name("editlog-sync".into())
            .spawn({
                let shared = shared.clone();
                move || shared.run_syncer()
            })
            .map_err(|e| Error::storage("start the syncer for", dir, e))?;
        let log = Self {
            dir: dir.to_path_buf(),
            _lock: lock,
            shared,
            syncer: Some(syncer),
            next_index: last_index + 1,
            since_checkpoint: replayed,
            segment_first,
        };
        Ok((log, ns))
    }

    /// Appends `op` (not yet durable: wait on [`LogSync::wait`] before acknowledging).
    pub fn append(&mut self, op: &Op) -> Result<u64> {
        if self.shared.failed.load(Ordering::Acquire) {
            return Err(Error::storage_refused("edit log write failed earlier; restart the namenode"));
        }
        let index = self.next_index;
        {
            let mut p = self.shared.lock_pending();
            segment::encode(index, op, &mut p.buf)?;
            p.last_index = index;
        }
        self.shared.arrived.notify_one();
        self.next_index += 1;
        self.since_checkpoint += 1;
        Ok(index)
    }

    /// The handle that waits for durability.
    pub fn sync_handle(&self) -> LogSync {
        LogSync::new(self.shared.clone())
    }

    /// Whether enough records have accumulated for a checkpoint: `every`, or as many as the
    /// namespace has inodes if that is more, so that replay never costs much more than loading
    /// the image and checkpoints cost O(1) per op however large the namespace grows.
    pub fn needs_checkpoint(&self, every: u64, inodes: usize) -> bool {
        self.since_checkpoint >= every.max(inodes as u64)
    }

    /// Writes `ns` (which must include every appended record) as the new image, and drops the
    /// segments it makes redundant.
    pub fn checkpoint(&mut self, ns: &Namespace) -> Result<()> {
        let last_index = self.next_index - 1;
        // Roll: what is pending goes to the old segment; appends from now on to a new one.
        let new_first = self.next_index;
        if new_first != self.segment_first {
            let path = segment_path(&self.dir, new_first);
            let mut segment = self.shared.segment.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = self.shared.flush(&mut segment) {
                self.shared.fail(&e);
                return Err(Error::storage("write", &segment_path(&self.dir, self.segment_first), e));
            }
            *segment = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| Error::storage("create", &path, e))?;
            sync_dir(&self.dir)?;
            self.segment_first = new_first;
        }
        write_image(&self.dir, last_index, ns)?;
        for (first, path) in list_segments(&self.dir)? {
            if first < self.segment_first {
                fs::remove_file(&path).map_err(|e| Error::storage("remove", &path, e))?;
            }
        }
        self.since_checkpoint = 0;
        tracing::info!(last_index, inodes = ns.inode_count(), "checkpoint written");
        Ok(())
    }
}

impl Drop for EditLog {
    /// Lets the syncer write what is pending, then stops it.
    fn drop(&mut self) {
        self.shared.lock_pending().closed = true;
        self.shared.arrived.notify_one();
        if let Some(t) = self.syncer.take() {
            let _ = t.join();
        }
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::storage("sync", dir, e))
}

#[cfg(test)]
mod tests;
