//! The ha phase's big namespace, on a group of three of its own:
//!
//! 1. the meta phase's namespace: `files` single-block files at replication 3, 32 to a
//!    directory, written through the leader by `clients` clients, their replicas reported by
//!    three tiny datanodes to every member (as real datanodes report to the whole group);
//! 2. each member's resident memory, against its own when the group was empty;
//! 3. a rolling restart (followers first, then the leader; each SIGTERM, start, and wait until
//!    it has caught up): each member writes an fsimage as it stops, so the leader's snapshot
//!    then covers the whole namespace. Its size is that of the leader's `fsimage` file;
//! 4. a fourth member started with `--join` and added with `Client::add_namenode` (the call
//!    behind `hdfs haadmin -addNameNode`): it is added as a learner, receives the snapshot,
//!    then votes. Timed from the call until the new member's applied index reaches the
//!    leader's (both polled every 20 ms), with when it first reported a snapshot and when the
//!    call returned. Then its resident memory per file. The tiny datanodes do not report to
//!    it (they were given the first three), so its block map holds the blocks without replicas.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdfs_client::Client;
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::units::format_size;
use tokio_util::sync::CancellationToken;

use crate::cluster::Binaries;
use crate::group::{Group, POLL};
use crate::load::Rate;
use crate::meta::{FILES_PER_DIR, connect, file_dir, file_path, measure, single_block_file};
use crate::procs::rss;
use crate::report::{MIB, Row, Target, Unit};
use crate::tiny::TinyDatanode;

/// The target: add until caught up.
const CATCH_UP_TARGET_S: f64 = 10.0;
/// Longest wait for the new member.
const JOIN_TIMEOUT: Duration = Duration::from_secs(600);
/// One member's memory.
pub struct Memory {
    pub id: u64,
    pub role: String,
    pub empty: u64,
    pub full: u64,
}

pub struct Join {
    pub files: u64,
    pub populate: Rate,
    pub memory: Vec<Memory>,
    /// Per member, in the order restarted: id, SIGTERM until exit, start until caught up.
    pub restarts: Vec<(u64, Duration, Duration)>,
    /// The leader's fsimage after the restarts: bytes, its index, the leader's last log index.
    pub snapshot_bytes: u64,
    pub snapshot_index: u64,
    pub leader_last_index: u64,
    pub leader_id: u64,
    /// From the add: the call returned (or failed, with why).
    pub add_call: (Duration, Option<String>),
    /// From the add: the new member first reported a snapshot.
    pub installed: Option<Duration>,
    /// From the add: its applied index reached the leader's, and that index.
    pub caught_up: Option<(Duration, u64)>,
    pub new_member: Memory,
}

pub fn run(
    rt: &tokio::runtime::Runtime,
    bins: Binaries,
    root: &Path,
    files: u64,
    clients: usize,
    step: &dyn Fn(&str),
) -> anyhow::Result<Join> {
    let args = ["--safemode-extension".to_string(), "0s".to_string()];
    step("ha: a new group of 3 for the big namespace");
    let mut group = rt.block_on(Group::start(bins, root, 3, &args))?;
    let stop = CancellationToken::new();
    let _stop_tiny = stop.clone().drop_guard();
    let urls: Vec<String> = group.members.iter().map(|m| m.url()).collect();
    let tiny = rt.block_on(TinyDatanode::start_all(&urls, &stop))?;
    let empty: Vec<u64> = group.members.iter().map(|m| m.pid().and_then(rss).unwrap_or(0)).collect();
    let (leader, _) = rt.block_on(group.wait_leader(None, Duration::from_secs(60)))?;
    let nn = rt.block_on(connect(&group.members[leader].url(), clients, &hdfs_proto::user::current_user()))?;
    let pids: Vec<u32> = group.members.iter().filter_map(|m| m.pid()).collect();

    let dirs = files.div_ceil(FILES_PER_DIR);
    step(&format!("ha: mkdirs of {dirs} directories on the group"));
    measure(rt, &nn, &pids, dirs, |mut nn, _, d| async move {
        nn.mkdirs(pb::MkdirsRequest { path: file_dir(d), create_parent: true }).await?;
        Ok(())
    })?;
    step(&format!("ha: populating {files} single-block files on the group"));
    let populate =
        measure(rt, &nn, &pids, files, move |nn, k, i| single_block_file(nn, tiny.clone(), k, file_path(i)))?;
    drop(nn);
    rt.block_on(group.wait_caught_up(Duration::from_secs(300)))?;
    let statuses = rt.block_on(group.statuses());
    let memory = group
        .members
        .iter()
        .zip(&empty)
        .zip(&statuses)
        .map(|((m, &empty), s)| Memory {
            id: m.id,
            role: s.as_ref().map_or("?".into(), |s| s.role.clone()),
            empty,
            full: m.pid().and_then(rss).unwrap_or(0),
        })
        .collect();

    step("ha: rolling restart (followers, then the leader) so the snapshot covers everything");
    let (leader, _) = rt.block_on(group.wait_leader(None, Duration::from_secs(60)))?;
    let order: Vec<usize> = (0..3).filter(|&i| i != leader).chain([leader]).collect();
    let mut restarts = Vec::new();
    for i in order {
        let stopped = group.stop(i)?;
        let start = Instant::now();
        group.start_member(i)?;
        rt.block_on(group.wait_leader(None, Duration::from_secs(60)))?;
        rt.block_on(group.wait_caught_up(Duration::from_secs(300)))?;
        restarts.push((group.members[i].id, stopped, start.elapsed()));
    }
    let (leader, ls) = rt.block_on(group.wait_leader(None, Duration::from_secs(60)))?;
    let image = group.members[leader].dir.join("fsimage");
    let snapshot_bytes = std::fs::metadata(&image).with_context(|| format!("stat {}", image.display()))?.len();

    step("ha: a fourth member with --join, added to the group");
    let j = group.start_joining()?;
    let (id, addr) = (group.members[j].id, group.members[j].addr.clone());
    let new = group.members[j].status_asker();
    let leader_ask = group.members[leader].status_asker();
    let joined = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while new.ask().await.is_none() {
            if Instant::now() > deadline {
                bail!("the joining namenode did not answer within 60 s");
            }
            tokio::time::sleep(POLL).await;
        }
        let empty = group.members[j].pid().and_then(rss).unwrap_or(0);
        let client = Client::connect(&group.urls()).await?;
        let start = Instant::now();
        let add = tokio::spawn(async move {
            let r = client.add_namenode(id, &addr).await;
            (start.elapsed(), r.err().map(|e| e.to_string()))
        });
        let (mut installed, mut caught_up) = (None, None);
        while caught_up.is_none() && start.elapsed() < JOIN_TIMEOUT {
            let (l, n) = (leader_ask.ask().await, new.ask().await);
            if let Some(n) = n {
                if n.snapshot_index > 0 {
                    installed.get_or_insert(start.elapsed());
                }
                if let Some(l) = l
                    && n.applied_index > 0
                    && n.applied_index >= l.applied_index
                {
                    caught_up = Some((start.elapsed(), n.applied_index));
                }
            }
            tokio::time::sleep(POLL).await;
        }
        let add_call = add.await?;
        anyhow::Ok((empty, add_call, installed, caught_up))
    })?;
    let (new_empty, add_call, installed, caught_up) = joined;
    let new_member = Memory {
        id,
        role: rt.block_on(new.ask()).map_or("?".into(), |s| s.role),
        empty: new_empty,
        full: group.members[j].pid().and_then(rss).unwrap_or(0),
    };
    step(&format!("ha: new member caught up: {caught_up:?}; add call {add_call:?}"));
    Ok(Join {
        files,
        populate,
        memory,
        restarts,
        snapshot_bytes,
        snapshot_index: ls.snapshot_index,
        leader_last_index: ls.last_log_index,
        leader_id: group.members[leader].id,
        add_call,
        installed,
        caught_up,
        new_member,
    })
}

