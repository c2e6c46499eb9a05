//! The `DatanodeProtocol` service: registration, heartbeats (whose replies carry the commands),
//! block reports and block recovery commits, decoded and handed to the namesystem.

use hdfs_proto::auth::BlockAccess;
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::{BlockId, BlockRef, GenStamp};
use tonic::{Request, Response};

use super::convert::{replica, storage};
use super::{Reply, Service, non_empty};
use crate::datanodes::Command;
use crate::error::Error;

impl Service {
    /// A command on the wire; a copy carries the token its targets accept the replica with.
    fn command(&self, c: Command) -> pb::DatanodeCommand {
        let mut cmd = pb::DatanodeCommand::from(c);
        if let Some(pb::datanode_command::Command::Replicate(r)) = cmd.command.as_mut()
            && let Some(b) = r.block
        {
            let block = BlockRef::new(b.block_id, b.generation_stamp);
            r.token = Some(self.tokens.issue(block, BlockAccess::COPY, "datanode"));
        }
        cmd
    }
}

#[tonic::async_trait]
impl pb::datanode_protocol_server::DatanodeProtocol for Service {
    async fn register(&self, req: Request<pb::RegisterRequest>) -> Reply<pb::RegisterResponse> {
        self.members_only(&req, "Register")?;
        let r = req.into_inner();
        let dn = r.datanode.ok_or(Error::MissingField("datanode".into()))?;
        self.ns.register(
            non_empty("datanode_id", &dn.datanode_id)?,
            non_empty("address", &dn.address)?,
            &dn.http_address,
            storage(r.storage),
        )?;
        Ok(Response::new(pb::RegisterResponse {}))
    }

    async fn heartbeat(&self, req: Request<pb::HeartbeatRequest>) -> Reply<pb::HeartbeatResponse> {
        self.members_only(&req, "Heartbeat")?;
        let r = req.into_inner();
        let a = self.ns.heartbeat(&r.datanode_id, storage(r.storage))?;
        Ok(Response::new(pb::HeartbeatResponse {
            commands: a.commands.into_iter().map(|c| self.command(c)).collect(),
            next_heartbeat_ms: a.early.map_or(0, |d| d.as_millis().max(1) as u32),
            term: a.term,
            leader: a.leading,
            namenodes: a.namenodes,
        }))
    }

    async fn block_report(&self, req: Request<pb::BlockReportRequest>) -> Reply<pb::BlockReportResponse> {
        self.members_only(&req, "BlockReport")?;
        let r = req.into_inner();
        let replicas: Vec<_> = r.blocks.iter().map(replica).collect();
        let unfinished: Vec<_> = r.unfinished.iter().map(replica).collect();
        self.ns.block_report(&r.datanode_id, &replicas, &unfinished)?;
        Ok(Response::new(pb::BlockReportResponse {}))
    }

    async fn block_received_and_deleted(
        &self,
        req: Request<pb::BlockReceivedAndDeletedRequest>,
    ) -> Reply<pb::BlockReceivedAndDeletedResponse> {
        self.members_only(&req, "BlockReceivedAndDeleted")?;
        let r = req.into_inner();
        let received: Vec<_> = r.received.iter().map(replica).collect();
        let deleted: Vec<_> = r.deleted.iter().map(replica).collect();
        self.ns.blocks_received_and_deleted(&r.datanode_id, &received, &deleted)?;
        Ok(Response::new(pb::BlockReceivedAndDeletedResponse {}))
    }

    async fn commit_block_recovery(
        &self,
        req: Request<pb::CommitBlockRecoveryRequest>,
    ) -> Reply<pb::CommitBlockRecoveryResponse> {
        self.members_only(&req, "CommitBlockRecovery")?;
        let r = req.into_inner();
        let b = r.block.ok_or(Error::MissingField("block".into()))?;
        self.ns
            .commit_block_recovery(BlockId(b.block_id), GenStamp(b.generation_stamp), b.num_bytes, &r.holders)
            .await?;
        Ok(Response::new(pb::CommitBlockRecoveryResponse {}))
    }
}
