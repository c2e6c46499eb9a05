//! The ha phase's failovers: on an idle group of three, the leader is killed with SIGKILL and
//! three watchers, started before the kill, time what follows:
//!
//! - **the client**: one `hdfs_client::Client` given the three URLs, which has just created a
//!   file through the leader (so it points at it, as a long-running application would), calls
//!   `create` once: the library finds the new leader by itself (`conn.rs`: member by member,
//!   with backoff from 50 to 250 ms between rounds). The figure of the issue is the time from
//!   the kill until that call returns. `close` of the file is timed after it, separately;
//! - **straight to each survivor**: a raw `create` sent to each surviving member every 5 ms,
//!   over a connection made before the kill, until one succeeds: when the group could first
//!   take a write, whatever the client library's backoff;
//! - **the group's view**: each survivor's own status every 10 ms: when the first of them
//!   entered a term above the dead leader's (an election began: its election timer had run
//!   out), and when one of them led.
//!
//! Then the killed member is started again (same port, same data directory) and the time until
//! it has applied as far as the leader is measured, before the next kill.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdfs_client::{Client, CreateOptions};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::user::{NamenodeClient, current_user, namenode_client};
use tokio_util::sync::CancellationToken;

use crate::group::Group;
use crate::report::{Row, Target, Unit};

/// The target: kill until the first successful create.
pub const TARGET_S: f64 = 2.0;
/// Longest wait for anything after a kill.
const AFTER_KILL: Duration = Duration::from_secs(30);
const PROBE_EVERY: Duration = Duration::from_millis(5);
const WATCH_EVERY: Duration = Duration::from_millis(10);
const DIR: &str = "/ha/failover";

/// What one kill measured, in time since the SIGKILL.
pub struct Kill {
    pub killed_id: u64,
    pub old_term: u64,
    /// A survivor first reported a term above the old leader's.
    pub election_began: Option<Duration>,
    /// A survivor first reported itself leader; its id and term.
    pub elected: Option<(Duration, u64, u64)>,
    /// The first raw create that a survivor acknowledged.
    pub raw_create: Option<Duration>,
    /// The client library's create returned.
    pub client_create: Duration,
    /// The client library's close of that file, after its create.
    pub client_close: Duration,
    /// The killed member's restart until it had applied as far as the leader.
    pub rejoined: Duration,
}

pub fn run(
    rt: &tokio::runtime::Runtime,
    group: &mut Group,
    kills: usize,
    step: &dyn Fn(&str),
) -> anyhow::Result<Vec<Kill>> {
    let client = rt.block_on(Client::connect(&group.urls())).context("connect to the group")?;
    rt.block_on(client.mkdirs(DIR, true))?;
    let mut out = Vec::new();
    for k in 0..kills {
        rt.block_on(group.wait_caught_up(Duration::from_secs(120)))?;
        let (leader, status) = rt.block_on(group.wait_leader(None, Duration::from_secs(60)))?;
        // The client has just talked to the leader, as an application's client would have.
        rt.block_on(async { client.create(&format!("{DIR}/warm{k}"), CreateOptions::default()).await?.close().await })?;
        let survivors: Vec<usize> = (0..group.members.len()).filter(|&i| i != leader).collect();
        let raw = rt.block_on(async {
            let mut raw = Vec::new();
            for &i in &survivors {
                let channel = hdfs_proto::grpc::endpoint(&group.members[i].url())?.connect().await?;
                raw.push(namenode_client(channel, &current_user()));
            }
            anyhow::Ok(raw)
        })?;
        let watched: Vec<_> = survivors.iter().map(|&i| group.members[i].status_asker()).collect();
        step(&format!("ha: kill {} of {kills}: SIGKILL to the leader, namenode-{}", k + 1, group.members[leader].id));
        let done = CancellationToken::new();
        let killed_at = Instant::now();
        group.kill(leader)?;
        let (client_create, client_close, raw_create, (election_began, elected)) = rt.block_on(async {
            let probes = tokio::spawn(probe(raw, k, killed_at, done.clone()));
            let watch = tokio::spawn(watch(watched, status.term, killed_at, done.clone()));
            let path = format!("{DIR}/after-kill{k}");
            let created = tokio::time::timeout(AFTER_KILL, client.create(&path, CreateOptions::default())).await;
            let client_create = killed_at.elapsed();
            let mut w = created.context("the client's create did not return")?.context("the client's create failed")?;
            w.close().await.context("close the file created after the kill")?;
            let client_close = killed_at.elapsed() - client_create;
            // The watchers end by themselves once they have seen what they wait for.
            let stop = done.clone();
            tokio::spawn(async move {
                tokio::time::sleep(AFTER_KILL).await;
                stop.cancel();
            });
            let raw_create = probes.await?;
            let seen = watch.await?;
            done.cancel();
            anyhow::Ok((client_create, client_close, raw_create, seen))
        })?;
        step(&format!(
            "ha: kill {}: the client's create returned after {:.2} s; restarting the killed member",
            k + 1,
            client_create.as_secs_f64()
        ));
        group.start_member(leader)?;
        let rejoined = rt.block_on(group.wait_caught_up(Duration::from_secs(120)))?;
        out.push(Kill {
            killed_id: group.members[leader].id,
            old_term: status.term,
            election_began,
            elected,
            raw_create,
            client_create,
            client_close,
            rejoined,
        });
    }
    Ok(out)
}

