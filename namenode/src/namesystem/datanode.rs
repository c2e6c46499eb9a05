//! Datanode operations (HDFS's `DatanodeProtocol`): registration, heartbeats and block reports,
//! handed to the block manager under the lock.

use std::time::Instant;

use super::{Namesystem, State};

/// What a heartbeat gets back.
pub struct HeartbeatAnswer {
    pub commands: Vec<Command>,
    /// Heartbeat again after this, not the usual interval (there is repair work for the node).
    pub early: Option<std::time::Duration>,
    /// The Raft term of this member, and whether it leads in it: a datanode obeys only the
    /// leader of the highest term it has seen.
    pub term: u64,
    pub leading: bool,
    /// Every member's `host:port`.
    pub namenodes: Vec<String>,
}
use crate::blocks::{DatanodeReport, ReportedReplica};
use crate::datanodes::{Command, Location, Storage};
use crate::error::Result;

impl Namesystem {
    pub fn register(&self, datanode_id: &str, address: &str, http_address: &str, storage: Storage) -> Result<()> {
        self.lock().bm.register(datanode_id, address, http_address, storage, Instant::now())
    }

    /// Records a heartbeat; returns the node's commands (none unless this member leads), when
    /// it should heartbeat again early, and the term they were decided in (for fencing).
    pub fn heartbeat(&self, datanode_id: &str, storage: Storage) -> Result<HeartbeatAnswer> {
        let (term, leading) = self.role();
        let (mut commands, soon) = self.lock().bm.heartbeat(datanode_id, storage, Instant::now())?;
        if !leading {
            // Only the leader orders work; a follower's queue is the leader's decision too.
            commands.clear();
        }
        // A fifth of an interval: soon enough for the next round of copies, rare enough that
        // a large cluster in repair does not flood the namenode (5 heartbeats per interval).
        let early = (soon && leading).then(|| self.config.heartbeat_interval / 5);
        Ok(HeartbeatAnswer { commands, early, term, leading, namenodes: self.member_addresses() })
    }

    /// A full block report: finalized replicas, and unfinished ones.
    pub fn block_report(
        &self,
        datanode_id: &str,
        replicas: &[ReportedReplica],
        unfinished: &[ReportedReplica],
    ) -> Result<()> {
        let mut st = self.lock();
        let State { ns, bm, .. } = &mut *st;
        bm.block_report(ns, datanode_id, replicas, unfinished)
    }

    /// An incremental block report.
    pub fn blocks_received_and_deleted(
        &self,
        datanode_id: &str,
        received: &[ReportedReplica],
        deleted: &[ReportedReplica],
    ) -> Result<()> {
        let mut st = self.lock();
        let State { ns, bm, .. } = &mut *st;
        if bm.incremental_report(ns, datanode_id, received, deleted)? {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// How many datanodes this member has heard from (leader or not; for tests and reports).
    pub fn registered_datanodes(&self) -> usize {
        self.lock().bm.datanode_report(Instant::now()).len()
    }

    /// Where a WebHDFS client goes for data: a live holder among `holders`, else a node with
    /// room for a block of `block_size` (see `BlockManager::http_target`).
    pub fn http_target(&self, holders: &[Location], block_size: u64) -> Option<String> {
        self.lock().bm.http_target(holders, block_size)
    }

    /// Every datanode as this member sees it, leader or not (datanodes heartbeat to every
    /// member; only the leader's view decides anything).
    pub fn datanodes_seen(&self) -> Vec<DatanodeReport> {
        self.lock().bm.datanode_report(Instant::now())
    }

    pub fn datanode_report(&self) -> Result<Vec<DatanodeReport>> {
        self.leader_only()?;
        Ok(self.lock().bm.datanode_report(Instant::now()))
    }
}
