//! The data-transfer service: pipeline writes and ranged reads of replicas, replica copies to
//! other nodes, and the holder's side of block recovery.
//!
//! This file is the gRPC edge only: each handler decodes the request into a checked type, calls
//! the activity that does the work, and encodes the answer. The work is split by activity:
//!
//! - `write`: a pipeline write (receive, forward, verify and store, ack in order);
//! - `read`: a ranged read, chunk-aligned and verified;
//! - `checksum`: a replica's CRC32C from its stored chunk CRCs (a file's composite checksum);
//! - `copy`: sending a replica to other nodes as the namenode asks ([`copy_replica`]);
//! - `downstream`: the write stream to the next node and the kept connections it uses;
//! - `node`: what all of them share (store, events, this node's address, load, shutdown).
//!
//! ```text
//!   upstream ──packets──▶ write ──packets──▶ downstream ──▶ next node
//!      ▲                    │ disk thread                      │
//!      └──────acks──────────┴───── pair acks ◀──────acks───────┘
//!   client ◀──chunks+checksums── read ◀── store ──▶ copy ──packets──▶ downstream
//! ```

mod checksum;
mod copy;
mod downstream;
mod node;
mod read;
mod write;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use hdfs_proto::BlockId;
use hdfs_proto::auth::{BlockAccess, BlockTokens, ClusterSecret};
use hdfs_proto::pb::datanode::{self as pb, write_block_request::Msg};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::{Request, Response, Status, Streaming};

pub(crate) use copy::copy_replica;

use checksum::ChecksumRange;
use downstream::{Peers, WriteHeader};
use node::Node;
use read::{ReadRange, ReadStream};

use crate::link::ReplicaEvents;
use crate::metrics::Metrics;
use crate::store::BlockStore;

/// The `DataTransfer` gRPC service.
#[derive(Clone)]
pub(crate) struct TransferService {
    node: Node,
}

impl TransferService {
    pub(crate) fn new(
        store: BlockStore,
        events: ReplicaEvents,
        tracker: TaskTracker,
        me: &str,
        shutdown: CancellationToken,
        metrics: Metrics,
        secret: ClusterSecret,
    ) -> Self {
        let (me, active, peers) = (me.into(), Arc::new(AtomicU32::new(0)), Arc::new(Peers::default()));
        let tokens = BlockTokens::new(secret.clone());
        Self { node: Node { store, events, tracker, me, active, peers, shutdown, metrics, secret, tokens } }
    }

    /// Transfers in progress, reported in heartbeats as load.
    pub(crate) fn active(&self) -> Arc<AtomicU32> {
        self.node.active.clone()
    }
}

type AckStream = Pin<Box<dyn Stream<Item = Result<pb::WriteBlockAck, Status>> + Send>>;

#[tonic::async_trait]
impl pb::data_transfer_server::DataTransfer for TransferService {
    type WriteBlockStream = AckStream;
    type ReadBlockStream = ReadStream;

    async fn write_block(
        &self,
        req: Request<Streaming<pb::WriteBlockRequest>>,
    ) -> Result<Response<Self::WriteBlockStream>, Status> {
        self.node.check_running()?;
        let mut inbound = req.into_inner();
        let header = match inbound.message().await? {
            Some(pb::WriteBlockRequest { msg: Some(Msg::Header(h)) }) => WriteHeader::try_from(h)?,
            _ => return Err(Status::invalid_argument("a write must start with a header")),
        };
        // A copy token only places a new replica; continuing one is the writer's, with its grant.
        let needed =
            if header.recover_from.is_some() { BlockAccess::WRITE } else { BlockAccess::WRITE | BlockAccess::COPY };
        self.node.authorize(header.token.as_ref(), header.block, needed)?;
        let acks = self.node.write_block(header, inbound).await.inspect_err(|_| {
            self.node.metrics.pipeline_failures.inc();
        })?;
        Ok(Response::new(Box::pin(ReceiverStream::new(acks))))
    }

    async fn read_block(&self, req: Request<pb::ReadBlockRequest>) -> Result<Response<Self::ReadBlockStream>, Status> {
        self.node.check_running()?;
        let mut r = req.into_inner();
        let token = r.token.take();
        let range = ReadRange::try_from(r)?;
        self.node.authorize(token.as_ref(), range.block, BlockAccess::READ)?;
        Ok(Response::new(self.node.read_block(range).await?))
    }

    async fn block_checksum(
        &self,
        req: Request<pb::BlockChecksumRequest>,
    ) -> Result<Response<pb::BlockChecksumResponse>, Status> {
        self.node.check_running()?;
        let mut r = req.into_inner();
        let token = r.token.take();
        let range = ChecksumRange::try_from(r)?;
        self.node.authorize(token.as_ref(), range.block, BlockAccess::READ)?;
        Ok(Response::new(self.node.block_checksum(range).await?.into()))
    }

    async fn init_replica_recovery(
        &self,
        req: Request<pb::InitReplicaRecoveryRequest>,
    ) -> Result<Response<pb::InitReplicaRecoveryResponse>, Status> {
        self.node.members_only(req.metadata(), "InitReplicaRecovery")?;
        let block = BlockId(req.into_inner().block_id);
        let (gen_stamp, length) = self.node.store.blocking(move |s| s.recovery_length(block)).await?;
        Ok(Response::new(pb::InitReplicaRecoveryResponse { generation_stamp: gen_stamp.0, length }))
    }

    async fn finalize_replica_recovery(
        &self,
        req: Request<pb::FinalizeReplicaRecoveryRequest>,
    ) -> Result<Response<pb::FinalizeReplicaRecoveryResponse>, Status> {
        self.node.members_only(req.metadata(), "FinalizeReplicaRecovery")?;
        let r = req.into_inner();
        let block = hdfs_proto::BlockRef::new(r.block_id, r.new_generation_stamp);
        let info = self.node.store.blocking(move |s| s.finalize_recovered(block, r.length)).await?;
        self.node.events.received(info);
        tracing::info!(block = %info.block.id, generation_stamp = %info.block.gen_stamp, len = info.len, "replica recovered");
        Ok(Response::new(pb::FinalizeReplicaRecoveryResponse {}))
    }

    /// What readers of a file being written may see of this replica (HDFS's
    /// `getReplicaVisibleLength`): its length as of the writer's last hflush.
    async fn replica_visible_length(
        &self,
        req: Request<pb::ReplicaVisibleLengthRequest>,
    ) -> Result<Response<pb::ReplicaVisibleLengthResponse>, Status> {
        self.node.check_running()?;
        let r = req.into_inner();
        let block: hdfs_proto::BlockRef = r.block.ok_or_else(|| Status::invalid_argument("missing block"))?.into();
        self.node.authorize(r.token.as_ref(), block, BlockAccess::READ)?;
        let length = self.node.store.blocking(move |s| s.visible_length(block)).await?;
        Ok(Response::new(pb::ReplicaVisibleLengthResponse { length }))
    }
}
