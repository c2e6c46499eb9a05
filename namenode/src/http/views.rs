//! What the status page shows, as the structs `/api/overview`, `/api/datanodes` and
//! `/api/events` serialize and the HTML pages render: one source for people and scripts.
//!
//! Keys are snake_case and stable; counts and bytes are integers; times are milliseconds since
//! the Unix epoch (`*_ms`) or spans in milliseconds or seconds, as each key says.

use std::time::Duration;

use hdfs_proto::html::unix_ms;
use serde::Serialize;

use super::Web;
use crate::blocks::{DatanodeReport, RepairStatus};
use crate::datanodes::{AdminState, Liveness};
use crate::events::Event;
use crate::namesystem::Summary;

/// Events the page lists; `/api/events` gives every one kept.
pub const PAGE_EVENTS: usize = 50;

/// This namenode in its group.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: u64,
    /// The address clients and datanodes reach it at (its RPC port).
    pub address: String,
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub role: String,
    pub term: u64,
    pub leading: bool,
    /// The leader's address, if known.
    pub leader: Option<String>,
    /// Members of the group.
    pub members: u64,
}

/// `/api/overview`: the cluster at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub version: &'static str,
    /// This file system keeps no cluster id (no `VERSION` file as HDFS's `format` writes):
    /// always `null`, rather than an invented one. `namenode.address` names the cluster.
    pub cluster_id: Option<String>,
    pub namenode: Member,
    /// When this namenode started serving.
    pub started_ms: u64,
    pub uptime_seconds: u64,
    /// Files, directories, blocks, capacity (bytes), datanodes by state, blocks needing repair,
    /// copies in flight, safe mode: [`Summary`]'s keys.
    #[serde(flatten)]
    pub summary: Summary,
    /// Why safe mode is on and what ends it; `null` when it is off.
    pub safe_mode_tip: Option<String>,
    pub repair: RepairStatus,
}

impl Overview {
    pub fn of(web: &Web) -> Overview {
        let ns = &web.ns;
        let group = ns.group_status();
        let (term, leading) = ns.role();
        let address = ns.config().advertise_addr.clone().unwrap_or_else(|| group.me.address.clone());
        let leader = group.leader.as_ref().map(|(_, url)| url.trim_start_matches("http://").to_string());
        Overview {
            version: env!("CARGO_PKG_VERSION"),
            cluster_id: None,
            namenode: Member {
                id: group.id,
                address,
                role: group.me.role.clone(),
                term,
                leading,
                leader,
                members: group.members.len() as u64,
            },
            started_ms: unix_ms(web.started),
            uptime_seconds: web.started.elapsed().map_or(0, |d| d.as_secs()),
            summary: ns.summary(),
            safe_mode_tip: ns.safe_mode_tip(),
            repair: ns.repair_status(),
        }
    }
}

/// One row of the datanode table.
#[derive(Debug, Clone, Serialize)]
pub struct DatanodeRow {
    pub datanode_id: String,
    /// Its data-transfer address.
    pub address: String,
    /// Its HTTP port (its own page, WebHDFS); `""` if it has none.
    pub http_address: String,
    /// What the page shows: `live`, `stale`, `dead`, `decommissioning` or `decommissioned`
    /// (a dead node is `dead` whatever its admin state).
    pub state: &'static str,
    /// `live`, `stale` or `dead`.
    pub liveness: &'static str,
    /// `normal`, `decommissioning` or `decommissioned`.
    pub admin_state: &'static str,
    /// Bytes, as its last heartbeat said.
    pub capacity: u64,
    pub used: u64,
    pub remaining: u64,
    /// Replicas it holds, as its reports said (0 once dead: they are forgotten).
    pub blocks: u64,
    /// Since its last heartbeat.
    pub last_contact_ms: u64,
    /// Copies in flight with it as the source or a target.
    pub copies_in_flight: u64,
    /// Transfers it said it was serving.
    pub active_transfers: u32,
}

impl DatanodeRow {
    fn of(r: DatanodeReport) -> DatanodeRow {
        let liveness = match r.state {
            Liveness::Live => "live",
            Liveness::Stale => "stale",
            Liveness::Dead => "dead",
        };
        let admin_state = match r.admin {
            AdminState::Normal => "normal",
            AdminState::Decommissioning => "decommissioning",
            AdminState::Decommissioned => "decommissioned",
        };
        let state = if r.state == Liveness::Dead || r.admin == AdminState::Normal { liveness } else { admin_state };
        DatanodeRow {
            datanode_id: r.location.datanode_id,
            address: r.location.address,
            http_address: r.http_address,
            state,
            liveness,
            admin_state,
            capacity: r.storage.capacity,
            used: r.storage.used,
            remaining: r.storage.remaining,
            blocks: r.blocks,
            last_contact_ms: r.last_contact.as_millis() as u64,
            copies_in_flight: r.copies_in_flight,
            active_transfers: r.storage.active_transfers,
        }
    }

    pub fn last_contact(&self) -> Duration {
        Duration::from_millis(self.last_contact_ms)
    }
}

/// `/api/datanodes`: every datanode this member knows, those needing attention first (dead,
/// stale, decommissioning, decommissioned, live), then by address.
#[derive(Debug, Clone, Serialize)]
pub struct Datanodes {
    /// Whether this member leads: a follower shows the datanodes as it hears from them, but
    /// only the leader's view decides repairs.
    pub leading: bool,
    pub datanodes: Vec<DatanodeRow>,
}

impl Datanodes {
    pub fn of(web: &Web) -> Datanodes {
        let order =
            |s: &str| ["dead", "stale", "decommissioning", "decommissioned", "live"].iter().position(|x| *x == s);
        let mut datanodes: Vec<DatanodeRow> = web.ns.datanodes_seen().into_iter().map(DatanodeRow::of).collect();
        datanodes.sort_by(|a, b| (order(a.state), &a.address).cmp(&(order(b.state), &b.address)));
        Datanodes { leading: web.ns.role().1, datanodes }
    }
}

/// `/api/events`: the latest events, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Events {
    pub events: Vec<Event>,
}

impl Events {
    pub fn of(web: &Web, limit: usize) -> Events {
        Events { events: web.ns.events(limit) }
    }
}