/// Raw creates to every survivor until one succeeds; the time of the first success.
async fn probe(raw: Vec<NamenodeClient>, k: usize, since: Instant, done: CancellationToken) -> Option<Duration> {
    let first = Arc::new(AtomicU64::new(u64::MAX));
    let mut tasks = tokio::task::JoinSet::new();
    for (s, mut nn) in raw.into_iter().enumerate() {
        let (first, done) = (first.clone(), done.clone());
        tasks.spawn(async move {
            for attempt in 0u64.. {
                if done.is_cancelled() || first.load(Ordering::Acquire) != u64::MAX {
                    return;
                }
                let path = format!("{DIR}/raw{k}-{s}-{attempt}");
                let client = format!("ha-bench-probe-{k}");
                let mut req = tonic::Request::new(crate::meta::create_request(&path, &client));
                req.set_timeout(AFTER_KILL);
                if nn.create(req).await.is_ok() {
                    first.fetch_min(since.elapsed().as_micros() as u64, Ordering::AcqRel);
                    let close = pb::CompleteRequest { path, client_name: client, last: None };
                    let _ = nn.complete(close).await;
                    return;
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let us = first.load(Ordering::Acquire);
    (us != u64::MAX).then(|| Duration::from_micros(us))
}

type Seen = (Option<Duration>, Option<(Duration, u64, u64)>);

/// Polls the survivors' own status until one leads in a term above `old_term`.
async fn watch(askers: Vec<crate::group::StatusAsker>, old_term: u64, since: Instant, done: CancellationToken) -> Seen {
    let (mut began, mut elected) = (None, None);
    while elected.is_none() && !done.is_cancelled() {
        let asks: Vec<_> = askers.iter().map(|a| tokio::spawn(a.ask())).collect();
        let at = since.elapsed();
        for (a, asker) in asks.into_iter().zip(&askers) {
            let Ok(Some(s)) = a.await else { continue };
            if s.term > old_term {
                began.get_or_insert(at);
                if s.role == "leader" {
                    elected.get_or_insert((at, asker.id, s.term));
                }
            }
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
    (began, elected)
}

fn secs(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{:.2} s", d.as_secs_f64()))
}

/// One row per kill, then the largest.
pub fn rows(kills: &[Kill]) -> Vec<Row> {
    let mut rows: Vec<Row> = kills
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let elected = x.elected.map_or("no leader seen".into(), |(at, id, term)| {
                format!("namenode-{id} led in term {term} at {:.2} s", at.as_secs_f64())
            });
            Row::new(
                format!("ha_failover_{}_s", k + 1),
                format!("failover {}: SIGKILL of the leader (namenode-{}, term {}) until the client library's first create returned", k + 1, x.killed_id, x.old_term),
                Unit::Seconds,
                Some(x.client_create.as_secs_f64()),
            )
            .target(Target::AtMost(TARGET_S))
            .note(format!(
                "election began {}; {elected}; first create sent straight to a survivor {}; close {:.3} s more; the killed member restarted and caught up in {:.2} s",
                secs(x.election_began),
                secs(x.raw_create),
                x.client_close.as_secs_f64(),
                x.rejoined.as_secs_f64()
            ))
        })
        .collect();
    if let Some(max) = kills.iter().map(|x| x.client_create).max() {
        rows.push(
            Row::new(
                "ha_failover_max_s",
                format!(
                    "failover, the longest of {} kills: SIGKILL of the leader until the first create returned",
                    kills.len()
                ),
                Unit::Seconds,
                Some(max.as_secs_f64()),
            )
            .target(Target::AtMost(TARGET_S))
            .note("default --raft-heartbeat 100ms, --election-timeout 400ms: openraft 0.9 calls an election after its leader lease (the largest election timeout, 0.6 s) plus a random election timeout (0.4-0.6 s) without a heartbeat"),
        );
    }
    rows
}
