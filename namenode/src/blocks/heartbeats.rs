//! Datanode registration and heartbeats, as the block manager sees them: a heartbeat refreshes a
//! node's storage and liveness and takes away the commands waiting for it (deletes, copies,
//! recoveries), as HDFS's `DatanodeManager.handleHeartbeat` does. While repair work is queued,
//! or another node is about to be declared dead, nodes with a free stream are asked to come back
//! early so a copy scheduled a moment later does not wait a whole heartbeat interval.

use std::time::Instant;

use super::BlockManager;
use crate::datanodes::{Command, Storage};
use crate::error::Result;
use crate::events::{Event, EventKind};

impl BlockManager {
    /// Registers a datanode (again); refused while its id heartbeats from another address (two
    /// heartbeat intervals: a node that moved registers once its old self is silent).
    pub fn register(
        &mut self,
        datanode_id: &str,
        address: &str,
        http_address: &str,
        storage: Storage,
        now: Instant,
    ) -> Result<()> {
        let known = self.nodes.lookup(datanode_id).is_some();
        let idx = self.nodes.register(datanode_id, (address, http_address), storage, now, self.heartbeat * 2)?;
        // A node that comes back starts clean: its full block report follows.
        let n = self.nodes.get_mut(idx);
        n.pending_deletes.clear();
        n.commands.clear();
        n.scheduled = 0;
        tracing::info!(datanode = datanode_id, address, known, "datanode registered");
        let again = if known { "registered again" } else { "registered" };
        let message =
            format!("datanode {address} {again} ({} of storage)", hdfs_proto::units::format_size(storage.capacity));
        self.events.record(Event::new(EventKind::DatanodeRegistered, message).datanode(address));
        Ok(())
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

    /// The moment the next datanode not yet declared dead passes its dead-after deadline.
    pub fn next_death(&self) -> Option<Instant> {
        self.nodes.iter().filter(|(_, n)| !n.dead).map(|(_, n)| n.last_heartbeat + self.dead_after).min()
    }
}
