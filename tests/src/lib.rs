//! An in-process cluster for tests: a namenode (or a group of them, see [`group`]) and N
//! datanodes on loopback port 0, each with its own temp dir, all removed when the cluster is
//! dropped.
//!
//! Nodes are started with the same `run` functions the binaries call. A test can stop, restart
//! or kill (no graceful shutdown) any node, and waits on conditions with [`wait_until`], never on
//! fixed sleeps. The harness talks to the namenode over its public gRPC API only, so it does not
//! depend on the client library it is used to test. [`http`] is a tiny HTTP client for the
//! HTTP ports' tests (status pages, their JSON) and the benchmark.

use hdfs_proto::auth::ClusterSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::user::{NamenodeClient, current_user, namenode_client};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod certs;
pub mod clients;
pub mod group;
pub mod http;

pub use certs::TlsFiles;

/// Short intervals so that tests run quickly; stale after three missed heartbeats.
pub const TEST_HEARTBEAT: Duration = Duration::from_millis(250);
/// Longest a test waits for the cluster to settle.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Sets up logging once for the test process (`RUST_LOG` chooses the level; quiet by default).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

/// Polls `cond` until it is true or `timeout` passes; the error names `what` was awaited.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut cond: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        if cond().await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Members of the namenode group (1: a single namenode).
    pub namenodes: usize,
    pub datanodes: usize,
    pub replication: u32,
    pub block_size: u64,
    pub heartbeat: Duration,
    pub dead_after: Duration,
    pub replication_interval: Duration,
    pub replication_timeout: Duration,
    pub max_replication_streams: u32,
    pub lease_hard_limit: Duration,
    pub safemode_extension: Duration,
    /// Block scanner budget per datanode (0: off) and how often it starts a pass.
    pub scan_bytes_per_sec: u64,
    pub scan_period: Duration,
    /// The namenode's `--permissions` and `--group-mapping` (`alice=staff;bob=`).
    pub permissions: bool,
    pub group_mapping: String,
    /// Each datanode's `--reserved`, by index (missing: 0).
    pub datanode_reserved: Vec<u64>,
    /// TLS on every port of every node (this process then trusts the CA: one per process).
    pub tls: Option<TlsFiles>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            namenodes: 1,
            datanodes: 3,
            replication: 3,
            block_size: hdfs_proto::MIN_BLOCK_SIZE,
            heartbeat: TEST_HEARTBEAT,
            dead_after: Duration::from_secs(10),
            replication_interval: Duration::from_millis(100),
            replication_timeout: Duration::from_secs(10),
            max_replication_streams: 2,
            lease_hard_limit: Duration::from_secs(60),
            safemode_extension: Duration::from_millis(200),
            scan_bytes_per_sec: 0,
            scan_period: Duration::from_secs(3600),
            permissions: true,
            group_mapping: String::new(),
            datanode_reserved: Vec::new(),
            tls: None,
        }
    }
}

struct Running {
    addr: SocketAddr,
    /// Its HTTP port (WebHDFS, pages, metrics).
    http: SocketAddr,
    namesystem: Option<std::sync::Arc<hdfs_namenode::Namesystem>>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Graceful stop, bounded; a node that does not stop in time is aborted.
    async fn stop(self) {
        self.shutdown.cancel();
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), self.task).await.is_err() {
            abort.abort();
        }
    }

    /// Stops at once, as a crash would: transfers in flight are cut, no shutdown path runs (a
    /// namenode's consensus is halted without an fsimage, which frees its directory).
    async fn kill(self) {
        self.shutdown.cancel();
        self.task.abort();
        let _ = self.task.await;
        if let Some(ns) = self.namesystem {
            ns.halt().await;
        }
    }
}

/// A namenode (or a group) and datanodes running in this process.
pub struct MiniCluster {
    opts: ClusterOptions,
    root: tempfile::TempDir,
    /// Each namenode's address (kept across restarts), and the running ones.
    namenode_addrs: Vec<SocketAddr>,
    namenodes: Vec<Option<Running>>,
    datanodes: Vec<Option<Running>>,
    /// The cluster secret every node is given.
    secret: ClusterSecret,
}

