//! The namesystem: namespace, block map, datanodes and leases behind one lock, replicated by
//! the namenode group.
//!
//! Like HDFS's FSNamesystem, one lock covers the whole state, so every operation sees and
//! leaves it consistent. A mutation ([`Namesystem::mutate`]) runs on the leader: it checks the
//! caller's request against the state and builds an [`Op`] under the lock, proposes it to the
//! group (openraft appends it to the edit log, which shares fsyncs between concurrent
//! proposals, and replicates it), and once a majority holds it durably every member applies it
//! through the state machine ([`machine`](self::machine)). The leader then finishes what only it
//! does (choosing a pipeline, the answer) and replies. Nothing is acknowledged before a majority
//! has it on disk. A group of one (no `--peers`) is the same path with a majority of one.
//!
//! Reads are served by the leader once a read barrier ([`ReadBarrier`]) has confirmed it still
//! leads, so they see every acknowledged write; other members answer with the leader's address.
//!
//! By activity: [`client`](self::client) (HDFS's `ClientProtocol`), [`datanode`](self::datanode)
//! (`DatanodeProtocol`), [`admin`](self::admin) (safe mode, decommission, fsck),
//! [`group`](self::group) (the group's members and roles), [`monitor`](self::monitor) (the
//! replication monitor loop and its [`Namesystem::tick`]), [`retry`](self::retry) (the retry
//! cache) and [`machine`](self::machine) (the state machine and its snapshots).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod admin;
mod append;
mod attributes;
mod client;
mod concat;
mod datanode;
mod group;
mod limits;
mod machine;
mod monitor;
mod permission;
mod propose;
mod retry;
mod state;
mod status;
#[cfg(test)]
mod tests;
mod truncate;

pub use admin::{SafeModeAction, Summary};
pub use client::{CreateOptions, DEFAULT_LIST_LIMIT, FileInfo, LocatedBlock};
pub use group::{GroupStatus, MemberStatus};
pub(crate) use monitor::ReplicationMonitor;
pub use permission::Caller;
pub(crate) use permission::Permissions;

use hdfs_proto::auth::ClusterSecret;
use machine::Machine;
use openraft::BasicNode;
use openraft::error::RaftError;
use propose::{Proposer, Refused};
pub(crate) use state::{Locked, State};

use crate::config::Config;
use crate::editlog::{EditLog, Syncer};
use crate::error::{Error, Result};
use crate::metrics::{LockMetrics, Metrics, RpcMetrics};
use crate::namespace::{Effects, Op};
use crate::raft::network::{Faults, Network};
use crate::raft::read::ReadBarrier;
use crate::raft::{CallId, NodeId, Proposal, Raft};

pub struct Namesystem {
    config: Config,
    perms: Permissions,
    id: NodeId,
    state: Arc<Mutex<State>>,
    raft: Raft,
    proposer: Proposer,
    reads: ReadBarrier,
    faults: Arc<Faults>,
    /// The term in which this member, as leader, last caught up with everything before it.
    ready_term: AtomicU64,
    /// The term in which the monitor last saw this member lead (to notice a new leadership).
    led_term: AtomicU64,
    /// Whether this member led when the monitor last looked (to notice a lost leadership).
    was_leading: std::sync::atomic::AtomicBool,
    /// The edit log's syncer and directory lock, dropped once openraft is shut down.
    log_guard: Mutex<Option<Syncer>>,
    log: EditLog,
    /// Wakes the replication monitor before its next interval.
    wake: tokio::sync::Notify,
    /// The last log index at start-up: safe mode is not judged before it is applied.
    replay_to: u64,
    /// When this member started, and whether it currently stands for election.
    started: std::time::Instant,
    elects: std::sync::atomic::AtomicBool,
    /// Counted where things happen: the edit log's syncs, the RPC edge's calls.
    metrics: Metrics,
    /// The cluster's secret: checks members' calls, signs block access tokens.
    secret: ClusterSecret,
    /// Bytes to keep free on the edit log's volume (`--reserved`; tests change it to play a
    /// volume filling and being freed).
    reserved: AtomicU64,
}

/// A member that led when it stopped would lead again at once on restart (openraft keeps its
/// vote), with an empty block map, in safe mode, refusing writes while members that know every
/// replica stand by. Its vote is kept (it still voted for itself in that term, so safety is the
/// same) but no longer marked as a leadership: the group elects a leader again, and this member
/// stands only once it knows its blocks (see `abstain` in the monitor).
async fn step_down_on_restart(log: &mut EditLog, me: NodeId) -> Result<()> {
    use openraft::storage::RaftLogStorage;
    let vote = log.read_vote().await.map_err(|e| Error::storage_refused(format!("read the vote: {e}")))?;
    if let Some(v) = vote
        && v.is_committed()
        && v.leader_id.node_id == me
    {
        let relaxed = crate::raft::Vote::new(v.leader_id.term, me);
        log.save_vote(&relaxed).await.map_err(|e| Error::storage_refused(format!("save the vote: {e}")))?;
        tracing::info!(term = v.leader_id.term, "led before the restart; standing for election again instead");
    }
    Ok(())
}

