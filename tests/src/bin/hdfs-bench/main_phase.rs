//! The `main` phase, against the raw limits of the machine it runs on (the building blocks are
//! in `steps.rs`):
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
//! Its targets are those of the project's foundation issue.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use hdfs_proto::units::format_size;

use crate::cluster::{Binaries, Cluster};
use crate::options::Options;
use crate::procs::{peak_rss, run_watched};
use crate::raw;
use crate::report::{MIB, Row, Target, Unit, mb_s};
use crate::steps::{self, Baselines, Concurrent, RESTART_TIMEOUT, Restart, Transfer};

const SMALL_REMOTE: &str = "/bench/file";
const BIG_REMOTE: &str = "/bench/big";
const R1_REMOTE: &str = "/bench/file-r1";
const BIG_R1_REMOTE: &str = "/bench/big-r1";
/// Clients of the concurrent streaming figures.
const CONCURRENT: usize = 4;

/// What the main phase measured.
pub struct MainPhase {
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

/// The phase's cluster and files, as the table's heading states them.
pub fn setup(opts: &Options) -> String {
    format!(
        "{} and {} files, 1 namenode + 3 datanodes, replication 3",
        format_size(opts.size),
        format_size(opts.big_size)
    )
}

pub fn run(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<MainPhase> {
    step(&format!("making the {} test file in {}", format_size(opts.size), root.display()));
    let src = root.join("test-file");
    raw::make_test_file(&src, opts.size)?;
    step("raw baselines: 3 fsynced copies, a cold read, loopback TCP");
    let base = steps::baselines(root, &src, opts.size)?;

    step("starting 1 namenode and 3 datanodes");
    let mut cluster = Cluster::start(bins, root, 3, &[])?;
    let log = cluster.client_log();
    run_watched("hdfs mkdir", cluster.hdfs(["mkdir", "-p", "/bench"], &log)?, &log)?;
    step(&format!("put, get and cat of {}, replication 3", format_size(opts.size)));
    let small = steps::transfer(&cluster, &src, SMALL_REMOTE, 3, root, true)?;
    step(&format!("put and get of {}, replication 1", format_size(opts.size)));
    let r1 = steps::transfer(&cluster, &src, R1_REMOTE, 1, root, false)?;
    run_watched("hdfs rm", cluster.hdfs(["rm", R1_REMOTE], &log)?, &log)?;

    // One client moving the big file, then CONCURRENT clients moving the test file each: with
    // the defaults both move 4 GiB, so the disk (and the host's cache behind this VM's disk,
    // which flatters 1 GiB more than 4 GiB) sees the same amount either way.
    step(&format!("making the {} test file", format_size(opts.big_size)));
    let big_src = root.join("big-test-file");
    raw::make_test_file(&big_src, opts.big_size)?;
    step(&format!("put and get of {}, replication 3", format_size(opts.big_size)));
    let big = steps::transfer(&cluster, &big_src, BIG_REMOTE, 3, root, false)?;
    // Each datanode now holds one replica of the test file and one of the big file.
    let disk = cluster.datanodes.iter().map(|d| raw::allocated_bytes(&d.dir)).collect::<anyhow::Result<_>>()?;
    step(&format!("{CONCURRENT} concurrent puts, then gets, of {}, replication 3", format_size(opts.size)));
    let concurrent_r3 = steps::concurrent(&cluster, &src, CONCURRENT, 3, root)?;
    step(&format!("put and get of {}, replication 1", format_size(opts.big_size)));
    let big_r1 = steps::transfer(&cluster, &big_src, BIG_R1_REMOTE, 1, root, false)?;
    run_watched("hdfs rm", cluster.hdfs(["rm", BIG_R1_REMOTE], &log)?, &log)?;
    step(&format!("{CONCURRENT} concurrent puts, then gets, of {}, replication 1", format_size(opts.size)));
    let concurrent_r1 = steps::concurrent(&cluster, &src, CONCURRENT, 1, root)?;
    std::fs::remove_file(&src).context("remove the test file")?;
    std::fs::remove_file(&big_src).context("remove the big test file")?;
    let datanode_peaks = cluster.datanodes.iter().map(|d| d.pid().and_then(peak_rss)).collect();

    step("restarting datanode-0 (stop, wait until declared dead, start, wait until it serves)");
    let restart = steps::restart(&mut cluster, BIG_REMOTE)?;
    drop(cluster);
    Ok(MainPhase { base, small, r1, concurrent_r3, concurrent_r1, big, big_r1, datanode_peaks, disk, restart })
}

impl MainPhase {
    /// The foundation issue's figures.
    pub fn rows(&self, opts: &Options) -> Vec<Row> {
        let MainPhase { base, small, r1, concurrent_r3, concurrent_r1, big, big_r1, datanode_peaks, disk, restart } =
            self;
        let held = (opts.size + opts.big_size) as f64;
        let (s, b) = (format_size(opts.size), format_size(opts.big_size));
        let (put, get) = (mb_s(small.size, small.put.elapsed), mb_s(small.size, small.get.elapsed));
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
            Row::new("put_mb_s", format!("put {s}, replication 3"), Unit::MbPerS, Some(put))
                .against(base.write)
                .target(Target::MinShareOfBaseline(0.60)),
            Row::new(
                "get_mb_s",
                format!("get {s}, cold, output fsynced, against the raw cold read + fsynced write"),
                Unit::MbPerS,
                Some(get),
            )
            .against(base.copy)
            .target(Target::MinShareOfBaseline(0.80)),
            Row::new(
                "get_vs_raw_read_mb_s",
                format!("get {s}, the same, against the raw cold read alone"),
                Unit::MbPerS,
                Some(get),
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
            Row::new(
                "datanode_restart_served_s",
                "restart: until it served a read",
                Unit::Seconds,
                secs(restart.served),
            ),
            total,
        ]);
        rows
    }
}