impl Memory {
    fn per_file(&self, files: u64) -> f64 {
        self.full.saturating_sub(self.empty) as f64 / files as f64
    }

    fn note(&self) -> String {
        format!("RSS {} empty, {} full", format_size(self.empty), format_size(self.full))
    }
}

impl Join {
    pub fn rows(&self) -> Vec<Row> {
        let files = self.files;
        let mut rows =
            vec![
                self.populate.row(
                    "ha_group_single_block_file_ops",
                    "group of 3: single-block file: create, add_block, 3 replicas reported to every member, complete"
                        .into(),
                ),
            ];
        let leader = self.memory.iter().find(|m| m.role == "leader").map(|m| m.per_file(files));
        for m in &self.memory {
            let mut row = Row::new(
                format!("ha_bytes_per_file_namenode_{}", m.id),
                format!(
                    "group of 3: namenode-{} ({}) resident memory per file at {files} single-block files",
                    m.id, m.role
                ),
                Unit::Bytes,
                Some(m.per_file(files)),
            )
            .note(m.note());
            if m.role == "leader" {
                row = row.target(Target::AtMost(300.0));
            } else if let Some(l) = leader {
                row = row.against(l).target(Target::MaxShareOfBaseline(1.1));
            }
            rows.push(row);
        }
        let restarts: Vec<String> = self
            .restarts
            .iter()
            .map(|(id, stop, up)| {
                format!(
                    "namenode-{id} stop {:.2} s, start until caught up {:.2} s",
                    stop.as_secs_f64(),
                    up.as_secs_f64()
                )
            })
            .collect();
        rows.push(
            Row::new(
                "ha_snapshot_mib",
                format!("the leader's (namenode-{}) fsimage after a rolling restart, {files} files", self.leader_id),
                Unit::Mib,
                Some(self.snapshot_bytes as f64 / MIB),
            )
            .note(format!(
                "snapshot index {} of last log index {}; {}",
                self.snapshot_index,
                self.leader_last_index,
                restarts.join("; ")
            )),
        );
        let (call, err) = &self.add_call;
        let timed_out =
            if self.caught_up.is_none() { format!("; not caught up within {JOIN_TIMEOUT:?}") } else { String::new() };
        let join = Row::new(
            "ha_join_catch_up_s",
            format!("new member (--join) added until its applied index reached the leader's ({files} files)"),
            Unit::Seconds,
            self.caught_up.map(|(d, _)| d.as_secs_f64()),
        )
        .target(Target::AtMost(CATCH_UP_TARGET_S))
        .note(
            format!(
                "snapshot first reported at {}; add_namenode returned at {:.2} s{}; caught up at index {}",
                self.installed.map_or("-".into(), |d| format!("{:.2} s", d.as_secs_f64())),
                call.as_secs_f64(),
                err.as_ref().map_or(String::new(), |e| format!(" with an error: {e}")),
                self.caught_up.map_or(0, |(_, i)| i),
            ) + &timed_out,
        );
        rows.push(join);
        let n = &self.new_member;
        let mut row = Row::new(
            format!("ha_bytes_per_file_namenode_{}", n.id),
            format!("new member namenode-{} ({}) resident memory per file after catching up", n.id, n.role),
            Unit::Bytes,
            Some(n.per_file(files)),
        )
        .note(format!("{}; no datanode reports to it", n.note()));
        if let Some(l) = leader {
            row = row.against(l);
        }
        rows.push(row);
        rows
    }
}
