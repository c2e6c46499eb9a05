//! The main phase's measurements that need more than one step: the raw baselines, a put/get
//! round trip, concurrent puts and gets, and a datanode restart.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdfs_proto::pb::namenode::LocatedBlock;

use crate::cluster::Cluster;
use crate::procs::{Watched, poll_until, run_watched};
use crate::raw;
use crate::report::mb_s;

/// Bytes of each block the restarted datanode must serve: one checksum chunk, so the probe
/// measures when it serves, not how fast it reads.
const PROBE_LEN: u64 = 64 << 10;
/// Longest wait for a restarted datanode, and for the namenode to declare a stopped one dead.
pub const RESTART_TIMEOUT: Duration = Duration::from_secs(60);

/// The machine's limits, in MB/s of one copy of the test file.
pub struct Baselines {
    /// Three copies written, each fsynced: what three replicas cost the disk.
    pub write: f64,
    /// One copy written and fsynced: what one replica costs the disk.
    pub write1: f64,
    /// One copy read cold.
    pub read: f64,
    /// One copy read cold and written to a new fsynced file: what `get` asks of the disk.
    pub copy: f64,
    /// One copy through a loopback TCP stream.
    pub tcp: f64,
}

pub fn baselines(root: &Path, src: &Path, size: u64) -> anyhow::Result<Baselines> {
    let (write1, one) = raw::write_copies(src, root, 1)?;
    for c in &one {
        std::fs::remove_file(c).with_context(|| format!("remove {}", c.display()))?;
    }
    let (write, copies) = raw::write_copies(src, root, 3)?;
    let (read, n) = raw::read_cold(&copies[0])?;
    if n != size {
        bail!("read {n} bytes back from {}, wrote {size}", copies[0].display());
    }
    let copied = root.join("raw-copy-out");
    let copy = raw::copy_cold(&copies[1], &copied)?;
    for c in copies.iter().chain([&copied]) {
        std::fs::remove_file(c).with_context(|| format!("remove {}", c.display()))?;
    }
    let tcp = raw::loopback_tcp(size)?;
    Ok(Baselines {
        write: mb_s(size, write),
        write1: mb_s(size, write1),
        read: mb_s(size, read),
        copy: mb_s(size, copy),
        tcp: mb_s(size, tcp),
    })
}

pub struct Transfer {
    pub size: u64,
    pub put: Watched,
    pub get: Watched,
    pub cat: Option<Watched>,
}

/// `put` at `replication`, then a cold `get` (checked against the source) and, with `cat`, a
/// cold `cat` to /dev/null: the read path without writing a local file.
pub fn transfer(
    cluster: &Cluster,
    local: &Path,
    remote: &str,
    replication: usize,
    root: &Path,
    cat: bool,
) -> anyhow::Result<Transfer> {
    let log = cluster.client_log();
    let size = std::fs::metadata(local).with_context(|| format!("stat {}", local.display()))?.len();
    let put = run_watched("hdfs put", cluster.hdfs(put_args(local, remote, replication), &log)?, &log)?;
    check_replicas(cluster, remote, replication)?;

    evict_datanodes(cluster)?;
    let out = root.join("get-output");
    let get_args = [OsStr::new("get"), "-f".as_ref(), remote.as_ref(), out.as_os_str()];
    let get = run_watched("hdfs get", cluster.hdfs(get_args, &log)?, &log)?;
    if !raw::same_contents(local, &out)? {
        bail!("{} differs from {} after a put and a get", out.display(), local.display());
    }
    std::fs::remove_file(&out).with_context(|| format!("remove {}", out.display()))?;

    let cat = if cat {
        evict_datanodes(cluster)?;
        Some(run_watched("hdfs cat", cluster.hdfs(["cat", remote], &log)?, &log)?)
    } else {
        None
    };
    Ok(Transfer { size, put, get, cat })
}

fn put_args(local: &Path, remote: &str, replication: usize) -> Vec<std::ffi::OsString> {
    let r = replication.to_string();
    [OsStr::new("put"), "-f".as_ref(), "--replication".as_ref(), r.as_ref(), local.as_os_str(), remote.as_ref()]
        .iter()
        .map(|a| a.to_os_string())
        .collect()
}

/// After a put: every block of `remote` must list `replication` replicas.
pub fn check_replicas(cluster: &Cluster, remote: &str, replication: usize) -> anyhow::Result<()> {
    let blocks = cluster.probe.blocks(remote)?;
    if let Some(b) = blocks.iter().find(|b| b.locations.len() < replication) {
        bail!(
            "after put, a block of {remote} at offset {} has {} replicas, not {replication}",
            b.offset,
            b.locations.len()
        );
    }
    Ok(())
}

