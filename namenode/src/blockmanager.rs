//! The block manager: where every replica is, which datanodes are alive, and the work that keeps
//! each block at its replication factor.
//!
//! It owns the block map and the datanode manager, and runs one unit of repair work per
//! [`tick`](BlockManager::tick) (called by the replication monitor loop):
//!
//! 1. liveness: a node silent for `dead_after` is declared dead; its replicas are forgotten and
//!    every block it held is checked;
//! 2. safe mode: after a restart nothing is scheduled until enough blocks are reported;
//! 3. copies not confirmed by the targets' reports within `replication_timeout` are retried;
//! 4. blocks whose replica count may have changed are classified: queued by priority when under
//!    their target, trimmed (fullest node first) when over it, their corrupt replicas deleted
//!    once enough good ones exist;
//! 5. queued blocks get a source (a good replica holder below its stream limit) and targets
//!    (the placement policy, excluding every holder); the copy goes to the source in its next
//!    heartbeat reply.
//!
//! Copies per source are limited (`max_streams`, plus 2 for blocks down to one replica, as
//! HDFS's `maxReplicationStreams` and its hard limit) so that repair does not starve clients.
//! Everything here runs under the namesystem lock and does no I/O.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::blockmap::BlockMap;
use crate::config::Config;
use crate::datanodes::{AdminState, DatanodeManager, Liveness, NodeIdx, Storage, liveness};
use crate::error::{Error, Result};
use crate::namespace::{Block, Namespace};
use crate::placement::{Candidate, choose_targets};
use crate::replication::{Pending, PendingCopy, Priority, Queues, priority};
use crate::safemode::SafeMode;

/// Scheduled copies remembered for observation (tests, reports).
const HISTORY_LIMIT: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub datanode_id: String,
    pub address: String,
}

/// Work for a datanode, returned in its heartbeat reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Delete these replicas (block id, generation stamp).
    DeleteBlocks(Vec<(u64, u64)>),
    /// Copy a replica to `targets` (a pipeline, first to last).
    Replicate { block: Block, targets: Vec<Location> },
    /// Recover a block whose writer is gone: agree on a length among `holders`, finalize them
    /// with `new_generation_stamp`, and report back.
    RecoverBlock { block: Block, new_generation_stamp: u64, holders: Vec<Location> },
}

