//! The data-transfer service: pipeline writes and ranged reads of replicas.
//!
//! **Write.** The first message names the block and the rest of the pipeline. Each packet is
//! forwarded downstream first (so the next node works in parallel), then handed to a blocking
//! writer thread that verifies its checksums and appends it. An ack goes upstream for a packet
//! only when it is written here *and* acked downstream; the ack of the last packet is sent only
//! after the replica is finalized (fsync + durable record) here and downstream, so the client's
//! final ack means durable on every node of the pipeline.
//!
//! **Read.** A blocking reader thread reads chunk-aligned pieces of up to one packet, verifies
//! each chunk against the stored checksums, and streams them with their checksums so that the
//! client checks them again after the network. A bounded channel provides backpressure.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hdfs_proto::checksum::BYTES_PER_CHECKSUM;
use hdfs_proto::pb::datanode::{self as pb, data_transfer_client::DataTransferClient, write_block_request::Msg};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

use crate::reports::ReplicaEvents;
use crate::store::{BlockStore, ReplicaInfo, ReplicaReader, StoreError};

/// Largest data in one read response: 1 MiB messages gave the best throughput here.
pub const READ_PACKET: usize = 1 << 20;
/// Packets in flight between the network and the disk thread of one write.
const WRITE_QUEUE: usize = 8;
/// Longest wait for the next node's ack before blaming it. Shorter than the client's own
/// timeout, so that a hung node deep in a pipeline is named by its upstream neighbour.
const DOWNSTREAM_ACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Longest the last ack of a block waits for the namenode to have the replica's report.
const REPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Read responses buffered ahead of the network.
const READ_QUEUE: usize = 4;

pub(crate) fn store_status(e: StoreError) -> Status {
    match e {
        StoreError::NotFound(_) => Status::not_found(e.to_string()),
        StoreError::WrongGeneration { .. } | StoreError::AlreadyExists(_) => Status::failed_precondition(e.to_string()),
        StoreError::OutOfOrder { .. }
        | StoreError::AfterPartialChunk { .. }
        | StoreError::TooLarge { .. }
        | StoreError::OffsetPastEnd { .. }
        | StoreError::RecoveryTooLong { .. } => Status::invalid_argument(e.to_string()),
        StoreError::Busy(_) => Status::unavailable(e.to_string()),
        StoreError::Checksum { .. } | StoreError::BadRecord { .. } => Status::data_loss(e.to_string()),
        StoreError::Io { .. } | StoreError::Sled(_) => Status::internal(e.to_string()),
    }
}

#[derive(Clone)]
pub struct TransferService {
    store: BlockStore,
    events: ReplicaEvents,
    tracker: TaskTracker,
    /// This node's address, named in errors so a client knows which node of a pipeline failed.
    me: Arc<str>,
    active: Arc<AtomicU32>,
    /// Connections to the next nodes of pipelines, kept: a new connection per block (TCP and
    /// HTTP/2 handshakes) cost more than writing a small block (docs/BENCHMARKS.md).
    peers: Arc<Peers>,
    /// Cancelled at shutdown: transfers in flight stop at once and new ones are refused, so
    /// peers see the node go as they would see it die (the pipeline recovers without it).
    shutdown: CancellationToken,
}

impl TransferService {
    pub fn new(
        store: BlockStore,
        events: ReplicaEvents,
        tracker: TaskTracker,
        me: &str,
        shutdown: CancellationToken,
    ) -> Self {
        let (me, active, peers) = (me.into(), Arc::new(AtomicU32::new(0)), Arc::new(Peers::default()));
        Self { store, events, tracker, me, active, peers, shutdown }
    }

    fn check_running(&self) -> Result<(), Status> {
        if self.shutdown.is_cancelled() {
            return Err(Status::unavailable(format!("datanode {} is shutting down", self.me)));
        }
        Ok(())
    }

    /// Transfers in progress, reported in heartbeats as load.
    pub fn active(&self) -> Arc<AtomicU32> {
        self.active.clone()
    }
}

/// Counts a transfer as active for as long as it lives.
struct ActiveGuard(Arc<AtomicU32>);

