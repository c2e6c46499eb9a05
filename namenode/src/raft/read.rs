//! Linearizable reads: before a read is served, the leader confirms through openraft's read
//! index (`get_read_log_id`: a heartbeat round answered by a majority) that it still leads, and
//! waits until it has applied everything committed when the round began. A read served after
//! that reflects every write acknowledged before it arrived, on any member.
//!
//! One round costs a message to each member, so rounds are shared: a read that arrives while a
//! round runs waits for the next one, which covers every read that arrived before it began (as
//! etcd batches its ReadIndex requests). Under load that is one round per round trip, not one
//! per read. A leader lease would save the round but stakes safety on clocks; this does not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use openraft::error::{CheckIsLeaderError, RaftError};

use super::{NodeId, Raft, not_leader};
use crate::error::{Error, Result};

/// Why a round failed, kept for every read it covered.
#[derive(Clone, Debug)]
enum Failed {
    NotLeader(Option<(NodeId, String)>),
    NoQuorum(String),
    Stopped(String),
}

pub struct ReadBarrier {
    raft: Raft,
    me: NodeId,
    /// Reads arrived so far (each takes the next number).
    arrived: AtomicU64,
    /// Held by the read running a round.
    running: tokio::sync::Mutex<()>,
    /// The last round: the highest read number it covers, and how it ended.
    done: tokio::sync::watch::Sender<(u64, Result<(), Failed>)>,
    timeout: Duration,
}

impl ReadBarrier {
    pub fn new(raft: Raft, me: NodeId, timeout: Duration) -> Self {
        let (done, _) = tokio::sync::watch::channel((0, Ok(())));
        Self { raft, me, arrived: AtomicU64::new(0), running: tokio::sync::Mutex::new(()), done, timeout }
    }

    /// Returns once a read may be served from this member's state, or why it may not.
    pub async fn wait(&self) -> Result<()> {
        let mine = self.arrived.fetch_add(1, Ordering::AcqRel) + 1;
        let mut rx = self.done.subscribe();
        loop {
            {
                let (covered, result) = &*rx.borrow_and_update();
                if *covered >= mine {
                    return result.clone().map_err(|f| self.error(f));
                }
            }
            if let Ok(_guard) = self.running.try_lock() {
                // Every read numbered up to here arrived before this round asks for its index.
                let covers = self.arrived.load(Ordering::Acquire);
                let result = self.round().await;
                self.done.send_modify(|d| *d = (covers.max(d.0), result));
                continue;
            }
            if rx.changed().await.is_err() {
                return Err(Error::storage_refused("read barrier closed"));
            }
        }
    }

    async fn round(&self) -> Result<(), Failed> {
        match tokio::time::timeout(self.timeout, self.raft.ensure_linearizable()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f)))) => match not_leader(self.me, &f) {
                Error::NotLeader { leader, .. } => Err(Failed::NotLeader(leader)),
                e => Err(Failed::Stopped(e.to_string())),
            },
            Ok(Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(q)))) => {
                Err(Failed::NoQuorum(q.to_string()))
            }
            Ok(Err(RaftError::Fatal(f))) => Err(Failed::Stopped(f.to_string())),
            Err(_) => {
                Err(Failed::NoQuorum(format!("leadership not confirmed by a majority within {:?}", self.timeout)))
            }
        }
    }

    fn error(&self, f: Failed) -> Error {
        match f {
            Failed::NotLeader(leader) => Error::NotLeader { id: self.me, leader },
            Failed::NoQuorum(why) => Error::NoQuorum(why),
            Failed::Stopped(why) => Error::Stopped { id: self.me, why },
        }
    }
}
