//! The namenode: owns the namespace and the block map, and watches datanodes.
//!
//! What it offers: [`run`] (serve on a listener until shutdown), [`Config`], and for embedders,
//! tests and benchmarks the [`Namesystem`] behind the RPCs and the state machines inside it
//! ([`Namespace`] with its [`Op`]s, [`BlockManager`]).
//!
//! # Layout
//!
//! One folder per subsystem, one file per activity; imports point down this list, never up:
//!
//! - `rpc/`: the gRPC services, which only translate (`client.rs`, `datanode.rs`,
//!   `convert.rs` for every wire ↔ domain mapping);
//! - `http/`: the HTTP port: WebHDFS (`webhdfs.rs`; data operations redirect to datanodes),
//!   with Hadoop's JSON and exceptions (`json.rs`); Prometheus metrics (`metrics.rs`, gauges
//!   read from the namesystem at scrape time); the status page (`pages.rs` at `/`,
//!   `browse_page.rs` at `/browse`) rendered from the views (`views.rs`, `browse.rs`) that
//!   `api.rs` serves as JSON under `/api/`;
//! - `namesystem/`: everything behind one lock, one method per operation (`client.rs`,
//!   `datanode.rs`, `admin.rs`), and the replication monitor loop (`monitor.rs`);
//! - `fsck.rs`: health reports, read from the namespace and the block manager;
//! - `editlog/`: ops made durable (`sync.rs` group commit, `segment.rs` records, `image.rs`
//!   fsimage, `lock.rs` one namenode per directory);
//! - `blocks/`: replicas and repair, none of it persisted (`heartbeats.rs`, `reports.rs` block
//!   reports, `repair.rs` the monitor's tick, `blockmap.rs`, `placement.rs`, `queues.rs`
//!   priority queues and copies in flight, `safemode.rs`, `progress.rs` the current repair's
//!   rate and estimated end, `summary.rs`);
//! - `events.rs`: the ring of recent cluster events (datanodes, repairs, safe mode,
//!   leadership), a leaf the block manager and the namesystem record into;
//! - `leases.rs`: one writer per file;
//! - `datanodes/`: datanodes as seen from here (the manager, `liveness.rs`, `command.rs` the
//!   leaf type for work sent in heartbeat replies);
//! - `namespace/`: the tree as a deterministic state machine (`op.rs` the log record, `apply.rs`
//!   the transitions); `idmap.rs` its paged id map;
//! - `config.rs`, `error.rs` (with the one mapping of errors to gRPC status codes), `metrics.rs`
//!   (what is counted where it happens: edit-log syncs, RPC calls; a leaf all may record into).
//!
//! ```text
//!   clients ──ClientProtocol──┐        ┌─ DatanodeProtocol── datanodes
//!                             v        v       (heartbeat replies carry Commands back)
//!                        rpc::Service (decode, call, encode)
//!                                  │
//!                      Namesystem (one lock)  <── ReplicationMonitor: tick()
//!            ┌──────────────┬──────┴────────┬──────────────┐
//!            v              v               v              v
//!       Namespace ──Op──> EditLog      BlockManager      Leases
//!       (apply)        (group commit)  ├ BlockMap (where replicas are)
//!                                      ├ DatanodeManager (liveness, commands)
//!                                      └ repair: queues → placement → Command
//! ```
//!
//! A mutation: the handler decodes it, the namesystem builds an [`Op`] under the lock,
//! [`Namespace::apply`] checks and applies it, the edit log appends it, the block manager and
//! leases follow its [`Effects`](namespace::Effects); the caller is answered once the log has
//! synced it, outside the lock.

mod blocks;
mod config;
mod datanodes;
mod editlog;
mod error;
mod events;
mod fsck;
mod http;
mod idmap;
mod leases;
mod metrics;
mod namespace;
mod namesystem;
mod raft;
mod rpc;

use hdfs_proto::tls::ServerTls;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use blocks::{BlockEntry, BlockManager, BlockSummary, Priority, RepairStatus, ReportedReplica, ScheduledCopy};
pub use config::{Config, GroupMapping, parse_group_mapping};
pub use datanodes::Storage;
pub use editlog::in_use;
pub use error::LEADER_HEADER;
pub use error::{Error, Result};
pub use events::{Event, EventKind};
pub use namespace::{CommittedBlock, Inode, Namespace, Op};
pub use namesystem::{GroupStatus, MemberStatus, Namesystem, Summary};
pub use raft::Peers;
pub use rpc::{CALL_ID_HEADER, CLIENT_ID_HEADER};

/// Serves the namenode on `listener` (gRPC) and `http` (WebHDFS, pages, metrics) until
/// `shutdown` is cancelled, then writes an fsimage.
pub async fn run(
    mut config: Config,
    listener: TcpListener,
    http: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    if config.advertise_addr.is_none() {
        config.advertise_addr = Some(advertise(&listener)?);
    }
    let ns = Arc::new(Namesystem::open(config).await?);
    serve(ns, listener, http, shutdown).await
}

/// The listener's address, with this host's name in place of an unspecified IP (so containers
/// advertise a name their peers resolve).
fn advertise(listener: &TcpListener) -> anyhow::Result<String> {
    let local = listener.local_addr()?;
    if local.ip().is_unspecified() {
        let host = hostname().unwrap_or_else(|| "localhost".into());
        return Ok(format!("{host}:{}", local.port()));
    }
    Ok(local.to_string())
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty())
}

/// How long shutdown waits for open connections.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves an opened namesystem (tests keep a handle on it to observe it).
pub async fn serve(
    ns: Arc<Namesystem>,
    listener: TcpListener,
    http: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let http_addr = http.as_ref().map(TcpListener::local_addr).transpose()?;
    tracing::info!(%addr, ?http_addr, "namenode serving");
    let config = ns.config();
    let tls =
        ServerTls::from_flags(config.tls_cert.as_deref(), config.tls_key.as_deref()).map_err(anyhow::Error::msg)?;
    let tracker = TaskTracker::new();
    tracker.spawn(namesystem::ReplicationMonitor { ns: ns.clone() }.run(shutdown.clone()));
    if let Some(http) = http {
        let web_tls = tls.as_ref().map(|t| t.http.clone());
        let serve =
            hdfs_proto::http::serve_until(http::router(ns.clone()), http, web_tls, shutdown.clone(), SHUTDOWN_GRACE);
        tracker.spawn(async move {
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "http port failed");
            }
        });
    }
    let served = hdfs_proto::grpc::serve_until(
        rpc::router(ns.clone(), tls.as_ref())?,
        listener,
        shutdown.clone(),
        SHUTDOWN_GRACE,
    )
    .await;
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
    served?;
    ns.shutdown().await?;
    tracing::info!("namenode stopped");
    Ok(())
}
