//! The block manager: where every replica is, which datanodes are alive, and the work that keeps
//! each block at its replication factor.
//!
//! It owns the block map and the datanode manager; everything here runs under the namesystem
//! lock and does no I/O. By activity:
//!
//! - this file: the [`BlockManager`] and its queries (where to read, how a block's replicas
//!   stand, new blocks and generations, deletes held until their op is durable);
//! - [`heartbeats`](self::heartbeats): registration and heartbeats, which carry commands back;
//! - [`reports`](self::reports): full and incremental block reports, bad-replica reports;
//! - [`repair`](self::repair): the replication monitor's [`tick`](BlockManager::tick) —
//!   liveness, safe mode, classification, trimming, copy scheduling, decommissioning, block
//!   recovery;
//! - [`blockmap`](self::blockmap) (replica locations, one 48-byte slot per block),
//!   [`placement`](self::placement) (targets for new replicas), [`queues`](self::queues)
//!   (HDFS's priority queues and the copies in flight), [`safemode`](self::safemode) (the
//!   start-up gate), [`progress`](self::progress) (the current repair, its rate and estimated
//!   end): the pure parts, each tested alone;
//! - [`summary`](self::summary): the cluster at a glance, for the status page and metrics.
//!
//! What happens to datanodes, repairs and safe mode is also recorded, as it happens, in
//! [`Events`], the ring the status page lists.
//!
//! ```text
//!   datanode RPCs ──> heartbeats.rs / reports.rs ──> BlockMap, DatanodeManager
//!                                                          │ to_check
//!   ReplicationMonitor ──> repair.rs (tick) ──> queues ──> placement ──> Command in
//!                                                             the source's next heartbeat reply
//! ```
//!
//! Copies per source are limited (`max_streams`, plus 2 for blocks down to one replica, as
//! HDFS's `maxReplicationStreams` and its hard limit) so that repair does not starve clients.

mod blockmap;
mod heartbeats;
mod placement;
mod progress;
mod queues;
mod repair;
mod reports;
mod safemode;
mod summary;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

pub use blockmap::BlockEntry;
use blockmap::BlockMap;
use placement::{Candidate, choose_targets};
pub use progress::RepairStatus;
use progress::{Change, Progress};
pub use queues::Priority;
use queues::{Pending, Queues};
pub use safemode::{SafeMode, status_line};
pub use summary::BlockSummary;

use hdfs_proto::{BlockId, BlockRef, GenStamp};

use crate::config::Config;
use crate::datanodes::{AdminState, DatanodeManager, Liveness, Location, NodeIdx, Storage, liveness};
use crate::error::{Error, Result};
use crate::events::{Event, EventKind, Events};
use crate::namespace::{Block, InodeId, Namespace};

/// Scheduled copies remembered for observation (tests, reports).
const HISTORY_LIMIT: usize = 100_000;

/// A replica as a datanode reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedReplica {
    pub block: BlockId,
    pub generation_stamp: GenStamp,
    pub num_bytes: u64,
}

impl ReportedReplica {
    /// The replica's block at its generation stamp.
    pub fn block_ref(&self) -> BlockRef {
        BlockRef { id: self.block, gen_stamp: self.generation_stamp }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatanodeReport {
    pub location: Location,
    /// host:port of its HTTP port; "" if it has none.
    pub http_address: String,
    pub state: Liveness,
    pub admin: AdminState,
    pub storage: Storage,
    pub blocks: u64,
    pub last_contact: Duration,
    /// Copies in flight with this node as source or target.
    pub copies_in_flight: u64,
}

/// A copy the monitor scheduled, in scheduling order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledCopy {
    pub block: BlockId,
    pub priority: Priority,
}

/// How a block's replicas stand.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaCounts {
    /// Good replicas on in-service nodes: what counts toward the target.
    pub live: usize,
    /// Good replicas on decommissioning or decommissioned nodes.
    pub decommissioning: usize,
    pub corrupt: usize,
}

pub struct BlockManager {
    pub blocks: BlockMap,
    pub nodes: DatanodeManager,
    queues: Queues,
    pending: Pending,
    /// Blocks whose replication may have changed, classified at the next tick.
    to_check: HashSet<BlockId>,
    pub safe_mode: SafeMode,
    history: Vec<ScheduledCopy>,
    /// Replicas reported of blocks the namespace has not reached yet (on a member that lags
    /// the leader), recorded when the op that allocates the block is applied.
    /// Each with when it was reported: on the leader, one still unapplied after `dead_after`
    /// belongs to no namespace this group has (an old cluster's) and is deleted.
    ahead: HashMap<BlockId, Vec<(NodeIdx, ReportedReplica, Instant)>>,
    /// What happened lately, for the status page.
    pub events: Events,
    /// The current repair and the recent rate of copies.
    progress: Progress,
    heartbeat: Duration,
    dead_after: Duration,
    max_streams: u32,
    replication_timeout: Duration,
}

