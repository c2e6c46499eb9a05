//! Repair: the replication monitor's unit of work ([`BlockManager::tick`]) and what it decides.
//!
//! Liveness first (a node silent for `dead_after` is declared dead and its replicas forgotten),
//! then safe mode, then copies not confirmed in time, decommissioning, classification of every
//! block whose replica count may have changed (queued by priority when under target, trimmed when
//! over, corrupt replicas deleted once good ones exist), and last the scheduling of queued copies
//! within each source's stream limit. Block recovery after a lost lease is started here too.

use std::time::Instant;

use hdfs_proto::{BlockId, BlockRef};

use super::queues::{PendingCopy, Priority, priority};
use super::{BlockManager, HISTORY_LIMIT, ScheduledCopy};
use crate::datanodes::{AdminState, Command, Liveness, Location, NodeIdx};
use crate::error::{Error, Result};
use crate::events::{Event, EventKind};
use crate::namespace::{Block, Namespace};

impl BlockManager {
    /// One round of liveness checks, safe-mode accounting and, on the leader (`lead`), repair
    /// scheduling. Other members keep their view of replicas current but decide nothing. Safe
    /// mode is not judged until the namespace has `replayed` the log it had at start-up (before
    /// that, its block count says nothing).
    pub fn tick(&mut self, ns: &Namespace, now: Instant, lead: bool, replayed: bool) {
        self.check_liveness(now);
        if self.safe_mode.is_on() && !replayed {
            return;
        }
        if self.safe_mode.is_on() {
            let (reported, total) = self.reported_blocks(ns);
            if self.safe_mode.update(reported, total, now) {
                tracing::info!(reported, total, "leaving safe mode");
                let message = format!("left safe mode: {reported} of {total} blocks reported");
                self.events.record(Event::new(EventKind::SafeModeLeft, message));
                self.to_check.extend(self.blocks.ids());
            }
            return;
        }
        if !lead {
            // A new leader checks every block when it takes over.
            self.to_check.clear();
            self.progress.abandon();
            return;
        }
        self.expire_ahead(now);
        for (block, copy) in self.pending.take_failed(now, None) {
            tracing::warn!(block = %block, source = %self.nodes.get(copy.source).id, "copy not confirmed in time; will retry");
            self.copy_failed(block, &copy);
        }
        self.check_decommissioning(ns);
        for block in std::mem::take(&mut self.to_check) {
            self.classify(ns, block, now);
        }
        self.schedule_copies(ns, now);
        let change = self.progress.update((self.queues.len() + self.pending.len()) as u64, now);
        self.repair_changed(change);
    }

    pub(super) fn copy_failed(&mut self, block: BlockId, copy: &PendingCopy) {
        let src = self.nodes.get_mut(copy.source);
        src.streams = src.streams.saturating_sub(1);
        for &t in &copy.targets {
            let n = self.nodes.get_mut(t);
            n.scheduled = n.scheduled.saturating_sub(1);
        }
        self.to_check.insert(block);
    }

    pub(super) fn check_liveness(&mut self, now: Instant) {
        let nodes: Vec<NodeIdx> = self.nodes.iter().map(|(i, _)| i).collect();
        for idx in nodes {
            let state = self.liveness_of(idx, now);
            let n = self.nodes.get_mut(idx);
            if state == n.last_state {
                continue;
            }
            n.last_state = state;
            let (id, address, blocks) = (n.id.clone(), n.address.clone(), n.blocks.len());
            let silent = hdfs_proto::html::span(now.saturating_duration_since(n.last_heartbeat));
            let event = match state {
                Liveness::Live => {
                    tracing::info!(datanode = %id, "datanode live again");
                    Event::new(EventKind::DatanodeLive, format!("datanode {address} is live again"))
                }
                Liveness::Stale => {
                    tracing::info!(datanode = %id, "datanode stale: missed heartbeats");
                    Event::new(
                        EventKind::DatanodeStale,
                        format!("datanode {address} is stale: no heartbeat for {silent}"),
                    )
                }
                Liveness::Dead => {
                    tracing::info!(datanode = %id, blocks, "datanode declared dead; re-replicating its blocks");
                    self.declare_dead(idx, now);
                    let message = format!(
                        "datanode {address} declared dead: no heartbeat for {silent}; its {blocks} replicas are forgotten"
                    );
                    Event::new(EventKind::DatanodeDead, message).blocks(blocks)
                }
            };
            self.events.record(event.datanode(&address));
        }
    }

