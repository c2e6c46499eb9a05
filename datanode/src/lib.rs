//! The datanode: keeps block replicas and serves them.
//!
//! - [`store`]: the block store (sled records, replica files), split by activity: records,
//!   writer, recovery, reader; the one public part (the replica tool, the benchmark and the test
//!   harness use it);
//! - `transfer`: the `DataTransfer` gRPC service, split by activity: pipeline write, ranged
//!   read, replica copy to other nodes, and the holder's side of block recovery;
//! - `link`: the connection to the namenode and the channel of replica events (finalized,
//!   deleted) that every other part shares; it depends on the store alone;
//! - `reports`: registration, heartbeats and block reports to the namenode, and the commands
//!   its replies carry (delete, copy, recover);
//! - `recovery`: block recovery as the primary holder;
//! - `scanner`: the background block scanner;
//! - [`run`]: starts all of it on a listener and stops it on shutdown.
//!
//! How data and events flow between them:
//!
//! ```text
//!  clients, upstream nodes                           namenode
//!         │ WriteBlock, ReadBlock                    ▲      │ heartbeat replies:
//!         ▼                                          │      ▼ delete, copy, recover
//!     transfer ──replica finalized──▶ link ──reports─┘   reports ──copy──▶ transfer ──▶ targets
//!         │                             ▲                 │  │
//!         │                             └─replica deleted─┤  └─recover──▶ recovery ──▶ holders
//!         ▼                                               ▼                  │
//!       store ◀──────────────────────── delete ───────────┘◀──cut, finalize──┘
//!         ▲
//!      scanner: re-reads every replica; a bad one is reported through link
//! ```
//!
//! Imports point one way: `transfer`, `reports`, `recovery` and `scanner` use `link` and
//! `store`; `reports` also hands copies to `transfer` and recoveries to `recovery`; nothing
//! below imports `reports`.

mod config;
mod link;
mod recovery;
mod reports;
mod scanner;
pub mod store;
mod transfer;

use std::sync::Arc;
use std::time::Duration;

use hdfs_proto::pb::datanode::data_transfer_server::DataTransferServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
use link::{Fencing, NamenodeLink, ReplicaEvents};
use reports::{HeartbeatLoop, IncrementalReportLoop};
use scanner::BlockScanner;
use store::BlockStore;
use transfer::TransferService;

/// How long shutdown waits for transfers in flight before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The address to advertise: the configured one, else the listener's, with this host's name in
/// place of an unspecified IP (so containers advertise a name their peers resolve).
fn advertise(config: &Config, listener: &TcpListener) -> anyhow::Result<String> {
    if let Some(a) = &config.advertise_addr {
        return Ok(a.clone());
    }
    let local = listener.local_addr()?;
    if local.ip().is_unspecified() {
        let host = rustix::system::uname().nodename().to_string_lossy().into_owned();
        return Ok(format!("{host}:{}", local.port()));
    }
    Ok(local.to_string())
}

/// Serves the datanode on `listener` until `shutdown` is cancelled.
pub async fn run(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let dir = config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || BlockStore::open(&dir)).await??;
    let datanode_id = store.datanode_id()?;
    let address = advertise(&config, &listener)?;
    tracing::info!(datanode = %datanode_id, %address, used = store.used_bytes(), "datanode serving");

    let tracker = TaskTracker::new();
    let namenodes = config.namenodes();
    let (events, events_rxs) = ReplicaEvents::channel(namenodes.len());
    let transfer = TransferService::new(store.clone(), events.clone(), tracker.clone(), &address, shutdown.clone());
    let fencing = Arc::new(Fencing::default());
    let mut links = Vec::new();
    for (url, rx) in namenodes.iter().zip(events_rxs) {
        let link = NamenodeLink::new(
            url,
            fencing.clone(),
            datanode_id.clone(),
            address.clone(),
            store.clone(),
            transfer.active(),
        )?;
        let heartbeat = HeartbeatLoop {
            link: link.clone(),
            events: events.clone(),
            tracker: tracker.clone(),
            interval: config.heartbeat_interval,
            block_report_interval: config.block_report_interval,
        };
        tracker.spawn(heartbeat.run(shutdown.clone()));
        tracker.spawn(IncrementalReportLoop { link: link.clone(), rx }.run(shutdown.clone()));
        links.push(link);
    }
    let scanner = BlockScanner { links, bytes_per_sec: config.scan_bytes_per_sec, period: config.scan_period };
    tracker.spawn(scanner.run(shutdown.clone()));

    let router = hdfs_proto::grpc::server().add_service(
        DataTransferServer::new(transfer)
            .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE),
    );
    hdfs_proto::grpc::serve_until(router, listener, shutdown.clone(), SHUTDOWN_GRACE).await?;
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        tracing::warn!("transfers still running at shutdown; abandoning them");
    }
    tracing::info!("datanode stopped");
    Ok(())
}
