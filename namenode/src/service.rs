//! gRPC handlers: decode and validate the request, call the namesystem, encode the answer.

use std::sync::Arc;

use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::namenode as pb;
use tonic::{Request, Response, Status};

use crate::datanodes::{Liveness, Storage};
use crate::error::Error;
use crate::namesystem::{
    Command, CreateOptions, FileInfo, LocatedBlock, Namesystem, ReportedReplica,
};

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
    if s.is_empty() {
        Err(Error::MissingField(field).into())
    } else {
        Ok(s)
    }
}

fn block_len(b: Option<pb::ExtendedBlock>) -> Option<(u64, u64)> {
    b.map(|b| (b.block_id, b.num_bytes))
}

impl From<FileInfo> for pb::FileStatus {
    fn from(f: FileInfo) -> Self {
        pb::FileStatus {
            path: f.path.to_string(),
            file_type: if f.is_dir {
                pb::FileType::Directory
            } else {
                pb::FileType::File
            } as i32,
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
            locations: b
                .locations
                .into_iter()
                .map(|l| pb::DatanodeInfo {
                    datanode_id: l.datanode_id,
                    address: l.address,
                })
                .collect(),
        }
    }
}

fn replica(b: &pb::ExtendedBlock) -> ReportedReplica {
    ReportedReplica {
        block: b.block_id,
        generation_stamp: b.generation_stamp,
        num_bytes: b.num_bytes,
    }
}

fn storage(s: Option<pb::StorageReport>) -> Storage {
    let s = s.unwrap_or_default();
    Storage {
        capacity: s.capacity,
        used: s.dfs_used,
        remaining: s.remaining,
        active_transfers: s.active_transfers,
    }
}

#[tonic::async_trait]
impl pb::client_protocol_server::ClientProtocol for Service {
    async fn mkdirs(&self, req: Request<pb::MkdirsRequest>) -> Reply<pb::MkdirsResponse> {
        let r = req.into_inner();
        self.ns.mkdirs(&path(&r.path)?, r.create_parent).await?;
        Ok(Response::new(pb::MkdirsResponse {}))
    }

    async fn get_file_info(
        &self,
        req: Request<pb::GetFileInfoRequest>,
    ) -> Reply<pb::GetFileInfoResponse> {
        let info = self.ns.file_info(&path(&req.into_inner().path)?)?;
        Ok(Response::new(pb::GetFileInfoResponse {
            status: Some(info.into()),
        }))
    }

    async fn get_listing(
        &self,
        req: Request<pb::GetListingRequest>,
    ) -> Reply<pb::GetListingResponse> {
        let r = req.into_inner();
        let (entries, has_more) =
            self.ns
                .list(&path(&r.path)?, &r.start_after, r.limit as usize)?;
        Ok(Response::new(pb::GetListingResponse {
            entries: entries.into_iter().map(Into::into).collect(),
            has_more,
        }))
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
        Ok(Response::new(pb::CreateResponse {
            status: Some(info.into()),
            live_datanodes: live as u32,
        }))
    }

    async fn add_block(&self, req: Request<pb::AddBlockRequest>) -> Reply<pb::AddBlockResponse> {
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let b = self
            .ns
            .add_block(
                &path(&r.path)?,
                client,
                block_len(r.previous),
                &r.exclude_datanodes,
            )
            .await?;
        Ok(Response::new(pb::AddBlockResponse {
            block: Some(b.into()),
        }))
    }

    async fn complete(&self, req: Request<pb::CompleteRequest>) -> Reply<pb::CompleteResponse> {
        let r = req.into_inner();
        let client = non_empty("client_name", &r.client_name)?;
        let completed = self
            .ns
            .complete(&path(&r.path)?, client, block_len(r.last))
            .await?;
        Ok(Response::new(pb::CompleteResponse { completed }))
    }

    async fn get_block_locations(
        &self,
        req: Request<pb::GetBlockLocationsRequest>,
    ) -> Reply<pb::GetBlockLocationsResponse> {
        let r = req.into_inner();
        let lb = self
            .ns
            .block_locations(&path(&r.path)?, r.offset, r.length)?;
        Ok(Response::new(pb::GetBlockLocationsResponse {
            file_length: lb.file_length,
            blocks: lb.blocks.into_iter().map(Into::into).collect(),
            under_construction: lb.under_construction,
        }))
    }

    async fn set_replication(
        &self,
        req: Request<pb::SetReplicationRequest>,
    ) -> Reply<pb::SetReplicationResponse> {
        let r = req.into_inner();
        self.ns
            .set_replication(&path(&r.path)?, r.replication)
            .await?;
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

    async fn renew_lease(
        &self,
        req: Request<pb::RenewLeaseRequest>,
    ) -> Reply<pb::RenewLeaseResponse> {
        self.ns
            .renew_lease(non_empty("client_name", &req.into_inner().client_name)?);
        Ok(Response::new(pb::RenewLeaseResponse {}))
    }

    async fn report_bad_blocks(
        &self,
        req: Request<pb::ReportBadBlocksRequest>,
    ) -> Reply<pb::ReportBadBlocksResponse> {
        let r = req.into_inner();
        let block = r.block.ok_or(Error::MissingField("block"))?;
        tracing::warn!(block = block.block_id, datanode = %r.datanode_id, reason = %r.reason, "bad replica reported");
        self.ns
            .report_bad_block(block.block_id, non_empty("datanode_id", &r.datanode_id)?)?;
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
                datanode: Some(pb::DatanodeInfo {
                    datanode_id: d.location.datanode_id,
                    address: d.location.address,
                }),
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
            })
            .collect();
        Ok(Response::new(pb::GetDatanodeReportResponse { datanodes }))
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
        let commands = self.ns.heartbeat(&r.datanode_id, storage(r.storage))?;
        let commands = commands
            .into_iter()
            .map(|c| match c {
                Command::DeleteBlocks(blocks) => pb::DatanodeCommand {
                    command: Some(pb::datanode_command::Command::DeleteBlocks(
                        pb::DeleteBlocksCommand {
                            blocks: blocks
                                .into_iter()
                                .map(|(block_id, generation_stamp)| pb::ExtendedBlock {
                                    block_id,
                                    generation_stamp,
                                    num_bytes: 0,
                                })
                                .collect(),
                        },
                    )),
                },
            })
            .collect();
        Ok(Response::new(pb::HeartbeatResponse { commands }))
    }

    async fn block_report(
        &self,
        req: Request<pb::BlockReportRequest>,
    ) -> Reply<pb::BlockReportResponse> {
        let r = req.into_inner();
        let replicas: Vec<_> = r.blocks.iter().map(replica).collect();
        self.ns.block_report(&r.datanode_id, &replicas)?;
        Ok(Response::new(pb::BlockReportResponse {}))
    }

    async fn block_received_and_deleted(
        &self,
        req: Request<pb::BlockReceivedAndDeletedRequest>,
    ) -> Reply<pb::BlockReceivedAndDeletedResponse> {
        let r = req.into_inner();
        let received: Vec<_> = r.received.iter().map(replica).collect();
        let deleted: Vec<_> = r.deleted.iter().map(replica).collect();
        self.ns
            .blocks_received_and_deleted(&r.datanode_id, &received, &deleted)?;
        Ok(Response::new(pb::BlockReceivedAndDeletedResponse {}))
    }
}
