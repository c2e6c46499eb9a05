//! The repair phase: how fast the cluster heals after losing a datanode, against how fast the
//! same cluster takes a put at replication 1.
//!
//! On a cluster of its own (1 namenode, [`DATANODES`] datanodes, the namenode's default
//! replication settings unless `--repair-streams` is given):
//!
//! 1. `hdfs put --replication 1` of the test file, timed: the comparison figure, one copy of
//!    every byte written once, fsynced. The file is then deleted, and the phase waits until the
//!    datanodes have freed its space;
//! 2. `hdfs put --replication 3` of the same file, then fsck must be HEALTHY with no block
//!    under-replicated;
//! 3. the datanode holding the most bytes of replicas is chosen (from the datanode report's
//!    block counts and fsck's block locations and lengths). Every datanode's files are dropped
//!    from the page cache, so the copies read the surviving replicas from disk, as they would
//!    long after the write;
//! 4. it is killed with SIGKILL (a crash: no goodbye to the namenode, and nothing a graceful
//!    shutdown could hide) and two times are measured, polling every 100 ms: *detect*, from the
//!    kill until the namenode's report shows it dead; *repair*, from then until fsck is HEALTHY
//!    with no block under-replicated. The repair rate is the bytes the dead node held over the
//!    repair time.
//!
//! While the repair runs, the report's copies in flight are watched too: when the first copy
//! was scheduled, and how many were in flight at most. Afterwards the nodes' logs give the
//! timeline of the copies (see `timeline.rs`).

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::units::format_size;

use crate::cluster::{Binaries, Cluster, DEAD_AFTER};
use crate::options::Options;
use crate::procs::{load_average, poll_until, run_watched};
use crate::raw;
use crate::report::{MIB, Row, Target, Unit, mb_s};
use crate::steps::check_replicas;
use crate::timeline::Timeline;

