//! Conversions between the wire's protobuf types and the namenode's own, in one place: `From`
//! toward the wire, and small decoding helpers from it (the only place `pb` meets domain types).

use hdfs_proto::pb::namenode as pb;
use hdfs_proto::{BlockId, GenStamp};
use tonic::Status;

use crate::blocks::{DatanodeReport, ReportedReplica};
use crate::datanodes::{AdminState, Command, Liveness, Location, Storage};
use crate::fsck::FsckReport;
use crate::namespace::{Block, CommittedBlock};
use crate::namesystem::{FileInfo, LocatedBlock, SafeModeAction};

pub(super) fn block_len(b: Option<pb::ExtendedBlock>) -> Option<CommittedBlock> {
    b.map(|b| CommittedBlock { id: BlockId(b.block_id), num_bytes: b.num_bytes })
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
            permission: f.permission.into(),
            owner: f.owner,
            group: f.group,
        }
    }
}

impl From<LocatedBlock> for pb::LocatedBlock {
    fn from(b: LocatedBlock) -> Self {
        pb::LocatedBlock {
            block: Some(b.block.into()),
            offset: b.offset,
            locations: b.locations.into_iter().map(Into::into).collect(),
            token: None,
        }
    }
}

impl From<Location> for pb::DatanodeInfo {
    fn from(l: Location) -> Self {
        pb::DatanodeInfo { datanode_id: l.datanode_id, address: l.address, http_address: String::new() }
    }
}

impl From<Block> for pb::ExtendedBlock {
    fn from(b: Block) -> Self {
        pb::ExtendedBlock { block_id: b.id.0, generation_stamp: b.generation_stamp.0, num_bytes: b.num_bytes }
    }
}

impl From<Command> for pb::DatanodeCommand {
    fn from(c: Command) -> Self {
        use pb::datanode_command::Command as C;
        let command = match c {
            Command::DeleteBlocks(blocks) => {
                C::DeleteBlocks(pb::DeleteBlocksCommand { blocks: blocks.into_iter().map(Into::into).collect() })
            }
            Command::Replicate { block, targets } => C::Replicate(pb::ReplicateCommand {
                block: Some(block.into()),
                targets: targets.into_iter().map(Into::into).collect(),
                token: None,
            }),
            Command::RecoverBlock { block, new_generation_stamp, holders, truncate_to } => {
                C::RecoverBlock(pb::RecoverBlockCommand {
                    block: Some(block.into()),
                    new_generation_stamp: new_generation_stamp.0,
                    holders: holders.into_iter().map(Into::into).collect(),
                    truncate_to: truncate_to.unwrap_or(0),
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
                                block_id: b.block_id.0,
                                generation_stamp: b.generation_stamp.0,
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

pub(super) fn replica(b: &pb::ExtendedBlock) -> ReportedReplica {
    ReportedReplica {
        block: BlockId(b.block_id),
        generation_stamp: GenStamp(b.generation_stamp),
        num_bytes: b.num_bytes,
    }
}

pub(super) fn storage(s: Option<pb::StorageReport>) -> Storage {
    let s = s.unwrap_or_default();
    Storage { capacity: s.capacity, used: s.dfs_used, remaining: s.remaining, active_transfers: s.active_transfers }
}

impl From<DatanodeReport> for pb::DatanodeReport {
    fn from(d: DatanodeReport) -> Self {
        Self {
            datanode: Some(pb::DatanodeInfo { http_address: d.http_address, ..d.location.into() }),
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
        }
    }
}

impl TryFrom<i32> for SafeModeAction {
    type Error = Status;

    fn try_from(action: i32) -> Result<Self, Status> {
        match pb::SafeModeAction::try_from(action) {
            Ok(pb::SafeModeAction::Get) => Ok(SafeModeAction::Get),
            Ok(pb::SafeModeAction::Enter) => Ok(SafeModeAction::Enter),
            Ok(pb::SafeModeAction::Leave) => Ok(SafeModeAction::Leave),
            _ => Err(Status::invalid_argument("safe mode action must be get, enter or leave")),
        }
    }
}
