//! Block recovery, as the primary holder: the namenode found a file whose writer went away and
//! asked this node to close its last block. Ask every holder how much of the replica it has
//! (its verified prefix), take the least (what all of them agree on), have each holder cut its
//! replica to that length and finalize it under the new generation stamp, then tell the
//! namenode, which closes the file. Replicas of the old generation that missed this are stale
//! and deleted when reported.

use hdfs_proto::pb::datanode::{self as dpb, data_transfer_client::DataTransferClient};
use hdfs_proto::pb::namenode as pb;
use tonic::Status;

use crate::reports::{NamenodeLink, ReplicaEvents};

pub async fn recover_block(
    link: NamenodeLink,
    events: ReplicaEvents,
    cmd: pb::RecoverBlockCommand,
) -> Result<(), Status> {
    let block = cmd.block.ok_or_else(|| Status::invalid_argument("recovery without block"))?;
    let id = block.block_id;
    let new_gen = cmd.new_generation_stamp;
    tracing::info!(
        block = id,
        new_generation_stamp = new_gen,
        holders = cmd.holders.len(),
        "recovering a block as primary"
    );

    let mut lengths = Vec::new();
    for h in &cmd.holders {
        match replica_length(&link, &h.address, id).await {
            Ok(len) => lengths.push((h, len)),
            Err(e) => {
                tracing::warn!(block = id, holder = %h.address, error = %e.message(), "holder unavailable for recovery")
            }
        }
    }
    let len = lengths
        .iter()
        .map(|(_, l)| *l)
        .min()
        .ok_or_else(|| Status::unavailable(format!("block {id}: no holder answered")))?;

    let mut finalized = Vec::new();
    if len > 0 {
        for (h, _) in &lengths {
            match finalize(&link, &events, &h.address, id, new_gen, len).await {
                Ok(()) => finalized.push(h.datanode_id.clone()),
                Err(e) => {
                    tracing::warn!(block = id, holder = %h.address, error = %e.message(), "could not finalize a recovered replica")
                }
            }
        }
        if finalized.is_empty() {
            return Err(Status::unavailable(format!("block {id}: no holder finalized the recovered replica")));
        }
    }
    let req = pb::CommitBlockRecoveryRequest {
        datanode_id: link.datanode_id.clone(),
        block: Some(pb::ExtendedBlock { block_id: id, generation_stamp: new_gen, num_bytes: len }),
        holders: finalized,
    };
    link.client.clone().commit_block_recovery(NamenodeLink::request(req)).await?;
    tracing::info!(block = id, len, "block recovery committed");
    Ok(())
}

async fn holder(addr: &str) -> Result<DataTransferClient<tonic::transport::Channel>, Status> {
    let channel = hdfs_proto::grpc::endpoint(addr)
        .map_err(|e| Status::invalid_argument(e.to_string()))?
        .timeout(crate::reports::RPC_TIMEOUT)
        .connect()
        .await
        .map_err(|e| Status::unavailable(format!("{addr}: {e}")))?;
    Ok(DataTransferClient::new(channel))
}

async fn replica_length(link: &NamenodeLink, addr: &str, block: u64) -> Result<u64, Status> {
    if addr == link.address {
        let store = link.store.clone();
        let (_, len) = tokio::task::spawn_blocking(move || store.recovery_length(block))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(crate::transfer::store_status)?;
        return Ok(len);
    }
    let r = holder(addr).await?.init_replica_recovery(dpb::InitReplicaRecoveryRequest { block_id: block }).await?;
    Ok(r.into_inner().length)
}

async fn finalize(
    link: &NamenodeLink,
    events: &ReplicaEvents,
    addr: &str,
    block: u64,
    new_gen: u64,
    len: u64,
) -> Result<(), Status> {
    if addr == link.address {
        let store = link.store.clone();
        let info = tokio::task::spawn_blocking(move || store.finalize_recovered(block, new_gen, len))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(crate::transfer::store_status)?;
        events.received(info);
        return Ok(());
    }
    let req = dpb::FinalizeReplicaRecoveryRequest { block_id: block, new_generation_stamp: new_gen, length: len };
    holder(addr).await?.finalize_replica_recovery(req).await?;
    Ok(())
}