/// Wall time of `clients` concurrent `hdfs put`s of `local` at `replication`, then of as many
/// concurrent cold `hdfs get`s of what they wrote (each checked against the source).
pub struct Concurrent {
    pub clients: usize,
    pub put: Duration,
    pub get: Duration,
}

pub fn concurrent(
    cluster: &Cluster,
    local: &Path,
    clients: usize,
    replication: usize,
    root: &Path,
) -> anyhow::Result<Concurrent> {
    let log = cluster.client_log();
    let remote = |k: usize| format!("/bench/concurrent-r{replication}-{k}");
    let puts = (0..clients)
        .map(|k| cluster.hdfs(put_args(local, &remote(k), replication), &log))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let put = run_all("hdfs put", puts, &log)?;
    for k in 0..clients {
        check_replicas(cluster, &remote(k), replication)?;
    }
    evict_datanodes(cluster)?;
    let out = |k: usize| root.join(format!("get-output-{k}"));
    let gets = (0..clients)
        .map(|k| cluster.hdfs([OsStr::new("get"), "-f".as_ref(), remote(k).as_ref(), out(k).as_os_str()], &log))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let get = run_all("hdfs get", gets, &log)?;
    for k in 0..clients {
        if !raw::same_contents(local, &out(k))? {
            bail!("{} differs from {} after concurrent puts and gets", out(k).display(), local.display());
        }
        std::fs::remove_file(out(k)).with_context(|| format!("remove {}", out(k).display()))?;
        run_watched("hdfs rm", cluster.hdfs(["rm", &remote(k)], &log)?, &log)?;
    }
    Ok(Concurrent { clients, put, get })
}

/// Starts every command at once and waits for all of them; an error if any failed.
fn run_all(name: &str, cmds: Vec<std::process::Command>, stderr_log: &Path) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut procs = cmds.into_iter().map(|c| crate::procs::Proc::spawn(name, c)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut running = procs.len();
    while running > 0 {
        running = 0;
        for p in &mut procs {
            match p.exited()? {
                None => running += 1,
                Some(status) if !status.success() => {
                    bail!("{name} failed ({status}): {}", crate::procs::log_tail(stderr_log, 5).trim())
                }
                Some(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(start.elapsed())
}

/// Drops every file of every datanode from the page cache, so reads come from disk as the
/// raw read baseline's do.
pub fn evict_datanodes(cluster: &Cluster) -> anyhow::Result<()> {
    for d in &cluster.datanodes {
        raw::evict_tree(&d.dir)?;
    }
    Ok(())
}

pub struct Restart {
    /// SIGTERM to exit.
    pub stop: Duration,
    /// From spawn until the namenode lists the node for every block again.
    pub located: Option<Duration>,
    /// From spawn until the node served a read (the head of the file's first block).
    pub served: Option<Duration>,
}

/// Stops datanode-0, drops its files from the page cache (a restart after a reboot reads its
/// index from disk), waits until the namenode has declared it dead and stopped handing it to
/// readers, then starts it on the same port and data dir and times how long until readers are
/// sent to it again for every block and it serves a read. Once both hold, it must serve the
/// head of every block of the file (checked, not timed).
pub fn restart(cluster: &mut Cluster, remote: &str) -> anyhow::Result<Restart> {
    let addr = cluster.datanodes[0].addr.clone();
    let blocks = cluster.probe.blocks(remote)?;
    if blocks.is_empty() {
        bail!("{remote} has no blocks to read back after the restart");
    }
    cluster.probe.read_from(&addr, &blocks, PROBE_LEN).context("datanode-0 before its restart")?;

    let stop = cluster.stop_datanode(0)?;
    raw::evict_tree(&cluster.datanodes[0].dir)?;
    poll_until("the namenode to declare datanode-0 dead", RESTART_TIMEOUT, Duration::from_millis(100), || {
        Ok(!cluster.probe.blocks(remote)?.iter().any(|b| lists(b, &addr)))
    })?;

    let start = Instant::now();
    cluster.start_datanode(0)?;
    let (mut located, mut served) = (None, None);
    while start.elapsed() < RESTART_TIMEOUT && (located.is_none() || served.is_none()) {
        cluster.check_running()?;
        if located.is_none() && cluster.probe.blocks(remote).is_ok_and(|bs| bs.iter().all(|b| lists(b, &addr))) {
            located = Some(start.elapsed());
        }
        if served.is_none() && cluster.probe.read_from(&addr, &blocks[..1], PROBE_LEN).is_ok() {
            served = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if located.is_some() && served.is_some() {
        cluster.probe.read_from(&addr, &blocks, PROBE_LEN).context("datanode-0 after its restart")?;
    }
    Ok(Restart { stop, located, served })
}

fn lists(b: &LocatedBlock, addr: &str) -> bool {
    b.locations.iter().any(|l| l.address == addr)
}
