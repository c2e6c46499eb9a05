//! `hdfs-bench`: measures a real local cluster against the raw limits of the machine it runs on.
//!
//! It exists because throughput figures on these VMs swing several-fold from run to run
//! (docs/BENCHMARKS.md), so a figure alone says little; a ratio to what the same disk and the
//! same loopback did minutes earlier, on the same filesystem, says how much of the machine the
//! system uses. One run:
//!
//! 1. baselines: the test file written as three fsynced copies (what three replicas cost the
//!    disk), one copy read back cold, one copy read cold into a new fsynced file (what `get`
//!    asks of the disk), and one copy pushed through a loopback TCP socket;
//! 2. a cluster of real processes (1 namenode, 3 datanodes, found next to this binary);
//! 3. `hdfs put` at replication 3 and a cold `hdfs get` (and `cat` to /dev/null) of the test
//!    file, then of a bigger file while the client's peak memory is sampled;
//! 4. the datanodes' peak memory and disk space after holding the big file;
//! 5. one datanode stopped, declared dead, restarted: the time until the namenode hands it to
//!    readers again for every block of the big file and it serves a read.
//!
//! That is the `main` phase. The `repair` phase (see `repair.rs`) then starts a cluster of its
//! own with four datanodes, puts the test file at replication 1 (timed) and at replication 3,
//! kills one datanode, and measures how long the namenode takes to declare it dead and then how
//! long until every block has three replicas again: the repair's rate against the put's.
//! `--phases` runs either alone.
//!
//! docs/BENCHMARKS.md says exactly what each figure is and records the results.
//!
//! Targets are those of the project's foundation issue (main) and repair issue (repair). A
//! missed target is a measurement, not a failure: the exit status is non-zero only if the
//! benchmark itself could not run.

mod cluster;
mod options;
mod phases;
mod probe;
mod procs;
mod raw;
mod repair;
mod report;
mod timeline;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use hdfs_proto::units::format_size;

use cluster::{Binaries, Cluster, DEAD_AFTER, HEARTBEAT};
use options::{Options, USAGE};
use phases::{Baselines, RESTART_TIMEOUT, Restart, Transfer, mb_s};
use procs::{peak_rss, run_watched};
use repair::{REPAIR_TIMEOUT, Repair};
use report::{MIB, Report, Row, Target, Unit};

const SMALL_REMOTE: &str = "/bench/file";
const BIG_REMOTE: &str = "/bench/big";

fn main() -> ExitCode {
    let opts = match options::parse(std::env::args_os().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hdfs-bench: {e:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hdfs-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: &Options) -> anyhow::Result<()> {
    let bins = Binaries::next_to_self()?;
    let work = WorkDir::create(opts)?;
    let load_before = load_average();
    let measured = measure(opts, bins, work.path())?;
    let report = Report {
        phases: opts.phases().iter().map(|p| p.to_string()).collect(),
        size_bytes: opts.size,
        big_size_bytes: opts.big_size,
        work_dir: work.path().display().to_string(),
        unix_time: SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        load_average_before: load_before,
        load_average_after: load_average(),
        rows: rows(opts, &measured),
    };
    println!("\nhdfs-bench: MB = 10^6 bytes; datanodes heartbeat every {HEARTBEAT}, dead after {DEAD_AFTER}");
    if opts.main {
        println!(
            "main: {} and {} files, 1 namenode + 3 datanodes, replication 3",
            format_size(opts.size),
            format_size(opts.big_size)
        );
    }
    if opts.repair {
        println!("repair: {}", repair_setup(opts));
    }
    println!("load average before: {}, after: {}\n", report.load_average_before, report.load_average_after);
    print!("{}", report.table());
    if let Some(path) = &opts.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n").with_context(|| format!("write {}", path.display()))?;
    }
    work.finish();
    Ok(())
}

/// Everything measured in one run.
struct Measured {
    main: Option<MainPhase>,
    repair: Option<Repair>,
}

/// What the main phase measured.
struct MainPhase {
    base: Baselines,
    small: Transfer,
    big: Transfer,
    /// Peak RSS of each datanode after the big put and get (`None`: it was not running).
    datanode_peaks: Vec<Option<u64>>,
    /// Disk space allocated under each datanode's data dir after the big put.
    disk: Vec<u64>,
    restart: Restart,
}

fn measure(opts: &Options, bins: Binaries, root: &Path) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let step = |what: &str| eprintln!("hdfs-bench [{:>6.1}s] {what}", started.elapsed().as_secs_f64());
    let main = if opts.main { Some(measure_main(opts, bins.clone(), root, &step)?) } else { None };
    let repair = if opts.repair {
        step(&format!("repair phase: making the {} test file", format_size(opts.size)));
        let src = root.join("repair-test-file");
        raw::make_test_file(&src, opts.size)?;
        let settings = repair::Settings { streams: opts.repair_streams, block_size: opts.repair_block_size };
        let r = repair::run(bins, root, &src, &settings)?;
        std::fs::remove_file(&src).context("remove the repair test file")?;
        Some(r)
    } else {
        None
    };
    step("done");
    Ok(Measured { main, repair })
}

