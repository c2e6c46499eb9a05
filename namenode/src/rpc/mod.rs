//! gRPC handlers: decode and validate the request, call the namesystem, encode the answer.
//!
//! [`client`](self::client) serves `ClientProtocol`, [`datanode`](self::datanode)
//! `DatanodeProtocol`, [`raft`](self::raft) the group's `RaftService`; [`convert`](self::convert) holds every mapping between wire and domain
//! types, and [`Error`]'s one mapping to `Status` is in `error.rs`. [`metered`](self::metered)
//! counts and times every call.

mod client;
mod convert;
mod datanode;
mod metered;
mod raft;

use std::sync::Arc;

use hdfs_proto::BlockRef;
use hdfs_proto::auth::{BlockAccess, BlockTokens};
use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::namenode as pb;
use tonic::{Response, Status};

use hdfs_proto::grpc::MAX_MESSAGE_SIZE;
use hdfs_proto::pb::namenode::client_protocol_server::ClientProtocolServer;
use hdfs_proto::pb::namenode::datanode_protocol_server::DatanodeProtocolServer;
use hdfs_proto::pb::namenode::raft_service_server::RaftServiceServer;

use crate::error::Error;
use crate::raft::CallId;
use metered::Metered;

/// Metadata naming a call for the retry cache.
pub const CLIENT_ID_HEADER: &str = "x-hdfs-client-id";
pub const CALL_ID_HEADER: &str = "x-hdfs-call-id";
use crate::namesystem::{Caller, LocatedBlock, Namesystem};

/// Both services on one router (presenting `tls` if given), for [`serve`](crate::serve).
pub(crate) fn router(
    ns: Arc<Namesystem>,
    tls: Option<&hdfs_proto::tls::ServerTls>,
) -> Result<tonic::transport::server::Router, tonic::transport::Error> {
    let metrics = ns.metrics().rpc.clone();
    let tokens = BlockTokens::new(ns.secret().clone());
    let svc = Service { ns, tokens };
    Ok(hdfs_proto::grpc::server(tls)?
        .add_service(Metered::new(
            ClientProtocolServer::new(svc.clone())
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
            metrics.clone(),
        ))
        .add_service(Metered::new(
            DatanodeProtocolServer::new(svc.clone())
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
            metrics.clone(),
        ))
        .add_service(Metered::new(
            RaftServiceServer::new(svc)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
            metrics,
        )))
}

/// The handlers of both services, sharing the namesystem.
#[derive(Clone)]
struct Service {
    ns: Arc<Namesystem>,
    /// Signs the block access tokens handed out with block locations and commands.
    tokens: BlockTokens,
}

type Reply<T> = Result<Response<T>, Status>;

fn path(s: &str) -> Result<HdfsPath, Status> {
    HdfsPath::parse(s).map_err(|e| Error::from(e).into())
}

/// The caller's (client id, call id), from the `x-hdfs-client-id` and `x-hdfs-call-id`
/// metadata a client sends with each non-idempotent call (the same on its retries).
fn call_id<T>(req: &tonic::Request<T>) -> Option<CallId> {
    let md = req.metadata();
    let client = md.get(CLIENT_ID_HEADER)?.to_str().ok()?.to_string();
    let call = md.get(CALL_ID_HEADER)?.to_str().ok()?.parse().ok()?;
    Some(CallId { client, call })
}

impl Service {
    /// Refuses a call only cluster members (datanodes, other namenodes) make when it lacks
    /// their credential.
    fn members_only<T>(&self, req: &tonic::Request<T>, call: &str) -> Result<(), Status> {
        self.ns.secret().check(req.metadata(), call).inspect_err(|e| {
            tracing::warn!(call, error = %e.message(), "refused a member's call from outside the cluster");
        })
    }

    /// A located block on the wire, with a token granting `caller` `access` to it.
    fn located(&self, b: LocatedBlock, access: BlockAccess, caller: &Caller) -> pb::LocatedBlock {
        let token = self.tokens.issue(BlockRef::new(b.block.id.0, b.block.generation_stamp.0), access, &caller.user);
        pb::LocatedBlock { token: Some(token), ..b.into() }
    }

    /// The caller named by the `x-hdfs-user` metadata (HDFS's simple authentication).
    fn caller<T>(&self, req: &tonic::Request<T>) -> Arc<Caller> {
        let user = req.metadata().get(hdfs_proto::user::USER_HEADER).and_then(|v| v.to_str().ok());
        self.ns.permissions().caller(user)
    }
}

fn non_empty<'a>(field: &'static str, s: &'a str) -> Result<&'a str, Status> {
    if s.is_empty() { Err(Error::MissingField(field.into()).into()) } else { Ok(s) }
}
