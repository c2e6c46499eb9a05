//! [`Pipeline`]: one block's write stream to its datanodes, with a bounded window of
//! unacknowledged packets.
//!
//! Packets go to the first node, which forwards them down the pipeline; each is kept until its
//! ack comes back, at most [`WINDOW`] at a time (HDFS's `ackQueue`), so that after a recovery
//! the survivors get them again from the length every node acknowledged. Every failure is a
//! [`Broken`]: the node to drop (the one the error names, else the first) and why.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use hdfs_proto::checksum::BYTES_PER_CHECKSUM;
use hdfs_proto::pb::datanode::{self as dpb, write_block_request::Msg};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::{BlockRef, Packet};
use tokio::sync::mpsc;
use tonic::Streaming;

use crate::conn::Conn;
use crate::error::{Error, Result};

/// Packets sent to the pipeline and not yet acknowledged.
pub(crate) const WINDOW: usize = 8;
/// Longest wait for one ack before the pipeline is declared stuck.
pub(crate) const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// A pipeline failure: the datanode to drop, and why.
pub(super) struct Broken {
    pub(super) bad: String,
    pub(super) error: Error,
}

impl Broken {
    /// From a status: the node it names, else `first` (the node we talk to directly).
    fn from_status(s: tonic::Status, first: &str) -> Self {
        Self { bad: hdfs_proto::grpc::bad_node(&s).unwrap_or_else(|| first.to_string()), error: s.into() }
    }
}

struct Stream {
    tx: mpsc::Sender<dpb::WriteBlockRequest>,
    acks: Streaming<dpb::WriteBlockAck>,
}

/// One block's write pipeline.
pub(super) struct Pipeline {
    pub(super) block: pb::ExtendedBlock,
    pub(super) nodes: Vec<pb::DatanodeInfo>,
    /// The namenode's grant to write the block (renewed with each new generation stamp).
    pub(super) token: Option<dpb::BlockToken>,
    stream: Option<Stream>,
    unacked: VecDeque<Packet>,
    seqno: u64,
    /// Bytes sent.
    len: u64,
}

impl Pipeline {
    pub(super) fn new(located: pb::LocatedBlock) -> Result<Self> {
        let block = located.block.ok_or_else(|| Error::InvalidArgument("located block without block".into()))?;
        if located.locations.is_empty() {
            return Err(Error::Unavailable("namenode gave no datanode for the block".into()));
        }
        let (nodes, token) = (located.locations, located.token);
        Ok(Self { block, nodes, token, stream: None, unacked: VecDeque::new(), seqno: 0, len: 0 })
    }

    /// A pipeline continuing the block from the `len` bytes it holds (an append).
    pub(super) fn resume(located: pb::LocatedBlock) -> Result<Self> {
        let mut p = Self::new(located)?;
        p.len = p.block.num_bytes;
        Ok(p)
    }

    fn first(&self) -> &str {
        self.nodes.first().map_or("", |n| n.address.as_str())
    }

    /// Bytes sent.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Bytes every node has acknowledged.
    pub(super) fn acked_len(&self) -> u64 {
        self.unacked.front().map_or(self.len, |p| p.offset)
    }

    /// Opens the stream to the first node (which connects the rest), resuming at `recover_from`
    /// in a recovery, and sends the unacked packets again.
    pub(super) async fn connect(&mut self, conn: &Conn, recover_from: Option<u64>) -> Result<(), Broken> {
        // Close the broken stream first: until it ends, the surviving nodes' old writers hold
        // the replica and refuse to resume it.
        self.stream = None;
        let first = self.first().to_string();
        let header = dpb::WriteHeader {
            block: Some(BlockRef::new(self.block.block_id, self.block.generation_stamp).into()),
            downstream: self.nodes[1..].iter().map(|n| n.address.clone()).collect(),
            bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
            client_name: conn.client_name().to_string(),
            recovery: recover_from.is_some(),
            recover_from: recover_from.unwrap_or(0),
            token: self.token.clone(),
        };
        let (tx, rx) = mpsc::channel(WINDOW + 1);
        let _ = tx.send(dpb::WriteBlockRequest { msg: Some(Msg::Header(header)) }).await;
        let broken = |error| Broken { bad: first.clone(), error };
        let mut dn = conn.datanode(&first).await.map_err(broken)?;
        let acks =
            match tokio::time::timeout(ACK_TIMEOUT, dn.write_block(tokio_stream::wrappers::ReceiverStream::new(rx)))
                .await
            {
                Ok(Ok(r)) => r.into_inner(),
                Ok(Err(s)) => return Err(Broken::from_status(s, &first)),
                Err(_) => {
                    return Err(broken(Error::Unavailable(format!(
                        "datanode {first}: no answer within {ACK_TIMEOUT:?}"
                    ))));
                }
            };
        for p in &self.unacked {
            if tx.send(p.clone().into()).await.is_err() {
                break; // the reason shows on the ack stream
            }
        }
        tracing::debug!(block = self.block.block_id, first = %first, nodes = self.nodes.len(), ?recover_from, "pipeline open");
        self.stream = Some(Stream { tx, acks });
        Ok(())
    }

    /// Queues a packet in the window (waiting for room) and sends it. An error comes only from
    /// waiting for room, before the packet is queued; once queued, a failed send shows up on the
    /// ack stream, and recovery sends the packet again with the rest of the window.
    /// `sync`: an hflush, after which the nodes serve what they hold to readers.
    pub(super) async fn send(&mut self, data: Bytes, last: bool, sync: bool) -> Result<(), Broken> {
        while self.unacked.len() >= WINDOW {
            self.wait_ack().await?;
        }
        let p = Packet { sync, ..Packet::checksummed(self.seqno, self.len, data, last) };
        self.seqno += 1;
        self.len = p.end();
        let msg = p.clone().into();
        self.unacked.push_back(p);
        if let Some(s) = &self.stream {
            // A closed stream is reported by the next wait for an ack.
            let _ = s.tx.send(msg).await;
        }
        Ok(())
    }

    /// Waits for the oldest unacked packet's ack; returns the block length it carries.
    async fn wait_ack(&mut self) -> Result<u64, Broken> {
        let first = self.first().to_string();
        let Some(stream) = self.stream.as_mut() else {
            return Err(Broken { bad: first, error: Error::Unavailable("pipeline not connected".into()) });
        };
        let ack = match tokio::time::timeout(ACK_TIMEOUT, stream.acks.message()).await {
            Ok(Ok(Some(ack))) => ack,
            Ok(Ok(None)) => {
                let e = Error::Unavailable(format!("pipeline from {first} closed before all acks"));
                return Err(Broken { bad: first, error: e });
            }
            Ok(Err(s)) => return Err(Broken::from_status(s, &first)),
            Err(_) => {
                let e = Error::Unavailable(format!("pipeline from {first}: no ack within {ACK_TIMEOUT:?}"));
                return Err(Broken { bad: first, error: e });
            }
        };
        match self.unacked.pop_front() {
            Some(p) if p.seqno == ack.seqno => Ok(ack.block_length),
            expected => Err(Broken {
                bad: first.clone(),
                error: Error::Remote {
                    code: tonic::Code::Internal,
                    message: format!(
                        "pipeline from {first}: ack {} where {:?} was due",
                        ack.seqno,
                        expected.map(|p| p.seqno)
                    ),
                },
            }),
        }
    }

    /// Waits for every outstanding ack; returns the length the last one carries.
    pub(super) async fn wait_all(&mut self) -> Result<u64, Broken> {
        let mut len = 0;
        while !self.unacked.is_empty() {
            len = self.wait_ack().await?;
        }
        Ok(len)
    }
}
