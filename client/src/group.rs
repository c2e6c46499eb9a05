//! The namenode group as `hdfs haadmin` and `hdfs report` show it: every member asked
//! directly for its own view (role, term, last log index, applied index), and membership
//! changes sent to the leader.

use std::collections::BTreeMap;

use hdfs_proto::pb::namenode::{self as pb, raft_service_client::RaftServiceClient};
use serde::Serialize;
use tonic::transport::Channel;

use crate::conn::{CALL_TIMEOUT, Conn, describe_transport};
use crate::error::{Error, Result};

/// One namenode of the group, as it describes itself (or why it could not be asked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamenodeStatus {
    /// The URL it was asked at.
    pub url: String,
    /// Its member id (0 if it could not be asked).
    pub id: u64,
    /// "leader", "follower", "candidate", "learner", "shutdown", or "unreachable".
    pub role: String,
    pub term: u64,
    pub last_log_index: u64,
    pub applied_index: u64,
    pub snapshot_index: u64,
    /// Whether it votes (a learner does not).
    pub voter: bool,
    /// The leader it knows of (0: none).
    pub leader_id: u64,
    /// Entries the leader has that this member has not applied (from the leader's last index).
    pub lag: u64,
    /// Why it could not be asked, when `role` is "unreachable".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl NamenodeStatus {
    /// Hadoop's name for the role: `active` (the leader), `standby`, or ours where Hadoop has
    /// none.
    pub fn service_state(&self) -> &str {
        match self.role.as_str() {
            "leader" => "active",
            "follower" | "learner" => "standby",
            other => other,
        }
    }
}

async fn raft_client(url: &str) -> Result<RaftServiceClient<Channel>> {
    let endpoint = hdfs_proto::grpc::endpoint(url)
        .map_err(|e| Error::Connect { addr: url.to_string(), reason: e.to_string() })?
        .connect_timeout(std::time::Duration::from_secs(3))
        .timeout(CALL_TIMEOUT);
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| Error::Connect { addr: url.to_string(), reason: describe_transport(&e) })?;
    Ok(RaftServiceClient::new(channel))
}

async fn ask(url: String) -> (String, Result<pb::GroupStatusResponse>) {
    let answer = async {
        let mut c = raft_client(&url).await?;
        Ok(c.group_status(pb::GroupStatusRequest {}).await?.into_inner())
    }
    .await;
    (url, answer)
}

/// Every member's own view: those the client was given, and any other the group names.
pub(crate) async fn group_status(conn: &Conn) -> Vec<NamenodeStatus> {
    let mut answers: BTreeMap<String, Result<pb::GroupStatusResponse>> = BTreeMap::new();
    let mut to_ask: Vec<String> = conn.member_urls();
    while !to_ask.is_empty() {
        let asked: Vec<_> = to_ask.drain(..).map(|u| tokio::spawn(ask(u))).collect();
        for a in asked {
            let Ok((url, answer)) = a.await else { continue };
            if let Ok(g) = &answer {
                for m in &g.members {
                    let u = hdfs_proto::grpc::url(&m.address);
                    if !m.address.is_empty() && !answers.contains_key(&u) && !to_ask.contains(&u) && u != url {
                        to_ask.push(u);
                    }
                }
            }
            answers.insert(url, answer);
        }
        to_ask.retain(|u| !answers.contains_key(u));
    }
    let leader_last = answers
        .values()
        .filter_map(|a| a.as_ref().ok())
        .filter_map(|g| g.self_status.as_ref())
        .filter(|s| s.role == "leader")
        .map(|s| s.last_log_index)
        .max();
    answers
        .into_iter()
        .map(|(url, answer)| match answer {
            Ok(g) => {
                let s = g.self_status.unwrap_or_default();
                NamenodeStatus {
                    url,
                    id: g.id,
                    role: s.role,
                    term: s.term,
                    last_log_index: s.last_log_index,
                    applied_index: s.applied_index,
                    snapshot_index: s.snapshot_index,
                    voter: s.voter,
                    leader_id: g.leader_id,
                    lag: leader_last.map_or(0, |l| l.saturating_sub(s.applied_index)),
                    error: None,
                }
            }
            Err(e) => NamenodeStatus {
                url,
                id: 0,
                role: "unreachable".into(),
                term: 0,
                last_log_index: 0,
                applied_index: 0,
                snapshot_index: 0,
                voter: false,
                leader_id: 0,
                lag: 0,
                error: Some(e.to_string()),
            },
        })
        .collect()
}

/// A membership change, sent to the leader.
pub(crate) async fn change_membership(conn: &Conn, change: pb::change_membership_request::Change) -> Result<()> {
    let group = group_status(conn).await;
    let leader = group
        .iter()
        .filter(|s| s.role == "leader")
        .max_by_key(|s| s.term)
        .ok_or_else(|| Error::Unavailable(format!("no quorum: no namenode leads ({})", summary(&group))))?;
    let mut c = raft_client(&leader.url).await?;
    // A superuser's call: it names the caller as every other call does.
    let mut req = tonic::Request::new(pb::ChangeMembershipRequest { change: Some(change) });
    req.metadata_mut().insert(hdfs_proto::user::USER_HEADER, conn.user_header());
    c.change_membership(req).await?;
    Ok(())
}

fn summary(group: &[NamenodeStatus]) -> String {
    let up = group.iter().filter(|s| s.role != "unreachable").count();
    format!("{up} of {} namenodes reachable", group.len())
}
