//! The namenode: owns the namespace and the block map, and watches datanodes.
//!
//! - [`namespace`]: the directory tree as a state machine of [`namespace::Op`]s;
//! - [`editlog`]: those ops made durable (sled log + fsimage checkpoints);
//! - [`blockmap`], [`datanodes`], [`placement`], [`leases`]: what is not persisted;
//! - [`namesystem`]: all of it behind one lock, one method per operation;
//! - [`service`]: the gRPC handlers, which only translate;
//! - [`run`]: serves it all on a listener until shutdown.

pub mod blockmap;
pub mod config;
pub mod datanodes;
pub mod editlog;
pub mod error;
pub mod leases;
pub mod namespace;
pub mod namesystem;
pub mod placement;
pub mod service;

use std::sync::Arc;

use hdfs_proto::pb::namenode::client_protocol_server::ClientProtocolServer;
use hdfs_proto::pb::namenode::datanode_protocol_server::DatanodeProtocolServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use namesystem::Namesystem;

/// Serves the namenode on `listener` until `shutdown` is cancelled, then writes a checkpoint.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let ns = Arc::new(Namesystem::open(config)?);
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "namenode serving");
    let svc = service::Service::new(ns.clone());
    hdfs_proto::grpc::server()
        .add_service(
            ClientProtocolServer::new(svc.clone())
                .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
                .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE),
        )
        .add_service(
            DatanodeProtocolServer::new(svc)
                .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
                .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE),
        )
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown.cancelled(),
        )
        .await?;
    ns.checkpoint()?;
    tracing::info!("namenode stopped");
    Ok(())
}
