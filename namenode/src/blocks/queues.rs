//! Re-replication bookkeeping: which blocks need copies, in what order, and which copies are on
//! their way. Pure data structures, tested without a cluster.
//!
//! Priorities follow HDFS's `LowRedundancyBlocks`: a block with at most one live replica comes
//! first (one more failure loses it), then blocks with less than a third of their target, then
//! the rest. Within a priority, blocks are served in the order they were found.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use hdfs_proto::BlockId;

use crate::datanodes::NodeIdx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// At most one live replica.
    Highest = 0,
    /// Live replicas × 3 < target.
    VeryLow = 1,
    /// Under-replicated, otherwise.
    Low = 2,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Highest, Priority::VeryLow, Priority::Low];
}

/// The priority of a block with `live` good replicas out of `target`; `None` if it has enough.
pub fn priority(live: usize, target: usize) -> Option<Priority> {
    if live >= target {
        None
    } else if live <= 1 {
        Some(Priority::Highest)
    } else if live * 3 < target {
        Some(Priority::VeryLow)
    } else {
        Some(Priority::Low)
    }
}

/// Under-replicated blocks, one FIFO per priority; a block is in at most one.
#[derive(Debug, Default)]
pub struct Queues {
    queues: [VecDeque<BlockId>; 3],
    member: HashMap<BlockId, Priority>,
}

impl Queues {
    /// Queues `block` at `prio`, moving it if it was queued at another priority.
    pub fn add(&mut self, block: BlockId, prio: Priority) {
        match self.member.get(&block) {
            Some(&p) if p == prio => return,
            Some(&p) => self.queues[p as usize].retain(|&b| b != block),
            None => {}
        }
        self.member.insert(block, prio);
        self.queues[prio as usize].push_back(block);
    }

    pub fn remove(&mut self, block: BlockId) {
        if let Some(p) = self.member.remove(&block) {
            self.queues[p as usize].retain(|&b| b != block);
        }
    }

    /// Blocks of one priority, in queue order.
    pub fn blocks(&self, prio: Priority) -> Vec<BlockId> {
        self.queues[prio as usize].iter().copied().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.member.is_empty()
    }

    pub fn len(&self) -> usize {
        self.member.len()
    }
}

/// A copy handed to a source datanode and not yet confirmed by the targets' reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCopy {
    pub source: NodeIdx,
    pub targets: Vec<NodeIdx>,
    pub deadline: Instant,
}

#[derive(Debug, Default)]
pub struct Pending {
    copies: HashMap<BlockId, PendingCopy>,
}

impl Pending {
    pub fn add(&mut self, block: BlockId, copy: PendingCopy) {
        self.copies.insert(block, copy);
    }

    pub fn get(&self, block: BlockId) -> Option<&PendingCopy> {
        self.copies.get(&block)
    }

    /// Targets still expected for `block`.
    pub fn targets(&self, block: BlockId) -> usize {
        self.copies.get(&block).map_or(0, |c| c.targets.len())
    }

    /// `node` reported `block`: returns the finished copy once no target is left.
    pub fn confirm(&mut self, block: BlockId, node: NodeIdx) -> Option<PendingCopy> {
        let copy = self.copies.get_mut(&block)?;
        copy.targets.retain(|&t| t != node);
        if copy.targets.is_empty() { self.copies.remove(&block) } else { None }
    }

    /// Removes and returns copies past their deadline, or involving `node` when given.
    pub fn take_failed(&mut self, now: Instant, node: Option<NodeIdx>) -> Vec<(BlockId, PendingCopy)> {
        let failed: Vec<BlockId> = self
            .copies
            .iter()
            .filter(|(_, c)| c.deadline <= now || node.is_some_and(|n| c.source == n || c.targets.contains(&n)))
            .map(|(&b, _)| b)
            .collect();
        failed.into_iter().filter_map(|b| self.copies.remove(&b).map(|c| (b, c))).collect()
    }

    /// Copies in flight that `node` takes part in (as source or target).
    pub fn involving(&self, node: NodeIdx) -> usize {
        self.copies.values().filter(|c| c.source == node || c.targets.contains(&node)).count()
    }

    pub fn is_empty(&self) -> bool {
        self.copies.is_empty()
    }

    pub fn len(&self) -> usize {
        self.copies.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdfs_proto::BlockId;
    use std::time::Duration;

    #[test]
    fn priorities_follow_hdfs() {
        assert_eq!(priority(3, 3), None);
        assert_eq!(priority(4, 3), None);
        assert_eq!(priority(0, 3), Some(Priority::Highest));
        assert_eq!(priority(1, 3), Some(Priority::Highest));
        assert_eq!(priority(2, 3), Some(Priority::Low));
        assert_eq!(priority(2, 10), Some(Priority::VeryLow));
        assert_eq!(priority(4, 10), Some(Priority::Low));
    }

    #[test]
    fn queues_move_blocks_between_priorities() {
        let mut q = Queues::default();
        q.add(BlockId(1), Priority::Low);
        q.add(BlockId(2), Priority::Low);
        q.add(BlockId(1), Priority::Highest);
        assert_eq!(q.blocks(Priority::Highest), vec![BlockId(1)]);
        assert_eq!(q.blocks(Priority::Low), vec![BlockId(2)]);
        q.add(BlockId(1), Priority::Highest);
        assert_eq!(q.len(), 2);
        q.remove(BlockId(1));
        assert!(q.blocks(Priority::Highest).is_empty());
    }

    #[test]
    fn pending_copies_finish_on_confirmation_or_fail_on_deadline_or_node_loss() {
        let now = Instant::now();
        let mut p = Pending::default();
        p.add(
            BlockId(7),
            PendingCopy {
                source: NodeIdx(0),
                targets: vec![NodeIdx(1), NodeIdx(2)],
                deadline: now + Duration::from_secs(5),
            },
        );
        p.add(
            BlockId(8),
            PendingCopy { source: NodeIdx(3), targets: vec![NodeIdx(4)], deadline: now + Duration::from_secs(1) },
        );
        assert_eq!(p.targets(BlockId(7)), 2);
        assert!(p.confirm(BlockId(7), NodeIdx(1)).is_none());
        assert!(p.confirm(BlockId(7), NodeIdx(2)).is_some());
        assert_eq!(p.len(), 1);
        assert!(p.take_failed(now, None).is_empty());
        assert_eq!(p.take_failed(now + Duration::from_secs(2), None).len(), 1);
        p.add(
            BlockId(9),
            PendingCopy { source: NodeIdx(0), targets: vec![NodeIdx(5)], deadline: now + Duration::from_secs(60) },
        );
        assert_eq!(p.involving(NodeIdx(5)), 1);
        assert_eq!(p.take_failed(now, Some(NodeIdx(5))).len(), 1);
        assert!(p.is_empty());
    }
}
