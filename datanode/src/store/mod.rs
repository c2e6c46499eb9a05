//! The block store: sled is the store of record, replica bytes live in plain files.
//!
//! For each replica sled holds a `ReplicaRecord` (state, generation stamp, length and the
//! CRC32C of every chunk), keyed by block id. The bytes live in `blocks/XX/blk_ID`, a file the
//! record owns. Measured here (docs/BENCHMARKS.md, `blockstore` bench): bytes stored as sled
//! values took 1.4-2.9x their size on disk, resident memory grew with the data, and writes ran at
//! a third to a half of a plain file's speed, so only the small records go to sled.
//!
//! Life of a replica: `create` writes an `Rbw` ("replica being written") record and an empty
//! file; the writer appends verified packets; `finalize` fsyncs the file, then writes the
//! `Finalized` record with its checksums and flushes sled. A replica is acknowledged only after
//! that, so a finalized record always points at durable bytes. A writer that stops without
//! finalizing (its pipeline broke, its client died) leaves the `Rbw` record with what it had
//! written: the client may resume it (pipeline recovery, [`BlockStore::recover`]) or the
//! namenode may close it at the length every holder has (block recovery,
//! [`BlockStore::recovery_length`] and [`BlockStore::finalize_recovered`]). Unfinished replicas
//! are reported as such; the namenode has those it no longer needs deleted.
//!
//! This file holds the store itself (opening, identity, usage, listing, deleting, and the rule
//! of one writer per replica); the rest is split by activity: `records` (the sled encoding),
//! `writer` (creating and appending), `recovery` (pipeline and block recovery), `reader`
//! (verified reads), `error` (the error type and its gRPC status).
//!
//! All methods block (file and sled I/O): call them from blocking threads, or through
//! [`BlockStore::blocking`].

mod error;
mod reader;
mod records;
mod recovery;
mod writer;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use hdfs_proto::{BlockId, GenStamp};

use error::{Result, io};
use records::{decode, encode, key, key_to_block, state_of};

pub use error::StoreError;
pub use reader::ReplicaReader;
pub use records::ReplicaInfo;
use records::{ReplicaRecord, ReplicaState};
pub use writer::ReplicaWriter;

/// Path of a replica's bytes under a datanode's data dir (also used by tools and tests that
/// inspect or damage replicas on purpose).
pub fn replica_path(data_dir: &Path, block: u64) -> PathBuf {
    data_dir.join("blocks").join(format!("{:02x}", block & 0xff)).join(format!("blk_{block}"))
}

/// Free space kept for the index beyond `--reserved`: replica files meet a full volume first.
/// A replica write that fails for space is recoverable (the replica is dropped, the client's
/// pipeline moves on); a sled write that fails for space is not: sled keeps the error and
/// refuses every later write until it is reopened (issue 15: a datanode wedged after
/// `hit error while writing iobuf`). Records and their flushes are small, so this much is
/// ample.
pub const INDEX_HEADROOM: u64 = 32 << 20;

struct Inner {
    /// Blocks with a writer open: one writer per replica at a time.
    writing: Mutex<HashSet<BlockId>>,
    released: Condvar,
    dir: PathBuf,
    db: sled::Db,
    replicas: sled::Tree,
    meta: sled::Tree,
    /// Bytes of finalized replicas, kept as they change (for heartbeats and metrics).
    used: AtomicU64,
    /// Records by state, kept as records are written and removed (for the datanode's page,
    /// which must not read every record).
    finalized: AtomicU64,
    unfinished: AtomicU64,
    /// Bytes of the volume kept free (`--reserved`, HDFS's `dfs.datanode.du.reserved`).
    reserved: AtomicU64,
}

/// How many replicas the store holds, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicaCounts {
    pub finalized: u64,
    pub unfinished: u64,
}

/// Cheap to clone; every clone is the same store.
#[derive(Clone)]
pub struct BlockStore {
    inner: Arc<Inner>,
}

