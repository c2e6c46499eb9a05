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
//! A record is `[len u32][crc32c u32][index u64][bincode op]` (little-endian; the CRC covers
//! index and op). Segments are named `edits-<first index>` (20 digits). A checkpoint writes the
//! whole namespace to `fsimage` (a temp file, fsync, rename, fsync of the directory), after
//! rolling to a new segment, then deletes the older segments. Start-up loads the image and
//! replays the records after it. A record cut short at the very end of the last segment is what a
//! crash in the middle of a write leaves: it was never acknowledged, so it is dropped (the file
//! is truncated there). Anything else that does not check out is refused with its index.

use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::namespace::{Namespace, Op};

const IMAGE_FILE: &str = "fsimage";
const IMAGE_MAGIC: &[u8; 8] = b"HDFSIMG1";
const SEGMENT_PREFIX: &str = "edits-";
/// Held (an exclusive `flock`) for as long as a namenode has the directory open.
pub const LOCK_FILE: &str = "in_use.lock";
/// Record header: length and CRC.
const HEADER: usize = 8;
/// No op encodes anywhere near this; a larger length is garbage.
const MAX_RECORD: u32 = 1 << 20;

#[derive(Serialize, Deserialize)]
struct Image {
    /// Index of the last log record the image includes.
    last_index: u64,
    namespace: Namespace,
}

fn io_err(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("{what} {}: {e}", path.display()))
}

/// Records appended but not yet handed to the syncer.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    last_index: u64,
    closed: bool,
}

/// What the syncer thread and the appenders share.
struct Shared {
    pending: Mutex<Pending>,
    arrived: Condvar,
    /// The open segment; held by the syncer while it writes, and by a checkpoint while it rolls.
    segment: Mutex<fs::File>,
    /// The highest index known durable.
    synced: tokio::sync::watch::Sender<u64>,
    failed: AtomicBool,
}

