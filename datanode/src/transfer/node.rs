//! [`Node`]: what every transfer needs from this datanode, and the small helpers they share.
//!
//! The service, the pipeline write, the read and the copy all work on the same few things: the
//! store, the replica events, the task tracker that shutdown waits on, this node's address (named
//! in every error, so a client knows which node of a pipeline failed), the count of transfers in
//! progress (the load heartbeats report), the kept connections to the next nodes of
//! pipelines, and the counters of bytes moved. They live here, apart from the gRPC service, so that the activities depend on
//! this one leaf and not on the service or on each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use hdfs_proto::BlockRef;
use hdfs_proto::auth::{BlockAccess, BlockTokens, ClusterSecret};
use hdfs_proto::pb::datanode::BlockToken;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::Status;

use super::downstream::Peers;
use crate::link::ReplicaEvents;
use crate::metrics::Metrics;
use crate::store::BlockStore;

#[derive(Clone)]
pub(super) struct Node {
    pub(super) store: BlockStore,
    pub(super) events: ReplicaEvents,
    pub(super) tracker: TaskTracker,
    /// This node's address, named in errors so a client knows which node of a pipeline failed.
    pub(super) me: Arc<str>,
    pub(super) active: Arc<AtomicU32>,
    /// Connections to the next nodes of pipelines, kept: a new connection per block (TCP and
    /// HTTP/2 handshakes) cost more than writing a small block (docs/BENCHMARKS.md).
    pub(super) peers: Arc<Peers>,
    /// Cancelled at shutdown: transfers in flight stop at once and new ones are refused, so
    /// peers see the node go as they would see it die (the pipeline recovers without it).
    pub(super) shutdown: CancellationToken,
    pub(super) metrics: Metrics,
    /// Checks the member credential of calls only cluster members make (block recovery).
    pub(super) secret: ClusterSecret,
    /// Checks the namenode's grant on every data call.
    pub(super) tokens: BlockTokens,
}

impl Node {
    pub(super) fn check_running(&self) -> Result<(), Status> {
        if self.shutdown.is_cancelled() {
            return Err(Status::unavailable(format!("datanode {} is shutting down", self.me)));
        }
        Ok(())
    }
}

impl Node {
    /// Refuses a call on `block` whose token does not grant one of `access` (logged: a refusal
    /// is a misconfigured cluster or a caller going around the namenode).
    pub(super) fn authorize(
        &self,
        token: Option<&BlockToken>,
        block: BlockRef,
        access: BlockAccess,
    ) -> Result<(), Status> {
        self.tokens.check(token, block, access).map(|_| ()).map_err(|e| {
            tracing::warn!(%block, user = token.map_or("", |t| t.user.as_str()), error = %e.message(), "data call refused");
            with_node(&self.me, e)
        })
    }

    /// Refuses a call only cluster members make when it lacks their credential.
    pub(super) fn members_only(&self, md: &tonic::metadata::MetadataMap, call: &str) -> Result<(), Status> {
        self.secret.check(md, call).map_err(|e| {
            tracing::warn!(call, error = %e.message(), "member call refused");
            with_node(&self.me, e)
        })
    }
}

/// Counts a transfer as active for as long as it lives.
pub(super) struct ActiveGuard(Arc<AtomicU32>);

impl ActiveGuard {
    pub(super) fn new(c: &Arc<AtomicU32>) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        Self(c.clone())
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Prefixes a status message with this node's address.
pub(super) fn with_node(me: &str, s: Status) -> Status {
    Status::new(s.code(), format!("datanode {me}: {}", s.message()))
}