impl MiniCluster {
    /// A cluster of `datanodes` datanodes, replication up to 3, 1 MiB blocks; returns once every
    /// datanode is registered.
    pub async fn start(datanodes: usize) -> anyhow::Result<Self> {
        Self::with_options(ClusterOptions {
            datanodes,
            replication: datanodes.clamp(1, 3) as u32,
            ..Default::default()
        })
        .await
    }

    pub async fn with_options(opts: ClusterOptions) -> anyhow::Result<Self> {
        init_tracing();
        if let Some(tls) = &opts.tls {
            hdfs_proto::tls::trust(&tls.ca).map_err(anyhow::Error::msg)?;
        }
        let root = tempfile::Builder::new().prefix("hdfs-minicluster-").tempdir()?;
        let mut listeners = Vec::new();
        for _ in 0..opts.namenodes.max(1) {
            listeners.push(TcpListener::bind("127.0.0.1:0").await?);
        }
        let namenode_addrs = listeners.iter().map(|l| l.local_addr()).collect::<Result<Vec<_>, _>>()?;
        let (namenodes, datanodes, secret) = (Vec::new(), Vec::new(), ClusterSecret::generate());
        let mut cluster = Self { opts, root, namenode_addrs, namenodes, datanodes, secret };
        for (i, listener) in listeners.into_iter().enumerate() {
            let nn = cluster.spawn_namenode(i, listener).await?;
            cluster.namenodes.push(Some(nn));
        }
        for i in 0..cluster.opts.datanodes {
            let dn = cluster.spawn_datanode(i).await?;
            cluster.datanodes.push(Some(dn));
        }
        cluster.wait_live_datanodes(cluster.opts.datanodes).await?;
        cluster.wait_safe_mode_off().await?;
        Ok(cluster)
    }

    pub fn options(&self) -> &ClusterOptions {
        &self.opts
    }

    /// The cluster's secret (what a test crafting members' calls presents).
    pub fn secret(&self) -> &ClusterSecret {
        &self.secret
    }

    /// Signs block access tokens as the namenode does (for tests that craft data calls).
    pub fn block_tokens(&self) -> hdfs_proto::auth::BlockTokens {
        hdfs_proto::auth::BlockTokens::new(self.secret.clone())
    }

    /// `http://127.0.0.1:PORT` of the namenode; of every member, comma-separated, for a group
    /// (what clients and datanodes are given).
    pub fn namenode_url(&self) -> String {
        self.namenode_addrs.iter().map(|a| hdfs_proto::grpc::url(&a.to_string())).collect::<Vec<_>>().join(",")
    }

    /// The (first) namenode's data directory.
    pub fn namenode_dir(&self) -> PathBuf {
        self.namenode_dir_of(0)
    }

    pub fn namenode_dir_of(&self, i: usize) -> PathBuf {
        if i == 0 { self.root.path().join("namenode") } else { self.root.path().join(format!("namenode-{i}")) }
    }

    pub fn datanode_dir(&self, i: usize) -> PathBuf {
        self.root.path().join(format!("datanode-{i}"))
    }

    /// Where datanode `i` keeps the bytes of `block`.
    pub fn replica_path(&self, i: usize, block: u64) -> PathBuf {
        hdfs_datanode::store::replica_path(&self.datanode_dir(i), block)
    }

    /// `http://127.0.0.1:PORT` of namenode `i`'s HTTP port (WebHDFS, pages, metrics), if it runs.
    pub fn namenode_http(&self, i: usize) -> Option<String> {
        self.namenodes.get(i)?.as_ref().map(|r| hdfs_proto::grpc::url(&r.http.to_string()))
    }

    /// `http://127.0.0.1:PORT` of datanode `i`'s HTTP port, if it runs.
    pub fn datanode_http(&self, i: usize) -> Option<String> {
        self.datanodes.get(i)?.as_ref().map(|r| hdfs_proto::grpc::url(&r.http.to_string()))
    }