impl ActiveGuard {
    fn new(c: &Arc<AtomicU32>) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        Self(c.clone())
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A packet validated at the edge.
struct Packet {
    seqno: u64,
    offset: u64,
    data: Bytes,
    checksums: Vec<u32>,
    last: bool,
}

impl TryFrom<pb::WriteBlockRequest> for Packet {
    type Error = Status;
    fn try_from(m: pb::WriteBlockRequest) -> Result<Self, Status> {
        match m.msg {
            Some(Msg::Packet(p)) => {
                if p.data.len() > hdfs_proto::grpc::MAX_MESSAGE_SIZE {
                    return Err(Status::invalid_argument("packet too large"));
                }
                Ok(Packet {
                    seqno: p.seqno,
                    offset: p.offset_in_block,
                    data: p.data,
                    checksums: p.checksums,
                    last: p.last,
                })
            }
            Some(Msg::Header(_)) => Err(Status::invalid_argument("a second header in one write")),
            None => Err(Status::invalid_argument("empty write message")),
        }
    }
}

/// What the disk thread reports for each packet: its seqno, and the replica once finalized.
/// What the disk thread reports for each packet: its seqno, and for the last one the finalized
/// replica with the signal that the namenode has heard of it.
type Written = Result<(u64, Option<(ReplicaInfo, oneshot::Receiver<()>)>), Status>;

#[tonic::async_trait]
impl pb::data_transfer_server::DataTransfer for TransferService {
    type WriteBlockStream = BoxStream<pb::WriteBlockAck>;
    type ReadBlockStream = BoxStream<pb::ReadBlockResponse>;

