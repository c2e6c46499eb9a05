//! Datanodes as the namenode sees them: identity, address, storage, liveness, pending commands.
//!
//! A datanode's identity is the UUID it keeps in its data dir; its address may change between
//! restarts (a container's IP does). Liveness is a pure function of the time since the last
//! heartbeat, so it is tested without a clock.

mod command;
mod liveness;

use std::collections::HashMap;

use std::time::{Duration, Instant};

use hdfs_proto::{BlockId, BlockRef};
use roaring::RoaringTreemap;

use crate::error::Error;

pub use command::{Command, Location};
pub use liveness::{Liveness, liveness};

/// A datanode as the block map names it: its index in the manager, small and `Copy` (the
/// block map keeps up to three per block inline), given at first registration and kept across
/// re-registrations. Its UUID and address are in [`Location`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct NodeIdx(pub u32);

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
    /// host:port of its HTTP port (WebHDFS, its page), where redirects send clients; "" if none.
    pub http_address: String,
    pub storage: Storage,
    pub last_heartbeat: Instant,
    /// Blocks this node holds a replica of, per its reports. A compressed bitmap: block ids are
    /// dense, so this costs 2 bytes a replica where a node holds few of a range of ids and one
    /// bit where it holds most (a `HashSet<u64>` cost 9-18 bytes).
    pub blocks: BlockSet,
    /// Replicas to delete, sent with the next heartbeat reply.
    pub pending_deletes: Vec<BlockRef>,
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

/// The blocks a node holds, as a compressed bitmap of their ids.
#[derive(Debug, Default)]
pub struct BlockSet(RoaringTreemap);

impl BlockSet {
    pub fn insert(&mut self, b: BlockId) -> bool {
        self.0.insert(b.0)
    }

    pub fn remove(&mut self, b: BlockId) -> bool {
        self.0.remove(b.0)
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = BlockId> + '_ {
        self.0.iter().map(BlockId)
    }
}

impl IntoIterator for BlockSet {
    type Item = BlockId;
    type IntoIter = std::iter::Map<roaring::treemap::IntoIter, fn(u64) -> BlockId>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(BlockId)
    }
}

#[derive(Debug, Default)]
pub struct DatanodeManager {
    nodes: Vec<Datanode>,
    by_id: HashMap<String, NodeIdx>,
}

impl DatanodeManager {
    /// Registers a node, or refreshes its address and storage if it is known. A node known at
    /// another address that heartbeated within `live_within` is still running there: the
    /// registration is refused (a node that really moved registers again once it is silent).
    pub fn register(
        &mut self,
        id: &str,
        (address, http_address): (&str, &str),
        storage: Storage,
        now: Instant,
        live_within: Duration,
    ) -> Result<NodeIdx, Error> {
        if let Some(&idx) = self.by_id.get(id) {
            let n = &mut self.nodes[idx.0 as usize];
            let heard = now.saturating_duration_since(n.last_heartbeat);
            if n.address != address && !n.dead && heard < live_within {
                let (live_at, heard_ms) = (n.address.clone(), heard.as_millis() as u64);
                tracing::warn!(datanode = id, %live_at, address, heard_ms, "refused a registration of a live datanode's id from another address");
                return Err(Error::DuplicateDatanode { id: id.into(), live_at, address: address.into(), heard_ms });
            }
            if n.address != address {
                tracing::info!(datanode = id, old = %n.address, new = address, "datanode address changed");
            }
            n.address = address.to_string();
            n.http_address = http_address.to_string();
            n.storage = storage;
            n.last_heartbeat = now;
            n.dead = false;
            n.last_state = Liveness::Live;
            return Ok(idx);
        }
        let idx = NodeIdx(self.nodes.len() as u32);
        self.nodes.push(Datanode {
            id: id.to_string(),
            address: address.to_string(),
            http_address: http_address.to_string(),
            storage,
            last_heartbeat: now,
            blocks: BlockSet::default(),
            pending_deletes: Vec::new(),
            commands: Vec::new(),
            dead: false,
            last_state: Liveness::Live,
            admin: AdminState::Normal,
            streams: 0,
            scheduled: 0,
        });
        self.by_id.insert(id.to_string(), idx);
        Ok(idx)
    }

    pub fn lookup(&self, id: &str) -> Option<NodeIdx> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, idx: NodeIdx) -> &Datanode {
        &self.nodes[idx.0 as usize]
    }

    pub fn get_mut(&mut self, idx: NodeIdx) -> &mut Datanode {
        &mut self.nodes[idx.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (NodeIdx, &Datanode)> {
        self.nodes.iter().enumerate().map(|(i, n)| (NodeIdx(i as u32), n))
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
        let live = Duration::from_secs(6);
        let a = m.register("u1", ("h1:1", ""), Storage::default(), now, live).unwrap();
        let b = m.register("u2", ("h2:1", ""), Storage::default(), now, live).unwrap();
        assert_ne!(a, b);
        // Still heartbeating at h1:1: a second node with its id is refused, the first kept.
        let e = m.register("u1", ("h9:1", ""), Storage::default(), now + Duration::from_secs(1), live).unwrap_err();
        assert!(e.to_string().contains("u1 is live at h1:1"), "{e}");
        assert_eq!(m.get(a).address, "h1:1");
        // At the same address (a restart in place), at once.
        assert_eq!(m.register("u1", ("h1:1", ""), Storage::default(), now, live).unwrap(), a);
        // Silent for longer than `live`: it moved.
        let later = now + Duration::from_secs(7);
        assert_eq!(m.register("u1", ("h9:1", ""), Storage::default(), later, live).unwrap(), a);
        assert_eq!(m.get(a).address, "h9:1");
    }
}
