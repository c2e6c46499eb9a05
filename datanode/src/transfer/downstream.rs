//! The write stream to the next node: its header, the connection it travels on, and the errors
//! that name that node.
//!
//! A node of a pipeline (and a node copying a replica) opens a `WriteBlock` stream to the next
//! node and sends it a [`WriteHeader`] naming the rest of the pipeline. Connections to next
//! nodes are kept in [`Peers`] (one per address; dropped when one fails), because connecting per
//! block cost more than writing a small block (docs/BENCHMARKS.md). Every failure here blames
//! the next node (`x-hdfs-bad-node`) unless it names one further down, so the client drops the
//! right node when it recovers the pipeline.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use hdfs_proto::BlockRef;
use hdfs_proto::checksum::BYTES_PER_CHECKSUM;
use hdfs_proto::pb::datanode::{self as pb, data_transfer_client::DataTransferClient, write_block_request::Msg};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Status, Streaming};

/// Packets in flight between the network and the disk thread of one write, and to the next node.
pub(super) const WRITE_QUEUE: usize = 8;
/// Longest wait for the next node's ack before blaming it. Shorter than the client's own
/// timeout, so that a hung node deep in a pipeline is named by its upstream neighbour.
pub(super) const DOWNSTREAM_ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// The first message of a write, validated: which replica, and where the pipeline goes next.
#[derive(Debug, Clone)]
pub(super) struct WriteHeader {
    pub(super) block: BlockRef,
    /// Data-transfer addresses of the rest of the pipeline, next node first.
    pub(super) downstream: Vec<String>,
    pub(super) client_name: String,
    /// Pipeline recovery: continue the unfinished replica from this many bytes.
    pub(super) recover_from: Option<u64>,
    /// The namenode's grant, passed down the pipeline: every node checks it.
    pub(super) token: Option<pb::BlockToken>,
}

impl TryFrom<pb::WriteHeader> for WriteHeader {
    type Error = Status;
    fn try_from(h: pb::WriteHeader) -> Result<Self, Status> {
        let block = h.block.ok_or_else(|| Status::invalid_argument("header without block"))?;
        if h.bytes_per_checksum as usize != BYTES_PER_CHECKSUM {
            return Err(Status::invalid_argument(format!(
                "bytes_per_checksum {} unsupported (this datanode uses {BYTES_PER_CHECKSUM})",
                h.bytes_per_checksum
            )));
        }
        Ok(Self {
            block: block.into(),
            downstream: h.downstream,
            client_name: h.client_name,
            recover_from: h.recovery.then_some(h.recover_from),
            token: h.token,
        })
    }
}

impl From<WriteHeader> for pb::WriteHeader {
    fn from(h: WriteHeader) -> Self {
        Self {
            block: Some(h.block.into()),
            downstream: h.downstream,
            bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
            client_name: h.client_name,
            recovery: h.recover_from.is_some(),
            recover_from: h.recover_from.unwrap_or(0),
            token: h.token,
        }
    }
}

impl WriteHeader {
    /// The next node's address and the header it gets (the pipeline after it), if any.
    pub(super) fn next(&self) -> Option<(String, WriteHeader)> {
        let (next, rest) = self.downstream.split_first()?;
        Some((next.clone(), WriteHeader { downstream: rest.to_vec(), ..self.clone() }))
    }
}

/// An open write stream to the next node: packets go in, its acks come out.
pub(super) type Downstream = (mpsc::Sender<pb::WriteBlockRequest>, Streaming<pb::WriteBlockAck>);

fn unavailable(addr: &str, e: &dyn std::fmt::Display) -> Status {
    hdfs_proto::grpc::blame(Status::unavailable(format!("downstream datanode {addr}: {e}")), addr)
}

/// Kept connections to other datanodes, by address.
#[derive(Default)]
pub(super) struct Peers {
    channels: Mutex<HashMap<String, Channel>>,
}

impl Peers {
    pub(super) async fn channel(&self, addr: &str) -> Result<Channel, Status> {
        let cached = self.channels.lock().unwrap_or_else(|p| p.into_inner()).get(addr).cloned();
        if let Some(c) = cached {
            return Ok(c);
        }
        let c = connect(addr).await?;
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).insert(addr.to_string(), c.clone());
        Ok(c)
    }

    /// Drops a connection that failed, so the next pipeline through `addr` connects afresh.
    pub(super) fn forget(&self, addr: &str) {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).remove(addr);
    }
}

/// A new connection to the datanode at `addr`.
pub(super) async fn connect(addr: &str) -> Result<Channel, Status> {
    hdfs_proto::grpc::endpoint(addr)
        .map_err(|e| unavailable(addr, &e))?
        .connect()
        .await
        .map_err(|e| unavailable(addr, &e))
}

/// Opens a write stream to the next node on `channel` and sends it the header.
pub(super) async fn start(channel: Channel, addr: &str, header: WriteHeader) -> Result<Downstream, Status> {
    let unavailable = |e: &dyn std::fmt::Display| unavailable(addr, e);
    let mut client = DataTransferClient::new(channel)
        .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE);
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    let header = pb::WriteBlockRequest { msg: Some(Msg::Header(header.into())) };
    tx.send(header).await.map_err(|e| unavailable(&e))?;
    let acks = match client.write_block(ReceiverStream::new(rx)).await {
        Ok(r) => r.into_inner(),
        // The next node answered but refused: it (or one after it) is named in the status.
        Err(e) => return Err(hdfs_proto::grpc::blame(e, addr)),
    };
    Ok((tx, acks))
}
