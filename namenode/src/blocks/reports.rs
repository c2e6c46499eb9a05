//! Block reports: the full report a datanode sends at registration and then hourly (the node
//! holds exactly these replicas), the incremental one it sends as each replica is finalized or
//! deleted, and the bad-replica reports of readers and scanners. Each reported replica is checked
//! against the namespace: an unknown block or a stale generation stamp is an orphan, deleted.
//!
//! Datanodes report to every member of the namenode group, and a member that is not the leader
//! may hear of a replica before it has applied the op that allocated its block. Such a replica
//! (of a block id the namespace has not reached yet) is kept aside until that op is applied
//! (HDFS's standby queues these as `PendingDataNodeMessages`), so a member that becomes leader
//! knows every replica at once.

use std::collections::HashSet;
use std::time::Instant;

use hdfs_proto::BlockId;

use super::{BlockManager, ReportedReplica};
use crate::datanodes::NodeIdx;
use crate::error::{Error, Result};
use crate::namespace::Namespace;

impl BlockManager {
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
        let reported: HashSet<BlockId> = replicas.iter().map(|r| r.block).collect();
        let gone: Vec<BlockId> = self.nodes.get(idx).blocks.iter().filter(|b| !reported.contains(b)).collect();
        for b in gone {
            self.forget_replica(b, idx);
        }
        let mut orphans = 0;
        for r in replicas {
            orphans += usize::from(!self.replica_received(ns, idx, r));
        }
        for r in unfinished {
            let known_gen = self.blocks.get(r.block).map(|e| e.generation_stamp);
            if known_gen.is_none() && r.block >= ns.next_block_id() {
                // Of a block this member has not applied yet: its report follows when finalized.
                continue;
            }
            if self.is_under_construction(ns, r.block) {
                // Kept for block recovery, which must know where it is (also after a restart).
                self.blocks.add_expected(r.block, idx);
            } else if known_gen.is_none_or(|g| r.generation_stamp < g) {
                // Of a deleted block, or left behind by a pipeline recovery: junk.
                self.nodes.get_mut(idx).pending_deletes.push(r.block_ref());
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
                self.progress.confirmed(Instant::now());
                tracing::info!(block = %r.block, datanode = datanode_id, "copy confirmed");
            }
        }
        for r in deleted {
            self.forget_replica(r.block, idx);
            if let Some(q) = self.ahead.get_mut(&r.block) {
                q.retain(|(n, _, _)| *n != idx);
            }
        }
        Ok(confirmed)
    }

    pub(super) fn forget_replica(&mut self, block: BlockId, idx: NodeIdx) {
        self.blocks.remove_replica(block, idx);
        self.nodes.get_mut(idx).blocks.remove(block);
        self.to_check.insert(block);
    }

    pub(super) fn is_under_construction(&self, ns: &Namespace, block: BlockId) -> bool {
        self.blocks.get(block).is_some_and(|e| ns.writer(e.file).is_some())
    }

    /// Records a reported replica; an unknown block or a stale generation (an orphan) is
    /// scheduled for deletion.
    pub(super) fn replica_received(&mut self, ns: &Namespace, idx: NodeIdx, r: &ReportedReplica) -> bool {
        // A committed block's replicas have its length; the last block of a file being written
        // (new, or continued by an append) is still growing.
        let growing = self.is_under_construction(ns, r.block);
        let expected_len = self
            .blocks
            .get(r.block)
            .and_then(|e| ns.inode(e.file))
            .and_then(|i| i.as_file())
            .and_then(|f| {
                f.blocks.iter().enumerate().find(|(_, b)| b.id == r.block).map(|(i, b)| (i + 1 == f.blocks.len(), b))
            })
            .filter(|(last, _)| !(growing && *last))
            .map(|(_, b)| b.num_bytes)
            .filter(|&len| len > 0);
        let len_ok = expected_len.is_none_or(|len| len == r.num_bytes);
        let known_gen = self.blocks.get(r.block).map(|e| e.generation_stamp);
        if known_gen.is_none() && r.block >= ns.next_block_id() {
            // A block this member has not applied yet: kept until it is (see the module doc).
            self.ahead.entry(r.block).or_default().push((idx, *r, Instant::now()));
            return true;
        }
        if known_gen.is_some_and(|g| r.generation_stamp > g) && self.is_under_construction(ns, r.block) {
            // Of a generation this member has not applied yet (a pipeline or block recovery):
            // recorded when it is.
            self.ahead.entry(r.block).or_default().push((idx, *r, Instant::now()));
            return true;
        }
        if len_ok && self.blocks.add_replica(r.block, r.generation_stamp, idx) {
            self.nodes.get_mut(idx).blocks.insert(r.block);
            self.to_check.insert(r.block);
            true
        } else {
            tracing::info!(block = %r.block, datanode = %self.nodes.get(idx).id, generation_stamp = %r.generation_stamp, len = r.num_bytes, "unknown or stale replica: scheduling deletion");
            self.blocks.remove_replica(r.block, idx);
            self.nodes.get_mut(idx).blocks.remove(r.block);
            self.nodes.get_mut(idx).pending_deletes.push(r.block_ref());
            false
        }
    }

    /// A reader or a scanner found a bad replica: never hand it out again; it is deleted once
    /// enough good copies exist.
    pub fn report_bad(&mut self, block: BlockId, datanode_id: &str) -> Result<()> {
        let idx = self.nodes.lookup(datanode_id).ok_or_else(|| Error::UnknownDatanode(datanode_id.to_string()))?;
        if self.blocks.mark_corrupt(block, idx) {
            tracing::warn!(block = %block, datanode = datanode_id, "replica marked corrupt");
            self.to_check.insert(block);
        }
        Ok(())
    }
}