impl Shared {
    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes out and syncs everything pending to the open segment.
    fn flush(&self, segment: &mut fs::File) -> std::io::Result<()> {
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

    fn fail(&self, e: &std::io::Error) {
        tracing::error!(error = %e, "edit log write failed; the namenode refuses further mutations");
        self.failed.store(true, Ordering::Release);
        // Wake every waiter so it sees the failure.
        self.synced.send_modify(|_| {});
    }

    /// The syncer thread: waits for records, writes and syncs them, publishes the index.
    fn run_syncer(self: Arc<Self>) {
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
    /// Returns once record `index` (and all before it) is on disk.
    pub async fn wait(&self, index: u64) -> Result<()> {
        let mut rx = self.shared.synced.subscribe();
        loop {
            if self.shared.failed.load(Ordering::Acquire) {
                return Err(Error::Storage("edit log write failed; restart the namenode".into()));
            }
            if *rx.borrow_and_update() >= index {
                return Ok(());
            }
            if rx.changed().await.is_err() {
                return Err(Error::Storage("edit log closed".into()));
            }
        }
    }
}

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
        fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
        let lock = lock_dir(dir)?;
        let old = dir.join("editlog");
        if old.exists() {
            // Written by the first version, which kept the log in sled: ignoring it would lose
            // every op since the last image without a word.
            return Err(io_err(
                "refusing to start:",
                &old,
                "an edit log in the earlier sled format; this version reads only edits-* segments",
            ));
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
        let segment =
            fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io_err("open", &path, e))?;
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
            .map_err(|e| io_err("start the syncer for", dir, e))?;
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
            return Err(Error::Storage("edit log write failed earlier; restart the namenode".into()));
        }
        let index = self.next_index;
        let body = bincode::serialize(&(index, op)).map_err(|e| Error::CorruptLog { index, reason: e.to_string() })?;
        {
            let mut p = self.shared.lock_pending();
            p.buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
            p.buf.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
            p.buf.extend_from_slice(&body);
            p.last_index = index;
        }
        self.shared.arrived.notify_one();
        self.next_index += 1;
        self.since_checkpoint += 1;
        Ok(index)
    }

    /// The handle that waits for durability.
    pub fn sync_handle(&self) -> LogSync {
        LogSync { shared: self.shared.clone() }
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
                return Err(io_err("write", &segment_path(&self.dir, self.segment_first), e));
            }
            *segment =
                fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io_err("create", &path, e))?;
            sync_dir(&self.dir)?;
            self.segment_first = new_first;
        }
        write_image(&self.dir, last_index, ns)?;
        for (first, path) in list_segments(&self.dir)? {
            if first < self.segment_first {
                fs::remove_file(&path).map_err(|e| io_err("remove", &path, e))?;
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

/// Takes `dir`'s lock, or says which directory another namenode holds.
fn lock_dir(dir: &Path) -> Result<fs::File> {
    let path = dir.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_err("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => {
            Err(io_err("refusing to start:", dir, "another namenode has this data directory open"))
        }
        Err(fs::TryLockError::Error(e)) => Err(io_err("lock", &path, e)),
    }
}

/// Whether a namenode has `dir` open (its lock is held).
pub fn in_use(dir: &Path) -> bool {
    match fs::OpenOptions::new().write(true).open(dir.join(LOCK_FILE)) {
        Ok(f) => matches!(f.try_lock(), Err(fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{SEGMENT_PREFIX}{first:020}"))
}

/// The segments in `dir`, by first index.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_err("list", dir, e))? {
        let entry = entry.map_err(|e| io_err("list", dir, e))?;
        let name = entry.file_name();
        let Some(first) = name.to_str().and_then(|n| n.strip_prefix(SEGMENT_PREFIX)).and_then(|n| n.parse().ok())
        else {
            continue;
        };
        out.push((first, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// The records of one segment. In the last segment, a record cut short by the end of the file
/// is dropped and the file truncated before it.
fn read_segment(path: &Path, is_last: bool) -> Result<Vec<(u64, Op)>> {
    let bytes = fs::read(path).map_err(|e| io_err("read", path, e))?;
    let mut records = Vec::new();
    let mut at = 0;
    let mut expected = None;
    while at < bytes.len() {
        let index_hint = expected.unwrap_or(0);
        let corrupt =
            |reason: String| Error::CorruptLog { index: index_hint, reason: format!("{}: {reason}", path.display()) };
        let rest = &bytes[at..];
        let torn = if rest.len() < HEADER {
            true
        } else {
            let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
            if len > MAX_RECORD {
                return Err(corrupt(format!("record of {len} bytes at offset {at}")));
            }
            rest.len() < HEADER + len as usize
        };
        if torn {
            if !is_last {
                return Err(corrupt(format!("cut short at offset {at}")));
            }
            tracing::warn!(segment = %path.display(), offset = at, dropped = rest.len(), "dropping a record cut short by a crash");
            let f = fs::OpenOptions::new().write(true).open(path).map_err(|e| io_err("open", path, e))?;
            f.set_len(at as u64).and_then(|_| f.sync_all()).map_err(|e| io_err("truncate", path, e))?;
            break;
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        let body = &rest[HEADER..HEADER + len];
        if crc32c::crc32c(body) != crc {
            return Err(corrupt(format!("checksum mismatch at offset {at}")));
        }
        let (index, op): (u64, Op) = bincode::deserialize(body).map_err(|e| corrupt(format!("undecodable: {e}")))?;
        records.push((index, op));
        expected = Some(index + 1);
        at += HEADER + len;
    }
    Ok(records)
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_err("sync", dir, e))
}

fn read_image(dir: &Path) -> Result<Option<Image>> {
    let path = dir.join(IMAGE_FILE);
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open", &path, e)),
    };
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(|e| io_err("read", &path, e))?;
    if &magic != IMAGE_MAGIC {
        return Err(io_err("read", &path, "not an fsimage (bad magic)"));
    }
    let img: Image = bincode::deserialize_from(r).map_err(|e| io_err("decode", &path, e))?;
    Ok(Some(img))
}

fn write_image(dir: &Path, last_index: u64, ns: &Namespace) -> Result<()> {
    let path = dir.join(IMAGE_FILE);
    let tmp = dir.join(format!("{IMAGE_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
        w.write_all(IMAGE_MAGIC)?;
        #[derive(Serialize)]
        struct ImageRef<'a> {
            last_index: u64,
            namespace: &'a Namespace,
        }
        bincode::serialize_into(&mut w, &ImageRef { last_index, namespace: ns }).map_err(std::io::Error::other)?;
        w.into_inner()?.sync_all()?;
        fs::rename(&tmp, &path)?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| io_err("write", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdfs_proto::path::HdfsPath;

    fn mkdir(n: u32) -> Op {
        Op::Mkdirs { path: format!("/d{n}"), mtime_ms: 1 }
    }

    async fn append_and_apply(log: &mut EditLog, ns: &mut Namespace, op: Op) {
        ns.apply(&op).unwrap();
        let index = log.append(&op).unwrap();
        log.sync_handle().wait(index).await.unwrap();
    }

    /// A log directory holding `n` durable mkdirs (`/d0`...), its log closed.
    async fn log_of_mkdirs(n: u32) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
        for i in 0..n {
            append_and_apply(&mut log, &mut ns, mkdir(i)).await;
        }
        dir
    }

    /// The error `open` gives, which it must give.
    fn open_error(dir: &Path) -> Error {
        match EditLog::open(dir) {
            Err(e) => e,
            Ok(_) => panic!("{} opened", dir.display()),
        }
    }

    fn segments(dir: &Path) -> Vec<u64> {
        list_segments(dir).unwrap().into_iter().map(|(f, _)| f).collect()
    }

    #[tokio::test]
    async fn replays_log_over_image_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
            for i in 0..5 {
                append_and_apply(&mut log, &mut ns, mkdir(i)).await;
            }
            log.checkpoint(&ns).unwrap();
            for i in 5..8 {
                append_and_apply(&mut log, &mut ns, mkdir(i)).await;
            }
        }
        assert_eq!(segments(dir.path()), [6], "segments before the checkpoint were removed");
        let (log, ns) = EditLog::open(dir.path()).unwrap();
        for i in 0..8 {
            ns.resolve(&HdfsPath::parse(&format!("/d{i}")).unwrap()).unwrap();
        }
        assert_eq!(log.next_index, 9);
        assert_eq!(log.since_checkpoint, 3, "only the records after the image were replayed");
    }

    #[tokio::test]
    async fn concurrent_appenders_share_syncs_and_all_become_durable() {
        let dir = tempfile::tempdir().unwrap();
        let (log, mut ns) = EditLog::open(dir.path()).unwrap();
        let log = Arc::new(Mutex::new(log));
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let op = mkdir(i);
            ns.apply(&op).unwrap();
            let (index, sync) = {
                let mut l = log.lock().unwrap();
                (l.append(&op).unwrap(), l.sync_handle())
            };
            tasks.push(tokio::spawn(async move { sync.wait(index).await }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        drop(log);
        let (log, ns) = EditLog::open(dir.path()).unwrap();
        assert_eq!(log.next_index, 201);
        assert_eq!(ns.inode_count(), 201);
    }

    #[tokio::test]
    async fn a_record_cut_short_at_the_end_is_dropped() {
        let dir = log_of_mkdirs(3).await;
        let path = segment_path(dir.path(), 1);
        let full = fs::metadata(&path).unwrap().len();
        let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(full - 3).unwrap();
        let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
        assert_eq!(log.next_index, 3, "the torn third record is gone");
        assert!(ns.resolve(&HdfsPath::parse("/d2").unwrap()).is_err());
        // Appending after the truncation gives a log that replays whole.
        append_and_apply(&mut log, &mut ns, mkdir(9)).await;
        drop(log);
        let (log, _) = EditLog::open(dir.path()).unwrap();
        assert_eq!(log.next_index, 4);
    }

    #[test]
    fn one_namenode_per_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = EditLog::open(dir.path()).unwrap();
        assert!(in_use(dir.path()));
        let e = open_error(dir.path());
        assert!(e.to_string().contains("another namenode"), "{e}");
        drop(log);
        assert!(!in_use(dir.path()));
        EditLog::open(dir.path()).unwrap();
    }

    #[test]
    fn refuses_a_data_dir_with_the_old_sled_log() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("editlog")).unwrap();
        let e = open_error(dir.path());
        assert!(e.to_string().contains("earlier sled format"), "{e}");
    }

    #[tokio::test]
    async fn refuses_a_garbled_record() {
        let dir = log_of_mkdirs(3).await;
        // Flip a byte inside the second record's body.
        let path = segment_path(dir.path(), 1);
        let mut bytes = fs::read(&path).unwrap();
        let first_len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        bytes[HEADER + first_len + HEADER + 2] ^= 0xff;
        fs::write(&path, bytes).unwrap();
        match open_error(dir.path()) {
            Error::CorruptLog { index: 2, reason } => assert!(reason.contains("checksum"), "{reason}"),
            e => panic!("expected corrupt record 2, got {e}"),
        }
    }
}