impl Namesystem {
    /// Loads the state from `config.data_dir` (fsimage, then the log through openraft) and
    /// starts this member; the group is formed on first start unless `config.join`.
    pub async fn open(config: Config) -> Result<Self> {
        let (mut log, guard) = EditLog::open(&config.data_dir)?;
        let secret = config.secret().map_err(Error::storage_refused)?;
        if let Some(ca) = &config.tls_ca {
            hdfs_proto::tls::trust(ca).map_err(Error::storage_refused)?;
        }
        if config.cluster_secret.is_none() && config.cluster_secret_file.is_none() {
            let file = config.data_dir.join(hdfs_proto::auth::SECRET_FILE);
            tracing::info!(file = %file.display(), "the cluster secret is kept in the data directory: give datanodes (and other members) a copy with --cluster-secret-file");
        }
        if config.tls_cert.is_none() {
            tracing::warn!(
                "no TLS (--tls-cert): the RPC and HTTP ports are plaintext, so block tokens and the member credential can be read on the network"
            );
        }
        let replay_to = log.last_index();
        if config.peers.is_some() {
            step_down_on_restart(&mut log, config.id).await?;
        }
        let state = State::load(&config)?;
        let state = Arc::new(Mutex::new(state));
        let lock_metrics = LockMetrics::default();
        let machine = Machine {
            state: state.clone(),
            config: config.clone(),
            dir: config.data_dir.clone(),
            lock_metrics: lock_metrics.clone(),
        };
        let faults = Arc::new(Faults::default());
        let network = Network::new(faults.clone(), config.peers.as_ref().map(|p| p.to_string()), secret.clone());
        let raft_config = openraft::Config {
            cluster_name: "hdfs-namenodes".into(),
            heartbeat_interval: config.raft_heartbeat.as_millis() as u64,
            election_timeout_min: config.election_timeout.as_millis() as u64,
            // openraft's leader lease is this largest timeout: a follower that heard the leader
            // votes for no one else for that long, and calls an election after it plus a random
            // timeout, so after 2.5-3 election timeouts of silence.
            election_timeout_max: config.election_timeout.as_millis() as u64 * 3 / 2,
            install_snapshot_timeout: 10_000,
            snapshot_max_chunk_size: 4 << 20,
            snapshot_policy: openraft::SnapshotPolicy::Never,
            max_in_snapshot_log_to_keep: 1000,
            ..Default::default()
        }
        .validate()
        .map_err(|e| Error::storage_refused(format!("raft settings: {e}")))?;
        let raft = Raft::new(config.id, Arc::new(raft_config), network, log.clone(), machine)
            .await
            .map_err(|e| Error::storage_refused(format!("start consensus: {e}")))?;
        let id = config.id;
        // A member of a group stands for election once the monitor sees it knows its blocks.
        let stands = config.peers.is_none();
        raft.runtime_config().elect(stands);
        let reserved = AtomicU64::new(config.reserved);
        let ns = Self {
            reads: ReadBarrier::new(raft.clone(), id, config.quorum_timeout, config.election_timeout / 2),
            proposer: Proposer::start(raft.clone(), id, config.quorum_timeout),
            perms: Permissions::new(&config),
            config,
            id,
            state,
            raft,
            faults,
            ready_term: AtomicU64::new(0),
            led_term: AtomicU64::new(0),
            was_leading: std::sync::atomic::AtomicBool::new(false),
            log_guard: Mutex::new(Some(guard)),
            metrics: Metrics { editlog: log.metrics(), rpc: RpcMetrics::default(), lock: lock_metrics },
            log,
            wake: tokio::sync::Notify::new(),
            replay_to,
            started: std::time::Instant::now(),
            elects: std::sync::atomic::AtomicBool::new(stands),
            secret,
            reserved,
        };
        ns.form_group().await?;
        Ok(ns)
    }