    /// The data-transfer address of datanode `i`, if it runs.
    pub fn datanode_addr(&self, i: usize) -> Option<SocketAddr> {
        self.datanodes.get(i)?.as_ref().map(|r| r.addr)
    }

    async fn spawn_namenode(&self, i: usize, listener: TcpListener) -> anyhow::Result<Running> {
        let mut config = hdfs_namenode::Config::new(self.namenode_dir_of(i));
        config.default_replication = self.opts.replication;
        config.default_block_size = self.opts.block_size;
        config.heartbeat_interval = self.opts.heartbeat;
        config.dead_after = self.opts.dead_after;
        config.replication_interval = self.opts.replication_interval;
        config.replication_timeout = self.opts.replication_timeout;
        config.max_replication_streams = self.opts.max_replication_streams;
        config.lease_hard_limit = self.opts.lease_hard_limit;
        config.safemode_extension = self.opts.safemode_extension;
        config.advertise_addr = Some(self.namenode_addrs[i].to_string());
        config.cluster_secret = Some(self.secret.clone());
        if let Some(tls) = &self.opts.tls {
            (config.tls_cert, config.tls_key, config.tls_ca) =
                (Some(tls.cert.clone()), Some(tls.key.clone()), Some(tls.ca.clone()));
        }
        config.permissions = self.opts.permissions;
        config.group_mapping =
            hdfs_namenode::parse_group_mapping(&self.opts.group_mapping).map_err(anyhow::Error::msg)?;
        if i >= self.opts.namenodes.max(1) {
            // Started after the group formed: it waits to be added (`join_namenode`).
            config.id = i as u64 + 1;
            config.join = true;
        } else if self.namenode_addrs.len() > 1 {
            config.id = i as u64 + 1;
            let founders = self.namenode_addrs.iter().take(self.opts.namenodes.max(1));
            let peers: Vec<String> = founders.enumerate().map(|(j, a)| format!("{}={a}", j + 1)).collect();
            config.peers = Some(hdfs_namenode::Peers::parse(&peers.join(",")).map_err(anyhow::Error::msg)?);
        }
        config.validate().map_err(anyhow::Error::msg)?;
        let ns = std::sync::Arc::new(hdfs_namenode::Namesystem::open(config).await?);
        let shutdown = CancellationToken::new();
        let addr = self.namenode_addrs[i];
        let http_listener = TcpListener::bind("127.0.0.1:0").await?;
        let http = http_listener.local_addr()?;
        let task = tokio::spawn(hdfs_namenode::serve(ns.clone(), listener, Some(http_listener), shutdown.clone()));
        Ok(Running { addr, http, namesystem: Some(ns), shutdown, task })
    }

    /// The running namenode's state (the leader's, in a group), to observe what it decided
    /// (e.g. the order of repairs).
    pub fn namesystem(&self) -> Option<std::sync::Arc<hdfs_namenode::Namesystem>> {
        let i = self.leader().unwrap_or(0);
        self.namesystem_of(i)
    }

    async fn spawn_datanode(&self, i: usize) -> anyhow::Result<Running> {
        let dir = self.datanode_dir(i);
        wait_store_unlocked(&dir).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut config = hdfs_datanode::Config::new(self.namenode_url(), dir, self.secret.clone());
        config.heartbeat_interval = self.opts.heartbeat;
        config.scan_bytes_per_sec = self.opts.scan_bytes_per_sec;
        config.scan_period = self.opts.scan_period;
        config.reserved = self.opts.datanode_reserved.get(i).copied().unwrap_or(0);
        if let Some(tls) = &self.opts.tls {
            (config.tls_cert, config.tls_key, config.tls_ca) =
                (Some(tls.cert.clone()), Some(tls.key.clone()), Some(tls.ca.clone()));
        }
        let shutdown = CancellationToken::new();
        let http_listener = TcpListener::bind("127.0.0.1:0").await?;
        let http = http_listener.local_addr()?;
        let task = tokio::spawn(hdfs_datanode::run(config, listener, Some(http_listener), shutdown.clone()));
        Ok(Running { addr, http, namesystem: None, shutdown, task })
    }

