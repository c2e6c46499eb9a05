//! The cluster at a glance, as the block manager knows it: capacity, datanodes by state, and
//! blocks needing repair. Cheap enough for every page view and metrics scrape: one pass over
//! the datanodes and over the most urgent repair queue, never over every block.

use std::time::Instant;

use super::{BlockManager, Priority};
use crate::datanodes::{AdminState, Liveness};

/// What the status page's overview and the metrics show of blocks and datanodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BlockSummary {
    pub blocks: u64,
    /// Bytes: the sum over datanodes that are not dead.
    pub capacity: u64,
    pub used: u64,
    pub remaining: u64,
    pub live_datanodes: u64,
    pub stale_datanodes: u64,
    pub dead_datanodes: u64,
    pub decommissioning_datanodes: u64,
    pub decommissioned_datanodes: u64,
    /// Blocks queued for more replicas (missing ones included, as HDFS counts them).
    pub under_replicated: u64,
    /// Blocks with no good replica left anywhere: with no replica at all (missing), or with
    /// only corrupt ones (corrupt), as fsck counts them.
    pub missing: u64,
    pub corrupt: u64,
    /// Copies scheduled and not yet confirmed.
    pub copies_in_flight: u64,
    pub safe_mode: bool,
}

impl BlockManager {
    pub fn summary(&self) -> BlockSummary {
        let now = Instant::now();
        let mut s = BlockSummary {
            blocks: self.blocks.len() as u64,
            under_replicated: self.queues.len() as u64,
            copies_in_flight: self.pending.len() as u64,
            safe_mode: self.safe_mode.is_on(),
            ..Default::default()
        };
        for (idx, n) in self.nodes.iter() {
            let state = self.liveness_of(idx, now);
            match state {
                Liveness::Live => s.live_datanodes += 1,
                Liveness::Stale => s.stale_datanodes += 1,
                Liveness::Dead => s.dead_datanodes += 1,
            }
            match n.admin {
                AdminState::Decommissioning => s.decommissioning_datanodes += 1,
                AdminState::Decommissioned => s.decommissioned_datanodes += 1,
                AdminState::Normal => {}
            }
            if state != Liveness::Dead {
                s.capacity += n.storage.capacity;
                s.used += n.storage.used;
                s.remaining += n.storage.remaining;
            }
        }
        // A block with no good replica is in the most urgent queue (at most one live replica).
        for b in self.queues.blocks(Priority::Highest) {
            let c = self.counts(b);
            if c.live == 0 && c.decommissioning == 0 {
                if c.corrupt > 0 { s.corrupt += 1 } else { s.missing += 1 }
            }
        }
        s
    }
}
