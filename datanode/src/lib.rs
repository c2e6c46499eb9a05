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
//! - `scanner`: the background block scanner, and its progress;
//! - `metrics`: the counters the data paths and the scanner record into (a leaf);
//! - `http`: the HTTP port, WebHDFS's data side (through the client library), the datanode's
//!   own page (volumes, replicas, the scanner's progress) and `/metrics`;
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
//! `store` (`transfer`, `scanner` and `http` also the `metrics` leaf); `reports` also hands
//! copies to `transfer` and recoveries to `recovery`; nothing below imports `reports`.

mod config;
mod http;
mod link;
mod metrics;
mod recovery;
mod reports;
mod scanner;
pub mod store;
mod transfer;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hdfs_proto::pb::datanode::data_transfer_server::DataTransferServer;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
use link::{Fencing, NamenodeLink, ReplicaEvents};
use reports::{HeartbeatLoop, IncrementalReportLoop};
use scanner::{BlockScanner, ScanProgress};
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

/// What starting the report loops for one more namenode takes.
struct Reporters {
    config: Config,
    fencing: Arc<Fencing>,
    discovered: mpsc::UnboundedSender<Vec<String>>,
    datanode_id: String,
    address: String,
    http_address: String,
    store: BlockStore,
    active: Arc<std::sync::atomic::AtomicU32>,
    events: ReplicaEvents,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Reporters {
    /// Starts heartbeats and reports to the namenode at `url`; returns the link.
    fn start(&self, url: &str) -> anyhow::Result<NamenodeLink> {
        let link = NamenodeLink::new(
            url,
            self.fencing.clone(),
            self.discovered.clone(),
            self.datanode_id.clone(),
            (self.address.clone(), self.http_address.clone()),
            self.store.clone(),
            self.active.clone(),
            self.config.cluster_secret.clone(),
        )?;
        let heartbeat = HeartbeatLoop {
            link: link.clone(),
            events: self.events.clone(),
            tracker: self.tracker.clone(),
            interval: self.config.heartbeat_interval,
            block_report_interval: self.config.block_report_interval,
        };
        self.tracker.spawn(heartbeat.run(self.shutdown.clone()));
        let rx = self.events.subscribe();
        self.tracker.spawn(IncrementalReportLoop { link: link.clone(), rx }.run(self.shutdown.clone()));
        Ok(link)
    }
}

/// `address`'s host with the HTTP listener's port: what the namenode sends WebHDFS clients to.
fn advertise_http(address: &str, http: &TcpListener) -> anyhow::Result<String> {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    Ok(format!("{host}:{}", http.local_addr()?.port()))
}

/// Serves the datanode on `listener` (data transfer) and `http` (WebHDFS) until `shutdown` is
/// cancelled.
pub async fn run(
    config: Config,
    listener: TcpListener,
    http: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    if let Some(ca) = &config.tls_ca {
        hdfs_proto::tls::trust(ca).map_err(anyhow::Error::msg)?;
    }
    let tls = hdfs_proto::tls::ServerTls::from_flags(config.tls_cert.as_deref(), config.tls_key.as_deref())
        .map_err(anyhow::Error::msg)?;
    let dir = config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || BlockStore::open(&dir)).await??;
    store.set_reserved(config.reserved);
    let datanode_id = store.datanode_id()?;
    let address = advertise(&config, &listener)?;
    let http_address = http.as_ref().map(|h| advertise_http(&address, h)).transpose()?.unwrap_or_default();
    tracing::info!(datanode = %datanode_id, %address, used = store.used_bytes(), "datanode serving");
    let node = Arc::new(http::NodeInfo {
        datanode_id: datanode_id.clone(),
        address: address.clone(),
        http_address: http_address.clone(),
        started: std::time::SystemTime::now(),
        scan_bytes_per_sec: config.scan_bytes_per_sec,
        scan_period: config.scan_period,
    });

    let tracker = TaskTracker::new();
    let events = ReplicaEvents::default();
    let metrics = metrics::Metrics::default();
    let transfer = TransferService::new(
        store.clone(),
        events.clone(),
        tracker.clone(),
        &address,
        shutdown.clone(),
        metrics.clone(),
        config.cluster_secret.clone(),
    );
    let (discovered, mut discoveries) = mpsc::unbounded_channel::<Vec<String>>();
    let reporters = Reporters {
        config: config.clone(),
        fencing: Arc::new(Fencing::default()),
        discovered,
        datanode_id,
        address,
        http_address,
        store: store.clone(),
        active: transfer.active(),
        events,
        tracker: tracker.clone(),
        shutdown: shutdown.clone(),
    };
    let mut known = HashSet::new();
    let mut links = Vec::new();
    for url in config.namenodes() {
        if known.insert(hdfs_proto::grpc::url(&url)) {
            links.push(reporters.start(&hdfs_proto::grpc::url(&url))?);
        }
    }
    let scan = Arc::new(ScanProgress { errors: metrics.scan_errors.clone(), ..ScanProgress::default() });
    let scanner = BlockScanner {
        links,
        bytes_per_sec: config.scan_bytes_per_sec,
        period: config.scan_period,
        metrics: metrics.clone(),
        progress: scan.clone(),
    };
    tracker.spawn(scanner.run(shutdown.clone()));
    // Members added to the group later, as the namenodes list them in heartbeat replies.
    tracker.spawn({
        let shutdown = shutdown.clone();
        async move {
            loop {
                let urls = tokio::select! {
                    u = discoveries.recv() => match u { Some(u) => u, None => return },
                    _ = shutdown.cancelled() => return,
                };
                for url in urls.iter().map(|u| hdfs_proto::grpc::url(u)) {
                    if known.insert(url.clone()) {
                        tracing::info!(namenode = %url, "a namenode joined the group; reporting to it too");
                        if let Err(e) = reporters.start(&url) {
                            tracing::warn!(namenode = %url, error = %e, "cannot report to a new namenode");
                        }
                    }
                }
            }
        }
    });

    if let Some(http) = http {
        let registry = http::registry(&metrics, store.clone(), transfer.active());
        let web = http::Web {
            namenodes: config.namenode.clone(),
            metrics: Arc::new(registry),
            store: store.clone(),
            scan,
            node,
        };
        let web_tls = tls.as_ref().map(|t| t.http.clone());
        let serve = hdfs_proto::http::serve_until(http::router(web), http, web_tls, shutdown.clone(), SHUTDOWN_GRACE);
        tracker.spawn(async move {
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "http port failed");
            }
        });
    }
    let router = hdfs_proto::grpc::server(tls.as_ref())?.add_service(
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