/// A replica as a datanode reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedReplica {
    pub block: u64,
    pub generation_stamp: u64,
    pub num_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatanodeReport {
    pub location: Location,
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
    pub block: u64,
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
    to_check: HashSet<u64>,
    pub safe_mode: SafeMode,
    history: Vec<ScheduledCopy>,
    /// Log index of the op being applied, and deletes waiting for their op to be durable.
    op_index: u64,
    undurable_deletes: Vec<(u64, NodeIdx, u64, u64)>,
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
            op_index: 0,
            undurable_deletes: Vec::new(),
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

    /// Records a newly allocated block and the pipeline it was given.
    pub fn add_block(&mut self, block: &Block, file: crate::namespace::InodeId, targets: &[NodeIdx]) {
        self.blocks.insert(block.id, block.generation_stamp, file);
        if !targets.is_empty() {
            self.blocks.set_expected(block.id, targets.to_vec());
        }
        for &t in targets {
            self.nodes.get_mut(t).scheduled += 1;
        }
    }

    /// A pipeline recovery gave the block a new generation: replicas reported under the old one
    /// are stale; the survivors report again when they finalize.
    pub fn new_generation(&mut self, block: u64, generation_stamp: u64) {
        let Some(e) = self.blocks.get_mut(block) else { return };
        e.generation_stamp = generation_stamp;
        for n in std::mem::take(&mut e.replicas) {
            self.nodes.get_mut(n).blocks.remove(block);
        }
    }

    /// Records the replicas a block recovery finalized, under the block's new generation.
    pub fn recovered(&mut self, block: u64, generation_stamp: u64, holders: &[String]) {
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
        self.to_check.insert(block);
    }

    /// Forgets blocks of removed files and schedules the deletion of their replicas (and of
    /// unfinished ones where the block was being written).
    ///
    /// The deletes wait in `undurable_deletes` under the current op's log index until
    /// [`release_deletes`](Self::release_deletes) says that op is on disk: a replica must not go
    /// before the namespace change that dropped it is durable (HDFS syncs its log first too).
    pub fn remove_blocks(&mut self, blocks: &[Block]) {
        for b in blocks {
            let expected = self.blocks.expected(b.id).to_vec();
            let holders = self.blocks.remove(b.id);
            for node in holders.iter().chain(expected.iter().filter(|n| !holders.contains(n))) {
                self.nodes.get_mut(*node).blocks.remove(b.id);
                self.undurable_deletes.push((self.op_index, *node, b.id, b.generation_stamp));
            }
            self.queues.remove(b.id);
        }
    }

    /// Tags what follows with the log index of the op being applied.
    pub fn begin_op(&mut self, index: u64) {
        self.op_index = index;
    }

    /// Hands out the deletes of ops up to `durable` (now on disk) to their datanodes.
    pub fn release_deletes(&mut self, durable: u64) {
        let (ready, waiting): (Vec<_>, Vec<_>) = self.undurable_deletes.drain(..).partition(|d| d.0 <= durable);
        self.undurable_deletes = waiting;
        for (_, node, block, gen_stamp) in ready {
            self.nodes.get_mut(node).pending_deletes.push((block, gen_stamp));
        }
    }

    /// Asks for these blocks to be classified at the next tick (after complete or setrep).
    pub fn check(&mut self, blocks: impl IntoIterator<Item = u64>) {
        self.to_check.extend(blocks);
    }

    /// Replicas to read from: good ones on nodes not known dead; in-service and live first,
    /// then stale, then decommissioning; least loaded first.
    pub fn read_locations(&self, block: u64) -> Vec<Location> {
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
    pub fn counts(&self, block: u64) -> ReplicaCounts {
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

    // ----------------------------------------------------------------------------------------
    // Datanode messages

    pub fn register(&mut self, datanode_id: &str, address: &str, storage: Storage, now: Instant) {
        let known = self.nodes.lookup(datanode_id).is_some();
        let idx = self.nodes.register(datanode_id, address, storage, now);
        // A node that comes back starts clean: its full block report follows.
        let n = self.nodes.get_mut(idx);
        n.pending_deletes.clear();
        n.commands.clear();
        n.scheduled = 0;
        tracing::info!(datanode = datanode_id, address, known, "datanode registered");
    }

    /// Records a heartbeat and returns the node's pending work (none in safe mode), and whether
    /// it should come back early: while blocks wait for copies, or another node is about to be
    /// declared dead, and this node has a free stream, so that a copy scheduled a moment later
    /// does not wait a whole heartbeat interval.
    pub fn heartbeat(&mut self, datanode_id: &str, storage: Storage, now: Instant) -> Result<(Vec<Command>, bool)> {
        let idx = self.node_idx(datanode_id)?;
        let node = self.nodes.get_mut(idx);
        node.storage = storage;
        node.last_heartbeat = now;
        if self.safe_mode.is_on() {
            return Ok((Vec::new(), false));
        }
        let backlog = !self.queues.is_empty() || !self.pending.is_empty();
        // Another node will be declared dead before this one's next ordinary heartbeat (this
        // one's own deadline, just renewed, is a whole dead-after away): its blocks' copies will
        // be handed out then, and the first round should not wait a whole interval for its
        // sources to call (measured: up to 1 s of a 1.7 s repair).
        let death_near = self.next_death().is_some_and(|d| d <= now + self.heartbeat);
        let node = self.nodes.get_mut(idx);
        let mut commands = std::mem::take(&mut node.commands);
        if !node.pending_deletes.is_empty() {
            commands.push(Command::DeleteBlocks(std::mem::take(&mut node.pending_deletes)));
        }
        let soon = (backlog || death_near) && node.streams < self.max_streams + 2;
        Ok((commands, soon))
    }

    /// A full block report: the node holds exactly these finalized replicas, plus `unfinished`
    /// ones (being written, or left by a writer that went away).
    pub fn block_report(
        &mut self,
        ns: &Namespace,
        datanode_id: &str,
        replicas: &[ReportedReplica],
        unfinished: &[ReportedReplica],
    ) -> Result<()> {
        let idx = self.node_idx(datanode_id)?;
        let reported: HashSet<u64> = replicas.iter().map(|r| r.block).collect();
        let gone: Vec<u64> = self.nodes.get(idx).blocks.iter().filter(|b| !reported.contains(b)).collect();
        for b in gone {
            self.forget_replica(b, idx);
        }
        let mut orphans = 0;
        for r in replicas {
            orphans += usize::from(!self.replica_received(ns, idx, r));
        }
        for r in unfinished {
            let known_gen = self.blocks.get(r.block).map(|e| e.generation_stamp);
            if self.is_under_construction(ns, r.block) {
                // Kept for block recovery, which must know where it is (also after a restart).
                self.blocks.add_expected(r.block, idx);
            } else if known_gen.is_none_or(|g| r.generation_stamp < g) {
                // Of a deleted block, or left behind by a pipeline recovery: junk.
                self.nodes.get_mut(idx).pending_deletes.push((r.block, r.generation_stamp));
                orphans += 1;
            }
            // Otherwise it is being finalized as this report was listed: its own report follows.
        }
        tracing::info!(
            datanode = datanode_id,
            replicas = replicas.len(),
            unfinished = unfinished.len(),
            orphans,
            "block report processed"
        );
        Ok(())
    }

    /// An incremental block report. Returns whether it confirmed a copy (the monitor may then
    /// schedule the next one at once).
    pub fn incremental_report(
        &mut self,
        ns: &Namespace,
        datanode_id: &str,
        received: &[ReportedReplica],
        deleted: &[ReportedReplica],
    ) -> Result<bool> {
        let idx = self.node_idx(datanode_id)?;
        let mut confirmed = false;
        for r in received {
            let node = self.nodes.get_mut(idx);
            node.scheduled = node.scheduled.saturating_sub(1);
            self.replica_received(ns, idx, r);
            if let Some(copy) = self.pending.confirm(r.block, idx) {
                let src = self.nodes.get_mut(copy.source);
                src.streams = src.streams.saturating_sub(1);
                confirmed = true;
                tracing::info!(block = r.block, datanode = datanode_id, "copy confirmed");
            }
        }
        for r in deleted {
            self.forget_replica(r.block, idx);
        }
        Ok(confirmed)
    }

    /// The moment the next datanode not yet declared dead passes its dead-after deadline.
    pub fn next_death(&self) -> Option<Instant> {
        self.nodes.iter().filter(|(_, n)| !n.dead).map(|(_, n)| n.last_heartbeat + self.dead_after).min()
    }

    fn forget_replica(&mut self, block: u64, idx: NodeIdx) {
        self.blocks.remove_replica(block, idx);
        self.nodes.get_mut(idx).blocks.remove(block);
        self.to_check.insert(block);
    }

    fn is_under_construction(&self, ns: &Namespace, block: u64) -> bool {
        self.blocks.get(block).is_some_and(|e| ns.writer(e.file).is_some())
    }

    /// Records a reported replica; an unknown block or a stale generation (an orphan) is
    /// scheduled for deletion.
    fn replica_received(&mut self, ns: &Namespace, idx: NodeIdx, r: &ReportedReplica) -> bool {
        let expected_len = self
            .blocks
            .get(r.block)
            .and_then(|e| ns.inode(e.file))
            .and_then(|i| i.as_file())
            .and_then(|f| f.blocks.iter().find(|b| b.id == r.block))
            .map(|b| b.num_bytes)
            .filter(|&len| len > 0);
        let len_ok = expected_len.is_none_or(|len| len == r.num_bytes);
        let known_gen = self.blocks.get(r.block).map(|e| e.generation_stamp);
        if known_gen.is_some_and(|g| r.generation_stamp > g) && self.is_under_construction(ns, r.block) {
            // Finalized by a block recovery the namenode has not committed yet: the commit
            // records it.
            return true;
        }
        if len_ok && self.blocks.add_replica(r.block, r.generation_stamp, idx) {
            self.nodes.get_mut(idx).blocks.insert(r.block);
            self.to_check.insert(r.block);
            true
        } else {
            tracing::info!(block = r.block, datanode = %self.nodes.get(idx).id, generation_stamp = r.generation_stamp, len = r.num_bytes, "unknown or stale replica: scheduling deletion");
            self.blocks.remove_replica(r.block, idx);
            self.nodes.get_mut(idx).blocks.remove(r.block);
            self.nodes.get_mut(idx).pending_deletes.push((r.block, r.generation_stamp));
            false
        }
    }

    /// A reader or a scanner found a bad replica: never hand it out again; it is deleted once
    /// enough good copies exist.
    pub fn report_bad(&mut self, block: u64, datanode_id: &str) -> Result<()> {
        let idx = self.nodes.lookup(datanode_id).ok_or_else(|| Error::UnknownDatanode(datanode_id.to_string()))?;
        if self.blocks.mark_corrupt(block, idx) {
            tracing::warn!(block, datanode = datanode_id, "replica marked corrupt");
            self.to_check.insert(block);
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // The monitor's unit of work

    /// One round of liveness checks, safe-mode accounting and repair scheduling.
    pub fn tick(&mut self, ns: &Namespace, now: Instant) {
        self.check_liveness(now);
        if self.safe_mode.is_on() {
            let (reported, total) = self.reported_blocks(ns);
            if self.safe_mode.update(reported, total, now) {
                tracing::info!(reported, total, "leaving safe mode");
                self.to_check.extend(self.blocks.ids());
            }
            return;
        }
        for (block, copy) in self.pending.take_failed(now, None) {
            tracing::warn!(block, source = %self.nodes.get(copy.source).id, "copy not confirmed in time; will retry");
            self.copy_failed(block, &copy);
        }
        self.check_decommissioning(ns);
        for block in std::mem::take(&mut self.to_check) {
            self.classify(ns, block, now);
        }
        self.schedule_copies(ns, now);
    }

    fn copy_failed(&mut self, block: u64, copy: &PendingCopy) {
        let src = self.nodes.get_mut(copy.source);
        src.streams = src.streams.saturating_sub(1);
        for &t in &copy.targets {
            let n = self.nodes.get_mut(t);
            n.scheduled = n.scheduled.saturating_sub(1);
        }
        self.to_check.insert(block);
    }

    fn check_liveness(&mut self, now: Instant) {
        let nodes: Vec<NodeIdx> = self.nodes.iter().map(|(i, _)| i).collect();
        for idx in nodes {
            let state = self.liveness_of(idx, now);
            let n = self.nodes.get_mut(idx);
            if state == n.last_state {
                continue;
            }
            n.last_state = state;
            let (id, blocks) = (n.id.clone(), n.blocks.len());
            match state {
                Liveness::Live => tracing::info!(datanode = %id, "datanode live again"),
                Liveness::Stale => tracing::info!(datanode = %id, "datanode stale: missed heartbeats"),
                Liveness::Dead => {
                    tracing::info!(datanode = %id, blocks, "datanode declared dead; re-replicating its blocks");
                    self.declare_dead(idx, now);
                }
            }
        }
    }

    fn declare_dead(&mut self, idx: NodeIdx, now: Instant) {
        let n = self.nodes.get_mut(idx);
        n.dead = true;
        n.pending_deletes.clear();
        n.commands.clear();
        n.scheduled = 0;
        n.streams = 0;
        let blocks: Vec<u64> = std::mem::take(&mut n.blocks).into_iter().collect();
        for b in blocks {
            self.blocks.remove_replica(b, idx);
            self.to_check.insert(b);
        }
        for (block, copy) in self.pending.take_failed(now, Some(idx)) {
            self.copy_failed(block, &copy);
        }
    }

    /// (blocks with a reported replica, blocks expected) over complete files, for safe mode.
    pub fn reported_blocks(&self, ns: &Namespace) -> (usize, usize) {
        let (mut reported, mut total) = (0, 0);
        for (_, e) in self.blocks.iter() {
            if ns.inode(e.file).is_some() && ns.writer(e.file).is_none() {
                total += 1;
                reported += usize::from(!e.replicas.is_empty());
            }
        }
        (reported, total)
    }

    /// Decides what a block needs: copies (queued by priority), trimming, or corrupt cleanup.
    fn classify(&mut self, ns: &Namespace, block: u64, now: Instant) {
        let Some(entry) = self.blocks.get(block) else {
            self.queues.remove(block);
            return;
        };
        let Some(file) = ns.inode(entry.file).and_then(|i| i.as_file()) else { return };
        if ns.writer(entry.file).is_some() {
            return; // checked again at complete
        }
        let target = file.replication as usize;
        let c = self.counts(block);
        let pending = self.pending.targets(block);
        match priority(c.live + pending, target) {
            Some(_) => self.queues.add(block, priority(c.live, target).unwrap_or(Priority::Low)),
            None => self.queues.remove(block),
        }
        if c.live > target && pending == 0 {
            self.trim(block, c.live - target);
        }
        if c.corrupt > 0 && c.live > 0 {
            let room_elsewhere = self
                .usable_nodes(now)
                .iter()
                .any(|(n, _)| !self.blocks.get(block).is_some_and(|e| e.replicas.contains(n)));
            if c.live >= target || !room_elsewhere {
                self.delete_corrupt(block);
            }
        }
    }

    /// Deletes `excess` good replicas, from the fullest in-service nodes first.
    fn trim(&mut self, block: u64, excess: usize) {
        let Some(entry) = self.blocks.get(block) else { return };
        let gen_stamp = entry.generation_stamp;
        let mut holders: Vec<(u64, NodeIdx)> = entry
            .replicas
            .iter()
            .filter(|&&n| !self.blocks.is_corrupt(block, n) && self.nodes.get(n).admin == AdminState::Normal)
            .map(|&n| (self.nodes.get(n).storage.remaining, n))
            .collect();
        holders.sort();
        for (_, n) in holders.into_iter().take(excess) {
            tracing::info!(block, datanode = %self.nodes.get(n).id, "trimming an excess replica");
            self.blocks.remove_replica(block, n);
            let node = self.nodes.get_mut(n);
            node.blocks.remove(block);
            node.pending_deletes.push((block, gen_stamp));
        }
    }

    fn delete_corrupt(&mut self, block: u64) {
        let Some(entry) = self.blocks.get(block) else { return };
        let gen_stamp = entry.generation_stamp;
        let corrupt: Vec<NodeIdx> =
            entry.replicas.iter().copied().filter(|&n| self.blocks.is_corrupt(block, n)).collect();
        for n in corrupt {
            tracing::info!(block, datanode = %self.nodes.get(n).id, "deleting a corrupt replica now that good copies exist");
            self.blocks.remove_replica(block, n);
            let node = self.nodes.get_mut(n);
            node.blocks.remove(block);
            node.pending_deletes.push((block, gen_stamp));
        }
    }

    fn schedule_copies(&mut self, ns: &Namespace, now: Instant) {
        for prio in Priority::ALL {
            let limit = self.max_streams + if prio == Priority::Highest { 2 } else { 0 };
            for block in self.queues.blocks(prio) {
                self.schedule_copy(ns, block, prio, limit, now);
            }
        }
    }

    fn schedule_copy(&mut self, ns: &Namespace, block: u64, prio: Priority, limit: u32, now: Instant) {
        let Some(entry) = self.blocks.get(block) else {
            self.queues.remove(block);
            return;
        };
        let Some(file) = ns.inode(entry.file).and_then(|i| i.as_file()) else { return };
        let Some(b) = file.blocks.iter().find(|b| b.id == block).copied() else { return };
        if self.pending.get(block).is_some() {
            return; // one copy at a time per block; checked again when it ends
        }
        let c = self.counts(block);
        let needed = (file.replication as usize).saturating_sub(c.live);
        if needed == 0 {
            self.queues.remove(block);
            return;
        }
        // Source: a good replica on a node that is not dead, below its stream limit;
        // decommissioning nodes first (they have nothing else to do), then the least busy.
        let source = entry
            .replicas
            .iter()
            .filter(|&&n| !self.blocks.is_corrupt(block, n))
            .filter(|&&n| self.liveness_of(n, now) != Liveness::Dead && self.nodes.get(n).streams < limit)
            .min_by_key(|&&n| {
                let node = self.nodes.get(n);
                (node.admin == AdminState::Normal, node.streams + node.storage.active_transfers)
            })
            .copied();
        let Some(source) = source else { return };
        let targets = self.choose_targets(needed, b.num_bytes, &entry.replicas);
        if targets.is_empty() {
            return;
        }
        let locations: Vec<Location> = targets.iter().map(|&t| self.location(t)).collect();
        tracing::info!(
            block,
            priority = ?prio,
            live = c.live,
            target = file.replication,
            source = %self.nodes.get(source).id,
            targets = ?locations.iter().map(|l| l.datanode_id.as_str()).collect::<Vec<_>>(),
            "scheduling a copy"
        );
        for &t in &targets {
            self.nodes.get_mut(t).scheduled += 1;
        }
        let src = self.nodes.get_mut(source);
        src.streams += 1;
        src.commands.push(Command::Replicate { block: b, targets: locations });
        self.pending.add(block, PendingCopy { source, targets, deadline: now + self.replication_timeout });
        self.queues.remove(block);
        if self.history.len() < HISTORY_LIMIT {
            self.history.push(ScheduledCopy { block, priority: prio });
        }
    }

    /// Copies scheduled so far, in order.
    pub fn history(&self) -> &[ScheduledCopy] {
        &self.history
    }

    /// Asks a live holder of `block` (the primary) to recover it among `holders`: agree on the
    /// length every replica has, finalize them under a new generation stamp, and report back.
    /// False if no holder is alive.
    pub fn start_recovery(&mut self, block: Block, holders: &[NodeIdx]) -> bool {
        let now = Instant::now();
        let mut live: Vec<NodeIdx> =
            holders.iter().copied().filter(|&n| self.liveness_of(n, now) != Liveness::Dead).collect();
        live.sort_unstable();
        live.dedup();
        let Some(&primary) = live.first() else { return false };
        let locations: Vec<Location> = live.iter().map(|&n| self.location(n)).collect();
        tracing::info!(block = block.id, primary = %self.nodes.get(primary).id, holders = locations.len(), "starting block recovery");
        let new_generation_stamp = block.generation_stamp + 1;
        self.nodes.get_mut(primary).commands.push(Command::RecoverBlock {
            block,
            new_generation_stamp,
            holders: locations,
        });
        true
    }

    // ----------------------------------------------------------------------------------------
    // Decommission

    /// Starts (or, with `decommission` false, stops) draining the node named by id or address.
    pub fn set_decommission(&mut self, name: &str, decommission: bool) -> Result<Location> {
        let idx = self.nodes.find(name).ok_or_else(|| Error::UnknownDatanode(name.to_string()))?;
        let n = self.nodes.get_mut(idx);
        n.admin = if decommission { AdminState::Decommissioning } else { AdminState::Normal };
        let blocks: Vec<u64> = n.blocks.iter().collect();
        tracing::info!(datanode = %n.id, decommission, blocks = blocks.len(), "admin state changed");
        self.to_check.extend(blocks);
        Ok(self.location(idx))
    }

    fn check_decommissioning(&mut self, ns: &Namespace) {
        let draining: Vec<NodeIdx> =
            self.nodes.iter().filter(|(_, n)| n.admin == AdminState::Decommissioning).map(|(i, _)| i).collect();
        for idx in draining {
            let done = self
                .nodes
                .get(idx)
                .blocks
                .iter()
                .all(|b| self.pending.get(b).is_none() && self.counts(b).live >= self.target(ns, b).max(1));
            if done {
                let n = self.nodes.get_mut(idx);
                n.admin = AdminState::Decommissioned;
                tracing::info!(datanode = %n.id, "decommissioned: every block it holds has enough replicas elsewhere");
            }
        }
    }

    /// The replication factor of a block's file (0 if the block is unknown).
    pub fn target(&self, ns: &Namespace, block: u64) -> usize {
        self.blocks
            .get(block)
            .and_then(|e| ns.inode(e.file))
            .and_then(|i| i.as_file())
            .map_or(0, |f| f.replication as usize)
    }

    // ----------------------------------------------------------------------------------------
    // Reports

    pub fn datanode_report(&self, now: Instant) -> Vec<DatanodeReport> {
        self.nodes
            .iter()
            .map(|(idx, n)| DatanodeReport {
                location: self.location(idx),
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
mod tests {
    use super::*;
    use crate::namespace::Op;

    /// A namespace with one complete file `/f` at `replication` of one block (id 1, generation
    /// 1, 10 bytes); returns the file's inode and the block.
    fn one_block_file(replication: u32) -> (Namespace, crate::namespace::InodeId, Block) {
        let mut ns = Namespace::default();
        let create = Op::Create {
            path: "/f".into(),
            client: "c".into(),
            replication,
            block_size: 1 << 20,
            overwrite: false,
            create_parent: false,
            mtime_ms: 0,
        };
        let file = ns.apply(&create).unwrap().created.unwrap();
        let add = Op::AddBlock { path: "/f".into(), previous: None, block: 1, generation_stamp: 1 };
        let block = ns.apply(&add).unwrap().added_block.unwrap().1;
        ns.apply(&Op::Complete { path: "/f".into(), last: Some((1, 10)), mtime_ms: 0 }).unwrap();
        (ns, file, block)
    }

    /// `one_block_file(1)`, its block known to a block manager with one registered datanode
    /// "dn".
    fn setup() -> (Namespace, BlockManager) {
        let (ns, file, block) = one_block_file(1);
        let mut bm = BlockManager::new(&Config::new("/unused"));
        bm.add_block(&block, file, &[]);
        bm.register("dn", "h:1", Storage::default(), Instant::now());
        bm.safe_mode.leave();
        (ns, bm)
    }

    fn deletes(bm: &mut BlockManager) -> Vec<(u64, u64)> {
        let (cmds, _) = bm.heartbeat("dn", Storage::default(), Instant::now()).unwrap();
        cmds.into_iter()
            .flat_map(|c| match c {
                Command::DeleteBlocks(d) => d,
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn nodes_are_asked_back_early_when_another_is_about_to_be_declared_dead() {
        let (_, mut bm) = setup();
        let t0 = Instant::now();
        bm.register("other", "h:2", Storage::default(), t0);
        let soon = |bm: &mut BlockManager, at| bm.heartbeat("dn", Storage::default(), at).unwrap().1;
        assert!(!soon(&mut bm, t0), "nothing to do, nobody dying");
        // "other" stays silent: within one interval of its dead-after deadline, "dn" is asked to
        // call early, so it hears of the copies as soon as they are scheduled.
        let near = t0 + bm.dead_after - bm.heartbeat / 2;
        assert!(soon(&mut bm, near));
        bm.heartbeat("other", Storage::default(), near).unwrap();
        assert!(!soon(&mut bm, near), "it called after all");
    }

    #[test]
    fn an_unfinished_replica_of_the_current_generation_is_not_deleted() {
        // Listed as unfinished just before it was finalized and its file completed.
        let (ns, mut bm) = setup();
        let current = ReportedReplica { block: 1, generation_stamp: 1, num_bytes: 10 };
        bm.block_report(&ns, "dn", &[], &[current]).unwrap();
        assert!(deletes(&mut bm).is_empty());
        // An older generation (left by a pipeline recovery) and an unknown block are junk.
        let stale = ReportedReplica { block: 1, generation_stamp: 0, num_bytes: 10 };
        let unknown = ReportedReplica { block: 9, generation_stamp: 1, num_bytes: 10 };
        bm.block_report(&ns, "dn", &[], &[stale, unknown]).unwrap();
        assert_eq!(deletes(&mut bm), vec![(1, 0), (9, 1)]);
    }

    #[test]
    fn replicas_of_removed_blocks_are_deleted_only_once_the_op_is_durable() {
        let (ns, mut bm) = setup();
        let replica = ReportedReplica { block: 1, generation_stamp: 1, num_bytes: 10 };
        bm.block_report(&ns, "dn", &[replica], &[]).unwrap();
        bm.begin_op(7);
        bm.remove_blocks(&[Block { id: 1, generation_stamp: 1, num_bytes: 10 }]);
        assert!(deletes(&mut bm).is_empty(), "not before the log is synced");
        bm.release_deletes(6);
        assert!(deletes(&mut bm).is_empty(), "an earlier op's sync does not cover it");
        bm.release_deletes(7);
        assert_eq!(deletes(&mut bm), vec![(1, 1)]);
    }

    #[test]
    fn a_copy_not_confirmed_in_time_is_scheduled_again() {
        let (ns, file, block) = one_block_file(2);
        let mut config = Config::new("/unused");
        config.replication_timeout = Duration::from_secs(1);
        let mut bm = BlockManager::new(&config);
        bm.safe_mode.leave();
        bm.add_block(&block, file, &[]);
        let t0 = Instant::now();
        bm.register("a", "a:1", Storage::default(), t0);
        bm.register("b", "b:1", Storage::default(), t0);
        let replica = ReportedReplica { block: 1, generation_stamp: 1, num_bytes: 10 };
        bm.block_report(&ns, "a", &[replica], &[]).unwrap();

        bm.tick(&ns, t0);
        assert_eq!(bm.history().len(), 1, "one copy for the missing replica");
        assert_eq!(bm.nodes.get(bm.nodes.lookup("a").unwrap()).streams, 1);
        bm.tick(&ns, t0 + Duration::from_millis(500));
        assert_eq!(bm.history().len(), 1, "still in flight");
        // No report from the target within the timeout: the stream is returned, the copy retried.
        bm.tick(&ns, t0 + Duration::from_secs(2));
        assert_eq!(bm.history().len(), 2);
        assert_eq!(bm.nodes.get(bm.nodes.lookup("a").unwrap()).streams, 1);
    }
}