    /// Stops datanode `i` gracefully; its data stays.
    pub async fn stop_datanode(&mut self, i: usize) {
        if let Some(r) = self.datanodes.get_mut(i).and_then(Option::take) {
            r.stop().await;
        }
    }

    /// Kills datanode `i` with no shutdown path.
    pub async fn kill_datanode(&mut self, i: usize) {
        if let Some(r) = self.datanodes.get_mut(i).and_then(Option::take) {
            r.kill().await;
        }
    }

    /// Starts datanode `i` again on its old data (on a new port).
    pub async fn restart_datanode(&mut self, i: usize) -> anyhow::Result<()> {
        self.stop_datanode(i).await;
        let r = self.spawn_datanode(i).await?;
        self.datanodes[i] = Some(r);
        Ok(())
    }

    /// Stops the (first) namenode, gracefully or as a `kill -9` would (no fsimage), and starts it
    /// again on the same address and data dir.
    pub async fn restart_namenode(&mut self, graceful: bool) -> anyhow::Result<()> {
        self.stop_namenode(0, graceful).await;
        self.start_namenode(0).await
    }

    /// Stops namenode `i`, gracefully (an fsimage at shutdown) or not.
    pub async fn stop_namenode(&mut self, i: usize, graceful: bool) {
        if let Some(r) = self.namenodes.get_mut(i).and_then(Option::take) {
            if graceful { r.stop().await } else { r.kill().await }
        }
    }

    /// Starts namenode `i` again on its address and data dir.
    pub async fn start_namenode(&mut self, i: usize) -> anyhow::Result<()> {
        let dir = self.namenode_dir_of(i);
        wait_until(&format!("{} to be released", dir.display()), SETTLE_TIMEOUT, || async {
            !hdfs_namenode::in_use(&dir)
        })
        .await?;
        let listener = bind_again(self.namenode_addrs[i]).await?;
        self.namenodes[i] = Some(self.spawn_namenode(i, listener).await?);
        Ok(())
    }

    /// A raw gRPC client of the namenode (the group's leader, once there is one).
    pub async fn namenode_client(&self) -> anyhow::Result<NamenodeClient> {
        let addr = match self.namenode_addrs.len() {
            1 => self.namenode_addrs[0],
            _ => self.namenode_addrs[self.leader().context("no namenode leads")?],
        };
        let channel = hdfs_proto::grpc::endpoint(&addr.to_string())?.connect().await?;
        Ok(namenode_client(channel, &current_user()))
    }

    /// The namenode's view of the datanodes.
    pub async fn datanode_report(&self) -> anyhow::Result<Vec<pb::DatanodeReport>> {
        let mut c = self.namenode_client().await?;
        Ok(c.get_datanode_report(pb::GetDatanodeReportRequest {}).await?.into_inner().datanodes)
    }

    /// Waits until the namenode counts `n` live datanodes.
    pub async fn wait_live_datanodes(&self, n: usize) -> anyhow::Result<()> {
        wait_until(&format!("{n} live datanodes"), SETTLE_TIMEOUT, || async {
            self.datanode_report()
                .await
                .is_ok_and(|r| r.iter().filter(|d| d.state == pb::DatanodeState::Live as i32).count() >= n)
        })
        .await
    }

    /// Waits until the namenode has left safe mode (after a restart: once blocks are reported).
    pub async fn wait_safe_mode_off(&self) -> anyhow::Result<()> {
        wait_until("the namenode to leave safe mode", SETTLE_TIMEOUT, || async {
            let Ok(mut c) = self.namenode_client().await else { return false };
            let req = pb::SetSafeModeRequest { action: pb::SafeModeAction::Get as i32 };
            c.set_safe_mode(req).await.is_ok_and(|r| !r.into_inner().on)
        })
        .await
    }

