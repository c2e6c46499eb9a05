//! gRPC handlers: decode and validate the request, call the namesystem, encode the answer.
//!
//! [`client`](self::client) serves `ClientProtocol`, [`datanode`](self::datanode)
//! `DatanodeProtocol`; [`convert`](self::convert) holds every mapping between wire and domain
//! types, and [`Error`]'s one mapping to `Status` is in `error.rs`.

mod client;
mod convert;
mod datanode;

use std::sync::Arc;

use hdfs_proto::path::HdfsPath;
use tonic::{Response, Status};

use hdfs_proto::grpc::MAX_MESSAGE_SIZE;
use hdfs_proto::pb::namenode::client_protocol_server::ClientProtocolServer;
use hdfs_proto::pb::namenode::datanode_protocol_server::DatanodeProtocolServer;

use crate::error::Error;
use crate::namesystem::Namesystem;

/// Both services on one router, for [`serve`](crate::serve).
pub(crate) fn router(ns: Arc<Namesystem>) -> tonic::transport::server::Router {
    let svc = Service { ns };
    hdfs_proto::grpc::server()
        .add_service(
            ClientProtocolServer::new(svc.clone())
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(
            DatanodeProtocolServer::new(svc)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
}

/// The handlers of both services, sharing the namesystem.
#[derive(Clone)]
struct Service {
    ns: Arc<Namesystem>,
}

type Reply<T> = Result<Response<T>, Status>;

fn path(s: &str) -> Result<HdfsPath, Status> {
    HdfsPath::parse(s).map_err(|e| Error::from(e).into())
}

fn non_empty<'a>(field: &'static str, s: &'a str) -> Result<&'a str, Status> {
    if s.is_empty() { Err(Error::MissingField(field).into()) } else { Ok(s) }
}
