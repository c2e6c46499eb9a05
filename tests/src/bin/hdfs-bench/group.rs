//! A namenode group of real processes for the ha phase: members started with `--id N --peers
//! ...` on free loopback ports (each member's `--rpc-addr` is its address in `--peers`), data and
//! logs under the phase's directory; members killed, stopped and started again; one more started
//! with `--join`. Each member is asked for its own view of the group (`RaftService.GroupStatus`,
//! the call behind `hdfs haadmin -report`) over a channel kept for the whole run, so that polling
//! every few milliseconds adds no connection set-up to what it times.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdfs_proto::pb::namenode::{self as pb, raft_service_client::RaftServiceClient};
use tonic::transport::Channel;

use crate::cluster::{Binaries, DEAD_AFTER, HEARTBEAT, free_port, logged};
use crate::procs::{Proc, STOP_GRACE, log_tail};

/// How long one status question may take (a member busy installing a snapshot still answers).
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between two rounds of status questions while waiting for the group.
pub const POLL: Duration = Duration::from_millis(20);

/// One member's own view of itself and the group.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub role: String,
    pub term: u64,
    pub last_log_index: u64,
    pub applied_index: u64,
    pub snapshot_index: u64,
}

pub struct Member {
    pub id: u64,
    /// `127.0.0.1:PORT`: its `--rpc-addr`, and its address in the group.
    pub addr: String,
    pub dir: PathBuf,
    pub log: PathBuf,
    join: bool,
    proc: Option<Proc>,
    raft: RaftServiceClient<Channel>,
}

impl Member {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().map(Proc::pid)
    }

    /// Its own view, or `None` if it does not answer within [`STATUS_TIMEOUT`].
    pub fn status(&self) -> impl std::future::Future<Output = Option<Status>> + Send + 'static + use<> {
        ask(self.raft.clone())
    }

    /// A handle that asks this member for its status, to move into a task.
    pub fn status_asker(&self) -> StatusAsker {
        StatusAsker { id: self.id, raft: self.raft.clone() }
    }
}

/// Asks one member for its status.
#[derive(Clone)]
pub struct StatusAsker {
    pub id: u64,
    raft: RaftServiceClient<Channel>,
}

impl StatusAsker {
    pub fn ask(&self) -> impl std::future::Future<Output = Option<Status>> + Send + 'static + use<> {
        ask(self.raft.clone())
    }
}

/// A member's own view, or `None` if it does not answer within [`STATUS_TIMEOUT`].
async fn ask(mut raft: RaftServiceClient<Channel>) -> Option<Status> {
    let mut req = tonic::Request::new(pb::GroupStatusRequest {});
    req.set_timeout(STATUS_TIMEOUT);
    let answer = tokio::time::timeout(STATUS_TIMEOUT, raft.group_status(req)).await.ok()?.ok()?.into_inner();
    let s = answer.self_status.unwrap_or_default();
    Some(Status {
        role: s.role,
        term: s.term,
        last_log_index: s.last_log_index,
        applied_index: s.applied_index,
        snapshot_index: s.snapshot_index,
    })
}

pub struct Group {
    bins: Binaries,
    root: PathBuf,
    /// `1=127.0.0.1:P1,2=...`: the members the group was formed with.
    peers: String,
    /// Flags every member gets after the benchmark's own.
    args: Vec<String>,
    /// Member `i` has id `i + 1`.
    pub members: Vec<Member>,
    /// The runtime the status channels run on.
    rt: tokio::runtime::Handle,
}