impl BlockStore {
    /// Opens the store in `dir`, removing replicas that were never finalized.
    pub fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir.join("blocks")).map_err(io("create", dir))?;
        // The records are small; a modest cache keeps resident memory flat.
        let db = sled::Config::new().path(dir.join("index")).cache_capacity(16 << 20).open()?;
        let replicas = db.open_tree("replicas")?;
        let meta = db.open_tree("meta")?;
        let inner = Inner {
            writing: Mutex::new(HashSet::new()),
            released: Condvar::new(),
            dir: dir.to_path_buf(),
            db,
            replicas,
            meta,
            used: AtomicU64::new(0),
            finalized: AtomicU64::new(0),
            unfinished: AtomicU64::new(0),
            reserved: AtomicU64::new(0),
        };
        let store = Self { inner: Arc::new(inner) };
        let mut used = 0;
        for item in store.inner.replicas.iter() {
            let (k, v) = item?;
            let rec = decode(key_to_block(&k)?, &v)?;
            store.count(Some(rec.state), 1);
            if rec.state == ReplicaState::Finalized {
                used += rec.len;
            }
        }
        store.inner.used.store(used, Ordering::Relaxed);
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs `f` on a blocking thread: the way async code calls the store.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&BlockStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store)).await?
    }

    /// The datanode's stable identity, created on first use and kept in the store.
    pub fn datanode_id(&self) -> Result<String> {
        if let Some(v) = self.inner.meta.get("datanode_id")? {
            return Ok(String::from_utf8_lossy(&v).into_owned());
        }
        let id = uuid::Uuid::new_v4().to_string();
        self.inner.meta.insert("datanode_id", id.as_bytes())?;
        self.inner.db.flush()?;
        Ok(id)
    }

    /// Bytes of finalized replicas.
    pub fn used_bytes(&self) -> u64 {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Keeps `bytes` of the volume free: replicas are refused before they would use them.
    pub fn set_reserved(&self, bytes: u64) {
        self.inner.reserved.store(bytes, Ordering::Relaxed);
    }

    /// Bytes of the volume replicas may not use: `--reserved` plus [`INDEX_HEADROOM`].
    fn kept_free(&self) -> u64 {
        self.inner.reserved.load(Ordering::Relaxed).saturating_add(INDEX_HEADROOM)
    }

    /// The volume holding the store: its size and the bytes free to this process, or `None`
    /// if it cannot be read.
    fn volume(&self) -> Option<(u64, u64)> {
        let s = rustix::fs::statvfs(self.dir()).ok()?;
        Some((s.f_blocks.saturating_mul(s.f_frsize), s.f_bavail.saturating_mul(s.f_frsize)))
    }

    /// (capacity, bytes left for replicas: free space less what is kept free), both 0 if the
    /// volume cannot be read. The namenode places no replica on a node with less than a block
    /// left.
    pub fn disk_space(&self) -> (u64, u64) {
        self.volume().map_or((0, 0), |(capacity, free)| (capacity, free.saturating_sub(self.kept_free())))
    }

    /// Refuses `more` bytes of replica data if they would eat into the space kept free. Checked
    /// before every new replica and every packet, so the volume fills with replica bytes (a
    /// refusal the client's pipeline recovers from) and never under the index. A volume that
    /// cannot be read is let through: the write itself will say.
    fn check_space(&self, more: u64) -> Result<()> {
        let Some((_, free)) = self.volume() else { return Ok(()) };
        let keep = self.kept_free();
        if free < keep.saturating_add(more) {
            return Err(StoreError::DiskFull { free, keep });
        }
        Ok(())
    }

    /// A finalized replica of `len` bytes came (`true`) or went (the count of replicas follows
    /// the records: [`Self::count`]).
    fn count_finalized(&self, len: u64, came: bool) {
        if came {
            self.inner.used.fetch_add(len, Ordering::Relaxed);
        } else {
            self.inner.used.fetch_sub(len, Ordering::Relaxed);
        }
    }

    /// Replicas held, finalized and unfinished.
    pub fn counts(&self) -> ReplicaCounts {
        ReplicaCounts {
            finalized: self.inner.finalized.load(Ordering::Relaxed),
            unfinished: self.inner.unfinished.load(Ordering::Relaxed),
        }
    }

    /// Adds `delta` (1 or -1, as a wrapping add) to the count of records in `state`.
    fn count(&self, state: Option<ReplicaState>, delta: u64) {
        let counter = match state {
            Some(ReplicaState::Finalized) => &self.inner.finalized,
            Some(ReplicaState::Rbw) => &self.inner.unfinished,
            None => return,
        };
        counter.fetch_add(delta, Ordering::Relaxed);
    }

    /// Where the bytes of `block` live.
    fn path(&self, block: BlockId) -> PathBuf {
        replica_path(&self.inner.dir, block.0)
    }

    /// Marks `block` as being written, waiting up to `wait` for a previous writer to let go.
    fn claim(&self, block: BlockId, wait: Duration) -> Result<Claim<'_>> {
        let deadline = std::time::Instant::now() + wait;
        let mut writing = self.inner.writing.lock().unwrap_or_else(|p| p.into_inner());
        while writing.contains(&block) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::Busy(block));
            }
            writing = self.inner.released.wait_timeout(writing, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        writing.insert(block);
        Ok(Claim { store: self, block, armed: true })
    }

    fn release(&self, block: BlockId) {
        self.inner.writing.lock().unwrap_or_else(|p| p.into_inner()).remove(&block);
        self.inner.released.notify_all();
    }

    /// Deletes a replica (record first, so a crash leaves at worst an unowned file, which is
    /// harmless). Returns what was deleted.
    ///
    /// Only a replica of generation `up_to` or older is deleted, and none that a writer has open:
    /// the namenode asks with the generation it knows, and a replica recovered under a newer
    /// stamp since (pipeline recovery) is not the one it meant.
    pub fn delete(&self, block: BlockId, up_to: GenStamp) -> Result<Option<ReplicaInfo>> {
        let _claimed = self.claim(block, Duration::ZERO)?;
        match self.record(block)? {
            Some(rec) if rec.gen_stamp() <= up_to => {}
            _ => return Ok(None),
        }
        let Some(old) = self.inner.replicas.remove(key(block))? else {
            return Ok(None);
        };
        let rec = decode(block, &old)?;
        self.count(Some(rec.state), u64::MAX);
        self.remove_files(block)?;
        if rec.state == ReplicaState::Finalized {
            self.count_finalized(rec.len, false);
        }
        Ok(Some(rec.info(block)))
    }

    /// Every replica, finalized and unfinished, for a full block report.
    pub fn list(&self) -> Result<(Vec<ReplicaInfo>, Vec<ReplicaInfo>)> {
        let (mut finalized, mut unfinished) = (Vec::new(), Vec::new());
        for item in self.inner.replicas.iter() {
            let (k, v) = item?;
            let block = key_to_block(&k)?;
            let rec = decode(block, &v)?;
            match rec.state {
                ReplicaState::Finalized => finalized.push(rec.info(block)),
                ReplicaState::Rbw => unfinished.push(rec.info(block)),
            }
        }
        Ok((finalized, unfinished))
    }

    fn record(&self, block: BlockId) -> Result<Option<ReplicaRecord>> {
        self.inner.replicas.get(key(block))?.map(|v| decode(block, &v)).transpose()
    }

    fn put_record(&self, block: BlockId, rec: &ReplicaRecord) -> Result<()> {
        let old = self.inner.replicas.insert(key(block), encode(block, rec)?)?;
        let old = old.and_then(|v| state_of(&v));
        if old != Some(rec.state) {
            self.count(old, u64::MAX);
            self.count(Some(rec.state), 1);
        }
        Ok(())
    }

    fn remove_files(&self, block: BlockId) -> Result<()> {
        let path = self.path(block);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &path)(e)),
        }
    }
}

