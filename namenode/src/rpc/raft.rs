//! The `RaftService`: openraft's messages between members (decoded and handed to openraft, the
//! answer encoded back, both bincode), and the group's status and membership changes for
//! `hdfs haadmin`.

use hdfs_proto::pb::namenode as pb;
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::{Request, Response, Status};

use super::{Reply, Service};
use crate::error::Error;
use crate::namesystem::{GroupStatus, MemberStatus};
use crate::raft::network::PEERS_HEADER;
use crate::raft::{NodeId, TypeConfig};

impl Service {
    /// Decodes a message from another member, refused if the two were started with different
    /// `--peers` (they would each form a different group and answer each other's votes).
    fn decode<T: DeserializeOwned>(&self, req: Request<pb::RaftMessage>, call: &str) -> Result<T, Status> {
        self.ns.secret().check(req.metadata(), call).inspect_err(|e| {
            tracing::warn!(call, error = %e.message(), "refused a message from outside the group");
        })?;
        let theirs = req.metadata().get(PEERS_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
        let config = self.ns.config();
        if let (Some(mine), Some(theirs)) = (config.peers.as_ref().map(|p| p.to_string()), theirs)
            && mine != theirs
        {
            let why = format!(
                "namenode {} was started with --peers {mine}, the sender with --peers {theirs}: \
                 every member of a group must be given the same --peers",
                config.id
            );
            tracing::error!("refusing a member's message: {why}");
            return Err(Status::failed_precondition(why));
        }
        bincode::deserialize(&req.into_inner().data).map_err(|e| Status::invalid_argument(format!("raft message: {e}")))
    }
}

fn encode<T: Serialize>(answer: &T) -> Reply<pb::RaftMessage> {
    let data = bincode::serialize(answer).map_err(|e| Status::internal(format!("raft answer: {e}")))?;
    Ok(Response::new(pb::RaftMessage { data: data.into() }))
}

fn member(m: MemberStatus) -> pb::MemberStatus {
    pb::MemberStatus {
        id: m.id,
        address: m.address,
        voter: m.voter,
        role: m.role,
        term: m.term,
        last_log_index: m.last_log_index,
        applied_index: m.applied_index,
        snapshot_index: m.snapshot_index,
        matched_index: m.matched_index.unwrap_or(0),
    }
}

fn group(g: GroupStatus) -> pb::GroupStatusResponse {
    let (leader_id, leader_address) = g.leader.unwrap_or((0, String::new()));
    pb::GroupStatusResponse {
        id: g.id,
        leader_id,
        leader_address,
        self_status: Some(member(g.me)),
        members: g.members.into_iter().map(member).collect(),
    }
}

#[tonic::async_trait]
impl pb::raft_service_server::RaftService for Service {
    async fn append_entries(&self, req: Request<pb::RaftMessage>) -> Reply<pb::RaftMessage> {
        let rpc: AppendEntriesRequest<TypeConfig> = self.decode(req, "AppendEntries")?;
        encode(&self.ns.raft().append_entries(rpc).await)
    }

    async fn vote(&self, req: Request<pb::RaftMessage>) -> Reply<pb::RaftMessage> {
        let rpc: VoteRequest<NodeId> = self.decode(req, "Vote")?;
        encode(&self.ns.raft().vote(rpc).await)
    }

    async fn install_snapshot(&self, req: Request<pb::RaftMessage>) -> Reply<pb::RaftMessage> {
        let rpc: InstallSnapshotRequest<TypeConfig> = self.decode(req, "InstallSnapshot")?;
        encode(&self.ns.raft().install_snapshot(rpc).await)
    }

    async fn group_status(&self, _req: Request<pb::GroupStatusRequest>) -> Reply<pb::GroupStatusResponse> {
        Ok(Response::new(group(self.ns.group_status())))
    }

    async fn change_membership(
        &self,
        req: Request<pb::ChangeMembershipRequest>,
    ) -> Reply<pb::ChangeMembershipResponse> {
        use pb::change_membership_request::Change;
        self.ns.permissions().check_superuser(&self.caller(&req))?;
        let status = match req.into_inner().change.ok_or(Error::MissingField("change".into()))? {
            Change::Add(a) => {
                if a.id == 0 || !a.address.contains(':') {
                    return Err(Error::Membership(format!(
                        "add member {} at {:?}: need an id ≥ 1 and HOST:PORT",
                        a.id, a.address
                    ))
                    .into());
                }
                self.ns.add_member(a.id, &a.address).await?
            }
            Change::Remove(id) => self.ns.remove_member(id).await?,
        };
        Ok(Response::new(pb::ChangeMembershipResponse { members: group(status).members }))
    }
}
