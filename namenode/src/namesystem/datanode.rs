//! Datanode operations (HDFS's `DatanodeProtocol`): registration, heartbeats and block reports,
//! handed to the block manager under the lock.

use std::time::Instant;

use super::{Namesystem, State};
use crate::blocks::{DatanodeReport, ReportedReplica};
use crate::datanodes::{Command, Storage};
use crate::error::Result;

impl Namesystem {
    pub fn register(&self, datanode_id: &str, address: &str, storage: Storage) {
        self.lock().bm.register(datanode_id, address, storage, Instant::now());
    }

    /// Records a heartbeat; returns the node's commands and, when it should heartbeat again
    /// early, after how long.
    pub fn heartbeat(
        &self,
        datanode_id: &str,
        storage: Storage,
    ) -> Result<(Vec<Command>, Option<std::time::Duration>)> {
        let (commands, soon) = self.lock().bm.heartbeat(datanode_id, storage, Instant::now())?;
        // A fifth of an interval: soon enough for the next round of copies, rare enough that
        // a large cluster in repair does not flood the namenode (5 heartbeats per interval).
        let early = soon.then(|| self.config.heartbeat_interval / 5);
        Ok((commands, early))
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

    pub fn datanode_report(&self) -> Vec<DatanodeReport> {
        self.lock().bm.datanode_report(Instant::now())
    }
}