    async fn write_block(
        &self,
        req: Request<Streaming<pb::WriteBlockRequest>>,
    ) -> Result<Response<Self::WriteBlockStream>, Status> {
        self.check_running()?;
        let mut inbound = req.into_inner();
        let header = match inbound.message().await? {
            Some(pb::WriteBlockRequest { msg: Some(Msg::Header(h)) }) => h,
            _ => return Err(Status::invalid_argument("a write must start with a header")),
        };
        let block = header.block.ok_or_else(|| Status::invalid_argument("header without block"))?;
        if header.bytes_per_checksum as usize != BYTES_PER_CHECKSUM {
            return Err(Status::invalid_argument(format!(
                "bytes_per_checksum {} unsupported (this datanode uses {BYTES_PER_CHECKSUM})",
                header.bytes_per_checksum
            )));
        }
        let store = self.store.clone();
        let (id, gen_stamp) = (block.block_id, block.generation_stamp);
        let (recovery, recover_from) = (header.recovery, header.recover_from);
        let writer = tokio::task::spawn_blocking(move || {
            if recovery { store.recover(id, gen_stamp, recover_from) } else { store.create(id, gen_stamp) }
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| hdfs_proto::grpc::blame(with_node(&self.me, store_status(e)), &self.me))?;

        // Connect downstream before acknowledging the header, so a dead next node fails fast.
        let downstream = match header.downstream.split_first() {
            None => None,
            Some((next, rest)) => {
                let h = pb::WriteHeader { block: Some(block), downstream: rest.to_vec(), ..header.clone() };
                let channel = self.peers.channel(next).await?;
                match start_downstream(channel, next, h).await {
                    Ok(d) => Some((next.clone(), d)),
                    Err(e) => {
                        self.peers.forget(next);
                        return Err(e);
                    }
                }
            }
        };

        let (ack_tx, ack_rx) = mpsc::channel(WRITE_QUEUE * 2);
        let (pkt_tx, pkt_rx) = mpsc::channel::<Packet>(WRITE_QUEUE);
        let (done_tx, done_rx) = mpsc::channel::<Written>(WRITE_QUEUE * 2);
        let guard = ActiveGuard::new(&self.active);
        let me = self.me.clone();

        // The disk thread: verify and append each packet; finalize on the last.
        let disk_me = me.clone();
        let events = self.events.clone();
        self.tracker.spawn_blocking(move || {
            let mut writer = Some(writer);
            let mut pkt_rx = pkt_rx;
            while let Some(p) = pkt_rx.blocking_recv() {
                let Some(w) = writer.as_mut() else { break };
                let mut r = w.append(p.offset, &p.data, &p.checksums).map(|()| (p.seqno, None));
                if p.last && r.is_ok() {
                    r = writer
                        .take()
                        .expect("present")
                        .finalize()
                        .map(|info| (p.seqno, Some((info, events.received_and_reported(info)))));
                }
                let failed = r.is_err();
                let _ = done_tx.blocking_send(r.map_err(|e| {
                    tracing::warn!(block = id, error = %e, "write failed");
                    hdfs_proto::grpc::blame(with_node(&disk_me, store_status(e)), &disk_me)
                }));
                if failed || p.last {
                    break;
                }
            }
        });

        // The network side: forward each packet, queue it for the disk, and pair up the acks.
        // Each side reports its own failure upstream at once: the client then tears the stream
        // down, which ends the other side.
        let (down_tx, down_acks) = match downstream {
            Some((next, (tx, acks))) => (Some(tx), Some((next, acks))),
            None => (None, None),
        };
        let shutdown = self.shutdown.clone();
        self.tracker.spawn(async move {
            let _guard = guard;
            let recv = async {
                let r = forward_packets(&mut inbound, down_tx, pkt_tx).await;
                if let Err(e) = r {
                    let _ = ack_tx.send(Err(e)).await;
                }
            };
            let acks = async {
                if let Err(e) = pair_acks(done_rx, down_acks, &ack_tx, &me).await {
                    let _ = ack_tx.send(Err(e)).await;
                }
            };
            tokio::select! {
                _ = async { tokio::join!(recv, acks) } => {}
                _ = shutdown.cancelled() => {
                    let _ = ack_tx.send(Err(Status::unavailable("datanode shutting down"))).await;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(ack_rx))))
    }

    async fn init_replica_recovery(
        &self,
        req: Request<pb::InitReplicaRecoveryRequest>,
    ) -> Result<Response<pb::InitReplicaRecoveryResponse>, Status> {
        let block = req.into_inner().block_id;
        let store = self.store.clone();
        let (generation_stamp, length) = tokio::task::spawn_blocking(move || store.recovery_length(block))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(store_status)?;
        Ok(Response::new(pb::InitReplicaRecoveryResponse { generation_stamp, length }))
    }

    async fn finalize_replica_recovery(
        &self,
        req: Request<pb::FinalizeReplicaRecoveryRequest>,
    ) -> Result<Response<pb::FinalizeReplicaRecoveryResponse>, Status> {
        let r = req.into_inner();
        let store = self.store.clone();
        let info =
            tokio::task::spawn_blocking(move || store.finalize_recovered(r.block_id, r.new_generation_stamp, r.length))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(store_status)?;
        self.events.received(info);
        tracing::info!(
            block = info.block,
            generation_stamp = info.generation_stamp,
            len = info.len,
            "replica recovered"
        );
        Ok(Response::new(pb::FinalizeReplicaRecoveryResponse {}))
    }

    async fn read_block(&self, req: Request<pb::ReadBlockRequest>) -> Result<Response<Self::ReadBlockStream>, Status> {
        self.check_running()?;
        let r = req.into_inner();
        let block = r.block.ok_or_else(|| Status::invalid_argument("read without block"))?;
        let store = self.store.clone();
        let (id, gen_stamp) = (block.block_id, block.generation_stamp);
        let me = self.me.clone();
        // Open, check the range and read the first packet on one blocking thread: a replica
        // that fits in one packet (small files) is then served without a second one.
        let opened = tokio::task::spawn_blocking(move || {
            let mut reader = store.open_reader(id, gen_stamp).map_err(|e| with_node(&me, store_status(e)))?;
            if r.offset > reader.len() {
                return Err(Status::out_of_range(format!(
                    "block {id}: offset {} is past the replica's end ({})",
                    r.offset,
                    reader.len()
                )));
            }
            let end = if r.length == 0 { reader.len() } else { r.offset.saturating_add(r.length).min(reader.len()) };
            let mut pos = reader.align(r.offset);
            let first = (pos < end).then(|| read_packet(&mut reader, &mut pos, end, &me));
            Ok((reader, pos, end, first))
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        let (mut reader, mut pos, end, first) = opened?;
        let Some(first) = first else {
            return Ok(Response::new(Box::pin(tokio_stream::empty())));
        };
        if pos >= end || first.is_err() {
            return Ok(Response::new(Box::pin(tokio_stream::once(first))));
        }
        let (tx, rx) = mpsc::channel(READ_QUEUE);
        let guard = ActiveGuard::new(&self.active);
        let me = self.me.clone();
        let shutdown = self.shutdown.clone();
        self.tracker.spawn_blocking(move || {
            let _guard = guard;
            if tx.blocking_send(first).is_err() {
                return;
            }
            while pos < end && !shutdown.is_cancelled() {
                let msg = read_packet(&mut reader, &mut pos, end, &me);
                let failed = msg.is_err();
                if tx.blocking_send(msg).is_err() || failed {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// The packet of a read at `pos` (at most `READ_PACKET` bytes, not past `end`); advances `pos`.
fn read_packet(reader: &mut ReplicaReader, pos: &mut u64, end: u64, me: &str) -> Result<pb::ReadBlockResponse, Status> {
    match reader.read_chunks(*pos, READ_PACKET.min((end - *pos) as usize)) {
        Ok((data, checksums)) => {
            let offset = *pos;
            *pos += data.len() as u64;
            Ok(pb::ReadBlockResponse {
                offset,
                data: data.into(),
                checksums,
                bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
            })
        }
        Err(e) => {
            tracing::warn!(block = reader.block(), error = %e, "read failed");
            Err(with_node(me, store_status(e)))
        }
    }
}

/// Reads packets from upstream, forwards each downstream, then queues it for the disk thread.
async fn forward_packets(
    inbound: &mut Streaming<pb::WriteBlockRequest>,
    down: Option<mpsc::Sender<pb::WriteBlockRequest>>,
    disk: mpsc::Sender<Packet>,
) -> Result<(), Status> {
    while let Some(m) = inbound.message().await? {
        let p = Packet::try_from(m)?;
        if let Some(tx) = &down {
            let fwd = pb::Packet {
                seqno: p.seqno,
                offset_in_block: p.offset,
                data: p.data.clone(),
                checksums: p.checksums.clone(),
                last: p.last,
            };
            // A closed downstream shows up as an error on its ack stream; one that stops reading
            // gets as long as it would for an ack.
            let send = tx.send(pb::WriteBlockRequest { msg: Some(Msg::Packet(fwd)) });
            if tokio::time::timeout(DOWNSTREAM_ACK_TIMEOUT, send).await.is_err() {
                return Err(Status::unavailable(format!("downstream stopped reading for {DOWNSTREAM_ACK_TIMEOUT:?}")));
            }
        }
        let last = p.last;
        if disk.send(p).await.is_err() || last {
            break;
        }
    }
    Ok(())
}

/// Prefixes a status message with this node's address.
fn with_node(me: &str, s: Status) -> Status {
    Status::new(s.code(), format!("datanode {me}: {}", s.message()))
}

type Downstream = (mpsc::Sender<pb::WriteBlockRequest>, Streaming<pb::WriteBlockAck>);

fn unavailable(addr: &str, e: &dyn std::fmt::Display) -> Status {
    hdfs_proto::grpc::blame(Status::unavailable(format!("downstream datanode {addr}: {e}")), addr)
}

/// Kept connections to other datanodes, by address.
#[derive(Default)]
struct Peers {
    channels: Mutex<HashMap<String, Channel>>,
}

impl Peers {
    async fn channel(&self, addr: &str) -> Result<Channel, Status> {
        let cached = self.channels.lock().unwrap_or_else(|p| p.into_inner()).get(addr).cloned();
        if let Some(c) = cached {
            return Ok(c);
        }
        let c = connect(addr).await?;
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).insert(addr.to_string(), c.clone());
        Ok(c)
    }

    /// Drops a connection that failed, so the next pipeline through `addr` connects afresh.
    fn forget(&self, addr: &str) {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).remove(addr);
    }
}

async fn connect(addr: &str) -> Result<Channel, Status> {
    hdfs_proto::grpc::endpoint(addr)
        .map_err(|e| unavailable(addr, &e))?
        .connect()
        .await
        .map_err(|e| unavailable(addr, &e))
}

/// Opens a write stream to the next node on `channel` and sends it the header.
async fn start_downstream(channel: Channel, addr: &str, header: pb::WriteHeader) -> Result<Downstream, Status> {
    let unavailable = |e: &dyn std::fmt::Display| unavailable(addr, e);
    let mut client = DataTransferClient::new(channel)
        .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE);
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    tx.send(pb::WriteBlockRequest { msg: Some(Msg::Header(header)) }).await.map_err(|e| unavailable(&e))?;
    let acks = match client.write_block(ReceiverStream::new(rx)).await {
        Ok(r) => r.into_inner(),
        // The next node answered but refused: it (or one after it) is named in the status.
        Err(e) => return Err(hdfs_proto::grpc::blame(e, addr)),
    };
    Ok((tx, acks))
}

/// Sends an ack upstream for each packet written here and acked downstream, in order, until the
/// last one (acked only once finalized here and downstream).
async fn pair_acks(
    mut done: mpsc::Receiver<Written>,
    mut down: Option<(String, Streaming<pb::WriteBlockAck>)>,
    up: &mpsc::Sender<Result<pb::WriteBlockAck, Status>>,
    me: &str,
) -> Result<(), Status> {
    use hdfs_proto::grpc::{bad_node, blame};
    while let Some(written) = done.recv().await {
        let (seqno, finalized) = written?;
        // The last ack waits (briefly) until the namenode has this replica's report, so that
        // whoever gets the ack (a client about to complete, a copy's source asking for more work)
        // finds the namenode already knowing.
        let finalized = match finalized {
            Some((info, reported)) => {
                let _ = tokio::time::timeout(REPORT_WAIT, reported).await;
                Some(info)
            }
            None => None,
        };
        if let Some((next, down)) = down.as_mut() {
            let ack = match tokio::time::timeout(DOWNSTREAM_ACK_TIMEOUT, down.message()).await {
                Err(_) => {
                    let e = Status::unavailable(format!(
                        "datanode {me}: downstream {next} sent no ack within {DOWNSTREAM_ACK_TIMEOUT:?}"
                    ));
                    return Err(blame(e, next));
                }
                Ok(r) => r,
            };
            let ack = match ack {
                Ok(Some(ack)) => ack,
                Ok(None) => {
                    let e =
                        Status::unavailable(format!("datanode {me}: downstream {next} closed before acking {seqno}"));
                    return Err(blame(e, next));
                }
                Err(e) => {
                    // The failure is the next node's, unless it names one further down.
                    let named = bad_node(&e).unwrap_or_else(|| next.clone());
                    let msg = format!("datanode {me}: downstream: {}", e.message());
                    return Err(blame(Status::new(e.code(), msg), &named));
                }
            };
            if ack.seqno != seqno {
                return Err(Status::internal(format!("datanode {me}: downstream acked {} for {seqno}", ack.seqno)));
            }
        }
        let block_length = finalized.map_or(0, |i| i.len);
        if up.send(Ok(pb::WriteBlockAck { seqno, block_length })).await.is_err() {
            return Err(Status::cancelled("upstream went away"));
        }
        if finalized.is_some() {
            break;
        }
    }
    Ok(())
}

/// Copies a finalized replica to `targets` (a pipeline, first to last), as the namenode asked
/// in a heartbeat reply. Uses the stored checksums, so the bytes are verified on read here and
/// again by every target.
pub async fn copy_replica(
    store: BlockStore,
    block: pb::BlockRef,
    targets: Vec<String>,
    active: Arc<AtomicU32>,
    me: String,
) -> Result<u64, Status> {
    let _guard = ActiveGuard::new(&active);
    let (first, rest) = targets.split_first().ok_or_else(|| Status::invalid_argument("copy without targets"))?;
    let (id, gen_stamp) = (block.block_id, block.generation_stamp);
    let s = store.clone();
    let mut reader = tokio::task::spawn_blocking(move || s.open_reader(id, gen_stamp))
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(store_status)?;
    let header = pb::WriteHeader {
        block: Some(block),
        downstream: rest.to_vec(),
        bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
        client_name: format!("datanode {me}"),
        recovery: false,
        recover_from: 0,
    };
    // A connection of its own: copies are few and large, and must not queue behind pipelines.
    let (tx, mut acks) = start_downstream(connect(first).await?, first, header).await?;
    let len = reader.len();
    // Read on a blocking thread, straight into the outgoing stream.
    let sender = tokio::task::spawn_blocking(move || {
        let (mut pos, mut seqno) = (0u64, 0u64);
        while pos < len {
            let (data, checksums) = reader.read_chunks(pos, READ_PACKET).map_err(store_status)?;
            let n = data.len() as u64;
            let p = pb::Packet { seqno, offset_in_block: pos, data: data.into(), checksums, last: false };
            if tx.blocking_send(pb::WriteBlockRequest { msg: Some(Msg::Packet(p)) }).is_err() {
                return Ok(seqno);
            }
            pos += n;
            seqno += 1;
        }
        let last = pb::Packet { seqno, offset_in_block: pos, last: true, ..Default::default() };
        let _ = tx.blocking_send(pb::WriteBlockRequest { msg: Some(Msg::Packet(last)) });
        Ok::<u64, Status>(seqno)
    });
    // Packets of READ_PACKET bytes, then the empty last one: its seqno is the packet count.
    let last_seqno = len.div_ceil(READ_PACKET as u64);
    loop {
        let ack = tokio::time::timeout(DOWNSTREAM_ACK_TIMEOUT, acks.message()).await.map_err(|_| {
            Status::unavailable(format!("copy of block {id} to {first}: no ack within {DOWNSTREAM_ACK_TIMEOUT:?}"))
        })??;
        let Some(ack) = ack else { break };
        if ack.seqno == last_seqno {
            sender.await.map_err(|e| Status::internal(e.to_string()))??;
            return Ok(ack.block_length);
        }
    }
    Err(Status::unavailable(format!("copy of block {id} to {first}: stream ended early")))
}
