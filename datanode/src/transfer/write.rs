//! The pipeline write (HDFS's `BlockReceiver`): receive a block's packets, pass them on, store
//! them, and acknowledge them in order.
//!
//! Each packet is forwarded downstream first (so the next node works in parallel), then handed
//! to a blocking writer thread that verifies its checksums and appends it. An ack goes upstream
//! for a packet only when it is written here *and* acked downstream; the ack of the last packet
//! is sent only after the replica is finalized (fsync + durable record) here and downstream, and
//! (for at most [`REPORT_WAIT`]) after the namenode has this replica's report, so the client's
//! final ack means durable on every node of the pipeline and known to the namenode.
//!
//! Three tasks per write: the disk thread, the network side receiving and forwarding packets,
//! and the side pairing this node's results with the next node's acks. Each reports its own
//! failure upstream at once, naming the node to drop; the client then tears the stream down,
//! which ends the others.

use std::time::Duration;

use hdfs_proto::Packet;
use hdfs_proto::grpc::{bad_node, blame};
use hdfs_proto::pb::datanode::{self as pb, write_block_request::Msg};
use tokio::sync::{mpsc, oneshot};
use tonic::{Status, Streaming};

use super::downstream::{self, DOWNSTREAM_ACK_TIMEOUT, WRITE_QUEUE, WriteHeader};
use super::node::{ActiveGuard, Node, with_node};
use crate::store::ReplicaInfo;

/// Longest the last ack of a block waits for the namenode to have the replica's report.
const REPORT_WAIT: Duration = Duration::from_secs(2);

/// What the disk thread reports for each packet: its seqno, and for the last one the finalized
/// replica with the signal that the namenode has heard of it.
type Written = Result<(u64, Option<(ReplicaInfo, oneshot::Receiver<()>)>), Status>;

/// The acks of a write, in order, as they go upstream.
pub(super) type Acks = mpsc::Receiver<Result<pb::WriteBlockAck, Status>>;

/// A packet from the write stream: every message after the header must be one.
fn packet(m: pb::WriteBlockRequest) -> Result<Packet, Status> {
    match m.msg {
        Some(Msg::Packet(p)) => Ok(Packet::try_from(p)?),
        Some(Msg::Header(_)) => Err(Status::invalid_argument("a second header in one write")),
        None => Err(Status::invalid_argument("empty write message")),
    }
}

impl Node {
    /// Opens the replica, connects to the next node, and starts the tasks that move the packets
    /// of `inbound`; returns the stream of acks for upstream.
    pub(super) async fn write_block(
        &self,
        header: WriteHeader,
        mut inbound: Streaming<pb::WriteBlockRequest>,
    ) -> Result<Acks, Status> {
        let (block, recover_from) = (header.block, header.recover_from);
        let writer = self
            .store
            .blocking(move |store| match recover_from {
                Some(len) => store.recover(block, len),
                None => store.create(block),
            })
            .await
            .map_err(|e| blame(with_node(&self.me, e.into()), &self.me))?;

        // Connect downstream before acknowledging the header, so a dead next node fails fast.
        let downstream = match header.next() {
            None => None,
            Some((next, h)) => {
                let channel = self.peers.channel(&next).await?;
                match downstream::start(channel, &next, h).await {
                    Ok(d) => Some((next, d)),
                    Err(e) => {
                        self.peers.forget(&next);
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
        let metrics = self.metrics.clone();
        self.tracker.spawn_blocking(move || {
            let mut writer = Some(writer);
            let mut pkt_rx = pkt_rx;
            while let Some(p) = pkt_rx.blocking_recv() {
                let Some(w) = writer.as_mut() else { break };
                let mut r = w.append(p.offset, &p.data, &p.checksums).map(|()| (p.seqno, None));
                if r.is_ok() {
                    metrics.written.inc_by(p.data.len() as u64);
                }
                if p.sync && r.is_ok() {
                    r = w.persist().map(|()| (p.seqno, None));
                }
                if p.last && r.is_ok() {
                    r = writer
                        .take()
                        .expect("present")
                        .finalize()
                        .map(|info| (p.seqno, Some((info, events.received_and_reported(info)))));
                    if r.is_ok() {
                        metrics.blocks_written.inc();
                    }
                }
                let failed = r.is_err();
                let _ = done_tx.blocking_send(r.map_err(|e| {
                    tracing::warn!(block = %block.id, error = %e, "write failed");
                    blame(with_node(&disk_me, e.into()), &disk_me)
                }));
                if failed || p.last {
                    break;
                }
            }
        });

        // The network side: forward each packet, queue it for the disk, and pair up the acks.
        let (down_tx, down_acks) = match downstream {
            Some((next, (tx, acks))) => (Some(tx), Some((next, acks))),
            None => (None, None),
        };
        let shutdown = self.shutdown.clone();
        let failures = self.metrics.pipeline_failures.clone();
        self.tracker.spawn(async move {
            let _guard = guard;
            let recv = async {
                let r = forward_packets(&mut inbound, down_tx, pkt_tx).await;
                let failed = r.is_err();
                if let Err(e) = r {
                    let _ = ack_tx.send(Err(e)).await;
                }
                failed
            };
            let acks = async {
                let r = pair_acks(done_rx, down_acks, &ack_tx, &me).await;
                let failed = r.is_err();
                if let Err(e) = r {
                    let _ = ack_tx.send(Err(e)).await;
                }
                failed
            };
            let failed = tokio::select! {
                (a, b) = async { tokio::join!(recv, acks) } => a || b,
                _ = shutdown.cancelled() => {
                    let _ = ack_tx.send(Err(Status::unavailable("datanode shutting down"))).await;
                    true
                }
            };
            if failed {
                failures.inc();
            }
        });
        Ok(ack_rx)
    }
}

/// Reads packets from upstream, forwards each downstream, then queues it for the disk thread.
async fn forward_packets(
    inbound: &mut Streaming<pb::WriteBlockRequest>,
    down: Option<mpsc::Sender<pb::WriteBlockRequest>>,
    disk: mpsc::Sender<Packet>,
) -> Result<(), Status> {
    while let Some(m) = inbound.message().await? {
        let p = packet(m)?;
        if let Some(tx) = &down {
            // A closed downstream shows up as an error on its ack stream; one that stops reading
            // gets as long as it would for an ack.
            let send = tx.send(p.clone().into());
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

/// Sends an ack upstream for each packet written here and acked downstream, in order, until the
/// last one (acked only once finalized here and downstream).
async fn pair_acks(
    mut done: mpsc::Receiver<Written>,
    mut down: Option<(String, Streaming<pb::WriteBlockAck>)>,
    up: &mpsc::Sender<Result<pb::WriteBlockAck, Status>>,
    me: &str,
) -> Result<(), Status> {
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
