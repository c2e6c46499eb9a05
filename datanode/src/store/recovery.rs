//! Recovery of unfinished replicas, both kinds HDFS has.
//!
//! - Pipeline recovery ([`BlockStore::recover`]): a client whose pipeline broke continues the
//!   block on the surviving nodes under a new generation stamp, from the length every node
//!   acknowledged; each survivor cuts its replica back to that length and keeps writing.
//! - Block recovery ([`BlockStore::recovery_length`], [`BlockStore::finalize_recovered`]): the
//!   writer is gone, and the primary holder asks each holder for its verified length, then has
//!   each cut its replica to the shortest and finalize it under the new stamp.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use hdfs_proto::{BlockId, BlockRef, GenStamp};

use super::BlockStore;
use super::error::{Result, StoreError, io};
use super::records::{ReplicaInfo, ReplicaRecord, ReplicaState};
use super::writer::ReplicaWriter;

/// How long a recovery waits for the broken pipeline's writer to let go of the replica.
const WRITER_RELEASE_WAIT: Duration = Duration::from_secs(10);

impl BlockStore {
    /// Continues an unfinished (or finalized) replica for pipeline recovery: cut back to `len`
    /// bytes, under `block`'s generation stamp. Waits a little for the broken pipeline's writer
    /// to let go.
    pub fn recover(&self, block: BlockRef, len: u64) -> Result<ReplicaWriter> {
        let id = block.id;
        let claimed = self.claim(id, WRITER_RELEASE_WAIT)?;
        let mut rec = self.record(id)?.ok_or(StoreError::NotFound(id))?;
        // Never back in time, and never a finalized replica rewritten under its own generation
        // stamp (its readers and the namenode take it as final).
        let finalized = rec.state == ReplicaState::Finalized;
        if block.gen_stamp < rec.gen_stamp() || (finalized && block.gen_stamp == rec.gen_stamp()) {
            return Err(StoreError::StaleRecovery {
                block: id,
                have: rec.gen_stamp(),
                want: block.gen_stamp,
                finalized,
            });
        }
        self.check_space(0)?;
        let path = self.path(id);
        let file = OpenOptions::new().read(true).write(true).open(&path).map_err(io("open", &path))?;
        if rec.state == ReplicaState::Finalized {
            self.count_finalized(rec.len, false);
        }
        truncate(&file, &path, id, &mut rec, len)?;
        rec.state = ReplicaState::Rbw;
        rec.generation_stamp = block.gen_stamp.0;
        self.put_record(id, &rec)?;
        let mut file = file;
        file.seek(SeekFrom::End(0)).map_err(io("seek", &path))?;
        Ok(ReplicaWriter::new(claimed, file, path, rec))
    }

    /// Block recovery, first step: the generation stamp and the length of this replica's
    /// verified prefix (bytes up to the first chunk that fails its checksum).
    pub fn recovery_length(&self, block: BlockId) -> Result<(GenStamp, u64)> {
        let rec = self.record(block)?.ok_or(StoreError::NotFound(block))?;
        let path = self.path(block);
        let mut file = File::open(&path).map_err(io("open", &path))?;
        let bpc = rec.bytes_per_checksum as usize;
        let mut good = 0u64;
        let mut buf = vec![0u8; bpc];
        for &sum in &rec.checksums {
            let n = (rec.len - good).min(bpc as u64) as usize;
            if file.read_exact(&mut buf[..n]).is_err() || crc32c::crc32c(&buf[..n]) != sum {
                break;
            }
            good += n as u64;
        }
        Ok((rec.gen_stamp(), good))
    }

    /// Block recovery, last step: cut the replica to `len`, give it `block`'s generation stamp,
    /// and finalize it.
    pub fn finalize_recovered(&self, block: BlockRef, len: u64) -> Result<ReplicaInfo> {
        self.recover(block, len)?.finalize()
    }
}

