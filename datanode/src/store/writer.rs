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
        self.check_space(0)?;
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

    /// Verifies `data` against `checksums` (one per piece of it between the block's chunk
    /// boundaries, see `hdfs_proto::packet::aligned_checksums`) and appends it at `offset`,
    /// which must be the current length. Data that continues a partial last chunk (after an
    /// hflush, or on an append) is checked against its own checksum, then folded into the
    /// stored chunk's.
    pub fn append(&mut self, offset: u64, data: &[u8], checksums: &[u32]) -> Result<()> {
        let block = self.block;
        if offset != self.rec.len {
            return Err(StoreError::OutOfOrder { block, expected: self.rec.len, got: offset });
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.rec.len + data.len() as u64 > hdfs_proto::MAX_BLOCK_SIZE {
            return Err(StoreError::TooLarge { block });
        }
        let chunk = BYTES_PER_CHECKSUM as u64;
        let head = ((chunk - offset % chunk) % chunk).min(data.len() as u64) as usize;
        let bad = |source| StoreError::Checksum { block, offset, source };
        let (head_sum, rest_sums) = match (head, checksums.split_first()) {
            (0, _) => (None, checksums),
            (_, Some((&first, rest))) => {
                checksum::verify(&data[..head], head, &[first]).map_err(bad)?;
                (Some(crc32c::crc32c_append(*self.rec.checksums.last().unwrap_or(&0), &data[..head])), rest)
            }
            (_, None) => return Err(bad(checksum::VerifyError::CountMismatch { chunks: 1, checksums: 0 })),
        };
        checksum::verify(&data[head..], BYTES_PER_CHECKSUM, rest_sums).map_err(bad)?;
        self.store.check_space(data.len() as u64)?;
        self.file.write_all(data).map_err(io("write", &self.path))?;
        self.rec.len += data.len() as u64;
        if let (Some(sum), Some(last)) = (head_sum, self.rec.checksums.last_mut()) {
            *last = sum;
        }
        self.rec.checksums.extend_from_slice(rest_sums);
        Ok(())
    }

    /// hflush: makes what was appended so far readable (the record, with its length and
    /// checksums, is what readers go by; no fsync: hflush promises visibility, not durability).
    pub fn persist(&mut self) -> Result<()> {
        self.store.put_record(self.block, &self.rec)
    }

    /// Makes the replica durable and visible: fsync the bytes, then the finalized record.
    pub fn finalize(mut self) -> Result<ReplicaInfo> {
        self.file.sync_all().map_err(io("fsync", &self.path))?;
        self.rec.state = ReplicaState::Finalized;
        self.store.put_record(self.block, &self.rec)?;
        self.store.inner.db.flush()?;
        self.finalized = true;
        self.store.count_finalized(self.rec.len, true);
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
        assert!(
            matches!(w.append(100, &data, &[]), Err(StoreError::Checksum { .. })),
            "the piece's checksum is missing"
        );
        w.finalize().unwrap();
        assert!(matches!(store.create(BlockRef::new(1, 1)), Err(StoreError::AlreadyExists(BlockId(1)))));
    }

    #[test]
    fn a_full_volume_refuses_replicas_and_takes_them_again_once_space_is_back() {
        let (_dir, store) = temp_store();
        let data = vec![7u8; 1000];
        let sums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        let mut w = store.create(BlockRef::new(1, 1)).unwrap();
        w.append(0, &data, &sums).unwrap();
        // The volume "fills": everything it has is to be kept free.
        let (capacity, left) = store.disk_space();
        assert!(capacity > 0 && left > 0);
        store.set_reserved(capacity);
        assert_eq!(store.disk_space().1, 0, "reported full");
        assert!(matches!(w.append(1000, &data, &sums), Err(StoreError::DiskFull { .. })));
        assert!(matches!(store.create(BlockRef::new(2, 1)), Err(StoreError::DiskFull { .. })));
        let status = tonic::Status::from(store.create(BlockRef::new(2, 1)).err().unwrap());
        assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
        assert!(status.message().contains("volume full"), "{status:?}");
        // Space is back: the same store, with no reopening, writes again, the first replica too.
        store.set_reserved(0);
        w.append(1000, &data, &sums).unwrap();
        assert_eq!(w.finalize().unwrap().len, 2000);
        let mut w2 = store.create(BlockRef::new(2, 1)).unwrap();
        w2.append(0, &data, &sums).unwrap();
        w2.finalize().unwrap();
        assert_eq!(store.counts().finalized, 2);
    }

    #[test]
    fn continues_a_partial_chunk_and_readers_see_what_was_persisted() {
        let (_dir, store) = temp_store();
        let c = BYTES_PER_CHECKSUM;
        let data: Vec<u8> = (0..c * 2 + 300).map(|i| (i % 251) as u8).collect();
        let mut w = store.create(BlockRef::new(4, 1)).unwrap();
        // Pieces that start and end inside chunks, as hflushes leave them.
        let mut at = 0;
        for cut in [100, c - 7, c + 20, data.len()] {
            let piece = &data[at..cut];
            w.append(at as u64, piece, &hdfs_proto::packet::aligned_checksums(at as u64, piece)).unwrap();
            w.persist().unwrap();
            assert_eq!(store.visible_length(BlockRef::new(4, 1)).unwrap(), cut as u64);
            let (got, _) = store.open_reader(BlockRef::new(4, 1)).unwrap().read_chunks(0, 1 << 20).unwrap();
            assert_eq!(got, &data[..cut], "readable up to the last hflush");
            at = cut;
        }
        let info = w.finalize().unwrap();
        assert_eq!(info.len, data.len() as u64);
        assert_eq!(store.record(BlockId(4)).unwrap().unwrap().checksums, chunk_checksums(&data, c));
    }
}
