//! Names for the numbers that identify blocks, shared by every component.
//!
//! A block is named by its id for its whole life; its generation stamp changes whenever a
//! pipeline is recovered or its last block is recovered after a lost lease (HDFS's
//! `ExtendedBlock`), so a replica is current only if its stamp matches the namenode's.
//! `#[repr(transparent)]` and `#[serde(transparent)]` keep each one the `u64` it was: same size
//! in the namenode's block slots (docs/SCALE.md), same bytes in the edit log and the image.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A block's id, given by the namenode from one sequence (HDFS's `blk_<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[repr(transparent)]
#[serde(transparent)]
pub struct BlockId(pub u64);

/// A block's generation stamp: raised by every recovery, so stale replicas can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[repr(transparent)]
#[serde(transparent)]
pub struct GenStamp(pub u64);

/// One version of a block: its id at one generation stamp (what a replica is named by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct BlockRef {
    pub id: BlockId,
    pub gen_stamp: GenStamp,
}

impl BlockId {
    /// The id after this one (ids are handed out in sequence).
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl GenStamp {
    /// A new block's stamp.
    pub const FIRST: Self = Self(1);

    /// The stamp a recovery gives the block.
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl BlockRef {
    pub fn new(id: u64, gen_stamp: u64) -> Self {
        Self { id: BlockId(id), gen_stamp: GenStamp(gen_stamp) }
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for GenStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for BlockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blk_{}_{}", self.id, self.gen_stamp)
    }
}

impl From<BlockRef> for crate::pb::datanode::BlockRef {
    fn from(b: BlockRef) -> Self {
        Self { block_id: b.id.0, generation_stamp: b.gen_stamp.0 }
    }
}

impl From<crate::pb::datanode::BlockRef> for BlockRef {
    fn from(b: crate::pb::datanode::BlockRef) -> Self {
        Self::new(b.block_id, b.generation_stamp)
    }
}

/// A replica named on the namenode's wire (deletes): no length.
impl From<BlockRef> for crate::pb::namenode::ExtendedBlock {
    fn from(b: BlockRef) -> Self {
        Self { block_id: b.id.0, generation_stamp: b.gen_stamp.0, num_bytes: 0 }
    }
}
