//! The block map: for each block of the namespace, its file and the datanodes holding a replica.
//!
//! Not persisted: entries are created from the namespace (at load and at add_block) with no
//! replicas, and replicas are filled in from block reports, as HDFS does.
//!
//! One entry per block of the namespace, so it is kept small (docs/SCALE.md): ids index pages
//! ([`IdMap`]), up to three replicas are held inline, and what only a few blocks have — the
//! pipeline of a block being written, replicas marked corrupt — lives in side maps.

use std::collections::HashMap;

use hdfs_proto::{BlockId, GenStamp};
use smallvec::SmallVec;

use crate::datanodes::NodeIdx;
use crate::idmap::IdMap;
use crate::namespace::InodeId;

#[derive(Debug)]
pub struct BlockEntry {
    pub file: InodeId,
    pub generation_stamp: GenStamp,
    pub replicas: SmallVec<[NodeIdx; 3]>,
}

#[derive(Debug, Default)]
pub struct BlockMap {
    blocks: IdMap<BlockEntry>,
    /// The pipeline a block under construction was given: where its unfinished replicas are,
    /// for block recovery when its writer is gone. Dropped when the file is closed.
    expected: HashMap<BlockId, Vec<NodeIdx>>,
    /// Replicas reported bad by a reader or the datanode itself: never handed out for reads.
    corrupt: HashMap<BlockId, Vec<NodeIdx>>,
}

impl BlockMap {
    /// Makes `block` part of `file` (its old file's blocks were moved, by a concat).
    pub fn set_file(&mut self, block: BlockId, file: InodeId) {
        if let Some(e) = self.get_mut(block) {
            e.file = file;
        }
    }

    /// Blocks in the namespace.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn insert(&mut self, block: BlockId, generation_stamp: GenStamp, file: InodeId) {
        self.blocks.insert(block.0, BlockEntry { file, generation_stamp, replicas: SmallVec::new() });
    }

    /// Forgets a block, returning the nodes that held it.
    pub fn remove(&mut self, block: BlockId) -> Vec<NodeIdx> {
        self.expected.remove(&block);
        self.corrupt.remove(&block);
        self.blocks.remove(block.0).map(|e| e.replicas.into_vec()).unwrap_or_default()
    }

    pub fn get(&self, block: BlockId) -> Option<&BlockEntry> {
        self.blocks.get(block.0)
    }

    pub fn get_mut(&mut self, block: BlockId) -> Option<&mut BlockEntry> {
        self.blocks.get_mut(block.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (BlockId, &BlockEntry)> {
        self.blocks.iter().map(|(id, e)| (BlockId(id), e))
    }

    pub fn ids(&self) -> Vec<BlockId> {
        self.blocks.ids().map(BlockId).collect()
    }

    /// Records a replica on `node`; false if the block is unknown or of another generation.
    pub fn add_replica(&mut self, block: BlockId, generation_stamp: GenStamp, node: NodeIdx) -> bool {
        match self.blocks.get_mut(block.0) {
            Some(e) if e.generation_stamp == generation_stamp => {
                if !e.replicas.contains(&node) {
                    e.replicas.push(node);
                }
                true
            }
            _ => false,
        }
    }

    pub fn remove_replica(&mut self, block: BlockId, node: NodeIdx) {
        if let Some(e) = self.blocks.get_mut(block.0) {
            e.replicas.retain(|n| *n != node);
        }
        remove_from(&mut self.corrupt, block, node);
    }

    /// The nodes a block under construction was sent to (or reported unfinished by).
    pub fn expected(&self, block: BlockId) -> &[NodeIdx] {
        self.expected.get(&block).map_or(&[], Vec::as_slice)
    }

    pub fn set_expected(&mut self, block: BlockId, nodes: Vec<NodeIdx>) {
        self.expected.insert(block, nodes);
    }

    pub fn add_expected(&mut self, block: BlockId, node: NodeIdx) {
        if self.blocks.contains(block.0) {
            let nodes = self.expected.entry(block).or_default();
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
    }

    /// The block is no longer being written.
    pub fn clear_expected(&mut self, block: BlockId) {
        self.expected.remove(&block);
    }

    pub fn is_corrupt(&self, block: BlockId, node: NodeIdx) -> bool {
        self.corrupt.get(&block).is_some_and(|c| c.contains(&node))
    }

    pub fn mark_corrupt(&mut self, block: BlockId, node: NodeIdx) -> bool {
        match self.blocks.get(block.0) {
            Some(e) if e.replicas.contains(&node) => {
                let c = self.corrupt.entry(block).or_default();
                if !c.contains(&node) {
                    c.push(node);
                }
                true
            }
            _ => false,
        }
    }
}

fn remove_from(map: &mut HashMap<BlockId, Vec<NodeIdx>>, block: BlockId, node: NodeIdx) {
    if let Some(nodes) = map.get_mut(&block) {
        nodes.retain(|n| *n != node);
        if nodes.is_empty() {
            map.remove(&block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One slot per block of the namespace: docs/SCALE.md counts on this size.
    #[test]
    fn a_block_slot_stays_small() {
        assert!(std::mem::size_of::<Option<BlockEntry>>() <= 48, "{}", std::mem::size_of::<Option<BlockEntry>>());
    }

    #[test]
    fn side_maps_hold_only_blocks_that_need_them() {
        let mut m = BlockMap::default();
        m.insert(BlockId(1), GenStamp(1), 7);
        m.set_expected(BlockId(1), vec![NodeIdx(0), NodeIdx(1), NodeIdx(2)]);
        assert!(
            m.add_replica(BlockId(1), GenStamp(1), NodeIdx(0)) && m.add_replica(BlockId(1), GenStamp(1), NodeIdx(1))
        );
        assert!(m.mark_corrupt(BlockId(1), NodeIdx(1)));
        assert!(!m.mark_corrupt(BlockId(1), NodeIdx(2)), "not a holder");
        assert!(m.is_corrupt(BlockId(1), NodeIdx(1)) && !m.is_corrupt(BlockId(1), NodeIdx(0)));
        m.remove_replica(BlockId(1), NodeIdx(1));
        assert!(m.corrupt.is_empty(), "the mark goes with the replica");
        m.clear_expected(BlockId(1));
        assert!(m.expected(BlockId(1)).is_empty());
        m.add_expected(BlockId(9), NodeIdx(0));
        assert!(m.expected.is_empty(), "no pipeline for an unknown block");
        assert_eq!(m.remove(BlockId(1)), vec![NodeIdx(0)]);
    }
}
