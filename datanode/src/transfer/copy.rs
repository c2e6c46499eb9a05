//! Replica copy (HDFS's `DataTransfer` for `DNA_TRANSFER`): send a finalized replica to other
//! datanodes, as the namenode asked in a heartbeat reply to repair a block's replication.
//!
//! The copy is an ordinary pipeline write with this node as the client: the targets form the
//! pipeline, the packets are read from the store with their stored checksums (verified on read
//! here, and again by every target), and the copy is done when the last packet is acked, which
//! each target sends only once its replica is finalized and reported.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use bytes::Bytes;
use hdfs_proto::pb::datanode::BlockToken;
use hdfs_proto::{BlockRef, Packet};
use tonic::Status;

use super::downstream::{self, DOWNSTREAM_ACK_TIMEOUT, WriteHeader};
use super::node::ActiveGuard;
use super::read::READ_PACKET;
use crate::store::BlockStore;

/// Copies a finalized replica to `targets` (a pipeline, first to last) with the namenode's copy
/// `token`; returns the length the targets stored.
pub(crate) async fn copy_replica(
    store: BlockStore,
    block: BlockRef,
    targets: Vec<String>,
    token: Option<BlockToken>,
    active: Arc<AtomicU32>,
    me: String,
) -> Result<u64, Status> {
    let _guard = ActiveGuard::new(&active);
    let (first, rest) = targets.split_first().ok_or_else(|| Status::invalid_argument("copy without targets"))?;
    let mut reader = store.blocking(move |s| s.open_reader(block)).await?;
    let client_name = format!("datanode {me}");
    let header = WriteHeader { block, downstream: rest.to_vec(), client_name, recover_from: None, token };
    // A connection of its own: copies are few and large, and must not queue behind pipelines.
    let (tx, mut acks) = downstream::start(downstream::connect(first).await?, first, header).await?;
    let len = reader.len();
    // Read on a blocking thread, straight into the outgoing stream.
    let sender = tokio::task::spawn_blocking(move || {
        let (mut pos, mut seqno) = (0u64, 0u64);
        while pos < len {
            let (data, checksums) = reader.read_chunks(pos, READ_PACKET)?;
            let p = Packet { seqno, offset: pos, data: data.into(), checksums, last: false, sync: false };
            pos = p.end();
            if tx.blocking_send(p.into()).is_err() {
                return Ok(seqno);
            }
            seqno += 1;
        }
        let last = Packet { seqno, offset: pos, data: Bytes::new(), checksums: Vec::new(), last: true, sync: false };
        let _ = tx.blocking_send(last.into());
        Ok::<u64, Status>(seqno)
    });
    // Packets of READ_PACKET bytes, then the empty last one: its seqno is the packet count.
    let last_seqno = len.div_ceil(READ_PACKET as u64);
    let id = block.id;
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
