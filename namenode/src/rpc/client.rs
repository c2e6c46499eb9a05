//! The `ClientProtocol` service: each call decodes and validates its request, makes one call on
//! the [`Namesystem`](crate::namesystem::Namesystem) and encodes the answer.

use hdfs_proto::auth::BlockAccess;
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::perm::Access;
use hdfs_proto::{BlockId, BlockRef};
use tonic::{Request, Response};

use super::convert::block_len;
use super::{Reply, Service, call_id, non_empty, path};
use crate::error::Error;
use crate::namesystem::{CreateOptions, SafeModeAction};
use hdfs_proto::path::HdfsPath;

#[tonic::async_trait]
impl pb::client_protocol_server::ClientProtocol for Service {
    async fn mkdirs(&self, req: Request<pb::MkdirsRequest>) -> Reply<pb::MkdirsResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        self.ns.mkdirs(&path(&r.path)?, r.create_parent, None, &caller, call).await?;
        Ok(Response::new(pb::MkdirsResponse {}))
    }

    async fn get_file_info(&self, req: Request<pb::GetFileInfoRequest>) -> Reply<pb::GetFileInfoResponse> {
        let caller = self.caller(&req);
        let info = self.ns.file_info(&path(&req.into_inner().path)?, &caller).await?;
        Ok(Response::new(pb::GetFileInfoResponse { status: Some(info.into()) }))
    }

    async fn get_listing(&self, req: Request<pb::GetListingRequest>) -> Reply<pb::GetListingResponse> {
        let caller = self.caller(&req);
        let r = req.into_inner();
        let (entries, remaining) = self.ns.list(&path(&r.path)?, &r.start_after, r.limit as usize, &caller).await?;
        Ok(Response::new(pb::GetListingResponse {
            entries: entries.into_iter().map(Into::into).collect(),
            has_more: remaining > 0,
        }))
    }

    async fn delete(&self, req: Request<pb::DeleteRequest>) -> Reply<pb::DeleteResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        self.ns.delete(&path(&r.path)?, r.recursive, &caller, call).await?;
        Ok(Response::new(pb::DeleteResponse {}))
    }

    async fn rename(&self, req: Request<pb::RenameRequest>) -> Reply<pb::RenameResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        self.ns.rename(&path(&r.src)?, &path(&r.dst)?, &caller, call).await?;
        Ok(Response::new(pb::RenameResponse {}))
    }

    async fn create(&self, req: Request<pb::CreateRequest>) -> Reply<pb::CreateResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let opts = CreateOptions {
            overwrite: r.overwrite,
            create_parent: r.create_parent,
            replication: r.replication,
            block_size: r.block_size,
            mode: r.permission,
        };
        let (info, live) = self.ns.create(&path(&r.path)?, client, opts, &caller, call).await?;
        Ok(Response::new(pb::CreateResponse { status: Some(info.into()), live_datanodes: live as u32 }))
    }

    async fn add_block(&self, req: Request<pb::AddBlockRequest>) -> Reply<pb::AddBlockResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let b = self.ns.add_block(&path(&r.path)?, client, block_len(r.previous), &r.exclude_datanodes, call).await?;
        Ok(Response::new(pb::AddBlockResponse { block: Some(self.located(b, BlockAccess::WRITE, &caller)) }))
    }

    async fn complete(&self, req: Request<pb::CompleteRequest>) -> Reply<pb::CompleteResponse> {
        let call = call_id(&req);
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let completed = self.ns.complete(&path(&r.path)?, client, block_len(r.last), call).await?;
        Ok(Response::new(pb::CompleteResponse { completed }))
    }

    async fn get_block_locations(
        &self,
        req: Request<pb::GetBlockLocationsRequest>,
    ) -> Reply<pb::GetBlockLocationsResponse> {
        let caller = self.caller(&req);
        let r = req.into_inner();
        let lb = self.ns.block_locations(&path(&r.path)?, r.offset, r.length, &caller).await?;
        Ok(Response::new(pb::GetBlockLocationsResponse {
            file_length: lb.file_length,
            blocks: lb.blocks.into_iter().map(|b| self.located(b, BlockAccess::READ, &caller)).collect(),
            under_construction: lb.under_construction,
            last_block: lb.last_block.map(|b| self.located(b, BlockAccess::READ, &caller)),
        }))
    }

    async fn set_replication(&self, req: Request<pb::SetReplicationRequest>) -> Reply<pb::SetReplicationResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        self.ns.set_replication(&path(&r.path)?, r.replication, &caller, call).await?;
        Ok(Response::new(pb::SetReplicationResponse {}))
    }

    async fn get_content_summary(
        &self,
        req: Request<pb::GetContentSummaryRequest>,
    ) -> Reply<pb::GetContentSummaryResponse> {
        let caller = self.caller(&req);
        let s = self.ns.content_summary(&path(&req.into_inner().path)?, &caller).await?;
        Ok(Response::new(pb::GetContentSummaryResponse {
            length: s.length,
            file_count: s.files,
            directory_count: s.directories,
            space_consumed: s.space_consumed,
        }))
    }

    async fn renew_lease(&self, req: Request<pb::RenewLeaseRequest>) -> Reply<pb::RenewLeaseResponse> {
        self.ns.renew_lease(non_empty("client_name", &req.into_inner().client_name)?)?;
        Ok(Response::new(pb::RenewLeaseResponse {}))
    }

    async fn report_bad_blocks(&self, req: Request<pb::ReportBadBlocksRequest>) -> Reply<pb::ReportBadBlocksResponse> {
        let r = req.into_inner();
        let block = r.block.ok_or(Error::MissingField("block".into()))?;
        tracing::warn!(block = %block.block_id, datanode = %r.datanode_id, reason = %r.reason, "bad replica reported");
        self.ns.report_bad_block(BlockId(block.block_id), non_empty("datanode_id", &r.datanode_id)?)?;
        Ok(Response::new(pb::ReportBadBlocksResponse {}))
    }

    async fn get_datanode_report(
        &self,
        _req: Request<pb::GetDatanodeReportRequest>,
    ) -> Reply<pb::GetDatanodeReportResponse> {
        let datanodes = self.ns.datanode_report()?.into_iter().map(Into::into).collect();
        Ok(Response::new(pb::GetDatanodeReportResponse { datanodes }))
    }

    async fn update_pipeline(&self, req: Request<pb::UpdatePipelineRequest>) -> Reply<pb::UpdatePipelineResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let generation_stamp = self.ns.update_pipeline(&path(&r.path)?, client, BlockId(r.block_id), call).await?;
        let block = BlockRef::new(r.block_id, generation_stamp.0);
        let token = Some(self.tokens.issue(block, BlockAccess::WRITE, &caller.user));
        Ok(Response::new(pb::UpdatePipelineResponse { generation_stamp: generation_stamp.0, token }))
    }

    async fn abandon_block(&self, req: Request<pb::AbandonBlockRequest>) -> Reply<pb::AbandonBlockResponse> {
        let call = call_id(&req);
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        self.ns.abandon_block(&path(&r.path)?, client, BlockId(r.block_id), call).await?;
        Ok(Response::new(pb::AbandonBlockResponse {}))
    }

    async fn fsck(&self, req: Request<pb::FsckRequest>) -> Reply<pb::FsckResponse> {
        let r = req.into_inner();
        let p = if r.path.is_empty() { HdfsPath::root() } else { path(&r.path)? };
        Ok(Response::new(self.ns.fsck(&p, r.include_files).await?.into()))
    }

    async fn set_safe_mode(&self, req: Request<pb::SetSafeModeRequest>) -> Reply<pb::SetSafeModeResponse> {
        let caller = self.caller(&req);
        let action = SafeModeAction::try_from(req.into_inner().action)?;
        let (on, status) = self.ns.safe_mode(action, &caller)?;
        Ok(Response::new(pb::SetSafeModeResponse { on, status }))
    }

    async fn decommission(&self, req: Request<pb::DecommissionRequest>) -> Reply<pb::DecommissionResponse> {
        let caller = self.caller(&req);
        let r = req.into_inner();
        let node = self.ns.decommission(non_empty("node", &r.node)?, !r.recommission, &caller)?;
        Ok(Response::new(pb::DecommissionResponse { datanode: Some(node.into()) }))
    }

    async fn append(&self, req: Request<pb::AppendRequest>) -> Reply<pb::AppendResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let (info, last) = self.ns.append(&path(&r.path)?, client, &caller, call).await?;
        let last_block = last.map(|b| self.located(b, BlockAccess::WRITE, &caller));
        Ok(Response::new(pb::AppendResponse { status: Some(info.into()), last_block }))
    }

    async fn truncate(&self, req: Request<pb::TruncateRequest>) -> Reply<pb::TruncateResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let done = self.ns.truncate(&path(&r.path)?, r.new_length, client, &caller, call).await?;
        Ok(Response::new(pb::TruncateResponse { done }))
    }

    async fn concat(&self, req: Request<pb::ConcatRequest>) -> Reply<pb::ConcatResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        let sources = r.sources.iter().map(|s| path(s)).collect::<Result<Vec<_>, _>>()?;
        self.ns.concat(&path(&r.target)?, &sources, &caller, call).await?;
        Ok(Response::new(pb::ConcatResponse {}))
    }

    async fn set_permission(&self, req: Request<pb::SetPermissionRequest>) -> Reply<pb::SetPermissionResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        self.ns.set_permission(&path(&r.path)?, r.permission, &caller, call).await?;
        Ok(Response::new(pb::SetPermissionResponse {}))
    }

    async fn set_owner(&self, req: Request<pb::SetOwnerRequest>) -> Reply<pb::SetOwnerResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        let (owner, group) =
            (Some(r.owner.as_str()).filter(|o| !o.is_empty()), Some(r.group.as_str()).filter(|g| !g.is_empty()));
        if owner.is_none() && group.is_none() {
            return Err(Error::MissingField("owner or group".into()).into());
        }
        self.ns.set_owner(&path(&r.path)?, owner, group, &caller, call).await?;
        Ok(Response::new(pb::SetOwnerResponse {}))
    }

    async fn set_times(&self, req: Request<pb::SetTimesRequest>) -> Reply<pb::SetTimesResponse> {
        let (call, caller) = (call_id(&req), self.caller(&req));
        let r = req.into_inner();
        self.ns.set_times(&path(&r.path)?, r.modification_time_ms, &caller, call).await?;
        Ok(Response::new(pb::SetTimesResponse {}))
    }

    async fn check_access(&self, req: Request<pb::CheckAccessRequest>) -> Reply<pb::CheckAccessResponse> {
        let caller = self.caller(&req);
        let r = req.into_inner();
        let access = u8::try_from(r.access).ok().filter(|a| *a <= 7).ok_or(Error::InvalidMode(r.access))?;
        self.ns.check_access(&path(&r.path)?, Access(access), &caller).await?;
        Ok(Response::new(pb::CheckAccessResponse {}))
    }
}