    /// Block locations of a file, as the namenode gives them to readers.
    pub async fn block_locations(&self, path: &str) -> anyhow::Result<Vec<pb::LocatedBlock>> {
        let mut c = self.namenode_client().await?;
        let req = pb::GetBlockLocationsRequest { path: path.to_string(), offset: 0, length: 0 };
        Ok(c.get_block_locations(req).await?.into_inner().blocks)
    }

    /// Waits until every block of `path` has at least `n` reported replicas.
    pub async fn wait_replicas(&self, path: &str, n: usize) -> anyhow::Result<()> {
        wait_until(&format!("{n} replicas of every block of {path}"), SETTLE_TIMEOUT, || async {
            self.block_locations(path).await.is_ok_and(|b| b.iter().all(|b| b.locations.len() >= n))
        })
        .await
    }

    /// Starts one more datanode; returns its index.
    pub async fn add_datanode(&mut self) -> anyhow::Result<usize> {
        let i = self.datanodes.len();
        let r = self.spawn_datanode(i).await?;
        self.datanodes.push(Some(r));
        Ok(i)
    }

    /// Waits until the namenode declares the datanode at `addr` dead.
    pub async fn wait_datanode_dead(&self, addr: &str, timeout: Duration) -> anyhow::Result<()> {
        wait_until(&format!("datanode {addr} to be declared dead"), timeout, || async {
            self.datanode_report().await.is_ok_and(|r| {
                r.iter().any(|d| {
                    d.state == pb::DatanodeState::Dead as i32 && d.datanode.as_ref().is_some_and(|n| n.address == addr)
                })
            })
        })
        .await
    }

    /// Waits until the namenode counts exactly `n` datanodes as dead.
    pub async fn wait_dead_datanodes(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        wait_until(&format!("{n} dead datanodes"), timeout, || async {
            self.datanode_report()
                .await
                .is_ok_and(|r| r.iter().filter(|d| d.state == pb::DatanodeState::Dead as i32).count() == n)
        })
        .await
    }

    /// Waits until every block of `path` has exactly `n` live replicas.
    pub async fn wait_exact_replicas(&self, path: &str, n: usize) -> anyhow::Result<()> {
        wait_until(&format!("exactly {n} replicas of every block of {path}"), SETTLE_TIMEOUT, || async {
            self.block_locations(path).await.is_ok_and(|b| b.iter().all(|b| b.locations.len() == n))
        })
        .await
    }

    /// Index of the running datanode whose address is `addr`.
    pub fn datanode_index(&self, addr: &str) -> Option<usize> {
        self.datanodes.iter().position(|d| d.as_ref().is_some_and(|r| r.addr.to_string() == addr))
    }
}

/// Waits until a stopped node's sled store can be opened again (its lock is released once the
/// last task holding it has ended).
async fn wait_store_unlocked(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    wait_until(&format!("block store {} to be released", dir.display()), SETTLE_TIMEOUT, || async {
        let d = dir.to_path_buf();
        tokio::task::spawn_blocking(move || hdfs_datanode::store::BlockStore::open(&d).is_ok()).await.unwrap_or(false)
    })
    .await
}

/// Binds `addr` again once the stopped node's socket has let go of it (tokio's bind sets
/// `SO_REUSEADDR`, so connections left in TIME_WAIT do not hold the port).
async fn bind_again(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let slot = std::sync::Mutex::new(None);
    wait_until(&format!("{addr} to be free to bind again"), SETTLE_TIMEOUT, || async {
        let Ok(l) = TcpListener::bind(addr).await else { return false };
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(l);
        true
    })
    .await?;
    slot.into_inner().unwrap_or_else(|p| p.into_inner()).context("bound above")
}

impl Drop for MiniCluster {
    fn drop(&mut self) {
        for r in self.namenodes.iter_mut().chain(self.datanodes.iter_mut()).filter_map(Option::take) {
            r.task.abort();
        }
    }
}
