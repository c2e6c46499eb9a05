//! gRPC handlers: decode and validate the request, call the namesystem, encode the answer.

use std::sync::Arc;

use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::namenode as pb;
use tonic::{Request, Response, Status};

use crate::blockmanager::Location;
use crate::datanodes::{AdminState, Liveness, Storage};
use crate::error::Error;
use crate::fsck::FsckReport;
use crate::namesystem::{Command, CreateOptions, FileInfo, LocatedBlock, Namesystem, ReportedReplica, SafeModeAction};

#[derive(Clone)]
pub struct Service {
    ns: Arc<Namesystem>,
}

impl Service {
    pub fn new(ns: Arc<Namesystem>) -> Self {
        Self { ns }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn path(s: &str) -> Result<HdfsPath, Status> {
    HdfsPath::parse(s).map_err(|e| Error::from(e).into())
}

fn non_empty<'a>(field: &'static str, s: &'a str) -> Result<&'a str, Status> {
    if s.is_empty() { Err(Error::MissingField(field).into()) } else { Ok(s) }
}

fn block_len(b: Option<pb::ExtendedBlock>) -> Option<(u64, u64)> {
    b.map(|b| (b.block_id, b.num_bytes))
}

impl From<FileInfo> for pb::FileStatus {
    fn from(f: FileInfo) -> Self {
        pb::FileStatus {
            path: f.path.to_string(),
            file_type: if f.is_dir { pb::FileType::Directory } else { pb::FileType::File } as i32,
            length: f.length,
            replication: f.replication,
            block_size: f.block_size,
            modification_time_ms: f.mtime_ms,
            under_construction: f.under_construction,
            children: f.children,
        }
    }
}

impl From<LocatedBlock> for pb::LocatedBlock {
    fn from(b: LocatedBlock) -> Self {
        pb::LocatedBlock {
            block: Some(pb::ExtendedBlock {
                block_id: b.block.id,
                generation_stamp: b.block.generation_stamp,
                num_bytes: b.block.num_bytes,
            }),
            offset: b.offset,
            locations: b.locations.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Location> for pb::DatanodeInfo {
    fn from(l: Location) -> Self {
        pb::DatanodeInfo { datanode_id: l.datanode_id, address: l.address }
    }
}

fn ext(b: crate::namespace::Block) -> pb::ExtendedBlock {
    pb::ExtendedBlock { block_id: b.id, generation_stamp: b.generation_stamp, num_bytes: b.num_bytes }
}

impl From<Command> for pb::DatanodeCommand {
    fn from(c: Command) -> Self {
        use pb::datanode_command::Command as C;
        let command = match c {
            Command::DeleteBlocks(blocks) => C::DeleteBlocks(pb::DeleteBlocksCommand {
                blocks: blocks
                    .into_iter()
                    .map(|(block_id, generation_stamp)| pb::ExtendedBlock { block_id, generation_stamp, num_bytes: 0 })
                    .collect(),
            }),
            Command::Replicate { block, targets } => C::Replicate(pb::ReplicateCommand {
                block: Some(ext(block)),
                targets: targets.into_iter().map(Into::into).collect(),
            }),
            Command::RecoverBlock { block, new_generation_stamp, holders } => {
                C::RecoverBlock(pb::RecoverBlockCommand {
                    block: Some(ext(block)),
                    new_generation_stamp,
                    holders: holders.into_iter().map(Into::into).collect(),
                })
            }
        };
        pb::DatanodeCommand { command: Some(command) }
    }
}

impl From<FsckReport> for pb::FsckResponse {
    fn from(r: FsckReport) -> Self {
        pb::FsckResponse {
            path: r.path,
            healthy: r.healthy,
            files: r.files,
            directories: r.directories,
            open_files: r.open_files,
            total_bytes: r.total_bytes,
            blocks: r.blocks,
            under_replicated: r.under_replicated,
            over_replicated: r.over_replicated,
            missing: r.missing,
            corrupt: r.corrupt,
            files_detail: r
                .file_details
                .into_iter()
                .map(|f| pb::FsckFile {
                    path: f.path,
                    length: f.length,
                    replication: f.replication,
                    under_construction: f.under_construction,
                    blocks: f
                        .blocks
                        .into_iter()
                        .map(|b| pb::FsckBlock {
                            block: Some(pb::ExtendedBlock {
                                block_id: b.block_id,
                                generation_stamp: b.generation_stamp,
                                num_bytes: b.num_bytes,
                            }),
                            live_replicas: b.live,
                            decommissioning_replicas: b.decommissioning,
                            locations: b.locations.into_iter().map(Into::into).collect(),
                            corrupt_locations: b.corrupt_locations.into_iter().map(Into::into).collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn replica(b: &pb::ExtendedBlock) -> ReportedReplica {
    ReportedReplica { block: b.block_id, generation_stamp: b.generation_stamp, num_bytes: b.num_bytes }
}

fn storage(s: Option<pb::StorageReport>) -> Storage {
    let s = s.unwrap_or_default();
    Storage { capacity: s.capacity, used: s.dfs_used, remaining: s.remaining, active_transfers: s.active_transfers }
}

#[tonic::async_trait]
impl pb::client_protocol_server::ClientProtocol for Service {
    async fn mkdirs(&self, req: Request<pb::MkdirsRequest>) -> Reply<pb::MkdirsResponse> {
        let r = req.into_inner();
        self.ns.mkdirs(&path(&r.path)?, r.create_parent).await?;
        Ok(Response::new(pb::MkdirsResponse {}))
    }

    async fn get_file_info(&self, req: Request<pb::GetFileInfoRequest>) -> Reply<pb::GetFileInfoResponse> {
        let info = self.ns.file_info(&path(&req.into_inner().path)?)?;
        Ok(Response::new(pb::GetFileInfoResponse { status: Some(info.into()) }))
    }

    async fn get_listing(&self, req: Request<pb::GetListingRequest>) -> Reply<pb::GetListingResponse> {
        let r = req.into_inner();
        let (entries, has_more) = self.ns.list(&path(&r.path)?, &r.start_after, r.limit as usize)?;
        Ok(Response::new(pb::GetListingResponse { entries: entries.into_iter().map(Into::into).collect(), has_more }))
    }

    async fn delete(&self, req: Request<pb::DeleteRequest>) -> Reply<pb::DeleteResponse> {
        let r = req.into_inner();
        self.ns.delete(&path(&r.path)?, r.recursive).await?;
        Ok(Response::new(pb::DeleteResponse {}))
    }

    async fn rename(&self, req: Request<pb::RenameRequest>) -> Reply<pb::RenameResponse> {
        let r = req.into_inner();
        self.ns.rename(&path(&r.src)?, &path(&r.dst)?).await?;
        Ok(Response::new(pb::RenameResponse {}))
    }

    async fn create(&self, req: Request<pb::CreateRequest>) -> Reply<pb::CreateResponse> {
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let opts = CreateOptions {
            overwrite: r.overwrite,
            create_parent: r.create_parent,
            replication: r.replication,
            block_size: r.block_size,
        };
        let (info, live) = self.ns.create(&path(&r.path)?, client, opts).await?;
        Ok(Response::new(pb::CreateResponse { status: Some(info.into()), live_datanodes: live as u32 }))
    }

    async fn add_block(&self, req: Request<pb::AddBlockRequest>) -> Reply<pb::AddBlockResponse> {
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let b = self.ns.add_block(&path(&r.path)?, client, block_len(r.previous), &r.exclude_datanodes).await?;
        Ok(Response::new(pb::AddBlockResponse { block: Some(b.into()) }))
    }

    async fn complete(&self, req: Request<pb::CompleteRequest>) -> Reply<pb::CompleteResponse> {
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let completed = self.ns.complete(&path(&r.path)?, client, block_len(r.last)).await?;
        Ok(Response::new(pb::CompleteResponse { completed }))
    }

    async fn get_block_locations(
        &self,
        req: Request<pb::GetBlockLocationsRequest>,
    ) -> Reply<pb::GetBlockLocationsResponse> {
        let r = req.into_inner();
        let lb = self.ns.block_locations(&path(&r.path)?, r.offset, r.length)?;
        Ok(Response::new(pb::GetBlockLocationsResponse {
            file_length: lb.file_length,
            blocks: lb.blocks.into_iter().map(Into::into).collect(),
            under_construction: lb.under_construction,
        }))
    }

    async fn set_replication(&self, req: Request<pb::SetReplicationRequest>) -> Reply<pb::SetReplicationResponse> {
        let r = req.into_inner();
        self.ns.set_replication(&path(&r.path)?, r.replication).await?;
        Ok(Response::new(pb::SetReplicationResponse {}))
    }

    async fn get_content_summary(
        &self,
        req: Request<pb::GetContentSummaryRequest>,
    ) -> Reply<pb::GetContentSummaryResponse> {
        let s = self.ns.content_summary(&path(&req.into_inner().path)?)?;
        Ok(Response::new(pb::GetContentSummaryResponse {
            length: s.length,
            file_count: s.files,
            directory_count: s.directories,
            space_consumed: s.space_consumed,
        }))
    }

    async fn renew_lease(&self, req: Request<pb::RenewLeaseRequest>) -> Reply<pb::RenewLeaseResponse> {
        self.ns.renew_lease(non_empty("client_name", &req.into_inner().client_name)?);
        Ok(Response::new(pb::RenewLeaseResponse {}))
    }

    async fn report_bad_blocks(&self, req: Request<pb::ReportBadBlocksRequest>) -> Reply<pb::ReportBadBlocksResponse> {
        let r = req.into_inner();
        let block = r.block.ok_or(Error::MissingField("block"))?;
        tracing::warn!(block = block.block_id, datanode = %r.datanode_id, reason = %r.reason, "bad replica reported");
        self.ns.report_bad_block(block.block_id, non_empty("datanode_id", &r.datanode_id)?)?;
        Ok(Response::new(pb::ReportBadBlocksResponse {}))
    }

    async fn get_datanode_report(
        &self,
        _req: Request<pb::GetDatanodeReportRequest>,
    ) -> Reply<pb::GetDatanodeReportResponse> {
        let datanodes = self
            .ns
            .datanode_report()
            .into_iter()
            .map(|d| pb::DatanodeReport {
                datanode: Some(d.location.into()),
                state: match d.state {
                    Liveness::Live => pb::DatanodeState::Live,
                    Liveness::Stale => pb::DatanodeState::Stale,
                    Liveness::Dead => pb::DatanodeState::Dead,
                } as i32,
                storage: Some(pb::StorageReport {
                    capacity: d.storage.capacity,
                    dfs_used: d.storage.used,
                    remaining: d.storage.remaining,
                    active_transfers: d.storage.active_transfers,
                }),
                blocks: d.blocks,
                last_contact_ms: d.last_contact.as_millis() as u64,
                admin: match d.admin {
                    AdminState::Normal => pb::AdminState::Normal,
                    AdminState::Decommissioning => pb::AdminState::Decommissioning,
                    AdminState::Decommissioned => pb::AdminState::Decommissioned,
                } as i32,
                copies_in_flight: d.copies_in_flight,
            })
            .collect();
        Ok(Response::new(pb::GetDatanodeReportResponse { datanodes }))
    }

    async fn update_pipeline(&self, req: Request<pb::UpdatePipelineRequest>) -> Reply<pb::UpdatePipelineResponse> {
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let generation_stamp = self.ns.update_pipeline(&path(&r.path)?, client, r.block_id).await?;
        Ok(Response::new(pb::UpdatePipelineResponse { generation_stamp }))
    }

    async fn abandon_block(&self, req: Request<pb::AbandonBlockRequest>) -> Reply<pb::AbandonBlockResponse> {
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        self.ns.abandon_block(&path(&r.path)?, client, r.block_id).await?;
        Ok(Response::new(pb::AbandonBlockResponse {}))
    }

    async fn fsck(&self, req: Request<pb::FsckRequest>) -> Reply<pb::FsckResponse> {
        let r = req.into_inner();
        let p = if r.path.is_empty() { HdfsPath::root() } else { path(&r.path)? };
        Ok(Response::new(self.ns.fsck(&p, r.include_files)?.into()))
    }

    async fn set_safe_mode(&self, req: Request<pb::SetSafeModeRequest>) -> Reply<pb::SetSafeModeResponse> {
        let action = match pb::SafeModeAction::try_from(req.into_inner().action) {
            Ok(pb::SafeModeAction::Get) => SafeModeAction::Get,
            Ok(pb::SafeModeAction::Enter) => SafeModeAction::Enter,
            Ok(pb::SafeModeAction::Leave) => SafeModeAction::Leave,
            _ => return Err(Status::invalid_argument("safe mode action must be get, enter or leave")),
        };
        let (on, status) = self.ns.safe_mode(action);
        Ok(Response::new(pb::SetSafeModeResponse { on, status }))
    }

    async fn decommission(&self, req: Request<pb::DecommissionRequest>) -> Reply<pb::DecommissionResponse> {
        let r = req.into_inner();
        let node = self.ns.decommission(non_empty("node", &r.node)?, !r.recommission)?;
        Ok(Response::new(pb::DecommissionResponse { datanode: Some(node.into()) }))
    }
}

#[tonic::async_trait]
impl pb::datanode_protocol_server::DatanodeProtocol for Service {
    async fn register(&self, req: Request<pb::RegisterRequest>) -> Reply<pb::RegisterResponse> {
        let r = req.into_inner();
        let dn = r.datanode.ok_or(Error::MissingField("datanode"))?;
        self.ns.register(
            non_empty("datanode_id", &dn.datanode_id)?,
            non_empty("address", &dn.address)?,
            storage(r.storage),
        );
        Ok(Response::new(pb::RegisterResponse {}))
    }

    async fn heartbeat(&self, req: Request<pb::HeartbeatRequest>) -> Reply<pb::HeartbeatResponse> {
        let r = req.into_inner();
        let (commands, early) = self.ns.heartbeat(&r.datanode_id, storage(r.storage))?;
        Ok(Response::new(pb::HeartbeatResponse {
            commands: commands.into_iter().map(Into::into).collect(),
            next_heartbeat_ms: early.map_or(0, |d| d.as_millis().max(1) as u32),
        }))
    }

    async fn block_report(&self, req: Request<pb::BlockReportRequest>) -> Reply<pb::BlockReportResponse> {
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
        let r = req.into_inner();
        let b = r.block.ok_or(Error::MissingField("block"))?;
        self.ns.commit_block_recovery(b.block_id, b.generation_stamp, b.num_bytes, &r.holders).await?;
        Ok(Response::new(pb::CommitBlockRecoveryResponse {}))
    }
}