impl BlockManager {
    pub fn new(config: &Config) -> Self {
        Self {
            blocks: BlockMap::default(),
            nodes: DatanodeManager::default(),
            queues: Queues::default(),
            pending: Pending::default(),
            to_check: HashSet::new(),
            safe_mode: SafeMode::new(config.safemode_threshold, config.safemode_extension),
            history: Vec::new(),
            ahead: HashMap::new(),
            events: Events::default(),
            progress: Progress::default(),
            heartbeat: config.heartbeat_interval,
            dead_after: config.dead_after,
            max_streams: config.max_replication_streams,
            replication_timeout: config.replication_timeout,
        }
    }

    fn liveness_of(&self, idx: NodeIdx, now: Instant) -> Liveness {
        let n = self.nodes.get(idx);
        if n.dead {
            return Liveness::Dead;
        }
        liveness(now.saturating_duration_since(n.last_heartbeat), self.heartbeat, self.dead_after)
    }

    fn node_idx(&self, datanode_id: &str) -> Result<NodeIdx> {
        match self.nodes.lookup(datanode_id) {
            Some(idx) if !self.nodes.get(idx).dead => Ok(idx),
            _ => Err(Error::UnknownDatanode(datanode_id.to_string())),
        }
    }

    pub fn location(&self, idx: NodeIdx) -> Location {
        let n = self.nodes.get(idx);
        Location { datanode_id: n.id.clone(), address: n.address.clone() }
    }

