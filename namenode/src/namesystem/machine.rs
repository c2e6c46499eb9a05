//! The namesystem as openraft's state machine: every member applies the same committed entries
//! in the same order, to the namespace and to what follows from it (the block map's files,
//! leases, the retry cache); the fsimage is its snapshot.
//!
//! Applying is deterministic: times come from the entry (the leader's clock), ids from the
//! state, and an op that fails, fails alike everywhere and changes nothing. What only the leader
//! does with an outcome (choosing a pipeline, answering the caller) happens in
//! [`Namesystem::mutate`](super::Namesystem) after this returns.

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine, Snapshot};
use openraft::{EntryPayload, ErrorSubject, ErrorVerb, StorageIOError};

use super::state::{Locked, State, decode_image};
use crate::config::Config;
use crate::editlog::{read_image, write_image};
use crate::error::Result;
use crate::metrics::LockMetrics;
use crate::namespace::{Effects, Op};
use crate::raft::{Entry, LogId, Outcome, Proposal, SnapshotMeta, StorageError, StoredMembership, TypeConfig};

/// The state machine handle openraft holds; it shares the namesystem's state and lock.
#[derive(Clone)]
pub(crate) struct Machine {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) config: Config,
    pub(super) dir: PathBuf,
    /// Shared with the namesystem: applying entries holds the same lock.
    pub(super) lock_metrics: LockMetrics,
}

fn sm_err(verb: ErrorVerb, e: impl std::fmt::Display) -> StorageError {
    StorageIOError::new(ErrorSubject::StateMachine, verb, openraft::AnyError::error(e)).into()
}

impl Machine {
    fn lock(&self) -> Locked<'_> {
        Locked::new(&self.state, &self.lock_metrics)
    }
}

impl RaftStateMachine<TypeConfig> for Machine {
    type SnapshotBuilder = Machine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let st = self.lock();
        Ok((st.applied, st.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError>
    where
        I: IntoIterator<Item = Entry> + openraft::OptionalSend,
        I::IntoIter: openraft::OptionalSend,
    {
        let mut st = self.lock();
        Ok(entries.into_iter().map(|e| st.apply_entry(e)).collect())
    }

    async fn get_snapshot_builder(&mut self) -> Machine {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(&mut self, meta: &SnapshotMeta, data: Box<Cursor<Vec<u8>>>) -> Result<(), StorageError> {
        let bytes = data.into_inner();
        let image =
            decode_image(&bytes).map_err(|e| sm_err(ErrorVerb::Read, format!("snapshot from the leader: {e}")))?;
        let (dir, m) = (self.dir.clone(), meta.clone());
        tokio::task::spawn_blocking(move || write_image(&dir, &m, &bytes))
            .await
            .map_err(|e| sm_err(ErrorVerb::Write, e))?
            .map_err(|e| sm_err(ErrorVerb::Write, e.detail()))?;
        let mut st = self.lock();
        st.install(image, meta.last_log_id, meta.last_membership.clone(), &self.config);
        tracing::info!(last = ?meta.last_log_id, inodes = st.ns.inode_count(), "snapshot installed from the leader");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let dir = self.dir.clone();
        let image = tokio::task::spawn_blocking(move || read_image(&dir))
            .await
            .map_err(|e| sm_err(ErrorVerb::Read, e))?
            .map_err(|e| sm_err(ErrorVerb::Read, e.detail()))?;
        Ok(image.map(|(meta, bytes)| Snapshot { meta, snapshot: Box::new(Cursor::new(bytes)) }))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for Machine {
    /// Serializes the state under the lock (the one pause), then writes it outside.
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let started = Instant::now();
        let (meta, bytes) = {
            let mut st = self.lock();
            let bytes = st.encode_image().map_err(|e| sm_err(ErrorVerb::Write, e))?;
            st.since_snapshot = 0;
            let id = st.applied.map_or("0-0".to_string(), |l| format!("{}-{}", l.leader_id.term, l.index));
            let meta =
                SnapshotMeta { last_log_id: st.applied, last_membership: st.membership.clone(), snapshot_id: id };
            (meta, bytes)
        };
        let paused = started.elapsed();
        let (dir, m, b) = (self.dir.clone(), meta.clone(), bytes);
        let bytes = tokio::task::spawn_blocking(move || write_image(&dir, &m, &b).map(|_| b))
            .await
            .map_err(|e| sm_err(ErrorVerb::Write, e))?
            .map_err(|e| sm_err(ErrorVerb::Write, e.detail()))?;
        tracing::info!(last = ?meta.last_log_id, bytes = bytes.len(), ?paused, took = ?started.elapsed(), "fsimage written");
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(bytes)) })
    }
}

impl State {
    /// Applies one committed entry.
    fn apply_entry(&mut self, entry: Entry) -> Outcome {
        let out = match entry.payload {
            EntryPayload::Blank => Outcome(Vec::new()),
            EntryPayload::Normal(req) => {
                let now = Instant::now();
                Outcome(req.ops.iter().map(|p| self.apply_proposal(p, req.at_ms, now)).collect())
            }
            EntryPayload::Membership(m) => {
                self.membership = StoredMembership::new(Some(entry.log_id), m);
                Outcome(Vec::new())
            }
        };
        self.applied = Some(entry.log_id);
        // Ops, not entries: replaying the log costs what its ops cost.
        self.since_snapshot += out.0.len().max(1) as u64;
        out
    }

