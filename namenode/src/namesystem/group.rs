//! The namenode group as `hdfs haadmin` and `hdfs report` show it (each member's role, term,
//! last log index, applied index and lag), and its membership changes: a member is added as a
//! learner, catches up (from a snapshot if it is far behind), then becomes a voter; a member is
//! removed by a membership change without it. Both go through openraft's joint consensus, so
//! the group serves throughout.

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, ServerState};

use super::Namesystem;
use crate::error::{Error, Result};
use crate::raft::{NodeId, not_leader};

/// A membership change's answer, or its timeout.
type Timed<T> = std::result::Result<
    std::result::Result<T, RaftError<NodeId, ClientWriteError<NodeId, BasicNode>>>,
    tokio::time::error::Elapsed,
>;

/// One member as seen by the member answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    pub id: NodeId,
    pub address: String,
    pub voter: bool,
    /// "leader", "follower", "candidate", "learner" or "shutdown"; empty when this member does
    /// not know (another member's role).
    pub role: String,
    pub term: u64,
    pub last_log_index: u64,
    pub applied_index: u64,
    pub snapshot_index: u64,
    /// As the leader sees it: the last index this member holds (None: unknown).
    pub matched_index: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStatus {
    pub id: NodeId,
    pub leader: Option<(NodeId, String)>,
    pub me: MemberStatus,
    pub members: Vec<MemberStatus>,
}

fn role(s: ServerState) -> &'static str {
    match s {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Candidate => "candidate",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}

impl Namesystem {
    /// This member's view of the group.
    pub fn group_status(&self) -> GroupStatus {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        let addr = |id: NodeId| membership.get_node(&id).map(|n| n.addr.clone()).unwrap_or_default();
        let me = MemberStatus {
            id: self.id,
            address: addr(self.id),
            voter: voters.contains(&self.id),
            role: role(m.state).to_string(),
            term: m.current_term,
            last_log_index: m.last_log_index.unwrap_or(0),
            applied_index: m.last_applied.map_or(0, |l| l.index),
            snapshot_index: m.snapshot.map_or(0, |l| l.index),
            matched_index: m.last_log_index,
        };
        let members = membership
            .nodes()
            .map(|(&id, node)| {
                if id == self.id {
                    return me.clone();
                }
                let matched = m.replication.as_ref().and_then(|r| r.get(&id)).map(|l| l.map_or(0, |l| l.index));
                MemberStatus {
                    id,
                    address: node.addr.clone(),
                    voter: voters.contains(&id),
                    role: String::new(),
                    term: 0,
                    last_log_index: 0,
                    applied_index: 0,
                    snapshot_index: 0,
                    matched_index: matched,
                }
            })
            .collect();
        let leader = m.current_leader.map(|id| (id, hdfs_proto::grpc::url(&addr(id))));
        GroupStatus { id: self.id, leader, me, members }
    }

    /// Every member's `host:port`, as this member knows the group.
    pub fn member_addresses(&self) -> Vec<String> {
        let m = self.raft.metrics().borrow().clone();
        m.membership_config.membership().nodes().map(|(_, n)| n.addr.clone()).filter(|a| a.contains(':')).collect()
    }

    /// This member's term, and whether it leads in it.
    pub fn role(&self) -> (u64, bool) {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        (m.current_term, m.state == ServerState::Leader)
    }

    /// Refuses with the leader's address unless this member leads (for calls on state only the
    /// leader keeps current: leases, datanode reports, safe mode).
    pub(super) fn leader_only(&self) -> Result<()> {
        let m = self.raft.metrics().borrow().clone();
        if m.state == ServerState::Leader {
            return Ok(());
        }
        let membership = m.membership_config.membership();
        let leader =
            m.current_leader.and_then(|l| membership.get_node(&l).map(|n| (l, hdfs_proto::grpc::url(&n.addr))));
        Err(Error::NotLeader { id: self.id, leader })
    }

    /// "1 of 3 namenodes reachable": how many voters answered this member lately.
    pub(super) fn reachability(&self) -> String {
        let m = self.raft.metrics().borrow().clone();
        let voters: Vec<NodeId> = m.membership_config.membership().voter_ids().collect();
        let recent = self.config.election_timeout * 2;
        let up = voters.iter().filter(|&&v| v == self.id || self.faults.answered_within(v, recent)).count();
        format!("{up} of {} namenodes reachable", voters.len())
    }

    /// Adds member `id` at `addr`: as a learner until it has caught up, then as a voter.
    pub async fn add_member(&self, id: NodeId, addr: &str) -> Result<GroupStatus> {
        let timeout = Duration::from_secs(120);
        let node = BasicNode::new(addr.trim_start_matches("http://"));
        let added = tokio::time::timeout(timeout, self.raft.add_learner(id, node, true)).await;
        self.membership_result(added, "add it as a learner")?;
        let mut voters: BTreeSet<NodeId> =
            self.group_status().members.iter().filter(|m| m.voter).map(|m| m.id).collect();
        voters.insert(id);
        let changed = tokio::time::timeout(timeout, self.raft.change_membership(voters, false)).await;
        self.membership_result(changed, "make it a voter")?;
        tracing::info!(member = id, addr, "member added to the group");
        Ok(self.group_status())
    }

    /// Removes member `id` from the group.
    pub async fn remove_member(&self, id: NodeId) -> Result<GroupStatus> {
        let mut voters: BTreeSet<NodeId> =
            self.group_status().members.iter().filter(|m| m.voter).map(|m| m.id).collect();
        if !voters.remove(&id) {
            return Err(Error::Membership(format!("namenode {id} is not a voting member of the group")));
        }
        if voters.is_empty() {
            return Err(Error::Membership("the last member of a group cannot be removed".into()));
        }
        let changed = tokio::time::timeout(Duration::from_secs(60), self.raft.change_membership(voters, false)).await;
        self.membership_result(changed, "remove it")?;
        tracing::info!(member = id, "member removed from the group");
        Ok(self.group_status())
    }

    fn membership_result<T>(&self, r: Timed<T>, what: &str) -> Result<()> {
        match r {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => Err(not_leader(self.id, &f)),
            Ok(Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e)))) => {
                Err(Error::Membership(format!("could not {what}: {e}")))
            }
            Ok(Err(RaftError::Fatal(f))) => Err(Error::Stopped { id: self.id, why: f.to_string() }),
            Err(_) => Err(Error::NoQuorum(format!("could not {what} in time: {}", self.reachability()))),
        }
    }
}