/// Datanodes of the repair cluster: one more than the replication, so a lost replica has
/// somewhere to go.
pub const DATANODES: usize = 4;
const REMOTE_R1: &str = "/bench/r1";
const REMOTE_R3: &str = "/bench/r3";
/// The namenode's default `--max-replication-streams`.
const DEFAULT_STREAMS: u32 = 2;
/// Poll interval of the timed waits.
const POLL: Duration = Duration::from_millis(100);
/// Longest wait for the namenode to declare the killed datanode dead (it should take
/// `--dead-after`, 10 s).
const DETECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for the repair. Longer than the namenode's default `--replication-timeout`
/// (60 s), so a copy that fails and is retried still finishes inside it.
pub const REPAIR_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest wait for housekeeping (a deletion freeing its disk space, a put's replicas listed).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings of the repair phase.
struct Settings {
    /// `--max-replication-streams` for the namenode (`None`: its default).
    streams: Option<u32>,
    /// Block size of both puts (`None`: the namenode's default).
    block_size: Option<u64>,
}

pub struct Repair {
    pub size: u64,
    /// The test file read cold and written to a new file, fsynced, before the cluster starts:
    /// what a copy asks of the one disk that every source and target here shares.
    pub raw_copy: Duration,
    /// Copies the namenode lets run at once with the dead node's replicas on the survivors:
    /// survivors x `--max-replication-streams`.
    pub allowed_streams: u32,
    pub put_r1: Duration,
    pub put_r3: Duration,
    /// Blocks of the file.
    pub blocks: usize,
    /// The killed datanode's index, and the blocks and bytes of replicas it held.
    pub victim: usize,
    pub held_blocks: usize,
    pub held_bytes: u64,
    /// Blocks each datanode held before the kill, as `a/b/c/d`.
    pub spread: String,
    /// Load average just before the kill.
    pub load_at_kill: String,
    /// From the kill until the report showed the node dead.
    pub detect: Duration,
    /// From then until fsck was HEALTHY with no under-replicated block; `None`: not within
    /// [`REPAIR_TIMEOUT`].
    pub repair: Option<Duration>,
    /// From the node shown dead until the report first showed a copy in flight.
    pub first_copy: Option<Duration>,
    /// Most copies in flight at once, as polled.
    pub max_in_flight: u64,
    /// From the nodes' logs, in seconds after the kill.
    pub timeline: Timeline,
}

/// The repair cluster's settings, as the table's heading states them.
pub fn setup(opts: &Options) -> String {
    let streams = match opts.repair_streams {
        Some(n) => format!("--max-replication-streams {n}"),
        None => "default replication settings (2 streams per source, +2 for last replicas)".into(),
    };
    let blocks = opts.repair_block_size.map_or("128 MiB (default)".into(), format_size);
    format!("{} file, 1 namenode + {DATANODES} datanodes, {blocks} blocks, namenode {streams}", format_size(opts.size))
}

/// The phase: its test file made, measured, removed.
pub fn run(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Repair> {
    step(&format!("repair phase: making the {} test file", format_size(opts.size)));
    let src = root.join("repair-test-file");
    raw::make_test_file(&src, opts.size)?;
    let settings = Settings { streams: opts.repair_streams, block_size: opts.repair_block_size };
    let r = measure(bins, root, &src, &settings)?;
    std::fs::remove_file(&src).context("remove the repair test file")?;
    Ok(r)
}

fn measure(bins: Binaries, root: &Path, src: &Path, settings: &Settings) -> anyhow::Result<Repair> {
    let started = Instant::now();
    let step = |what: &str| eprintln!("hdfs-bench repair [{:>6.1}s] {what}", started.elapsed().as_secs_f64());
    let size = std::fs::metadata(src).with_context(|| format!("stat {}", src.display()))?.len();
    let nn_args: Vec<String> =
        settings.streams.map(|n| vec!["--max-replication-streams".into(), n.to_string()]).unwrap_or_default();
    let allowed_streams = (DATANODES as u32 - 1) * settings.streams.unwrap_or(DEFAULT_STREAMS);
    step(&format!("starting 1 namenode and {DATANODES} datanodes {}", nn_args.join(" ")));
    let mut cluster = Cluster::start(bins, &root.join("repair"), DATANODES, &nn_args)?;
    let log = cluster.client_log();
    run_watched("hdfs mkdir", cluster.hdfs(["mkdir", "-p", "/bench"], &log)?, &log)?;

    step("put at replication 1 (timed), then delete it");
    let put_r1 = put(&cluster, src, REMOTE_R1, 1, settings.block_size)?;
    let blocks = cluster.probe.blocks(REMOTE_R1)?.len();
    run_watched("hdfs rm", cluster.hdfs(["rm", REMOTE_R1], &log)?, &log)?;
    // The namenode forgets the replicas at once; the datanodes delete them when their next
    // heartbeat reply says so. Wait for the disk space, so the next put does not share the disk
    // with the deletion.
    poll_until("the datanodes to delete the replication-1 file", SETTLE_TIMEOUT, POLL, || {
        cluster.check_running()?;
        let mut used = 0;
        for d in &cluster.datanodes {
            used += raw::allocated_bytes(&d.dir)?;
        }
        Ok(used < size / 10)
    })?;

    step("put at replication 3, until fsck is HEALTHY");
    let put_r3 = put(&cluster, src, REMOTE_R3, 3, settings.block_size)?;
    poll_until("fsck HEALTHY after the replication-3 put", SETTLE_TIMEOUT, POLL, || {
        cluster.check_running()?;
        Ok(fully_replicated(&cluster.probe.fsck("/", false)?))
    })?;

    // The victim: the datanode the report lists with blocks, holding the most bytes.
    let report = cluster.probe.datanode_report()?;
    let fsck = cluster.probe.fsck("/", true)?;
    let held = |addr: &str| -> (usize, u64) {
        let mine = fsck
            .files_detail
            .iter()
            .flat_map(|f| &f.blocks)
            .filter(|b| b.locations.iter().any(|l| l.address == addr))
            .map(|b| b.block.map_or(0, |e| e.num_bytes));
        (mine.clone().count(), mine.sum())
    };
    let mut victim = None;
    for (i, d) in cluster.datanodes.iter().enumerate() {
        let listed = report.iter().find(|r| r.datanode.as_ref().is_some_and(|n| n.address == d.addr));
        if listed.is_none_or(|r| r.blocks == 0) {
            continue;
        }
        let (n, bytes) = held(&d.addr);
        if victim.is_none_or(|(_, _, best)| bytes > best) {
            victim = Some((i, n, bytes));
        }
    }
    let Some((victim, held_blocks, held_bytes)) = victim else {
        bail!("no datanode holds a replica after the replication-3 put");
    };
    let spread: Vec<String> = cluster.datanodes.iter().map(|d| held(&d.addr).0.to_string()).collect();
    let spread = spread.join("/");
    let addr = cluster.datanodes[victim].addr.clone();

    // The baseline just before the kill, so the disk (and the host's cache behind it, which
    // makes this VM's "cold" reads and fsyncs several times faster from one minute to the
    // next: docs/BENCHMARKS.md) is in the state the copies will find it in.
    step("raw baseline: the test file read cold and written to a new file, fsynced");
    let copied = root.join("repair-raw-copy");
    let raw_copy = raw::copy_cold(src, &copied)?;
    std::fs::remove_file(&copied).with_context(|| format!("remove {}", copied.display()))?;
    step(&format!(
        "blocks per datanode {spread}; dropping every datanode's files from the page cache; killing datanode-{victim}"
    ));
    for d in &cluster.datanodes {
        raw::evict_tree(&d.dir)?;
    }
    let load_at_kill = load_average();
    let kill_wall = SystemTime::now();
    let kill = Instant::now();
    cluster.kill_datanode(victim)?;
    let mut dead_at = None;
    poll_until(&format!("the namenode to declare datanode-{victim} dead"), DETECT_TIMEOUT, POLL, || {
        cluster.check_running()?;
        let report = cluster.probe.datanode_report()?;
        let dead = state_of(&report, &addr) == Some(pb::DatanodeState::Dead);
        if dead {
            dead_at = Some(Instant::now());
        }
        Ok(dead)
    })?;
    let dead = dead_at.context("no time of death")?;
    let detect = dead - kill;

    step(&format!("datanode-{victim} dead after {:.1} s; waiting until fsck is HEALTHY", detect.as_secs_f64()));
    let (mut repair, mut first_copy, mut max_in_flight) = (None, None, 0);
    while dead.elapsed() < REPAIR_TIMEOUT {
        cluster.check_running()?;
        let fsck = cluster.probe.fsck("/", false)?;
        let at = dead.elapsed();
        if fully_replicated(&fsck) {
            repair = Some(at);
            break;
        }
        // Each copy counts at its source and at its one target (each block lost one replica).
        let in_flight = cluster.probe.datanode_report()?.iter().map(|d| d.copies_in_flight).sum::<u64>() / 2;
        if in_flight > 0 && first_copy.is_none() {
            first_copy = Some(at);
        }
        max_in_flight = max_in_flight.max(in_flight);
        std::thread::sleep(POLL.saturating_sub(dead.elapsed() - at));
    }
    if repair.is_some() {
        // Three replicas of every block again, none of them on the dead node.
        for f in &cluster.probe.fsck("/", true)?.files_detail {
            for b in &f.blocks {
                if b.locations.len() < 3 || b.locations.iter().any(|l| l.address == addr) {
                    bail!("after the repair, a block of {} has replicas on {:?}", f.path, b.locations);
                }
            }
        }
    }
    // The source logs "replica copied" once the target has acknowledged, about when the target's
    // report reaches the namenode: give the last such line time to be written.
    std::thread::sleep(Duration::from_millis(500));
    let logs: Vec<&Path> = (0..cluster.datanodes.len()).map(|i| cluster.datanode_log(i)).collect();
    let timeline = Timeline::read(kill_wall, cluster.namenode_log(), &logs);
    step(&format!("repair phase done; {}", timeline.describe()));
    Ok(Repair {
        size,
        raw_copy,
        allowed_streams,
        put_r1,
        put_r3,
        blocks,
        victim,
        held_blocks,
        held_bytes,
        spread,
        load_at_kill,
        detect,
        repair,
        first_copy,
        max_in_flight,
        timeline,
    })
}

impl Repair {
    /// The repair issue's figures: detection, repair time, and the repair's rate against a put at
    /// replication 1 on the same cluster (target: at least half).
    pub fn rows(&self) -> Vec<Row> {
        let r = self;
        let s = format_size(r.size);
        let put_r1 = mb_s(r.size, r.put_r1);
        let dn = format!("datanode-{}", r.victim);
        let repair_rate = r.repair.map(|d| mb_s(r.held_bytes, d));
        let mut rate = Row::new(
            "repair_mb_s",
            format!("repair rate: bytes {dn} held / repair time, against put at replication 1"),
            Unit::MbPerS,
            repair_rate,
        )
        .against(put_r1)
        .target(Target::MinShareOfBaseline(0.5));
        let mut repair = Row::new(
            "repair_s",
            format!("repair: {dn} shown dead until fsck HEALTHY, 0 under-replicated"),
            Unit::Seconds,
            r.repair.map(|d| d.as_secs_f64()),
        )
        .note(format!("load average at the kill {}", r.load_at_kill));
        let mut first = Row::new(
            "repair_first_copy_s",
            format!("repair: {dn} shown dead until the first copy was scheduled"),
            Unit::Seconds,
            r.first_copy.map(|d| d.as_secs_f64()),
        );
        if r.first_copy.is_none() {
            first = first.note("no copy in flight at any poll");
        }
        // What the stream limits allow: each copy is one stream, as fast as a put at replication 1
        // (one pipeline of one node); the namenode runs `allowed_streams` at once; and every source
        // and target shares this machine's one disk, so together they never copy faster than it
        // reads a file cold and writes it back fsynced.
        let raw_copy = mb_s(r.size, r.raw_copy);
        let allowed = (r.allowed_streams as f64 * put_r1).min(raw_copy);
        let mut vs_limit = Row::new(
            "repair_vs_stream_limit_mb_s",
            format!(
                "repair rate against what the stream limits allow: min({} streams x put r1, raw cold copy)",
                r.allowed_streams
            ),
            Unit::MbPerS,
            repair_rate,
        )
        .against(allowed)
        .target(Target::MinShareOfBaseline(0.8));
        if r.repair.is_none() {
            let unhealthy = format!("not HEALTHY after {REPAIR_TIMEOUT:?}");
            rate = rate.note(&unhealthy);
            repair = repair.note(&unhealthy);
            vs_limit = vs_limit.note(unhealthy);
        }
        let mut rows = vec![
            Row::new(
                "repair_raw_copy_cold_mb_s",
                format!("raw: {s} read cold, written to a new file, fsynced"),
                Unit::MbPerS,
                Some(raw_copy),
            ),
            Row::new("repair_put_r1_mb_s", format!("put {s}, replication 1, 4 datanodes"), Unit::MbPerS, Some(put_r1)),
            Row::new(
                "repair_put_r3_mb_s",
                format!("put {s}, replication 3, 4 datanodes"),
                Unit::MbPerS,
                Some(mb_s(r.size, r.put_r3)),
            ),
            Row::new(
                "repair_held_mib",
                format!("{dn} killed (SIGKILL), holding replicas of"),
                Unit::Mib,
                Some(r.held_bytes as f64 / MIB),
            )
            .note(format!("{} of {} blocks; blocks per datanode {}", r.held_blocks, r.blocks, r.spread)),
            Row::new(
                "repair_detect_s",
                format!("detect: SIGKILL until the namenode reports {dn} dead"),
                Unit::Seconds,
                Some(r.detect.as_secs_f64()),
            )
            .note(format!("--dead-after {DEAD_AFTER}")),
            first,
            Row::new(
                "repair_max_copies_in_flight",
                "repair: most copies in flight at one poll",
                Unit::Count,
                Some(r.max_in_flight as f64),
            ),
            repair,
            rate,
            vs_limit,
        ];
        // Where the time went, from the logs, in seconds after the kill.
        let t = &r.timeline;
        let since_kill = |key: &str, what: String, at: Option<f64>| {
            let row = Row::new(key, format!("timeline: {what}, after the kill"), Unit::Seconds, at);
            if at.is_none() { row.note("not in the logs") } else { row }
        };
        rows.extend([
            since_kill("repair_log_declared_dead_s", "namenode logs it declared dead".into(), t.declared_dead),
            since_kill("repair_log_first_scheduled_s", "first copy scheduled".into(), t.scheduled.first().copied())
                .note(format!("{} copies in {} rounds", t.scheduled.len(), t.rounds())),
            since_kill("repair_log_last_scheduled_s", "last copy scheduled".into(), t.scheduled.last().copied()),
            since_kill(
                "repair_log_first_started_s",
                "first copy started at its source".into(),
                t.started.first().copied(),
            ),
            since_kill("repair_log_last_copied_s", "last replica copied".into(), t.copied.last().copied()),
            since_kill(
                "repair_healthy_s",
                "fsck HEALTHY (detect + repair)".into(),
                r.repair.map(|d| (r.detect + d).as_secs_f64()),
            ),
        ]);
        rows
    }
}

/// `hdfs put -f --replication R [--block-size B] LOCAL REMOTE`, timed from spawn to exit; then
/// every block must list `replication` replicas.
fn put(
    cluster: &Cluster,
    src: &Path,
    remote: &str,
    replication: u32,
    block_size: Option<u64>,
) -> anyhow::Result<Duration> {
    let log = cluster.client_log();
    let mut args: Vec<OsString> =
        vec!["put".into(), "-f".into(), "--replication".into(), replication.to_string().into()];
    if let Some(b) = block_size {
        args.extend(["--block-size".into(), b.to_string().into()]);
    }
    args.extend([src.as_os_str().to_owned(), remote.into()]);
    let put = run_watched("hdfs put", cluster.hdfs(&args, &log)?, &log)?;
    check_replicas(cluster, remote, replication as usize)?;
    Ok(put.elapsed)
}

/// fsck says HEALTHY, with no block under-replicated or missing.
fn fully_replicated(f: &pb::FsckResponse) -> bool {
    f.healthy && f.under_replicated == 0 && f.missing == 0
}

fn state_of(report: &[pb::DatanodeReport], addr: &str) -> Option<pb::DatanodeState> {
    report
        .iter()
        .find(|r| r.datanode.as_ref().is_some_and(|n| n.address == addr))
        .and_then(|r| pb::DatanodeState::try_from(r.state).ok())
}
