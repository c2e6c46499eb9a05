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
mod load;
mod meta;
mod options;
mod phases;
mod probe;
mod procs;
mod raw;
mod repair;
mod report;
mod small;
mod timeline;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use hdfs_proto::units::format_size;

use cluster::{Binaries, Cluster, DEAD_AFTER, HEARTBEAT};
use options::{Options, USAGE};
use phases::{Baselines, Concurrent, RESTART_TIMEOUT, Restart, Transfer, mb_s};
use procs::{peak_rss, run_watched};
use repair::{REPAIR_TIMEOUT, Repair};
use report::{MIB, Report, Row, Target, Unit};

const SMALL_REMOTE: &str = "/bench/file";
const BIG_REMOTE: &str = "/bench/big";
const R1_REMOTE: &str = "/bench/file-r1";
const BIG_R1_REMOTE: &str = "/bench/big-r1";
/// Clients of the concurrent streaming figures.
const CONCURRENT: usize = 4;

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
    if opts.meta {
        println!(
            "meta: 1 namenode + 3 tiny datanodes in the benchmark, {} clients, {} single-block files at replication 3, {} files per directory",
            opts.clients,
            opts.meta_files,
            meta::FILES_PER_DIR
        );
    }
    if opts.small {
        println!(
            "small: 1 namenode + 3 datanodes, {} clients, {} files of {} at replication 3",
            opts.clients,
            opts.small_files,
            format_size(opts.small_size)
        );
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
    meta: Option<meta::Meta>,
    small: Option<small::Small>,
}

/// What the main phase measured.
struct MainPhase {
    base: Baselines,
    small: Transfer,
    r1: Transfer,
    concurrent_r3: Concurrent,
    concurrent_r1: Concurrent,
    big: Transfer,
    big_r1: Transfer,
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
        let r = repair::run(bins.clone(), root, &src, &settings)?;
        std::fs::remove_file(&src).context("remove the repair test file")?;
        Some(r)
    } else {
        None
    };
    let meta = if opts.meta {
        let settings = meta::Settings { files: opts.meta_files, ops: opts.meta_ops, clients: opts.clients };
        Some(meta::run(bins.clone(), root, &settings, &step)?)
    } else {
        None
    };
    let small = if opts.small {
        let settings = small::Settings { files: opts.small_files, size: opts.small_size, clients: opts.clients };
        Some(small::run(bins, root, &settings, &step)?)
    } else {
        None
    };
    step("done");
    Ok(Measured { main, repair, meta, small })
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
    step(&format!("put, get and cat of {}, replication 3", format_size(opts.size)));
    let small = phases::transfer(&cluster, &src, SMALL_REMOTE, 3, root, true)?;
    step(&format!("put and get of {}, replication 1", format_size(opts.size)));
    let r1 = phases::transfer(&cluster, &src, R1_REMOTE, 1, root, false)?;
    run_watched("hdfs rm", cluster.hdfs(["rm", R1_REMOTE], &log)?, &log)?;

    // One client moving the big file, then CONCURRENT clients moving the test file each: with
    // the defaults both move 4 GiB, so the disk (and the host's cache behind this VM's disk,
    // which flatters 1 GiB more than 4 GiB) sees the same amount either way.
    step(&format!("making the {} test file", format_size(opts.big_size)));
    let big_src = root.join("big-test-file");
    raw::make_test_file(&big_src, opts.big_size)?;
    step(&format!("put and get of {}, replication 3", format_size(opts.big_size)));
    let big = phases::transfer(&cluster, &big_src, BIG_REMOTE, 3, root, false)?;
    // Each datanode now holds one replica of the test file and one of the big file.
    let disk = cluster.datanodes.iter().map(|d| raw::allocated_bytes(&d.dir)).collect::<anyhow::Result<_>>()?;
    step(&format!("{CONCURRENT} concurrent puts, then gets, of {}, replication 3", format_size(opts.size)));
    let concurrent_r3 = phases::concurrent(&cluster, &src, CONCURRENT, 3, root)?;
    step(&format!("put and get of {}, replication 1", format_size(opts.big_size)));
    let big_r1 = phases::transfer(&cluster, &big_src, BIG_R1_REMOTE, 1, root, false)?;
    run_watched("hdfs rm", cluster.hdfs(["rm", BIG_R1_REMOTE], &log)?, &log)?;
    step(&format!("{CONCURRENT} concurrent puts, then gets, of {}, replication 1", format_size(opts.size)));
    let concurrent_r1 = phases::concurrent(&cluster, &src, CONCURRENT, 1, root)?;
    std::fs::remove_file(&src).context("remove the test file")?;
    std::fs::remove_file(&big_src).context("remove the big test file")?;
    let datanode_peaks = cluster.datanodes.iter().map(|d| d.pid().and_then(peak_rss)).collect();

    step("restarting datanode-0 (stop, wait until declared dead, start, wait until it serves)");
    let restart = phases::restart(&mut cluster, BIG_REMOTE)?;
    drop(cluster);
    Ok(MainPhase { base, small, r1, concurrent_r3, concurrent_r1, big, big_r1, datanode_peaks, disk, restart })
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
    if let Some(meta) = &m.meta {
        rows.extend(meta_rows(meta));
    }
    if let Some(small) = &m.small {
        rows.extend(small_rows(opts, small));
    }
    rows
}