    pub(super) fn declare_dead(&mut self, idx: NodeIdx, now: Instant) {
        let n = self.nodes.get_mut(idx);
        n.dead = true;
        n.pending_deletes.clear();
        n.commands.clear();
        n.scheduled = 0;
        n.streams = 0;
        let blocks: Vec<BlockId> = std::mem::take(&mut n.blocks).into_iter().collect();
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
    pub(super) fn classify(&mut self, ns: &Namespace, block: BlockId, now: Instant) {
        let Some(entry) = self.blocks.get(block) else {
            self.queues.remove(block);
            return;
        };
        let Some(file) = ns.inode(entry.file).and_then(|i| i.as_file()) else { return };
        if ns.writer(entry.file).is_some() {
            return; // checked again at complete
        }
        let target = file.replication() as usize;
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
    pub(super) fn trim(&mut self, block: BlockId, excess: usize) {
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
            tracing::info!(block = %block, datanode = %self.nodes.get(n).id, "trimming an excess replica");
            self.blocks.remove_replica(block, n);
            let node = self.nodes.get_mut(n);
            node.blocks.remove(block);
            node.pending_deletes.push(BlockRef { id: block, gen_stamp });
        }
    }

    pub(super) fn delete_corrupt(&mut self, block: BlockId) {
        let Some(entry) = self.blocks.get(block) else { return };
        let gen_stamp = entry.generation_stamp;
        let corrupt: Vec<NodeIdx> =
            entry.replicas.iter().copied().filter(|&n| self.blocks.is_corrupt(block, n)).collect();
        for n in corrupt {
            tracing::info!(block = %block, datanode = %self.nodes.get(n).id, "deleting a corrupt replica now that good copies exist");
            self.blocks.remove_replica(block, n);
            let node = self.nodes.get_mut(n);
            node.blocks.remove(block);
            node.pending_deletes.push(BlockRef { id: block, gen_stamp });
        }
    }

    pub(super) fn schedule_copies(&mut self, ns: &Namespace, now: Instant) {
        for prio in Priority::ALL {
            let limit = self.max_streams + if prio == Priority::Highest { 2 } else { 0 };
            for block in self.queues.blocks(prio) {
                self.schedule_copy(ns, block, prio, limit, now);
            }
        }
    }

    pub(super) fn schedule_copy(&mut self, ns: &Namespace, block: BlockId, prio: Priority, limit: u32, now: Instant) {
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
        let needed = (file.replication() as usize).saturating_sub(c.live);
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
            block = %block,
            priority = ?prio,
            live = c.live,
            target = file.replication(),
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
        let change = self.progress.scheduled(now, hdfs_proto::html::now_ms());
        self.repair_changed(change);
        if self.history.len() < HISTORY_LIMIT {
            self.history.push(ScheduledCopy { block, priority: prio });
        }
    }

    /// Asks a live holder of `block` (the primary) to recover it among `holders`: agree on the
    /// length every replica has (a truncate: cut them to `truncate_to`), finalize them under a
    /// new generation stamp, and report back. False if no holder is alive.
    pub fn start_recovery(&mut self, block: Block, holders: &[NodeIdx], truncate_to: Option<u64>) -> bool {
        let now = Instant::now();
        let mut live: Vec<NodeIdx> =
            holders.iter().copied().filter(|&n| self.liveness_of(n, now) != Liveness::Dead).collect();
        live.sort_unstable();
        live.dedup();
        let Some(&primary) = live.first() else { return false };
        let locations: Vec<Location> = live.iter().map(|&n| self.location(n)).collect();
        tracing::info!(block = %block.id, primary = %self.nodes.get(primary).id, holders = locations.len(), "starting block recovery");
        let new_generation_stamp = block.generation_stamp.next();
        self.nodes.get_mut(primary).commands.push(Command::RecoverBlock {
            block,
            new_generation_stamp,
            holders: locations,
            truncate_to,
        });
        true
    }

    /// Starts (or, with `decommission` false, stops) draining the node named by id or address.
    /// This member has just become the leader: every block is checked afresh, and copies
    /// another leader may have scheduled are forgotten (their replicas are reported if made).
    pub fn take_over(&mut self) {
        self.to_check.extend(self.blocks.ids());
    }

    pub fn set_decommission(&mut self, name: &str, decommission: bool) -> Result<Location> {
        let idx = self.nodes.find(name).ok_or_else(|| Error::UnknownDatanode(name.to_string()))?;
        let n = self.nodes.get_mut(idx);
        n.admin = if decommission { AdminState::Decommissioning } else { AdminState::Normal };
        let blocks: Vec<BlockId> = n.blocks.iter().collect();
        tracing::info!(datanode = %n.id, decommission, blocks = blocks.len(), "admin state changed");
        let address = n.address.clone();
        let event = if decommission {
            let message =
                format!("datanode {address} is being decommissioned: {} replicas to copy elsewhere", blocks.len());
            Event::new(EventKind::DecommissionStarted, message).blocks(blocks.len() as u64)
        } else {
            Event::new(EventKind::DecommissionStopped, format!("datanode {address} is back in service"))
        };
        self.events.record(event.datanode(&address));
        self.to_check.extend(blocks);
        Ok(self.location(idx))
    }

    pub(super) fn check_decommissioning(&mut self, ns: &Namespace) {
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
                let address = n.address.clone();
                let message =
                    format!("datanode {address} decommissioned: every block it holds has enough replicas elsewhere");
                self.events.record(Event::new(EventKind::Decommissioned, message).datanode(&address));
            }
        }
    }
}