/// A block claimed for writing; released when dropped, unless a writer took it over
/// ([`Claim::disarm`]): then the writer releases it when it goes.
struct Claim<'a> {
    store: &'a BlockStore,
    block: BlockId,
    armed: bool,
}

impl Claim<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.store.release(self.block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdfs_proto::BlockRef;
    use hdfs_proto::checksum::{BYTES_PER_CHECKSUM, chunk_checksums};

    /// A store in a new temporary directory (kept as long as the `TempDir` lives).
    pub(super) fn temp_store() -> (tempfile::TempDir, BlockStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::open(dir.path()).unwrap();
        (dir, store)
    }

    /// The store in `dir` opened again after the last handle was dropped. sled's flusher
    /// thread lets go of the directory's lock a moment after the last handle goes, so a
    /// reopen at once can find it held: wait for it (bounded), as a restarted datanode would.
    pub(crate) fn reopen(dir: &Path) -> BlockStore {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match BlockStore::open(dir) {
                Ok(store) => return store,
                Err(e) if e.to_string().contains("could not acquire lock") && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("reopen {}: {e}", dir.display()),
            }
        }
    }

    /// Writes and finalizes a replica of `block` at generation 1.
    pub(super) fn write(store: &BlockStore, block: u64, data: &[u8]) -> ReplicaInfo {
        let mut w = store.create(BlockRef::new(block, 1)).unwrap();
        w.append(0, data, &chunk_checksums(data, BYTES_PER_CHECKSUM)).unwrap();
        w.finalize().unwrap()
    }

    #[test]
    fn write_finalize_read_back_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..BYTES_PER_CHECKSUM * 3 + 17).map(|i| (i * 7) as u8).collect();
        let id = {
            let store = BlockStore::open(dir.path()).unwrap();
            let info = write(&store, 42, &data);
            assert_eq!(info.len, data.len() as u64);
            store.datanode_id().unwrap()
        };
        let store = reopen(dir.path());
        assert_eq!(store.datanode_id().unwrap(), id, "identity is stable");
        assert_eq!(store.used_bytes(), data.len() as u64);
        assert_eq!(store.counts().finalized, 1, "counted again at open");
        assert_eq!(store.list().unwrap().0, vec![ReplicaInfo { block: BlockRef::new(42, 1), len: data.len() as u64 }]);
        let mut r = store.open_reader(BlockRef::new(42, 1)).unwrap();
        let (got, sums) = r.read_chunks(BYTES_PER_CHECKSUM as u64, 1 << 20).unwrap();
        assert_eq!(got, &data[BYTES_PER_CHECKSUM..]);
        assert_eq!(sums.len(), 3);
        assert!(matches!(store.open_reader(BlockRef::new(42, 2)), Err(StoreError::WrongGeneration { .. })));
    }

    #[test]
    fn delete_removes_record_file_and_usage() {
        let (dir, store) = temp_store();
        write(&store, 3, b"hello");
        assert_eq!((store.used_bytes(), store.counts().finalized), (5, 1));
        assert!(store.delete(BlockId(3), GenStamp(0)).unwrap().is_none(), "a newer generation than asked is kept");
        assert_eq!(store.delete(BlockId(3), GenStamp(1)).unwrap().map(|i| i.len), Some(5));
        assert_eq!((store.used_bytes(), store.counts().finalized), (0, 0));
        assert!(store.delete(BlockId(3), GenStamp(1)).unwrap().is_none());
        assert!(!replica_path(dir.path(), 3).exists());
    }

    #[test]
    fn replicas_are_counted_by_state_as_records_change() {
        let (dir, store) = temp_store();
        write(&store, 1, b"one");
        write(&store, 2, b"two");
        let w = store.create(BlockRef::new(3, 1)).unwrap();
        assert_eq!(store.counts(), ReplicaCounts { finalized: 2, unfinished: 1 });
        drop(w);
        assert_eq!(store.counts(), ReplicaCounts { finalized: 2, unfinished: 1 }, "kept as unfinished");
        store.delete(BlockId(1), GenStamp(1)).unwrap();
        assert_eq!(store.counts(), ReplicaCounts { finalized: 1, unfinished: 1 });
        drop(store);
        let store = reopen(dir.path());
        assert_eq!(store.counts(), ReplicaCounts { finalized: 1, unfinished: 1 }, "counted again at open");
    }
}
