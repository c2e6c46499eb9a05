//! Block recovery, as the primary holder: the namenode found a file whose writer went away and
//! asked this node to close its last block. Ask every holder how much of the replica it has
//! (its verified prefix), take the least (what all of them agree on), have each holder cut its
//! replica to that length and finalize it under the new generation stamp, then tell the
//! namenode, which closes the file. Replicas of the old generation that missed this are stale
//! and deleted when reported.
//!
//! The holders answer through `DataTransfer`'s `InitReplicaRecovery` and
//! `FinalizeReplicaRecovery` (HDFS's `InterDatanodeProtocol`); this node, a holder too, asks its
//! own store directly.
//!
//! A truncate inside a block is the same recovery with a length given: every holder cuts its
//! replica there (HDFS's truncate block recovery, in place).

use hdfs_proto::pb::datanode::{self as dpb, data_transfer_client::DataTransferClient};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::{BlockId, BlockRef, GenStamp};
use tonic::Status;

use crate::link::{NamenodeLink, RPC_TIMEOUT, ReplicaEvents};

pub(crate) async fn recover_block(
    link: NamenodeLink,
    events: ReplicaEvents,
    cmd: pb::RecoverBlockCommand,
) -> Result<(), Status> {
    let block = cmd.block.ok_or_else(|| Status::invalid_argument("recovery without block"))?;
    let id = BlockId(block.block_id);
    let new_gen = GenStamp(cmd.new_generation_stamp);
    tracing::info!(
        block = %id,
        new_generation_stamp = %new_gen,
        holders = cmd.holders.len(),
        "recovering a block as primary"
    );

    let mut answers = Vec::new();
    for h in &cmd.holders {
        match replica_length(&link, &h.address, id).await {
            Ok((generation, len)) => answers.push((h, generation, len)),
            Err(e) => {
                tracing::warn!(block = %id, holder = %h.address, error = %e.message(), "holder unavailable for recovery")
            }
        }
    }
    // Only replicas of the newest generation count (an older one was dropped from the pipeline
    // and lags behind), and an empty one does not veto the others (it restarted before its
    // record held any of the bytes).
    let newest = answers
        .iter()
        .map(|(_, g, _)| *g)
        .max()
        .ok_or_else(|| Status::unavailable(format!("block {id}: no holder answered")))?;
    if new_gen <= newest {
        let msg = format!("block {id}: replicas are at generation {newest}, not older than {new_gen}");
        return Err(Status::failed_precondition(msg));
    }
    answers.retain(|(_, g, _)| *g == newest);
    if answers.iter().any(|(_, _, l)| *l > 0) {
        answers.retain(|(_, _, l)| *l > 0);
    }
    let lengths: Vec<_> = answers.iter().map(|(h, _, l)| (*h, *l)).collect();
    let mut len = lengths.iter().map(|(_, l)| *l).min().unwrap_or(0);
    if cmd.truncate_to > 0 {
        // A truncate: every holder has the whole block; each cuts it to the new end.
        if len < cmd.truncate_to {
            let msg =
                format!("block {id}: replicas hold {len} bytes, fewer than the {} to truncate to", cmd.truncate_to);
            return Err(Status::failed_precondition(msg));
        }
        len = cmd.truncate_to;
    }

    let mut finalized = Vec::new();
    if len > 0 {
        for (h, _) in &lengths {
            match finalize(&link, &events, &h.address, BlockRef { id, gen_stamp: new_gen }, len).await {
                Ok(()) => finalized.push(h.datanode_id.clone()),
                Err(e) => {
                    tracing::warn!(block = %id, holder = %h.address, error = %e.message(), "could not finalize a recovered replica")
                }
            }
        }
        if finalized.is_empty() {
            return Err(Status::unavailable(format!("block {id}: no holder finalized the recovered replica")));
        }
    }
    let req = pb::CommitBlockRecoveryRequest {
        datanode_id: link.datanode_id.clone(),
        block: Some(pb::ExtendedBlock { block_id: id.0, generation_stamp: new_gen.0, num_bytes: len }),
        holders: finalized,
    };
    link.client.clone().commit_block_recovery(link.request(req)).await?;
    tracing::info!(block = %id, len, "block recovery committed");
    Ok(())
}

async fn holder(addr: &str) -> Result<DataTransferClient<tonic::transport::Channel>, Status> {
    let channel = hdfs_proto::grpc::endpoint(addr)
        .map_err(|e| Status::invalid_argument(e.to_string()))?
        .timeout(RPC_TIMEOUT)
        .connect()
        .await
        .map_err(|e| Status::unavailable(format!("{addr}: {e}")))?;
    Ok(DataTransferClient::new(channel))
}

/// A holder's (generation stamp, verified length) of the replica.
async fn replica_length(link: &NamenodeLink, addr: &str, block: BlockId) -> Result<(GenStamp, u64), Status> {
    if addr == link.address {
        return Ok(link.store.blocking(move |s| s.recovery_length(block)).await?);
    }
    let req = link.secret.request(dpb::InitReplicaRecoveryRequest { block_id: block.0 });
    let r = holder(addr).await?.init_replica_recovery(req).await?.into_inner();
    Ok((GenStamp(r.generation_stamp), r.length))
}

/// Has the holder at `addr` cut its replica to `len` and finalize it as `block`.
async fn finalize(
    link: &NamenodeLink,
    events: &ReplicaEvents,
    addr: &str,
    block: BlockRef,
    len: u64,
) -> Result<(), Status> {
    if addr == link.address {
        let info = link.store.blocking(move |s| s.finalize_recovered(block, len)).await?;
        events.received(info);
        return Ok(());
    }
    let req = link.secret.request(dpb::FinalizeReplicaRecoveryRequest {
        block_id: block.id.0,
        new_generation_stamp: block.gen_stamp.0,
        length: len,
    });
    holder(addr).await?.finalize_replica_recovery(req).await?;
    Ok(())
}
