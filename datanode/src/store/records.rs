//! The sled side of the store: one [`ReplicaRecord`] per replica, keyed by block id.
//!
//! A record is small (state, generation stamp, length, and 4 bytes per 64 KiB chunk: 8 KiB for
//! a full 128 MiB block), which is all sled holds here; docs/BENCHMARKS.md has why the bytes
//! are not in sled too. The encoding is fixed: the key is the block id as 8 big-endian bytes,
//! the value the record in bincode. Ids and stamps stay plain `u64` in the record, so
//! [`BlockId`] and [`GenStamp`] are converted here, at its edge, and the bytes on disk do not
//! change with them.

use hdfs_proto::checksum::BYTES_PER_CHECKSUM;
use hdfs_proto::{BlockId, BlockRef, GenStamp};
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplicaState {
    /// Being written; not acknowledged, not reported.
    Rbw,
    /// Complete and durable.
    Finalized,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaRecord {
    pub state: ReplicaState,
    pub generation_stamp: u64,
    pub len: u64,
    pub bytes_per_checksum: u32,
    pub checksums: Vec<u32>,
}

impl ReplicaRecord {
    pub fn gen_stamp(&self) -> GenStamp {
        GenStamp(self.generation_stamp)
    }

    /// The replica this record describes, as reported to the namenode.
    pub(crate) fn info(&self, id: BlockId) -> ReplicaInfo {
        ReplicaInfo { block: BlockRef { id, gen_stamp: self.gen_stamp() }, len: self.len }
    }
}

/// A replica as reported to the namenode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaInfo {
    pub block: BlockRef,
    pub len: u64,
}

/// The sled key of a block's record.
pub(super) fn key(block: BlockId) -> [u8; 8] {
    block.0.to_be_bytes()
}

pub(super) fn key_to_block(k: &[u8]) -> Result<BlockId> {
    k.try_into()
        .map(|k| BlockId(u64::from_be_bytes(k)))
        .map_err(|_| StoreError::BadRecord { block: BlockId(0), reason: format!("key of {} bytes", k.len()) })
}

/// The state of an encoded record, read from its first field alone (the checksums after it
/// need not be decoded).
pub(super) fn state_of(v: &[u8]) -> Option<ReplicaState> {
    let index: [u8; 4] = v.get(..4)?.try_into().ok()?;
    match u32::from_le_bytes(index) {
        0 => Some(ReplicaState::Rbw),
        1 => Some(ReplicaState::Finalized),
        _ => None,
    }
}

pub(super) fn encode(block: BlockId, rec: &ReplicaRecord) -> Result<Vec<u8>> {
    bincode::serialize(rec).map_err(|source| StoreError::Undecodable { block, source })
}

pub(super) fn decode(block: BlockId, v: &[u8]) -> Result<ReplicaRecord> {
    let rec: ReplicaRecord = bincode::deserialize(v).map_err(|source| StoreError::Undecodable { block, source })?;
    let chunks = rec.len.div_ceil(u64::from(rec.bytes_per_checksum.max(1)));
    if rec.bytes_per_checksum as usize != BYTES_PER_CHECKSUM || chunks != rec.checksums.len() as u64 {
        let reason =
            format!("{} checksums of {} bytes for {} bytes", rec.checksums.len(), rec.bytes_per_checksum, rec.len);
        return Err(StoreError::BadRecord { block, reason });
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_stays_as_it_was() {
        let rec = ReplicaRecord {
            state: ReplicaState::Finalized,
            generation_stamp: 7,
            len: 5,
            bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
            checksums: vec![0xdead_beef],
        };
        assert_eq!(key(BlockId(0x0102)), [0, 0, 0, 0, 0, 0, 1, 2]);
        let bytes = encode(BlockId(1), &rec).unwrap();
        // state (u32 variant index), stamp, len, bytes per checksum, checksum count, checksums
        let mut want = vec![1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        want.extend([1, 0, 0, 0, 0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(bytes, want);
        assert_eq!(decode(BlockId(1), &bytes).unwrap(), rec);
        assert_eq!(state_of(&bytes), Some(ReplicaState::Finalized));
        let rbw = ReplicaRecord { state: ReplicaState::Rbw, ..rec.clone() };
        assert_eq!(state_of(&encode(BlockId(1), &rbw).unwrap()), Some(ReplicaState::Rbw));
        assert_eq!(state_of(&[1, 0]), None);
        assert!(matches!(decode(BlockId(1), &bytes[..3]), Err(StoreError::Undecodable { .. })));
    }
}