    /// Initializes the group on its first start: every member named in `--peers` does, with the
    /// same membership, which openraft makes the same first entry everywhere.
    async fn form_group(&self) -> Result<()> {
        let initialized =
            self.raft.is_initialized().await.map_err(|e| Error::storage_refused(format!("consensus: {e}")))?;
        if initialized || self.config.join {
            return Ok(());
        }
        let members: BTreeMap<NodeId, BasicNode> = match &self.config.peers {
            Some(p) => p.0.iter().map(|(id, addr)| (*id, BasicNode::new(addr))).collect(),
            None => {
                let addr = self.config.advertise_addr.clone().unwrap_or_else(|| "localhost:8020".into());
                BTreeMap::from([(self.id, BasicNode::new(addr))])
            }
        };
        tracing::info!(members = ?members.keys().collect::<Vec<_>>(), "forming the namenode group");
        match self.raft.initialize(members).await {
            Ok(()) => Ok(()),
            Err(RaftError::APIError(e)) => {
                tracing::debug!(error = %e, "group already formed");
                Ok(())
            }
            Err(RaftError::Fatal(f)) => Err(Error::storage_refused(format!("form the group: {f}"))),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The cluster's secret.
    pub fn secret(&self) -> &ClusterSecret {
        &self.secret
    }

    /// This member's link faults, for tests that cut or slow the links between members.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Makes this member's edit log fail every later write as a full disk would (tests).
    /// Keeps `bytes` free on the edit log's volume from now on (what `--reserved` sets).
    pub fn set_reserved(&self, bytes: u64) {
        self.reserved.store(bytes, Ordering::Relaxed);
    }

    /// HDFS's `NameNodeResourceChecker`: no write is taken while the edit log's volume has less
    /// than `--reserved` free, so the log never meets a full disk mid-write; reads go on, and
    /// writes resume by themselves once space is freed (checked at every write: one statvfs).
    fn check_log_space(&self) -> Result<()> {
        let Ok(s) = rustix::fs::statvfs(&self.config.data_dir) else { return Ok(()) };
        let free = s.f_bavail.saturating_mul(s.f_frsize);
        let reserved = self.reserved.load(Ordering::Relaxed);
        if free >= reserved {
            return Ok(());
        }
        let size = hdfs_proto::units::format_size;
        Err(Error::SafeMode(format!(
            "Resources are low on NN: {} free on the volume of {}, {} must stay free (--reserved). \
             Writes are refused until space is freed; reads go on.",
            size(free),
            self.config.data_dir.display(),
            size(reserved)
        )))
    }

    pub fn simulate_full_disk(&self) {
        self.log.simulate_full_disk();
    }

    pub(crate) fn raft(&self) -> &Raft {
        &self.raft
    }

    /// What is counted as it happens (the gauges are read at scrape time, `http/metrics.rs`).
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn lock(&self) -> Locked<'_> {
        Locked::new(&self.state, &self.metrics.lock)
    }

    /// Waits until a read may be served from this member (it leads, and has applied everything
    /// committed), or says who leads.
    async fn read_barrier(&self) -> Result<()> {
        self.reads.wait().await
    }

    /// Once per term as leader: waits until everything committed by earlier leaders is applied,
    /// so ops are built on the whole state.
    async fn ready_to_lead(&self) -> Result<()> {
        let term = self.raft.metrics().borrow().current_term;
        if self.ready_term.load(Ordering::Acquire) != term {
            self.read_barrier().await?;
            self.ready_term.store(term, Ordering::Release);
        }
        Ok(())
    }

    /// Builds an op under the lock with `build`, has the group commit and apply it (in one entry
    /// with the ops of concurrent calls, see [`propose`](self::propose)), then lets
    /// `after` do what only the leader does with the outcome. `build` may pass a value of its
    /// own (`T`) on to `after`. `call` names the caller's call for the retry cache.
    async fn mutate<T, R>(
        &self,
        call: Option<CallId>,
        build: impl FnOnce(&mut State) -> Result<(Op, T)>,
        after: impl FnOnce(&mut State, &Effects, T) -> R,
    ) -> Result<R> {
        if self.log.has_failed() {
            return Err(Error::Stopped { id: self.id, why: "its edit log failed earlier; restart it".into() });
        }
        self.ready_to_lead().await?;
        self.check_log_space()?;
        let (op, carried) = {
            let mut st = self.lock();
            if st.bm.safe_mode.is_on() {
                return Err(Error::SafeMode(st.bm.safe_mode_tip(&st.ns).unwrap_or_default()));
            }
            build(&mut st)?
        };
        let fx = match self.proposer.propose(Proposal { op, call }).await {
            Ok(outcome) => outcome?,
            Err(Refused::Group(e)) => return Err(e),
            Err(Refused::TimedOut) => return Err(Error::NoQuorum(self.reachability())),
        };
        let mut st = self.lock();
        Ok(after(&mut st, &fx, carried))
    }

    /// Writes an fsimage now and stops this member (at shutdown, so the next start replays
    /// little).
    pub async fn shutdown(&self) -> Result<()> {
        let applied = self.lock().applied;
        if let Some(applied) = applied {
            let _ = self.raft.trigger().snapshot().await;
            let wait = self.raft.wait(Some(std::time::Duration::from_secs(30)));
            if let Err(e) = wait.snapshot(applied, "shutdown fsimage").await {
                tracing::warn!(error = %e, "no fsimage written at shutdown; the next start replays the log");
            }
        }
        self.halt().await;
        self.log.save_hint()
    }

    /// Stops this member as a crash would, with no fsimage and no commit hint (tests' `kill`):
    /// consensus stops, the edit log's syncer ends and the data directory is released.
    pub async fn halt(&self) {
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "consensus did not stop cleanly");
        }
        drop(self.log_guard.lock().unwrap_or_else(|p| p.into_inner()).take());
    }
}
