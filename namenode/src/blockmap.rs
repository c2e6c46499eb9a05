//! The block map: for each block of the namespace, its file and the datanodes holding a replica.
//!
//! Not persisted: entries are created from the namespace (at load and at add_block) with no
//! replicas, and replicas are filled in from block reports, as HDFS does.

use std::collections::HashMap;

use crate::datanodes::NodeIdx;
use crate::namespace::InodeId;

#[derive(Debug)]
pub struct BlockEntry {
    pub file: InodeId,
    pub generation_stamp: u64,
    pub replicas: Vec<NodeIdx>,
    /// The pipeline a block under construction was given: where its unfinished replicas are,
    /// for block recovery when its writer is gone.
    pub expected: Vec<NodeIdx>,
    /// Replicas reported bad by a reader or the datanode itself: never handed out for reads.
    pub corrupt: Vec<NodeIdx>,
}

#[derive(Debug, Default)]
pub struct BlockMap {
    blocks: HashMap<u64, BlockEntry>,
}

impl BlockMap {
    pub fn insert(&mut self, block: u64, generation_stamp: u64, file: InodeId) {
        self.blocks.insert(
            block,
            BlockEntry { file, generation_stamp, replicas: Vec::new(), expected: Vec::new(), corrupt: Vec::new() },
        );
    }

    /// Forgets a block, returning the nodes that held it.
    pub fn remove(&mut self, block: u64) -> Vec<NodeIdx> {
        self.blocks.remove(&block).map(|e| e.replicas).unwrap_or_default()
    }

    pub fn get(&self, block: u64) -> Option<&BlockEntry> {
        self.blocks.get(&block)
    }

    pub fn get_mut(&mut self, block: u64) -> Option<&mut BlockEntry> {
        self.blocks.get_mut(&block)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &BlockEntry)> {
        self.blocks.iter().map(|(&b, e)| (b, e))
    }

    pub fn ids(&self) -> Vec<u64> {
        self.blocks.keys().copied().collect()
    }

    /// Records a replica on `node`; false if the block is unknown or of another generation.
    pub fn add_replica(&mut self, block: u64, generation_stamp: u64, node: NodeIdx) -> bool {
        match self.blocks.get_mut(&block) {
            Some(e) if e.generation_stamp == generation_stamp => {
                if !e.replicas.contains(&node) {
                    e.replicas.push(node);
                }
                true
            }
            _ => false,
        }
    }

    pub fn remove_replica(&mut self, block: u64, node: NodeIdx) {
        if let Some(e) = self.blocks.get_mut(&block) {
            e.replicas.retain(|&n| n != node);
            e.corrupt.retain(|&n| n != node);
        }
    }

    pub fn mark_corrupt(&mut self, block: u64, node: NodeIdx) -> bool {
        match self.blocks.get_mut(&block) {
            Some(e) if e.replicas.contains(&node) => {
                if !e.corrupt.contains(&node) {
                    e.corrupt.push(node);
                }
                true
            }
            _ => false,
        }
    }
}
