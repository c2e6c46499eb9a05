//! What the namenode asks of a datanode, and how it names one: leaf types, imported by the block
//! manager that decides and the datanode records that carry them to the next heartbeat reply.

use hdfs_proto::{BlockRef, GenStamp};

use crate::namespace::Block;

/// How clients and other datanodes reach a datanode: its id (the UUID it keeps in its data dir)
/// and its current address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub datanode_id: String,
    pub address: String,
}

/// Work for a datanode, returned in its heartbeat reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Delete these replicas.
    DeleteBlocks(Vec<BlockRef>),
    /// Copy a replica to `targets` (a pipeline, first to last).
    Replicate { block: Block, targets: Vec<Location> },
    /// Recover a block whose writer is gone: agree on a length among `holders` (for a
    /// truncate, cut them to `truncate_to`), finalize them with `new_generation_stamp`, and
    /// report back.
    RecoverBlock { block: Block, new_generation_stamp: GenStamp, holders: Vec<Location>, truncate_to: Option<u64> },
}