    /// In-service nodes that are not dead, with their liveness.
    fn usable_nodes(&self, now: Instant) -> Vec<(NodeIdx, Liveness)> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.admin == AdminState::Normal)
            .map(|(idx, _)| (idx, self.liveness_of(idx, now)))
            .filter(|(_, l)| *l != Liveness::Dead)
            .collect()
    }

    /// Why safe mode is on (`None` when off), for `hdfs safemode` and for the error a refused
    /// mutation gets.
    pub fn safe_mode_tip(&self, ns: &Namespace) -> Option<String> {
        let (reported, total) = self.reported_blocks(ns);
        self.safe_mode.tip(reported, total, self.live_count(), Instant::now())
    }

    /// Live in-service datanodes.
    pub fn live_count(&self) -> usize {
        self.usable_nodes(Instant::now()).iter().filter(|(_, l)| *l == Liveness::Live).count()
    }

    /// Up to `n` targets for a new replica, never one in `exclude`.
    pub fn choose_targets(&self, n: usize, block_size: u64, exclude: &[NodeIdx]) -> Vec<NodeIdx> {
        let candidates = self
            .usable_nodes(Instant::now())
            .into_iter()
            .map(|(idx, l)| {
                let node = self.nodes.get(idx);
                Candidate {
                    node: idx,
                    stale: l == Liveness::Stale,
                    load: node.storage.active_transfers + node.scheduled + node.streams,
                    capacity: node.storage.capacity,
                    remaining: node.storage.remaining,
                }
            })
            .collect();
        choose_targets(candidates, n, block_size, exclude)
    }

    /// The HTTP address a WebHDFS client is sent to: the first of `holders` (best first) that
    /// has an HTTP port and is not dead, else a node where a new block of `block_size` would go.
    pub fn http_target(&self, holders: &[Location], block_size: u64) -> Option<String> {
        let now = Instant::now();
        let http = |idx: NodeIdx| {
            let n = self.nodes.get(idx);
            (!n.http_address.is_empty() && self.liveness_of(idx, now) != Liveness::Dead).then(|| n.http_address.clone())
        };
        holders
            .iter()
            .filter_map(|l| self.nodes.lookup(&l.datanode_id))
            .find_map(http)
            .or_else(|| self.choose_targets(1, block_size, &[]).into_iter().find_map(http))
    }

    /// Records a block of a file (newly allocated, or loaded), with any replica reported before
    /// this member applied it.
    pub fn add_block(&mut self, block: &Block, file: InodeId) {
        self.blocks.insert(block.id, block.generation_stamp, file);
        self.take_ahead(block.id, block.generation_stamp);
    }

    /// On the leader: replicas kept aside for longer than `dead_after` are of no op this group
    /// will apply; they are deleted as orphans.
    pub(super) fn expire_ahead(&mut self, now: Instant) {
        let dead_after = self.dead_after;
        let mut expired = Vec::new();
        self.ahead.retain(|_, q| {
            q.retain(|(idx, r, at)| {
                let old = now.duration_since(*at) > dead_after;
                if old {
                    expired.push((*idx, r.block_ref()));
                }
                !old
            });
            !q.is_empty()
        });
        for (idx, block) in expired {
            tracing::info!(block = %block.id, datanode = %self.nodes.get(idx).id, "replica of a block no op allocated: deleting");
            self.nodes.get_mut(idx).pending_deletes.push(block);
        }
    }

    /// Records the replicas of `block` at `generation_stamp` reported before this member had
    /// applied the op that made them current.
    fn take_ahead(&mut self, block: BlockId, generation_stamp: GenStamp) {
        let Some(queued) = self.ahead.remove(&block) else { return };
        let (now, later): (Vec<_>, Vec<_>) =
            queued.into_iter().partition(|(_, r, _)| r.generation_stamp == generation_stamp);
        if !later.is_empty() {
            self.ahead.insert(block, later);
        }
        for (idx, r, _) in now {
            if self.blocks.add_replica(r.block, r.generation_stamp, idx) {
                self.nodes.get_mut(idx).blocks.insert(r.block);
                self.to_check.insert(r.block);
            }
        }
    }

    /// Records the pipeline the leader gave a new block: its expected replicas until reported.
    pub fn set_pipeline(&mut self, block: BlockId, targets: &[NodeIdx]) {
        if targets.is_empty() || self.blocks.get(block).is_none() {
            return;
        }
        self.blocks.set_expected(block, targets.to_vec());
        for &t in targets {
            self.nodes.get_mut(t).scheduled += 1;
        }
    }

    /// A pipeline recovery gave the block a new generation: replicas reported under the old one
    /// are stale; the survivors report again when they finalize.
    pub fn new_generation(&mut self, block: BlockId, generation_stamp: GenStamp) {
        let Some(e) = self.blocks.get_mut(block) else { return };
        e.generation_stamp = generation_stamp;
        for n in std::mem::take(&mut e.replicas) {
            self.nodes.get_mut(n).blocks.remove(block);
        }
        self.take_ahead(block, generation_stamp);
    }

    /// Records the replicas a block recovery finalized, under the block's new generation.
    pub fn recovered(&mut self, block: BlockId, generation_stamp: GenStamp, holders: &[String]) {
        if let Some(e) = self.blocks.get_mut(block) {
            e.generation_stamp = generation_stamp;
            e.replicas.clear();
        }
        self.blocks.clear_expected(block);
        for id in holders {
            if let Some(idx) = self.nodes.lookup(id)
                && self.blocks.add_replica(block, generation_stamp, idx)
            {
                self.nodes.get_mut(idx).blocks.insert(block);
            }
        }
        self.take_ahead(block, generation_stamp);
        self.to_check.insert(block);
    }

    /// Forgets blocks of removed files and schedules the deletion of their replicas (and of
    /// unfinished ones where the block was being written). Called as the op that removed them
    /// is applied, which is only once a majority of the group has it on disk: a replica never
    /// goes before the namespace change that dropped it is durable (HDFS syncs its log first
    /// too). Only the leader sends the deletes.
    pub fn remove_blocks(&mut self, blocks: &[Block]) {
        for b in blocks {
            let expected = self.blocks.expected(b.id).to_vec();
            let holders = self.blocks.remove(b.id);
            for node in holders.iter().chain(expected.iter().filter(|n| !holders.contains(n))) {
                let n = self.nodes.get_mut(*node);
                n.blocks.remove(b.id);
                n.pending_deletes.push(b.block_ref());
            }
            self.queues.remove(b.id);
            self.ahead.remove(&b.id);
        }
    }

    /// Asks for these blocks to be classified at the next tick (after complete or setrep).
    pub fn check(&mut self, blocks: impl IntoIterator<Item = BlockId>) {
        self.to_check.extend(blocks);
    }

    /// Where a block being written is: the nodes of its pipeline, then any that reported it,
    /// leaving out nodes known dead (readers of a file being written ask them how much of it
    /// they may read).
    pub fn write_locations(&self, block: BlockId) -> Vec<Location> {
        let Some(entry) = self.blocks.get(block) else { return Vec::new() };
        let now = Instant::now();
        let mut nodes: Vec<NodeIdx> = self.blocks.expected(block).to_vec();
        nodes.extend(entry.replicas.iter().filter(|n| !nodes.contains(n)).copied().collect::<Vec<_>>());
        nodes.retain(|&n| self.liveness_of(n, now) != Liveness::Dead);
        nodes.into_iter().map(|n| self.location(n)).collect()
    }

    /// Replicas to read from: good ones on nodes not known dead; in-service and live first,
    /// then stale, then decommissioning; least loaded first.
    pub fn read_locations(&self, block: BlockId) -> Vec<Location> {
        let Some(entry) = self.blocks.get(block) else { return Vec::new() };
        let now = Instant::now();
        // When every replica is marked corrupt, offer them all: the marks may come from one
        // faulty reader, and the readers check every chunk anyway.
        let all_corrupt = entry.replicas.iter().all(|&n| self.blocks.is_corrupt(block, n));
        let mut nodes: Vec<(bool, Liveness, u32, NodeIdx)> = entry
            .replicas
            .iter()
            .filter(|&&n| all_corrupt || !self.blocks.is_corrupt(block, n))
            .map(|&idx| {
                let n = self.nodes.get(idx);
                (n.admin != AdminState::Normal, self.liveness_of(idx, now), n.storage.active_transfers, idx)
            })
            .filter(|(_, l, _, _)| *l != Liveness::Dead)
            .collect();
        nodes.sort();
        nodes.into_iter().map(|(_, _, _, idx)| self.location(idx)).collect()
    }

    /// How a block's replicas stand. A node past `dead_after` counts as dead even before the
    /// monitor's next tick declares it, so reports agree with each other.
    pub fn counts(&self, block: BlockId) -> ReplicaCounts {
        let mut c = ReplicaCounts::default();
        let Some(entry) = self.blocks.get(block) else { return c };
        let now = Instant::now();
        for &n in &entry.replicas {
            if self.liveness_of(n, now) == Liveness::Dead {
                continue;
            }
            if self.blocks.is_corrupt(block, n) {
                c.corrupt += 1;
            } else if self.nodes.get(n).admin == AdminState::Normal {
                c.live += 1;
            } else {
                c.decommissioning += 1;
            }
        }
        c
    }

    /// Copies scheduled so far, in order.
    pub fn history(&self) -> &[ScheduledCopy] {
        &self.history
    }

    /// The replication factor of a block's file (0 if the block is unknown).
    pub fn target(&self, ns: &Namespace, block: BlockId) -> usize {
        self.blocks
            .get(block)
            .and_then(|e| ns.inode(e.file))
            .and_then(|i| i.as_file())
            .map_or(0, |f| f.replication() as usize)
    }

    /// Takes over what `old` observed (its events and the repair's rate), when this block
    /// manager replaces it (a snapshot installed): the replicas start over, the story goes on.
    pub fn inherit(&mut self, old: &mut BlockManager) {
        self.events = std::mem::take(&mut old.events);
        self.progress = std::mem::take(&mut old.progress);
    }

    /// The current repair: copies made, blocks left, rate and estimated end.
    pub fn repair_status(&self, now: Instant) -> RepairStatus {
        self.progress.status((self.queues.len() + self.pending.len()) as u64, now)
    }

    /// Records a change in the current repair as an event.
    fn repair_changed(&mut self, change: Option<Change>) {
        match change {
            None => {}
            Some(Change::Started) => {
                let waiting = (self.queues.len() + self.pending.len()) as u64;
                let message = format!("repair started: {waiting} blocks need more replicas");
                self.events.record(Event::new(EventKind::RepairStarted, message).blocks(waiting));
            }
            Some(Change::Finished { copied, took }) => {
                tracing::info!(copied, ?took, "repair finished: every block has its replicas");
                let message = format!(
                    "repair finished: {copied} blocks copied in {}; every block has its replicas",
                    hdfs_proto::html::span(took)
                );
                self.events.record(Event::new(EventKind::RepairFinished, message).blocks(copied).duration(took));
            }
        }
    }

    pub fn datanode_report(&self, now: Instant) -> Vec<DatanodeReport> {
        self.nodes
            .iter()
            .map(|(idx, n)| DatanodeReport {
                location: self.location(idx),
                http_address: n.http_address.clone(),
                state: self.liveness_of(idx, now),
                admin: n.admin,
                storage: n.storage,
                blocks: n.blocks.len(),
                last_contact: now.saturating_duration_since(n.last_heartbeat),
                copies_in_flight: self.pending.involving(idx) as u64,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
