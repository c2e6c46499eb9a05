//! Datanodes as the namenode sees them: identity, address, storage, liveness, pending commands.
//!
//! A datanode's identity is the UUID it keeps in its data dir; its address may change between
//! restarts (a container's IP does). Liveness is a pure function of the time since the last
//! heartbeat, so it is tested without a clock.

mod command;
mod liveness;

use std::collections::HashMap;

use std::time::Instant;

use roaring::RoaringTreemap;

pub use command::{Command, Location};
pub use liveness::{Liveness, liveness};

/// Index of a datanode in the manager: small and `Copy`, for the block map.
pub type NodeIdx = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Storage {
    pub capacity: u64,
    pub used: u64,
    pub remaining: u64,
    pub active_transfers: u32,
}

/// What an operator asked of a node (`hdfs decommission`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    Normal,
    /// Draining: readable and a copy source, but gets no new replicas and its replicas do not
    /// count toward a block's target.
    Decommissioning,
    /// Every block it holds has enough replicas elsewhere.
    Decommissioned,
}

#[derive(Debug)]
pub struct Datanode {
    pub id: String,
    pub address: String,
    pub storage: Storage,
    pub last_heartbeat: Instant,
    /// Blocks this node holds a replica of, per its reports. A compressed bitmap: block ids are
    /// dense, so this costs 2 bytes a replica where a node holds few of a range of ids and one
    /// bit where it holds most (a `HashSet<u64>` cost 9-18 bytes).
    pub blocks: RoaringTreemap,
    /// Replicas to delete, sent with the next heartbeat reply.
    pub pending_deletes: Vec<(u64, u64)>,
    /// Other work for the next heartbeat reply (copies, block recovery).
    pub commands: Vec<Command>,
    /// Declared dead: its replicas were forgotten; it must register again.
    pub dead: bool,
    /// The liveness last logged, to log each change once.
    pub last_state: Liveness,
    pub admin: AdminState,
    /// Copies in flight with this node as the source.
    pub streams: u32,
    /// Blocks placed on it whose replica is not reported yet: counts as load for placement,
    /// since heartbeats lag behind allocation.
    pub scheduled: u32,
}

#[derive(Debug, Default)]
pub struct DatanodeManager {
    nodes: Vec<Datanode>,
    by_id: HashMap<String, NodeIdx>,
}

impl DatanodeManager {
    /// Registers a node, or refreshes its address and storage if it is known.
    pub fn register(&mut self, id: &str, address: &str, storage: Storage, now: Instant) -> NodeIdx {
        if let Some(&idx) = self.by_id.get(id) {
            let n = &mut self.nodes[idx as usize];
            if n.address != address {
                tracing::info!(datanode = id, old = %n.address, new = address, "datanode address changed");
            }
            n.address = address.to_string();
            n.storage = storage;
            n.last_heartbeat = now;
            n.dead = false;
            n.last_state = Liveness::Live;
            return idx;
        }
        let idx = self.nodes.len() as NodeIdx;
        self.nodes.push(Datanode {
            id: id.to_string(),
            address: address.to_string(),
            storage,
            last_heartbeat: now,
            blocks: RoaringTreemap::new(),
            pending_deletes: Vec::new(),
            commands: Vec::new(),
            dead: false,
            last_state: Liveness::Live,
            admin: AdminState::Normal,
            streams: 0,
            scheduled: 0,
        });
        self.by_id.insert(id.to_string(), idx);
        idx
    }

    pub fn lookup(&self, id: &str) -> Option<NodeIdx> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, idx: NodeIdx) -> &Datanode {
        &self.nodes[idx as usize]
    }

    pub fn get_mut(&mut self, idx: NodeIdx) -> &mut Datanode {
        &mut self.nodes[idx as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (NodeIdx, &Datanode)> {
        self.nodes.iter().enumerate().map(|(i, n)| (i as NodeIdx, n))
    }

    /// A node by its id or its address (as operators name it).
    pub fn find(&self, name: &str) -> Option<NodeIdx> {
        self.lookup(name).or_else(|| self.iter().find(|(_, n)| n.address == name).map(|(i, _)| i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_registration_keeps_the_index_and_takes_the_new_address() {
        let mut m = DatanodeManager::default();
        let now = Instant::now();
        let a = m.register("u1", "h1:1", Storage::default(), now);
        let b = m.register("u2", "h2:1", Storage::default(), now);
        assert_ne!(a, b);
        assert_eq!(m.register("u1", "h9:1", Storage::default(), now), a);
        assert_eq!(m.get(a).address, "h9:1");
    }
}