/// A closed-loop load's rate, with its latencies in the note.
fn rate_row(key: &str, metric: String, r: &load::Rate) -> Row {
    Row::new(key, metric, Unit::OpsPerS, Some(r.per_sec())).note(format!(
        "{} ops in {:.1} s, p50 {:.2} ms, p99 {:.2} ms",
        r.ops,
        r.elapsed.as_secs_f64(),
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3
    ))
}

/// The performance issue's metadata figures.
fn meta_rows(m: &meta::Meta) -> Vec<Row> {
    let per_file = m.rss_full.saturating_sub(m.rss_empty) as f64 / m.files as f64;
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    let mut safe = Row::new(
        "meta_restart_s",
        format!("namenode restart with {} files: start until out of safe mode", m.files),
        Unit::Seconds,
        secs(m.restart.out_of_safe_mode),
    )
    .target(Target::AtMost(10.0))
    .note("3 tiny datanodes re-register and send full reports; safe-mode extension 0 s");
    if m.restart.out_of_safe_mode.is_none() {
        safe = safe.note("still in safe mode at the timeout");
    }
    vec![
        rate_row("meta_mkdirs_ops", format!("mkdirs ({} directories)", m.dirs), &m.mkdirs),
        rate_row(
            "meta_single_block_file_ops",
            "single-block file: create, add_block, 3 replicas reported, complete".into(),
            &m.populate,
        ),
        rate_row("meta_create_close_ops", "create + close of an empty file, both durable".into(), &m.create_close)
            .target(Target::AtLeast(5000.0)),
        rate_row("meta_stat_ops", format!("stat of a file among {}", m.files), &m.stat)
            .target(Target::AtLeast(20000.0)),
        rate_row("meta_list_ops", format!("list of a directory of {} files", meta::FILES_PER_DIR), &m.list)
            .target(Target::AtLeast(20000.0)),
        rate_row("meta_rename_ops", "rename of a file, durable".into(), &m.rename),
        rate_row("meta_delete_ops", "delete of a file, durable".into(), &m.delete),
        Row::new(
            "meta_namenode_bytes_per_file",
            format!("namenode resident memory per file at {} single-block files", m.files),
            Unit::Bytes,
            Some(per_file),
        )
        .target(Target::AtMost(300.0))
        .note(format!(
            "RSS {} empty, {} full; 3 replicas per block; directories included",
            format_size(m.rss_empty),
            format_size(m.rss_full)
        )),
        Row::new(
            "meta_stop_s",
            "namenode stop (SIGTERM, checkpoint, exit)",
            Unit::Seconds,
            Some(m.restart.stop.as_secs_f64()),
        ),
        Row::new(
            "meta_restart_answering_s",
            "namenode restart: start until it answers a stat",
            Unit::Seconds,
            Some(m.restart.answering.as_secs_f64()),
        ),
        safe,
    ]
}

