//! `hdfs-bench`: measures a real local cluster against the raw limits of the machine it runs on.
//!
//! It exists because throughput figures on these VMs swing several-fold from run to run
//! (docs/BENCHMARKS.md), so a figure alone says little; a ratio to what the same disk and the
//! same loopback did minutes earlier, on the same filesystem, says how much of the machine the
//! system uses. Eight phases, each on clusters of its own (the page phase's namenode runs in
//! this process) and each a file here that measures and then makes its rows of the table:
//!
//! - `main` (`main_phase.rs`): put and get against the raw disk and loopback baselines, memory,
//!   disk space and a datanode's restart, on 1 namenode and 3 datanodes of real processes;
//! - `repair` (`repair.rs`): starts a cluster of its own with four datanodes, puts the test file
//!   at replication 1 (timed) and at replication 3, kills one datanode, and measures how long the
//!   namenode takes to declare it dead and then how long until every block has three replicas
//!   again: the repair's rate against the put's;
//! - `meta` (`meta.rs`) and `small` (`small.rs`): metadata operations and small files, by
//!   concurrent clients.
//!
//! - `ha` (`ha.rs`): the namenode group of three against a namenode alone (rates), failovers
//!   after the leader is killed, and a fourth member joining a group that holds a big
//!   namespace.
//! - `webhdfs` (`web.rs`): WebHDFS with curl against `hdfs put` and `get`, memory, and the cost
//!   of scraping `/metrics`.
//! - `page` (`page.rs`): the namenode's status page and its JSON with a thousand fake datanodes
//!   registered, fetched over loopback; the only phase that needs no other binary.
//! - `tls` (`tls.rs`): put and get on a cluster with TLS on every port against a plaintext one.
//!
//! `--phases` runs any of them alone. This file parses the options, runs the chosen phases and
//! prints the table.
//!
//! docs/BENCHMARKS.md says exactly what each figure is and records the results.
//!
//! Targets are those of the project's foundation issue (main), repair issue (repair) and status
//! page issue (page). A
//! missed target is a measurement, not a failure: the exit status is non-zero only if the
//! benchmark itself could not run.

mod clients;
mod cluster;
mod cpu;
mod group;
mod ha;
mod ha_failover;
mod ha_join;
mod ha_rates;
mod load;
mod main_phase;
mod meta;
mod options;
mod page;
mod perm;
mod probe;
mod procs;
mod raw;
mod repair;
mod report;
mod small;
mod steps;
mod timeline;
mod tiny;
mod tls;
mod web;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::Context;

use cluster::{Binaries, DEAD_AFTER, HEARTBEAT};
use main_phase::MainPhase;
use options::{Options, USAGE};
use procs::load_average;
use repair::Repair;
use report::{Report, Row};

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
    // The page phase runs its namenode in this process; every other one starts binaries.
    let needs_binaries = opts.phases().iter().any(|p| *p != "page");
    let bins = needs_binaries.then(Binaries::next_to_self).transpose()?;
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
        rows: measured.rows(opts),
    };
    if needs_binaries {
        println!("\nhdfs-bench: MB = 10^6 bytes; datanodes heartbeat every {HEARTBEAT}, dead after {DEAD_AFTER}");
    } else {
        println!();
    }
    if opts.main {
        println!("main: {}", main_phase::setup(opts));
    }
    if opts.repair {
        println!("repair: {}", repair::setup(opts));
    }
    if opts.meta {
        println!("meta: {}", meta::setup(opts));
    }
    if opts.small {
        println!("small: {}", small::setup(opts));
    }
    if opts.ha {
        println!("ha: {}", ha::setup(opts));
    }
    if opts.webhdfs {
        println!("webhdfs: {}", web::setup(opts));
    }
    if opts.page {
        println!("page: {}", page::setup(opts));
    }
    if opts.tls {
        println!("tls: {}", tls::setup(opts));
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

/// Everything measured in one run: a phase that did not run is `None`.
struct Measured {
    main: Option<MainPhase>,
    repair: Option<Repair>,
    meta: Option<meta::Meta>,
    small: Option<small::Small>,
    ha: Option<ha::Ha>,
    web: Option<web::Web>,
    page: Option<page::Page>,
    tls: Option<tls::Tls>,
}

fn measure(opts: &Options, bins: Option<Binaries>, root: &Path) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let step = |what: &str| eprintln!("hdfs-bench [{:>6.1}s] {what}", started.elapsed().as_secs_f64());
    let bins = || bins.clone().expect("binaries are found whenever a phase other than page runs");
    let main = opts.main.then(|| main_phase::run(opts, bins(), root, &step)).transpose()?;
    let repair = opts.repair.then(|| repair::run(opts, bins(), root, &step)).transpose()?;
    let meta = opts.meta.then(|| meta::run(opts, bins(), root, &step)).transpose()?;
    let small = opts.small.then(|| small::run(opts, bins(), root, &step)).transpose()?;
    let ha = opts.ha.then(|| ha::run(opts, bins(), root, &step)).transpose()?;
    let web = opts.webhdfs.then(|| web::run(opts, bins(), root, &step)).transpose()?;
    let page = opts.page.then(|| page::run(opts, root, &step)).transpose()?;
    // Last: it has this process trust a CA, which makes bare addresses https from then on.
    let tls = opts.tls.then(|| tls::run(opts, bins(), root, &step)).transpose()?;
    step("done");
    Ok(Measured { main, repair, meta, small, ha, web, page, tls })
}

impl Measured {
    /// The table's rows, phase by phase, in the order they ran.
    fn rows(&self, opts: &Options) -> Vec<Row> {
        let main = self.main.iter().flat_map(|m| m.rows(opts));
        let repair = self.repair.iter().flat_map(Repair::rows);
        let meta = self.meta.iter().flat_map(meta::Meta::rows);
        let small = self.small.iter().flat_map(|s| s.rows(opts));
        let ha = self.ha.iter().flat_map(ha::Ha::rows);
        let web = self.web.iter().flat_map(web::Web::rows);
        let page = self.page.iter().flat_map(page::Page::rows);
        let tls = self.tls.iter().flat_map(tls::Tls::rows);
        main.chain(repair).chain(meta).chain(small).chain(ha).chain(web).chain(page).chain(tls).collect()
    }
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
