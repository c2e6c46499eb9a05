//! Writing a replica: [`BlockStore::create`] and the [`ReplicaWriter`] that appends verified
//! packets and finalizes.
//!
//! Every packet is verified against its checksums before a byte of it is written, so a replica
//! only ever holds data that arrived intact (HDFS's `BlockReceiver` checks the same way on every
//! node of a pipeline). Finalizing is the durability point: fsync the file, then write the
//! `Finalized` record and flush sled, in that order, so a finalized record never points at bytes
//! a crash could lose.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hdfs_proto::checksum::{self, BYTES_PER_CHECKSUM};
use hdfs_proto::{BlockId, BlockRef};

use super::error::{Result, StoreError, io};
use super::records::{ReplicaInfo, ReplicaRecord, ReplicaState};
use super::{BlockStore, Claim};

impl BlockStore {
    /// Starts a new replica. A finalized replica of the same block is refused; a stale
    /// unfinished one is replaced.
    pub fn create(&self, block: BlockRef) -> Result<ReplicaWriter> {
        let id = block.id;
        let claimed = self.claim(id, Duration::ZERO)?;
        if let Some(rec) = self.record(id)?
            && rec.state == ReplicaState::Finalized
        {
            return Err(StoreError::AlreadyExists(id));
        }
        let rec = ReplicaRecord {
            state: ReplicaState::Rbw,
            generation_stamp: block.gen_stamp.0,
            len: 0,
            bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
            checksums: Vec::new(),
        };
        self.put_record(id, &rec)?;
        let path = self.path(id);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        let file = File::create(&path).map_err(io("create", &path))?;
        Ok(ReplicaWriter::new(claimed, file, path, rec))
    }
}

/// Appends verified packets to a replica being written; dropping it unfinalized keeps what it
/// wrote as an unfinished replica.
pub struct ReplicaWriter {
    store: BlockStore,
    block: BlockId,
    file: File,
    path: PathBuf,
    rec: ReplicaRecord,
    finalized: bool,
}

impl ReplicaWriter {
    /// A writer taking over `claimed` (it releases the block when it goes).
    pub(super) fn new(claimed: Claim<'_>, file: File, path: PathBuf, rec: ReplicaRecord) -> Self {
        let (store, block) = (claimed.store.clone(), claimed.block);
        claimed.disarm();
        Self { store, block, file, path, rec, finalized: false }
    }

    pub fn len(&self) -> u64 {
        self.rec.len
    }

    pub fn is_empty(&self) -> bool {
        self.rec.len == 0
    }

    /// Verifies `data` against `checksums` (one per chunk) and appends it at `offset`, which
    /// must be the current length.
    pub fn append(&mut self, offset: u64, data: &[u8], checksums: &[u32]) -> Result<()> {
        let block = self.block;
        if offset != self.rec.len {
            return Err(StoreError::OutOfOrder { block, expected: self.rec.len, got: offset });
        }
        if data.is_empty() {
            return Ok(());
        }
        if !self.rec.len.is_multiple_of(BYTES_PER_CHECKSUM as u64) {
            return Err(StoreError::AfterPartialChunk { block });
        }
        if self.rec.len + data.len() as u64 > hdfs_proto::MAX_BLOCK_SIZE {
            return Err(StoreError::TooLarge { block });
        }
        checksum::verify(data, BYTES_PER_CHECKSUM, checksums).map_err(|source| StoreError::Checksum {
            block,
            offset,
            source,
        })?;
        self.file.write_all(data).map_err(io("write", &self.path))?;
        self.rec.len += data.len() as u64;
        self.rec.checksums.extend_from_slice(checksums);
        Ok(())
    }

    /// Makes the replica durable and visible: fsync the bytes, then the finalized record.
    pub fn finalize(mut self) -> Result<ReplicaInfo> {
        self.file.sync_all().map_err(io("fsync", &self.path))?;
        self.rec.state = ReplicaState::Finalized;
        self.store.put_record(self.block, &self.rec)?;
        self.store.inner.db.flush()?;
        self.finalized = true;
        self.store.inner.used.fetch_add(self.rec.len, Ordering::Relaxed);
        Ok(self.rec.info(self.block))
    }
}

impl Drop for ReplicaWriter {
    /// A writer stopped before finalizing: keep what it wrote, as an unfinished replica that
    /// pipeline or block recovery can pick up.
    fn drop(&mut self) {
        if !self.finalized
            && let Err(e) = self.store.put_record(self.block, &self.rec)
        {
            tracing::warn!(block = %self.block, error = %e, "could not record an unfinished replica");
        }
        self.store.release(self.block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::temp_store;
    use hdfs_proto::checksum::chunk_checksums;

    #[test]
    fn refuses_bad_packets() {
        let (_dir, store) = temp_store();
        let mut w = store.create(BlockRef::new(1, 1)).unwrap();
        let data = vec![1u8; 100];
        let sums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        assert!(matches!(w.append(5, &data, &sums), Err(StoreError::OutOfOrder { .. })));
        assert!(matches!(w.append(0, &data, &[sums[0] ^ 1]), Err(StoreError::Checksum { .. })));
        assert!(matches!(w.append(0, &data, &[]), Err(StoreError::Checksum { .. })));
        w.append(0, &data, &sums).unwrap();
        assert!(matches!(w.append(100, &data, &sums), Err(StoreError::AfterPartialChunk { .. })));
        w.finalize().unwrap();
        assert!(matches!(store.create(BlockRef::new(1, 1)), Err(StoreError::AlreadyExists(BlockId(1)))));
    }
}
