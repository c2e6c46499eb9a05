//! The namenode group's consensus, on openraft: the types of what is replicated, the transport
//! between members, and the read barrier. The log store is [`crate::editlog`]; the state machine
//! is the namesystem's (`namesystem/machine.rs`), so this folder knows neither.
//!
//! - A log entry is a [`Request`]: the [`Proposal`]s of the concurrent calls the leader gathered
//!   into it (each a namespace [`Op`] and the caller's [`CallId`] for the retry cache), and the
//!   time the leader took them at. Many client operations share one entry, one append and one
//!   replication message.
//! - Applying one gives an [`Outcome`]: for each proposal, in order, what changed ([`Effects`],
//!   without the removed files, which the state machine consumes), or the error every member
//!   reached alike.
//! - [`network`]: members talk over the same gRPC port as clients (`RaftService`), each message
//!   bincode-encoded.
//! - [`read`]: linearizable reads through openraft's read index, one quorum round shared by all
//!   the reads that arrived while the previous round ran.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::namespace::{Effects, Op};

pub mod network;
pub mod read;

/// A member's id in the group (`--id`), as in `--peers 1=host:8020,...`.
pub type NodeId = u64;

openraft::declare_raft_types!(
    /// The namenode group's openraft types: entries carry [`Request`]s, applying one gives an
    /// [`Outcome`]; node ids are `u64`, nodes their `host:port`, snapshots bytes in memory.
    pub TypeConfig:
        D = Request,
        R = Outcome,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StoredMembership = openraft::StoredMembership<NodeId, openraft::BasicNode>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, openraft::BasicNode>;
pub type StorageError = openraft::StorageError<NodeId>;

/// What a log entry asks: ops from concurrent calls, applied in order, and the leader's clock
/// when it took them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub ops: Vec<Proposal>,
    /// The leader's wall clock (ms) when it proposed the ops: the retry cache expires entries by
    /// it, so every member expires the same ones.
    pub at_ms: u64,
}

/// One call's op, and who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub op: Op,
    pub call: Option<CallId>,
}

/// A client's call, as HDFS's RPC header names it (client id, call id): a retry of a
/// non-idempotent call carries the same one, and gets the first attempt's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallId {
    pub client: String,
    pub call: u64,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ops[..] {
            [one] => write!(f, "{:?}", one.op),
            ops => write!(f, "{} ops", ops.len()),
        }
    }
}

/// The result of applying one entry, the same on every member: one per proposal, in order
/// (none for a blank or membership entry).
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome(pub Vec<Result<Effects, Error>>);

/// `--peers 1=host:8020,2=host:8020,...`: every voting member with its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peers(pub BTreeMap<NodeId, String>);

impl Peers {
    pub fn parse(s: &str) -> Result<Peers, String> {
        let mut peers = BTreeMap::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (id, addr) = item.split_once('=').ok_or_else(|| format!("{item:?} is not ID=HOST:PORT"))?;
            let id: NodeId = id.trim().parse().map_err(|_| format!("{id:?} is not a member id (a number)"))?;
            if id == 0 {
                return Err("member ids start at 1".into());
            }
            let addr = addr.trim().trim_start_matches("http://").trim_start_matches("https://").to_string();
            if !addr.contains(':') {
                return Err(format!("{addr:?} (member {id}) is not HOST:PORT"));
            }
            if peers.insert(id, addr).is_some() {
                return Err(format!("member {id} is named twice"));
            }
        }
        if peers.is_empty() {
            return Err("no members".into());
        }
        Ok(Peers(peers))
    }
}

impl fmt::Display for Peers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(|(id, a)| format!("{id}={a}")).collect();
        f.write_str(&items.join(","))
    }
}

/// A non-leader's answer: who leads, as openraft last heard.
pub fn not_leader(me: NodeId, f: &openraft::error::ForwardToLeader<NodeId, openraft::BasicNode>) -> Error {
    let leader = f.leader_id.zip(f.leader_node.as_ref()).map(|(id, node)| (id, hdfs_proto::grpc::url(&node.addr)));
    Error::NotLeader { id: me, leader }
}