impl Group {
    /// Starts `n` members that form a group (with `args` after the benchmark's own flags);
    /// returns once one of them leads. Must run inside a tokio runtime (the status channels).
    pub async fn start(bins: Binaries, root: &Path, n: usize, args: &[String]) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root.join("logs")).with_context(|| format!("create {}", root.display()))?;
        let mut group = Self {
            bins,
            root: root.to_path_buf(),
            peers: String::new(),
            args: args.to_vec(),
            members: vec![],
            rt: tokio::runtime::Handle::current(),
        };
        for _ in 0..n {
            group.add_member(false)?;
        }
        group.peers = group.members.iter().map(|m| format!("{}={}", m.id, m.addr)).collect::<Vec<_>>().join(",");
        for i in 0..n {
            group.start_member(i)?;
        }
        group.wait_leader(None, Duration::from_secs(60)).await?;
        Ok(group)
    }

    fn add_member(&mut self, join: bool) -> anyhow::Result<usize> {
        let i = self.members.len();
        let id = i as u64 + 1;
        let addr = free_port()?;
        let _in_runtime = self.rt.enter();
        let channel = hdfs_proto::grpc::endpoint(&format!("http://{addr}"))?.connect_lazy();
        self.members.push(Member {
            id,
            addr,
            dir: self.root.join(format!("namenode-{id}")),
            log: self.root.join("logs").join(format!("namenode-{id}.log")),
            join,
            proc: None,
            raft: RaftServiceClient::new(channel),
        });
        Ok(i)
    }

    /// The URLs of the members the group was formed with, comma-separated, as clients and
    /// datanodes are given them.
    pub fn urls(&self) -> String {
        self.members.iter().filter(|m| !m.join).map(Member::url).collect::<Vec<_>>().join(",")
    }

    /// Starts member `i` (again) on its port and data dir.
    pub fn start_member(&mut self, i: usize) -> anyhow::Result<()> {
        let m = &mut self.members[i];
        let mut cmd = Command::new(self.bins.namenode());
        // No HTTP port: the group's figures are about its RPCs, and members share this host.
        crate::cluster::with_secret(&mut cmd)
            .arg("--rpc-addr")
            .arg(&m.addr)
            .arg("--http-addr=")
            .arg("--data-dir")
            .arg(&m.dir);
        cmd.args(["--id", &m.id.to_string()]);
        if m.join {
            cmd.arg("--join");
        } else {
            cmd.args(["--peers", &self.peers]);
        }
        cmd.args(["--heartbeat-interval", HEARTBEAT, "--dead-after", DEAD_AFTER]);
        cmd.args(&self.args);
        m.proc = Some(Proc::spawn(format!("namenode-{}", m.id), logged(cmd, &m.log)?)?);
        Ok(())
    }

    /// Starts one more member with `--join` (empty, waiting to be added); returns its index.
    pub fn start_joining(&mut self) -> anyhow::Result<usize> {
        let i = self.add_member(true)?;
        self.start_member(i)?;
        Ok(i)
    }

    /// SIGKILL to member `i`, as a crash would stop it; returns when it is reaped.
    pub fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        match self.members[i].proc.take() {
            Some(mut p) => p.kill(),
            None => bail!("namenode-{} is not running", self.members[i].id),
        }
    }

    /// SIGTERM to member `i` (it writes an fsimage on the way out); returns how long it took to
    /// exit.
    pub fn stop(&mut self, i: usize) -> anyhow::Result<Duration> {
        let m = &mut self.members[i];
        let Some(mut p) = m.proc.take() else { bail!("namenode-{} is not running", m.id) };
        let start = Instant::now();
        let status = p.stop(STOP_GRACE)?;
        if !status.success() {
            bail!("namenode-{} exited with {status} on SIGTERM; end of its log:\n{}", m.id, log_tail(&m.log, 10));
        }
        Ok(start.elapsed())
    }

    /// Every running member's status (`None` for one that is stopped or did not answer).
    pub async fn statuses(&self) -> Vec<Option<Status>> {
        // Asked all at once: one member slow to answer does not delay the others' answers.
        let asks: Vec<_> = self.members.iter().map(|m| m.proc.is_some().then(|| tokio::spawn(m.status()))).collect();
        let mut all = Vec::with_capacity(asks.len());
        for a in asks {
            all.push(match a {
                Some(task) => task.await.ok().flatten(),
                None => None,
            });
        }
        all
    }

    /// The member that leads in the highest term, with its status.
    pub async fn leader(&self) -> Option<(usize, Status)> {
        let all = self.statuses().await;
        all.into_iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i, s?)))
            .filter(|(_, s)| s.role == "leader")
            .max_by_key(|(_, s)| s.term)
    }

    /// Waits until a member other than `not` leads; returns it.
    pub async fn wait_leader(&mut self, not: Option<usize>, timeout: Duration) -> anyhow::Result<(usize, Status)> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_running()?;
            if let Some((i, s)) = self.leader().await.filter(|(i, _)| Some(*i) != not) {
                return Ok((i, s));
            }
            if Instant::now() > deadline {
                bail!("no namenode of the group leads after {timeout:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until every running member has applied as far as the leader has; returns the time
    /// it took.
    pub async fn wait_caught_up(&mut self, timeout: Duration) -> anyhow::Result<Duration> {
        let start = Instant::now();
        loop {
            self.check_running()?;
            let all = self.statuses().await;
            let leader = all.iter().flatten().filter(|s| s.role == "leader").max_by_key(|s| s.term);
            let running = self.members.iter().filter(|m| m.proc.is_some()).count();
            if let Some(l) = leader
                && all.iter().flatten().count() == running
                && all.iter().flatten().all(|s| s.applied_index >= l.applied_index)
            {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                bail!("the group's members did not catch up with the leader within {timeout:?}: {all:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// An error naming any member that has exited by itself, with the end of its log.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        for m in &mut self.members {
            if let Some(p) = m.proc.as_mut()
                && let Some(status) = p.exited()?
            {
                bail!("namenode-{} exited ({status}); end of {}:\n{}", m.id, m.log.display(), log_tail(&m.log, 10));
            }
        }
        Ok(())
    }
}
