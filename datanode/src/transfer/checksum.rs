//! A replica's composite CRC (HDFS's `BlockChecksumHelper` in `COMPOSITE_CRC` mode): the CRC32C
//! of its first `length` bytes, for a client composing a file's checksum block by block.
//!
//! The record already holds the CRC32C of every 64 KiB chunk, verified when the chunk was
//! written, so whole chunks are combined from those (`hdfs_proto::checksum::concat_crcs`) and
//! not read: a 128 MiB replica costs 2,048 small multiplications instead of 128 MiB of disk.
//! Only a chunk that `length` cuts short is read (verified whole, then its first bytes summed).
//! The scanner, not this call, is what finds replicas rotten since they were written, as with
//! HDFS, whose block checksum also comes from the stored `.meta` CRCs.

use hdfs_proto::BlockRef;
use hdfs_proto::checksum::concat_crcs;
use hdfs_proto::pb::datanode as pb;
use tonic::Status;

use super::node::{Node, with_node};
use crate::store::{ReplicaReader, StoreError};

/// A checksum request, validated: the first `length` bytes of `block` (0: all of them).
pub(super) struct ChecksumRange {
    pub(super) block: BlockRef,
    pub(super) length: u64,
}

impl TryFrom<pb::BlockChecksumRequest> for ChecksumRange {
    type Error = Status;
    fn try_from(r: pb::BlockChecksumRequest) -> Result<Self, Status> {
        let block = r.block.ok_or_else(|| Status::invalid_argument("checksum without block"))?;
        Ok(Self { block: block.into(), length: r.length })
    }
}

/// A replica's CRC32C and the bytes it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BlockCrc {
    pub(super) crc: u32,
    pub(super) length: u64,
}

impl From<BlockCrc> for pb::BlockChecksumResponse {
    fn from(c: BlockCrc) -> Self {
        Self { crc: c.crc, length: c.length }
    }
}

impl Node {
    /// The CRC32C of the range, with the errors a read of it would give (no replica, another
    /// generation stamp).
    pub(super) async fn block_checksum(&self, r: ChecksumRange) -> Result<BlockCrc, Status> {
        let (me, ChecksumRange { block, length }) = (self.me.clone(), r);
        self.store.blocking(move |s| prefix_crc(&mut s.open_reader(block)?, length)).await.map_err(|e| {
            tracing::warn!(%block, error = %e, "block checksum failed");
            with_node(&me, e.into())
        })
    }
}

/// The CRC32C of the replica's first `length` bytes (0, or more than it holds: all of them).
fn prefix_crc(reader: &mut ReplicaReader, length: u64) -> Result<BlockCrc, StoreError> {
    let total = reader.len();
    let length = if length == 0 { total } else { length.min(total) };
    let (bpc, sums) = reader.chunk_checksums();
    let bpc = u64::from(bpc);
    // Chunk i holds bytes i*bpc..min((i+1)*bpc, total); those wholly inside the prefix count by
    // their stored CRC (the replica's last chunk may be short, and then it is whole).
    let whole = if length == total { total.div_ceil(bpc) } else { length / bpc } as usize;
    let chunk_len = |i: usize| bpc.min(total - i as u64 * bpc);
    let Some(whole_sums) = sums.get(..whole) else {
        let reason = format!("{} checksums for {total} bytes", sums.len());
        return Err(StoreError::BadRecord { block: reader.block(), reason });
    };
    let head = concat_crcs(whole_sums.iter().enumerate().map(|(i, &crc)| (crc, chunk_len(i))));
    let covered = (whole as u64 * bpc).min(total);
    if covered == length {
        return Ok(BlockCrc { crc: head, length });
    }
    let (data, _) = reader.read_chunks(covered, bpc as usize)?;
    let cut = &data[..(length - covered) as usize];
    let crc = concat_crcs([(head, covered), (crc32c::crc32c(cut), cut.len() as u64)]);
    Ok(BlockCrc { crc, length })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BlockStore;
    use hdfs_proto::checksum::{BYTES_PER_CHECKSUM, chunk_checksums};

    fn store_with(block: u64, data: &[u8]) -> (tempfile::TempDir, BlockStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::open(dir.path()).unwrap();
        let mut w = store.create(BlockRef::new(block, 1)).unwrap();
        w.append(0, data, &chunk_checksums(data, BYTES_PER_CHECKSUM)).unwrap();
        w.finalize().unwrap();
        (dir, store)
    }

    #[test]
    fn prefix_crc_is_the_crc32c_of_the_prefix() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let data: Vec<u8> = (0..BYTES_PER_CHECKSUM * 3 + 1234).map(|_| next() as u8).collect();
        let (_dir, store) = store_with(7, &data);
        let mut r = store.open_reader(BlockRef::new(7, 1)).unwrap();
        let bpc = BYTES_PER_CHECKSUM as u64;
        let mut lengths = vec![1, 100, bpc - 1, bpc, bpc + 1, 3 * bpc, 3 * bpc + 1, data.len() as u64 - 1];
        lengths.extend((0..20).map(|_| 1 + next() % data.len() as u64));
        for len in lengths {
            let got = prefix_crc(&mut r, len).unwrap();
            assert_eq!(got, BlockCrc { crc: crc32c::crc32c(&data[..len as usize]), length: len }, "length {len}");
        }
        let all = BlockCrc { crc: crc32c::crc32c(&data), length: data.len() as u64 };
        assert_eq!(prefix_crc(&mut r, 0).unwrap(), all, "0 is the whole replica");
        assert_eq!(prefix_crc(&mut r, u64::MAX).unwrap(), all, "no more than the replica holds");
    }

    #[test]
    fn whole_chunks_are_not_read_and_a_cut_chunk_is_verified() {
        let data = vec![5u8; BYTES_PER_CHECKSUM * 2];
        let (dir, store) = store_with(9, &data);
        let path = crate::store::replica_path(dir.path(), 9);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[BYTES_PER_CHECKSUM + 10] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let mut r = store.open_reader(BlockRef::new(9, 1)).unwrap();
        assert_eq!(prefix_crc(&mut r, 0).unwrap().crc, crc32c::crc32c(&data), "stored CRCs only");
        assert!(matches!(prefix_crc(&mut r, BYTES_PER_CHECKSUM as u64 + 20), Err(StoreError::Checksum { .. })));
    }

    #[test]
    fn an_empty_replica_sums_to_zero() {
        let (_dir, store) = store_with(3, &[]);
        let mut r = store.open_reader(BlockRef::new(3, 1)).unwrap();
        assert_eq!(prefix_crc(&mut r, 0).unwrap(), BlockCrc { crc: 0, length: 0 });
    }
}
