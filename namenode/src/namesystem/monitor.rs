//! The replication monitor: the background loop that runs one [`Namesystem::tick`] (liveness,
//! safe mode, repair scheduling, expired leases, fsimages) every `replication_interval`, and
//! sooner when there is something to act on: a datanode reaching its dead-after deadline, or a
//! copy confirmed (its source has a free stream for the next one). HDFS runs the same work in
//! its `RedundancyMonitor`, `HeartbeatManager` and `LeaseManager.Monitor` threads.
//!
//! Every member tracks liveness and safe mode; only the leader schedules repairs and recovers
//! expired leases. When a member becomes leader it restarts every lease's timer (leases are
//! leader-local, as the notes on HA say) and checks every block.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use hdfs_proto::path::HdfsPath;
use tokio_util::sync::CancellationToken;

use super::propose::now_ms;
use super::{Namesystem, State};
use crate::config::Config;
use crate::datanodes::NodeIdx;
use crate::events::{Event, EventKind};
use crate::namespace::{Block, InodeId, Op};

/// The loop; see the module doc.
pub(crate) struct ReplicationMonitor {
    pub(crate) ns: Arc<Namesystem>,
}

impl ReplicationMonitor {
    pub(crate) async fn run(self, shutdown: CancellationToken) {
        let interval = self.ns.config().replication_interval;
        loop {
            self.ns.tick().await;
            let now = tokio::time::Instant::now();
            let next = self.ns.next_death().map_or(now + interval, |d| (now + interval).min(d.into()));
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = self.ns.work_arrived() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

impl Namesystem {
    /// Resolves when work for the replication monitor has arrived (a copy confirmed).
    pub async fn work_arrived(&self) {
        self.wake.notified().await
    }

    /// When the next datanode will pass its dead-after deadline, if any is alive.
    pub fn next_death(&self) -> Option<Instant> {
        self.lock().bm.next_death()
    }

    /// One unit of background work: liveness, safe mode, repair scheduling, expired leases.
    pub async fn tick(&self) {
        let now = Instant::now();
        let (term, leading) = self.role();
        let (closable, snapshot_due) = {
            let mut st = self.lock();
            if leading && self.led_term.swap(term, Ordering::AcqRel) != term {
                tracing::info!(term, "leading the namenode group");
                st.leases.renew_all(now);
                st.bm.take_over();
                let message = format!("namenode {} leads the group in term {term}", self.id);
                st.bm.events.record(Event::new(EventKind::LeadershipGained, message));
            }
            if self.was_leading.swap(leading, Ordering::AcqRel) && !leading {
                tracing::info!(term, "no longer leading the namenode group");
                let message = format!("namenode {} no longer leads the group (term {term})", self.id);
                st.bm.events.record(Event::new(EventKind::LeadershipLost, message));
            }
            let replayed = st.applied.map_or(0, |l| l.index) >= self.replay_to;
            let State { ns, bm, .. } = &mut *st;
            bm.tick(ns, now, leading, replayed);
            let closable = if !leading || st.bm.safe_mode.is_on() {
                Vec::new()
            } else {
                st.recover_expired_leases(&self.config, now)
            };
            // An fsimage once as many entries have accumulated as the namespace has inodes (at
            // least `checkpoint_every`), so replay never costs much more than loading the image.
            let due = st.since_snapshot >= self.config.checkpoint_every.max(st.ns.inode_count() as u64);
            (closable, due)
        };
        self.abstain_while_blind();
        if snapshot_due && let Err(e) = self.raft().trigger().snapshot().await {
            tracing::warn!(error = %e, "could not start an fsimage");
        }
        // Files whose writer left no unfinished block anywhere are closed as they are.
        for (file, path, last) in closable {
            let op = match last {
                None => Op::Complete { path: path.to_string(), last: None, mtime_ms: now_ms() },
                Some(b) => Op::CommitRecovery {
                    path: path.to_string(),
                    block: b.id,
                    generation_stamp: b.generation_stamp,
                    num_bytes: 0,
                    mtime_ms: now_ms(),
                },
            };
            let r = self.mutate(None, |_| Ok((op, ())), |st, _, ()| st.check_file(file));
            if let Err(e) = r.await {
                tracing::warn!(%path, error = %e.detail(), "could not close a file after its lease expired");
            }
        }
    }
}

impl Namesystem {
    /// In a group, a member still in its start-up safe mode (its block map not yet reported)
    /// does not stand for election, so a member that knows every replica leads instead; at
    /// most for two election timeouts, so a group restarted whole still elects.
    fn abstain_while_blind(&self) {
        if self.config.peers.is_none() {
            return;
        }
        let blind = {
            let st = self.lock();
            st.bm.safe_mode.is_on() && !st.bm.safe_mode.is_manual()
        };
        let stand = !blind || self.started.elapsed() > self.config.election_timeout * 4;
        if self.elects.swap(stand, Ordering::AcqRel) != stand {
            tracing::info!(stand, "standing for election: {stand}");
            self.raft().runtime_config().elect(stand);
        }
    }
}

impl State {
    /// Starts block recovery for files whose writer's lease expired. Returns the files that
    /// need no recovery (no block, or a last block nobody holds) to be closed as they are.
    pub(super) fn recover_expired_leases(
        &mut self,
        config: &Config,
        now: Instant,
    ) -> Vec<(InodeId, HdfsPath, Option<Block>)> {
        for (client, files) in self.leases.take_expired(now, config.lease_hard_limit) {
            for file in files {
                tracing::info!(client, path = %self.ns.path_of(file), "lease expired; recovering the file");
                // Due at once: as if last asked a whole timeout ago.
                self.recovering.insert(file, now.checked_sub(config.replication_timeout).unwrap_or(now));
            }
        }
        let mut closable = Vec::new();
        let due: Vec<InodeId> = self
            .recovering
            .iter()
            .filter(|(_, at)| now.duration_since(**at) >= config.replication_timeout)
            .map(|(&f, _)| f)
            .collect();
        for file in due {
            let Some(f) = self.ns.inode(file).and_then(|i| i.as_file()).filter(|_| self.ns.writer(file).is_some())
            else {
                self.recovering.remove(&file);
                continue;
            };
            let last = f.blocks.last().copied();
            let holders: Vec<NodeIdx> = last
                .and_then(|b| Some((b, self.bm.blocks.get(b.id)?)))
                .map(|(b, e)| self.bm.blocks.expected(b.id).iter().chain(&e.replicas).copied().collect())
                .unwrap_or_default();
            match last {
                Some(b) if !holders.is_empty() => {
                    // Asked again after a timeout if no holder is alive or the primary fails.
                    self.bm.start_recovery(b, &holders, self.ns.truncating(file));
                    self.recovering.insert(file, now);
                }
                // No node ever held any of the last block (or there is none): close without it.
                last => closable.push((file, self.ns.path_of(file), last)),
            }
        }
        closable
    }
}