/// Cuts a replica's file and checksums to `len` bytes, recomputing the last partial chunk's.
fn truncate(file: &File, path: &Path, block: BlockId, rec: &mut ReplicaRecord, len: u64) -> Result<()> {
    if len > rec.len {
        return Err(StoreError::RecoveryTooLong { block, want: len, have: rec.len });
    }
    let bpc = u64::from(rec.bytes_per_checksum);
    file.set_len(len).map_err(io("truncate", path))?;
    rec.len = len;
    rec.checksums.truncate(len.div_ceil(bpc) as usize);
    let tail = len % bpc;
    if tail != 0 {
        let mut buf = vec![0u8; tail as usize];
        let mut f = file;
        f.seek(SeekFrom::Start(len - tail)).map_err(io("seek", path))?;
        f.read_exact(&mut buf).map_err(io("read", path))?;
        if let Some(last) = rec.checksums.last_mut() {
            *last = crc32c::crc32c(&buf);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::temp_store;
    use hdfs_proto::checksum::{BYTES_PER_CHECKSUM, chunk_checksums};

    #[test]
    fn unfinished_replicas_stay_for_recovery_and_are_listed_apart() {
        let (dir, store) = temp_store();
        let data = vec![3u8; BYTES_PER_CHECKSUM * 2 + 100];
        let mut w = store.create(BlockRef::new(1, 1)).unwrap();
        w.append(0, &data, &chunk_checksums(&data, BYTES_PER_CHECKSUM)).unwrap();
        assert!(matches!(store.create(BlockRef::new(1, 1)), Err(StoreError::Busy(BlockId(1)))), "one writer at a time");
        drop(w);
        let (finalized, unfinished) = store.list().unwrap();
        assert!(finalized.is_empty());
        assert_eq!(unfinished, vec![ReplicaInfo { block: BlockRef::new(1, 1), len: data.len() as u64 }]);

        // Block recovery: the verified length, then cut and finalize under a new stamp.
        assert_eq!(store.recovery_length(BlockId(1)).unwrap(), (GenStamp(1), data.len() as u64));
        let cut = BYTES_PER_CHECKSUM as u64 + 10;
        let info = store.finalize_recovered(BlockRef::new(1, 2), cut).unwrap();
        assert_eq!((info.block.gen_stamp, info.len), (GenStamp(2), cut));
        let mut r = store.open_reader(BlockRef::new(1, 2)).unwrap();
        let (got, _) = r.read_chunks(0, 1 << 20).unwrap();
        assert_eq!(got, &data[..cut as usize], "the cut replica verifies");
        // Recovering a finalized replica again: counted once, at its new length.
        store.finalize_recovered(BlockRef::new(1, 3), cut - 10).unwrap();
        assert_eq!((store.counts().finalized, store.used_bytes()), (1, cut - 10));
        drop(store);
        let store = crate::store::tests::reopen(dir.path());
        assert_eq!(store.list().unwrap().0.len(), 1, "survives a restart");
    }

    #[test]
    fn pipeline_recovery_resumes_at_the_acked_length() {
        let (_dir, store) = temp_store();
        let data: Vec<u8> = (0..BYTES_PER_CHECKSUM * 3).map(|i| i as u8).collect();
        let sums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        let mut w = store.create(BlockRef::new(9, 1)).unwrap();
        w.append(0, &data[..BYTES_PER_CHECKSUM * 2], &sums[..2]).unwrap();
        drop(w);
        let mut w = store.recover(BlockRef::new(9, 2), BYTES_PER_CHECKSUM as u64).unwrap();
        assert_eq!(w.len(), BYTES_PER_CHECKSUM as u64);
        w.append(BYTES_PER_CHECKSUM as u64, &data[BYTES_PER_CHECKSUM..], &sums[1..]).unwrap();
        w.finalize().unwrap();
        let (got, _) = store.open_reader(BlockRef::new(9, 2)).unwrap().read_chunks(0, 1 << 20).unwrap();
        assert_eq!(got, data);
        assert!(matches!(store.open_reader(BlockRef::new(9, 1)), Err(StoreError::WrongGeneration { .. })));
    }
}
