//! The namenode: owns the namespace and the block map, and watches datanodes.
//!
//! - [`namespace`]: the directory tree as a state machine of [`namespace::Op`]s;
//! - [`editlog`]: those ops made durable (segment files with group commit + fsimage checkpoints);
//! - [`blockmanager`]: replicas, datanode liveness and repair ([`blockmap`], [`datanodes`],
//!   [`placement`], [`replication`], [`safemode`]); [`leases`]; none of it persisted;
//! - [`fsck`]: health reports;
//! - [`namesystem`]: all of it behind one lock, one method per operation;
//! - [`service`]: the gRPC handlers, which only translate;
//! - [`run`]: serves it all on a listener until shutdown.

pub mod blockmanager;
pub mod blockmap;
pub mod config;
pub mod datanodes;
pub mod editlog;
pub mod error;
pub mod fsck;
pub mod idmap;
pub mod leases;
pub mod namespace;
pub mod namesystem;
pub mod placement;
pub mod replication;
pub mod safemode;
pub mod service;

use std::sync::Arc;

use hdfs_proto::pb::namenode::client_protocol_server::ClientProtocolServer;
use hdfs_proto::pb::namenode::datanode_protocol_server::DatanodeProtocolServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use namesystem::Namesystem;

/// Serves the namenode on `listener` until `shutdown` is cancelled, then writes a checkpoint.
pub async fn run(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let ns = Arc::new(Namesystem::open(config)?);
    serve(ns, listener, shutdown).await
}

/// How long shutdown waits for open connections.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves an opened namesystem (tests keep a handle on it to observe it).
pub async fn serve(ns: Arc<Namesystem>, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "namenode serving");
    let tracker = TaskTracker::new();
    tracker.spawn(ReplicationMonitor { ns: ns.clone() }.run(shutdown.clone()));
    let svc = service::Service::new(ns.clone());
    let router = hdfs_proto::grpc::server()
        .add_service(
            ClientProtocolServer::new(svc.clone())
                .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
                .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE),
        )
        .add_service(
            DatanodeProtocolServer::new(svc)
                .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
                .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE),
        );
    let served = hdfs_proto::grpc::serve_until(router, listener, shutdown.clone(), SHUTDOWN_GRACE).await;
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
    served?;
    ns.checkpoint()?;
    tracing::info!("namenode stopped");
    Ok(())
}

/// The background loop: one [`Namesystem::tick`] (liveness, safe mode, repair scheduling,
/// expired leases) every `replication_interval`, and sooner when there is something to act on:
/// a datanode reaching its dead-after deadline, or a copy confirmed (its source has a free
/// stream for the next one).
struct ReplicationMonitor {
    ns: Arc<Namesystem>,
}

impl ReplicationMonitor {
    async fn run(self, shutdown: CancellationToken) {
        let interval = self.ns.config().replication_interval;
        loop {
            self.ns.tick().await;
            let now = tokio::time::Instant::now();
            let next = self.ns.next_death().map_or(now + interval, |d| (now + interval).min(d.into()));
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = self.ns.work_arrived() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}
