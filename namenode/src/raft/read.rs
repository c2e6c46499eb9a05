//! Linearizable reads: before a read is served, the leader confirms through openraft's read
//! index (`get_read_log_id`: a heartbeat round answered by a majority) that it still leads, and
//! waits until it has applied everything committed when the round began. A read served after
//! that reflects every write acknowledged before it arrived, on any member.
//!
//! One round costs a message to each member, so rounds are shared: a read that arrives while a
//! round runs waits for the next one, which covers every read that arrived before it began (as
//! etcd batches its ReadIndex requests).
//!
//! And a confirmed round is a lease: for `lease` after the round *began*, reads are served at
//! once while this member still leads in the same term. That is safe because of openraft's own
//! leader lease: a follower that acknowledged the round's heartbeat (sent after the round
//! began) refuses every vote for `election_timeout_max` after receiving it, so no other leader
//! can be elected, and no write acknowledged elsewhere, before the round's start plus that.
//! The read lease is a fraction of it (the namenode gives half its `--election-timeout`, a
//! third of the followers' lease), so it holds while the members' clocks *rates* differ by less
//! than 3x; their times of day never matter. A round per lease instead of per read is what lets
//! the leader of a group serve stat and list nearly as fast as a namenode alone. A lease of zero
//! makes every read wait for a round of its own.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    /// openraft's view of the term and the leader, read on every read.
    metrics: tokio::sync::watch::Receiver<openraft::RaftMetrics<NodeId, openraft::BasicNode>>,
    me: NodeId,
    /// Reads arrived so far (each takes the next number).
    arrived: AtomicU64,
    /// Held by the read running a round.
    running: tokio::sync::Mutex<()>,
    /// The last round: the highest read number it covers, and how it ended.
    done: tokio::sync::watch::Sender<(u64, Result<(), Failed>)>,
    timeout: Duration,
    lease: Duration,
    /// The term of the last confirmed round and when its lease ends.
    leased: Mutex<Option<(u64, Instant)>>,
}

impl ReadBarrier {
    pub fn new(raft: Raft, me: NodeId, timeout: Duration, lease: Duration) -> Self {
        let (done, _) = tokio::sync::watch::channel((0, Ok(())));
        let running = tokio::sync::Mutex::new(());
        let metrics = raft.metrics();
        let leased = Mutex::new(None);
        Self { raft, metrics, me, arrived: AtomicU64::new(0), running, done, timeout, lease, leased }
    }

    /// Whether this member leads in the term of an unexpired lease.
    fn leased(&self) -> bool {
        let Some((term, until)) = *self.leased.lock().unwrap_or_else(|p| p.into_inner()) else { return false };
        if Instant::now() >= until {
            return false;
        }
        let m = self.metrics.borrow();
        m.current_term == term && m.current_leader == Some(self.me)
    }

    /// Returns once a read may be served from this member's state, or why it may not.
    pub async fn wait(&self) -> Result<()> {
        if self.leased() {
            return Ok(());
        }
        self.confirm().await
    }

    /// Returns once a round that began after this call has confirmed the leadership.
    async fn confirm(&self) -> Result<()> {
        let mine = self.arrived.fetch_add(1, Ordering::AcqRel) + 1;
        let mut rx = self.done.subscribe();
        loop {
            if let Some(result) = self.covered(&mut rx, mine) {
                return result;
            }
            // Run the next round, or wait for the one running: for its outcome, or for it to
            // let go without one that covers this read (it began before this read arrived, or
            // its caller went away mid-round). Whoever holds `running` runs a round, so no read
            // waits on a round nobody will run (with the lease, no later read may come to).
            let _round = match self.running.try_lock() {
                Ok(guard) => guard,
                Err(_) => tokio::select! {
                    changed = rx.changed() => {
                        if changed.is_err() {
                            return Err(Error::storage_refused("read barrier closed"));
                        }
                        continue;
                    }
                    guard = self.running.lock() => guard,
                },
            };
            if let Some(result) = self.covered(&mut rx, mine) {
                return result;
            }
            // Every read numbered up to here arrived before this round asks for its index.
            let covers = self.arrived.load(Ordering::Acquire);
            let result = self.round().await;
            self.done.send_modify(|d| *d = (covers.max(d.0), result));
        }
    }

    /// The outcome of the last round, if it covers read number `mine`.
    fn covered(
        &self,
        rx: &mut tokio::sync::watch::Receiver<(u64, Result<(), Failed>)>,
        mine: u64,
    ) -> Option<Result<()>> {
        let (covered, result) = &*rx.borrow_and_update();
        (*covered >= mine).then(|| result.clone().map_err(|f| self.error(f)))
    }

    async fn round(&self) -> Result<(), Failed> {
        let began = Instant::now();
        let term = self.metrics.borrow().current_term;
        match tokio::time::timeout(self.timeout, self.raft.ensure_linearizable()).await {
            Ok(Ok(_)) => {
                // A lease for the term the round confirmed (it fails unless this member led in
                // its current term); none if the term moved on meanwhile.
                if self.metrics.borrow().current_term == term {
                    *self.leased.lock().unwrap_or_else(|p| p.into_inner()) = Some((term, began + self.lease));
                }
                Ok(())
            }
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