/// The performance issue's small-file figures.
fn small_rows(opts: &Options, s: &small::Small) -> Vec<Row> {
    let size = format_size(opts.small_size);
    vec![
        rate_row("small_write_ops", format!("small files: write of {size}, replication 3"), &s.write)
            .target(Target::AtLeast(3000.0)),
        rate_row("small_read_ops", format!("small files: read of {size}, checked"), &s.read)
            .target(Target::AtLeast(10000.0)),
    ]
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
        r.repair.map(|d| mb_s(r.held_bytes, d)),
    )
    .against(allowed)
    .target(Target::MinShareOfBaseline(0.8));
    if r.repair.is_none() {
        vs_limit = vs_limit.note(format!("not HEALTHY after {REPAIR_TIMEOUT:?}"));
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
    let MainPhase { base, small, r1, concurrent_r3, concurrent_r1, big, big_r1, datanode_peaks, disk, restart } = m;
    let held = (opts.size + opts.big_size) as f64;
    let (s, b) = (format_size(opts.size), format_size(opts.big_size));
    let mut rows = vec![
        Row::new(
            "raw_write_3_copies_mb_s",
            format!("raw: {s} written as 3 fsynced copies (MB/s of one copy)"),
            Unit::MbPerS,
            Some(base.write),
        ),
        Row::new(
            "raw_write_1_copy_mb_s",
            format!("raw: {s} written as 1 fsynced copy"),
            Unit::MbPerS,
            Some(base.write1),
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
        .target(Target::MinShareOfBaseline(0.60)),
        Row::new(
            "get_mb_s",
            format!("get {s}, cold, output fsynced, against the raw cold read + fsynced write"),
            Unit::MbPerS,
            Some(mb_s(small.size, small.get.elapsed)),
        )
        .against(base.copy)
        .target(Target::MinShareOfBaseline(0.80)),
        Row::new(
            "get_vs_raw_read_mb_s",
            format!("get {s}, the same, against the raw cold read alone"),
            Unit::MbPerS,
            Some(mb_s(small.size, small.get.elapsed)),
        )
        .against(base.read),
    ];
    if let Some(cat) = small.cat {
        rows.push(
            Row::new(
                "cat_mb_s",
                format!("cat {s} > /dev/null, cold, against the raw cold read"),
                Unit::MbPerS,
                Some(mb_s(small.size, cat.elapsed)),
            )
            .against(base.read)
            .target(Target::MinShareOfBaseline(0.80)),
        );
    }
    let single_put_r1 = mb_s(r1.size, r1.put.elapsed);
    let single_get_r1 = mb_s(r1.size, r1.get.elapsed);
    rows.extend([
        Row::new("put_r1_mb_s", format!("put {s}, replication 1"), Unit::MbPerS, Some(single_put_r1))
            .against(base.write1)
            .target(Target::MinShareOfBaseline(0.60)),
        Row::new(
            "get_r1_mb_s",
            format!("get {s} (replication 1), cold, output fsynced, against the raw cold read + fsynced write"),
            Unit::MbPerS,
            Some(single_get_r1),
        )
        .against(base.copy)
        .target(Target::MinShareOfBaseline(0.80)),
    ]);
    for (c, r, one) in [(concurrent_r3, 3, big), (concurrent_r1, 1, big_r1)] {
        let total = c.clients as u64 * opts.size;
        let n = c.clients;
        let (put1, get1) = (mb_s(one.size, one.put.elapsed), mb_s(one.size, one.get.elapsed));
        rows.extend([
            Row::new(
                format!("big_put_r{r}_mb_s"),
                format!("put {b}, replication {r}, one client"),
                Unit::MbPerS,
                Some(put1),
            ),
            Row::new(
                format!("big_get_r{r}_mb_s"),
                format!("get {b}, replication {r}, one client, cold, output fsynced"),
                Unit::MbPerS,
                Some(get1),
            ),
            Row::new(
                format!("put_r{r}_{n}_clients_mb_s"),
                format!("{n} concurrent puts of {s}, replication {r}: total, against one client's put of {b}"),
                Unit::MbPerS,
                Some(mb_s(total, c.put)),
            )
            .against(put1)
            .target(Target::MinShareOfBaseline(1.0)),
            Row::new(
                format!("get_r{r}_{n}_clients_mb_s"),
                format!("{n} concurrent cold gets of {s}, replication {r}: total, against one client's get of {b}"),
                Unit::MbPerS,
                Some(mb_s(total, c.get)),
            )
            .against(get1)
            .target(Target::MinShareOfBaseline(1.0)),
        ]);
    }
    rows.extend([
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
