//! Cluster health and administration: `fsck`, the datanode report, safe mode, decommission.
//!
//! The report types and the calls that fill them; [`Client`](crate::Client) offers each call
//! as a method. They need only the namenode, through the shared [`Conn`].

use hdfs_proto::pb::namenode as pb;
use serde::Serialize;

use crate::conn::{Conn, path, rpc};
use crate::error::{Error, Result};

/// Health of the files under a path (`hdfs fsck`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsckReport {
    pub path: String,
    /// `HEALTHY`, or `CORRUPT` when some block has no good replica left.
    pub status: String,
    pub files: u64,
    pub directories: u64,
    pub open_files: u64,
    pub total_bytes: u64,
    pub blocks: u64,
    pub under_replicated_blocks: u64,
    pub over_replicated_blocks: u64,
    pub missing_blocks: u64,
    pub corrupt_blocks: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files_detail: Vec<FsckFile>,
}

impl FsckReport {
    pub fn is_healthy(&self) -> bool {
        self.status == "HEALTHY"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsckFile {
    pub path: String,
    pub length: u64,
    pub replication: u32,
    pub under_construction: bool,
    pub blocks: Vec<FsckBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsckBlock {
    pub block_id: u64,
    pub generation_stamp: u64,
    pub length: u64,
    pub live_replicas: u32,
    pub decommissioning_replicas: u32,
    pub locations: Vec<String>,
    pub corrupt_locations: Vec<String>,
}

/// One datanode as the namenode sees it (`hdfs report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatanodeReport {
    pub datanode_id: String,
    pub address: String,
    /// `live`, `stale` or `dead`.
    pub state: String,
    /// `normal`, `decommissioning` or `decommissioned`.
    pub admin_state: String,
    pub capacity: u64,
    pub used: u64,
    pub remaining: u64,
    pub blocks: u64,
    pub last_contact_ms: u64,
    pub active_transfers: u32,
    pub copies_in_flight: u64,
}

/// `hdfs safemode get|enter|leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafeModeAction {
    Get,
    Enter,
    Leave,
}

fn addresses(nodes: Vec<pb::DatanodeInfo>) -> Vec<String> {
    nodes.into_iter().map(|n| n.address).collect()
}

/// `fsck` of the files under `p`.
pub(crate) async fn fsck(conn: &Conn, p: &str, include_files: bool) -> Result<FsckReport> {
    let path = path(p)?.to_string();
    let r = rpc!(conn, fsck, pb::FsckRequest { path, include_files }).await?;
    Ok(FsckReport {
        path: r.path,
        status: if r.healthy { "HEALTHY" } else { "CORRUPT" }.into(),
        files: r.files,
        directories: r.directories,
        open_files: r.open_files,
        total_bytes: r.total_bytes,
        blocks: r.blocks,
        under_replicated_blocks: r.under_replicated,
        over_replicated_blocks: r.over_replicated,
        missing_blocks: r.missing,
        corrupt_blocks: r.corrupt,
        files_detail: r
            .files_detail
            .into_iter()
            .map(|f| FsckFile {
                path: f.path,
                length: f.length,
                replication: f.replication,
                under_construction: f.under_construction,
                blocks: f
                    .blocks
                    .into_iter()
                    .map(|b| {
                        let blk = b.block.unwrap_or_default();
                        FsckBlock {
                            block_id: blk.block_id,
                            generation_stamp: blk.generation_stamp,
                            length: blk.num_bytes,
                            live_replicas: b.live_replicas,
                            decommissioning_replicas: b.decommissioning_replicas,
                            locations: addresses(b.locations),
                            corrupt_locations: addresses(b.corrupt_locations),
                        }
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// Every datanode the namenode knows, live or not.
pub(crate) async fn datanode_report(conn: &Conn) -> Result<Vec<DatanodeReport>> {
    let r = rpc!(conn, get_datanode_report, pb::GetDatanodeReportRequest {}).await?;
    Ok(r.datanodes
        .into_iter()
        .map(|d| {
            let node = d.datanode.unwrap_or_default();
            let storage = d.storage.unwrap_or_default();
            let state = match pb::DatanodeState::try_from(d.state) {
                Ok(pb::DatanodeState::Live) => "live",
                Ok(pb::DatanodeState::Stale) => "stale",
                Ok(pb::DatanodeState::Dead) => "dead",
                _ => "unknown",
            };
            let admin = match pb::AdminState::try_from(d.admin) {
                Ok(pb::AdminState::Decommissioning) => "decommissioning",
                Ok(pb::AdminState::Decommissioned) => "decommissioned",
                _ => "normal",
            };
            DatanodeReport {
                datanode_id: node.datanode_id,
                address: node.address,
                state: state.into(),
                admin_state: admin.into(),
                capacity: storage.capacity,
                used: storage.dfs_used,
                remaining: storage.remaining,
                blocks: d.blocks,
                last_contact_ms: d.last_contact_ms,
                active_transfers: storage.active_transfers,
                copies_in_flight: d.copies_in_flight,
            }
        })
        .collect())
}

/// Gets, enters or leaves safe mode; returns whether it is on, and the namenode's words.
pub(crate) async fn safe_mode(conn: &Conn, action: SafeModeAction) -> Result<(bool, String)> {
    let action = match action {
        SafeModeAction::Get => pb::SafeModeAction::Get,
        SafeModeAction::Enter => pb::SafeModeAction::Enter,
        SafeModeAction::Leave => pb::SafeModeAction::Leave,
    } as i32;
    let r = rpc!(conn, set_safe_mode, pb::SetSafeModeRequest { action }).await?;
    Ok((r.on, r.status))
}

/// Starts or stops draining the datanode named by id or address; returns its address.
pub(crate) async fn decommission(conn: &Conn, node: &str, decommission: bool) -> Result<String> {
    if node.is_empty() {
        return Err(Error::InvalidArgument("name a datanode by id or host:port".into()));
    }
    let req = pb::DecommissionRequest { node: node.to_string(), recommission: !decommission };
    let r = rpc!(conn, decommission, req).await?;
    Ok(r.datanode.map(|d| d.address).unwrap_or_default())
}