    /// Applies one call's op, or answers a retried call with its first attempt's outcome.
    fn apply_proposal(&mut self, p: &Proposal, at_ms: u64, now: Instant) -> Result<Effects> {
        if let Some(call) = &p.call
            && let Some(first) = self.retry.get(call)
        {
            tracing::debug!(?call, "a retried call answered from the retry cache");
            return first;
        }
        let result = self.ns.apply(&p.op).map(|mut fx| {
            self.follow(&p.op, &mut fx, now);
            fx
        });
        if let Some(call) = &p.call {
            self.retry.insert(call.clone(), at_ms, &result);
        }
        result
    }

    /// Brings the block map and leases along with an applied op; consumes the removed files.
    fn follow(&mut self, op: &Op, fx: &mut Effects, now: Instant) {
        self.forget_removed(std::mem::take(&mut fx.removed_files));
        if let Some(id) = fx.created
            && let Some(client) = self.ns.writer(id)
        {
            self.leases.add(client, id, now);
        }
        if let Some((file, block)) = fx.added_block {
            self.bm.add_block(&block, file);
        }
        if let Some(b) = fx.updated_block {
            match op {
                Op::UpdateBlock { .. } => self.bm.new_generation(b.id, b.generation_stamp),
                _ => self.bm.recovered(b.id, b.generation_stamp, &[]),
            }
        }
        if let Some(b) = fx.dropped_block {
            self.bm.remove_blocks(&[b]);
        }
        if let Some((id, writer)) = &fx.completed {
            self.leases.remove(writer, *id);
            self.recovering.remove(id);
            if let Some(f) = self.ns.inode(*id).and_then(|i| i.as_file()) {
                for b in &f.blocks {
                    self.bm.blocks.clear_expected(b.id);
                }
            }
            self.check_file(*id);
        }
        if let Op::SetReplication { path: target, .. } | Op::Concat { target, .. } = op
            && let Ok(path) = hdfs_proto::path::HdfsPath::parse(target)
            && let Ok(id) = self.ns.resolve(&path)
        {
            if matches!(op, Op::Concat { .. }) {
                // The sources' blocks are the target's now.
                let blocks: Vec<_> =
                    self.ns.inode(id).and_then(|i| i.as_file()).map(|f| f.blocks.to_vec()).unwrap_or_default();
                for b in blocks {
                    self.bm.blocks.set_file(b.id, id);
                }
            }
            self.check_file(id);
        }
    }
}