fn measure_main(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<MainPhase> {
    step(&format!("making the {} test file in {}", format_size(opts.size), root.display()));
    let src = root.join("test-file");
    raw::make_test_file(&src, opts.size)?;
    step("raw baselines: 3 fsynced copies, a cold read, loopback TCP");
    let base = phases::baselines(root, &src, opts.size)?;

    step("starting 1 namenode and 3 datanodes");
    let mut cluster = Cluster::start(bins, root, 3, &[])?;
    let log = cluster.client_log();
    run_watched("hdfs mkdir", cluster.hdfs(["mkdir", "-p", "/bench"], &log)?, &log)?;
    step(&format!("put, get and cat of {}", format_size(opts.size)));
    let small = phases::transfer(&cluster, &src, SMALL_REMOTE, root, true)?;
    std::fs::remove_file(&src).context("remove the test file")?;

    step(&format!("making the {} test file", format_size(opts.big_size)));
    let big_src = root.join("big-test-file");
    raw::make_test_file(&big_src, opts.big_size)?;
    step(&format!("put and get of {}", format_size(opts.big_size)));
    let big = phases::transfer(&cluster, &big_src, BIG_REMOTE, root, false)?;
    std::fs::remove_file(&big_src).context("remove the big test file")?;
    let datanode_peaks = cluster.datanodes.iter().map(|d| d.pid().and_then(peak_rss)).collect();
    let disk = cluster.datanodes.iter().map(|d| raw::allocated_bytes(&d.dir)).collect::<anyhow::Result<_>>()?;

    step("restarting datanode-0 (stop, wait until declared dead, start, wait until it serves)");
    let restart = phases::restart(&mut cluster, BIG_REMOTE)?;
    drop(cluster);
    Ok(MainPhase { base, small, big, datanode_peaks, disk, restart })
}

/// The repair cluster's settings, as the table states them.
fn repair_setup(opts: &Options) -> String {
    let streams = match opts.repair_streams {
        Some(n) => format!("--max-replication-streams {n}"),
        None => "default replication settings (2 streams per source, +2 for last replicas)".into(),
    };
    let blocks = opts.repair_block_size.map_or("128 MiB (default)".into(), format_size);
    format!(
        "{} file, 1 namenode + {} datanodes, {blocks} blocks, namenode {streams}",
        format_size(opts.size),
        repair::DATANODES
    )
}

/// The table's rows, with the foundation and repair issues' targets.
fn rows(opts: &Options, m: &Measured) -> Vec<Row> {
    let mut rows = m.main.as_ref().map(|main| main_rows(opts, main)).unwrap_or_default();
    if let Some(r) = &m.repair {
        rows.extend(repair_rows(r));
    }
    rows
}

/// The repair issue's figures: detection, repair time, and the repair's rate against a put at
/// replication 1 on the same cluster (target: at least half).
fn repair_rows(r: &Repair) -> Vec<Row> {
    let s = format_size(r.size);
    let put_r1 = mb_s(r.size, r.put_r1);
    let dn = format!("datanode-{}", r.victim);
    let mut rate = Row::new(
        "repair_mb_s",
        format!("repair rate: bytes {dn} held / repair time, against put at replication 1"),
        Unit::MbPerS,
        r.repair.map(|d| mb_s(r.held_bytes, d)),
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
    if r.repair.is_none() {
        rate = rate.note(format!("not HEALTHY after {REPAIR_TIMEOUT:?}"));
        repair = repair.note(format!("not HEALTHY after {REPAIR_TIMEOUT:?}"));
    }
    let mut first = Row::new(
        "repair_first_copy_s",
        format!("repair: {dn} shown dead until the first copy was scheduled"),
        Unit::Seconds,
        r.first_copy.map(|d| d.as_secs_f64()),
    );
    if r.first_copy.is_none() {
        first = first.note("no copy in flight at any poll");
    }
    let mut rows = vec![
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
        since_kill("repair_log_first_started_s", "first copy started at its source".into(), t.started.first().copied()),
        since_kill("repair_log_last_copied_s", "last replica copied".into(), t.copied.last().copied()),
        since_kill(
            "repair_healthy_s",
            "fsck HEALTHY (detect + repair)".into(),
            r.repair.map(|d| (r.detect + d).as_secs_f64()),
        ),
    ]);
    rows
}

/// The foundation issue's figures.
fn main_rows(opts: &Options, m: &MainPhase) -> Vec<Row> {
    let MainPhase { base, small, big, datanode_peaks, disk, restart } = m;
    let held = (opts.size + opts.big_size) as f64;
    let (s, b) = (format_size(opts.size), format_size(opts.big_size));
    let mut rows = vec![
        Row::new(
            "raw_write_3_copies_mb_s",
            format!("raw: {s} written as 3 fsynced copies (MB/s of one copy)"),
            Unit::MbPerS,
            Some(base.write),
        ),
        Row::new("raw_read_cold_mb_s", format!("raw: one {s} copy read cold"), Unit::MbPerS, Some(base.read)),
        Row::new(
            "raw_copy_cold_mb_s",
            format!("raw: one {s} copy read cold, written to a new file, fsynced"),
            Unit::MbPerS,
            Some(base.copy),
        ),
        Row::new(
            "loopback_tcp_mb_s",
            format!("raw: {s} through one loopback TCP stream"),
            Unit::MbPerS,
            Some(base.tcp),
        ),
        Row::new(
            "put_mb_s",
            format!("put {s}, replication 3"),
            Unit::MbPerS,
            Some(mb_s(small.size, small.put.elapsed)),
        )
        .against(base.write)
        .target(Target::MinShareOfBaseline(0.35)),
        Row::new(
            "get_mb_s",
            format!("get {s}, cold, output fsynced"),
            Unit::MbPerS,
            Some(mb_s(small.size, small.get.elapsed)),
        )
        .against(base.read)
        .target(Target::MinShareOfBaseline(0.50)),
        Row::new(
            "get_vs_raw_copy_mb_s",
            format!("get {s}, the same, against the raw cold copy"),
            Unit::MbPerS,
            Some(mb_s(small.size, small.get.elapsed)),
        )
        .against(base.copy),
    ];
    if let Some(cat) = small.cat {
        rows.push(
            Row::new(
                "cat_mb_s",
                format!("cat {s} > /dev/null, cold"),
                Unit::MbPerS,
                Some(mb_s(small.size, cat.elapsed)),
            )
            .against(base.read),
        );
    }
    rows.extend([
        Row::new(
            "big_put_mb_s",
            format!("put {b}, replication 3"),
            Unit::MbPerS,
            Some(mb_s(big.size, big.put.elapsed)),
        )
        .against(base.write),
        Row::new(
            "big_get_mb_s",
            format!("get {b}, cold, output fsynced"),
            Unit::MbPerS,
            Some(mb_s(big.size, big.get.elapsed)),
        )
        .against(base.read),
        Row::new(
            "client_peak_rss_put_mib",
            format!("client peak RSS, put {b}"),
            Unit::Mib,
            Some(big.put.peak_rss as f64 / MIB),
        )
        .target(Target::Below(256.0)),
        Row::new(
            "client_peak_rss_get_mib",
            format!("client peak RSS, get {b}"),
            Unit::Mib,
            Some(big.get.peak_rss as f64 / MIB),
        )
        .target(Target::Below(256.0)),
    ]);
    for (i, peak) in datanode_peaks.iter().enumerate() {
        rows.push(
            Row::new(
                format!("datanode_{i}_peak_rss_mib"),
                format!("datanode-{i} peak RSS, all of the above"),
                Unit::Mib,
                peak.map(|p| p as f64 / MIB),
            )
            .target(Target::Below(512.0)),
        );
    }
    for (i, &used) in disk.iter().enumerate() {
        rows.push(
            Row::new(
                format!("datanode_{i}_disk_ratio"),
                format!("datanode-{i} disk used / replica bytes"),
                Unit::Ratio,
                Some(used as f64 / held),
            )
            .target(Target::AtMost(1.25))
            .note(format!("{} for {}", format_size(used), format_size(held as u64))),
        );
    }
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    let serving = restart.located.zip(restart.served).map(|(l, s)| l.max(s));
    let mut total = Row::new(
        "datanode_restart_s",
        format!("datanode-0 ({b} held) restart until it serves reads"),
        Unit::Seconds,
        secs(serving),
    )
    .target(Target::AtMost(5.0));
    if serving.is_none() {
        total = total.note(format!("not serving after {RESTART_TIMEOUT:?}"));
    }
    rows.extend([
        Row::new(
            "datanode_stop_s",
            "datanode-0 stop (SIGTERM to exit)",
            Unit::Seconds,
            Some(restart.stop.as_secs_f64()),
        ),
        Row::new(
            "datanode_restart_located_s",
            "restart: until the namenode lists it for every block",
            Unit::Seconds,
            secs(restart.located),
        ),
        Row::new("datanode_restart_served_s", "restart: until it served a read", Unit::Seconds, secs(restart.served)),
        total,
    ]);
    rows
}

pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The working directory: removed at the end (also on error) unless `--keep`.
enum WorkDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl WorkDir {
    fn create(opts: &Options) -> anyhow::Result<Self> {
        let parent = opts.dir.clone().unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&parent).with_context(|| format!("create {}", parent.display()))?;
        let dir = tempfile::Builder::new()
            .prefix("hdfs-bench-")
            .tempdir_in(&parent)
            .with_context(|| format!("create a working directory in {}", parent.display()))?;
        Ok(if opts.keep { WorkDir::Kept(dir.keep()) } else { WorkDir::Temp(dir) })
    }

    fn path(&self) -> &Path {
        match self {
            WorkDir::Temp(d) => d.path(),
            WorkDir::Kept(p) => p,
        }
    }

    fn finish(self) {
        if let WorkDir::Kept(p) = self {
            eprintln!("hdfs-bench: kept {} (data and logs)", p.display());
        }
    }
}
