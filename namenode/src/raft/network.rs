//! The transport between members: openraft's `RaftNetwork` over the `RaftService` gRPC service
//! every namenode serves beside the client one, each message bincode-encoded in a
//! `RaftMessage`. Connections are made lazily and reused; an unreachable member is reported as
//! such, so openraft backs off instead of retrying at once.
//!
//! [`Faults`] lets tests cut or slow links between members without touching sockets, and
//! remembers when each member last answered (for "no quorum: 1 of 3 namenodes reachable").

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdfs_proto::auth::ClusterSecret;
use hdfs_proto::pb::namenode::RaftMessage;
use hdfs_proto::pb::namenode::raft_service_client::RaftServiceClient;
use openraft::BasicNode;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::transport::Channel;

use super::{NodeId, TypeConfig};

/// Links a test has cut or slowed, as seen from one member.
#[derive(Default)]
pub struct Faults {
    /// Members this one cannot reach (messages to them fail as unreachable).
    cut: Mutex<HashSet<NodeId>>,
    /// Added before every message this member sends.
    delay: Mutex<Option<Duration>>,
    /// When each member last answered a message.
    answered: Mutex<HashMap<NodeId, Instant>>,
}

impl Faults {
    /// Cuts (or restores) the link from this member to `to`.
    pub fn set_cut(&self, to: NodeId, cut: bool) {
        let mut c = self.cut.lock().unwrap_or_else(|p| p.into_inner());
        if cut {
            c.insert(to);
        } else {
            c.remove(&to);
        }
    }

    pub fn set_delay(&self, delay: Option<Duration>) {
        *self.delay.lock().unwrap_or_else(|p| p.into_inner()) = delay;
    }

    fn is_cut(&self, to: NodeId) -> bool {
        self.cut.lock().unwrap_or_else(|p| p.into_inner()).contains(&to)
    }

    fn delay(&self) -> Option<Duration> {
        *self.delay.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn answered_by(&self, from: NodeId) {
        self.answered.lock().unwrap_or_else(|p| p.into_inner()).insert(from, Instant::now());
    }

    /// Whether `member` answered a message within `within`.
    pub fn answered_within(&self, member: NodeId, within: Duration) -> bool {
        self.answered.lock().unwrap_or_else(|p| p.into_inner()).get(&member).is_some_and(|t| t.elapsed() <= within)
    }
}

/// The metadata carrying the sender's `--peers` on every message between members: members
/// started with different ones refuse each other's messages (see `rpc/raft.rs`).
pub const PEERS_HEADER: &str = "x-hdfs-peers";

/// Makes a [`Link`] to each member openraft talks to.
///
/// openraft asks for a new link for every replication stream, election and leadership check
/// (each read-index round); they all share one HTTP/2 connection per member address, which
/// reconnects by itself after a member restarts.
#[derive(Clone)]
pub struct Network {
    faults: Arc<Faults>,
    /// This member's `--peers`, as sent in [`PEERS_HEADER`].
    peers: Option<String>,
    /// The cluster's secret, whose credential every message carries.
    secret: ClusterSecret,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl Network {
    pub fn new(faults: Arc<Faults>, peers: Option<String>, secret: ClusterSecret) -> Self {
        Self { faults, peers, secret, channels: Arc::default() }
    }

    fn channel(&self, addr: &str) -> Result<Channel, String> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = channels.get(addr) {
            return Ok(c.clone());
        }
        let channel = hdfs_proto::grpc::endpoint(addr).map_err(|e| e.to_string())?.connect_lazy();
        channels.insert(addr.to_string(), channel.clone());
        Ok(channel)
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Link;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Link {
        let client = self.channel(&node.addr).map(|c| {
            RaftServiceClient::new(c)
                .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
                .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
        });
        let peers = self.peers.as_deref().and_then(|p| p.parse().ok());
        Link { target, client, faults: self.faults.clone(), peers, secret: self.secret.clone() }
    }
}

/// One member's connection to another.
pub struct Link {
    target: NodeId,
    client: Result<RaftServiceClient<Channel>, String>,
    faults: Arc<Faults>,
    peers: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
    secret: ClusterSecret,
}

/// Why a message did not get an answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct LinkError(String);

type RpcResult<T, E> = Result<T, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>;

impl Link {
    async fn call<Req, Resp, E>(&mut self, which: Rpc, req: &Req, option: &RPCOption) -> RpcResult<Resp, E>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        if let Some(d) = self.faults.delay() {
            tokio::time::sleep(d).await;
        }
        if self.faults.is_cut(self.target) {
            return Err(RPCError::Unreachable(Unreachable::new(&LinkError(format!("link to {} cut", self.target)))));
        }
        let client = match &self.client {
            Ok(c) => c.clone(),
            Err(e) => return Err(RPCError::Unreachable(Unreachable::new(&LinkError(e.clone())))),
        };
        let data = bincode::serialize(req).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let mut request = self.secret.request(RaftMessage { data: data.into() });
        request.set_timeout(option.hard_ttl());
        if let Some(p) = &self.peers {
            request.metadata_mut().insert(PEERS_HEADER, p.clone());
        }
        let mut client = client;
        let answer = match which {
            Rpc::Append => client.append_entries(request).await,
            Rpc::Vote => client.vote(request).await,
            Rpc::Snapshot => client.install_snapshot(request).await,
        };
        let answer = answer.map_err(|s| {
            let e = LinkError(format!("to member {}: {}", self.target, s.message()));
            if matches!(s.code(), tonic::Code::FailedPrecondition | tonic::Code::PermissionDenied) {
                tracing::error!(member = self.target, error = %s.message(), "a member refuses this one");
            }
            match s.code() {
                tonic::Code::Unavailable => RPCError::Unreachable(Unreachable::new(&e)),
                _ => RPCError::Network(NetworkError::new(&e)),
            }
        })?;
        self.faults.answered_by(self.target);
        let decoded: Result<Resp, RaftError<NodeId, E>> =
            bincode::deserialize(&answer.into_inner().data).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        decoded.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

#[derive(Clone, Copy)]
enum Rpc {
    Append,
    Vote,
    Snapshot,
}

impl RaftNetwork<TypeConfig> for Link {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>, openraft::error::Infallible> {
        self.call(Rpc::Append, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, InstallSnapshotError> {
        self.call(Rpc::Snapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>, openraft::error::Infallible> {
        self.call(Rpc::Vote, &rpc, &option).await
    }
}
