//! The `meta` phase: the namenode alone under metadata load, as HDFS's NNThroughputBenchmark
//! measures it, but over the wire: a real namenode process, `clients` concurrent clients each
//! on its own gRPC connection, and three "tiny datanodes" in this process that register,
//! heartbeat and report the blocks the namenode allocates to them without storing any bytes
//! (NNThroughputBenchmark's `TinyDatanode`), so that files can have real blocks with three
//! reported replicas and the namenode's memory per file is that of single-block files.
//!
//! In order, on one namenode:
//! 1. mkdirs: the directories of everything below, `FILES_PER_DIR` files each;
//! 2. populate: `files` single-block files (create, add_block, the three tiny datanodes report
//!    the replica, complete), then the namenode's resident memory against its empty start;
//! 3. create-close: `ops` empty files (create then complete, each durable before its reply);
//! 4. stat of `ops` files and listing of `ops` directories, spread over the populated namespace;
//! 5. rename of the empty files, then delete of them;
//! 6. fsck of `/` over all of it while the tiny datanodes heartbeat: its time, whether every
//!    datanode is still live after it, and the longest the namesystem's lock was held;
//! 7. restart: SIGTERM (the namenode checkpoints on the way out), start again, and the time
//!    until it answers and until the tiny datanodes' full reports have taken it out of safe mode.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::units::format_size;
use hdfs_proto::user::{NamenodeClient, current_user, namenode_client};
use tokio_util::sync::CancellationToken;

pub use crate::clients::{Clients, client_name, connect, create_close, create_request, measure};
use crate::cluster::{Binaries, Cluster};
use crate::load::{Rate, spread};
use crate::options::Options;
use crate::procs::rss;
use crate::report::{Row, Target, Unit};
use crate::tiny::TinyDatanode;

/// Files per directory (NNThroughputBenchmark's `-filesPerDir`); also the size of each listing.
pub const FILES_PER_DIR: u64 = crate::options::META_FILES_PER_DIR;
pub use crate::clients::REPLICATION;
/// The length the tiny datanodes report for every block (no bytes are stored).
pub const BLOCK_BYTES: u64 = 1 << 20;
/// The user the phase's clients call as: not a superuser, so every permission check runs in
/// full (the superuser skips them), under `/meta`, which it owns.
pub const BENCH_USER: &str = "bench";
/// Longest wait for the restarted namenode to answer and to leave safe mode.
const RESTART_TIMEOUT: Duration = Duration::from_secs(300);

struct Settings {
    pub files: u64,
    pub ops: u64,
    pub clients: usize,
}

pub struct Meta {
    pub files: u64,
    pub dirs: u64,
    pub mkdirs: Rate,
    pub populate: Rate,
    pub create_close: Rate,
    pub stat: Rate,
    pub list: Rate,
    pub rename: Rate,
    pub delete: Rate,
    /// Resident memory of the namenode with the empty namespace, and with `files` files.
    pub rss_empty: u64,
    pub rss_full: u64,
    pub restart: Restart,
    pub fsck: Fsck,
    /// Permission checking's cost: an ordinary user's rates against the superuser's.
    pub perm: crate::perm::Checks,
}

pub struct Restart {
    /// SIGTERM until exit, the shutdown checkpoint included.
    pub stop: Duration,
    /// Start until the namenode answered a stat.
    pub answering: Duration,
    /// Start until safe mode was off (every tiny datanode re-registered and reported).
    pub out_of_safe_mode: Option<Duration>,
}

/// Where populated file `i` lives, and its directory.
pub fn file_path(i: u64) -> String {
    format!("{}/f{i}", file_dir(i / FILES_PER_DIR))
}

pub fn file_dir(d: u64) -> String {
    format!("/meta/files/d{d}")
}

fn empty_path(i: u64, renamed: bool) -> String {
    format!("/meta/empty/d{}/{}{i}", i / FILES_PER_DIR, if renamed { "r" } else { "f" })
}

/// The phase's cluster and load, as the table's heading states them.
pub fn setup(opts: &Options) -> String {
    format!(
        "1 namenode + 3 tiny datanodes in the benchmark, {} clients, {} single-block files at replication 3, {} files per directory",
        opts.clients, opts.meta_files, FILES_PER_DIR
    )
}

pub fn run(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Meta> {
    let s = &Settings { files: opts.meta_files, ops: opts.meta_ops, clients: opts.clients };
    let root = root.join("meta");
    // Safe mode's extension is a wait an operator sets, not work: off here, so the restart
    // figure is the namenode's own time to load and take the block reports.
    let mut args = vec!["--safemode-extension".to_string(), "0s".to_string()];
    if !opts.permissions {
        args.extend(["--permissions".to_string(), "false".to_string()]);
    }
    let mut cluster = Cluster::start(bins, &root, 0, &args)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("start a tokio runtime")?;
    let url = cluster.namenode_url.clone();
    let stop = CancellationToken::new();
    let _stop_tiny = stop.clone().drop_guard();
    let tiny = rt.block_on(TinyDatanode::start_all(std::slice::from_ref(&url), &stop))?;
    rt.block_on(own_top_dir(&url))?;
    let clients = rt.block_on(connect(&url, s.clients, BENCH_USER))?;
    let pid = cluster.namenode_pid().context("namenode pid")?;
    let pids = [pid];
    let rss_empty = rss(pid).context("namenode memory")?;

    let file_dirs = s.files.div_ceil(FILES_PER_DIR);
    let empty_dirs = s.ops.div_ceil(FILES_PER_DIR);
    let dirs = file_dirs + empty_dirs;
    step(&format!("meta: mkdirs of {dirs} directories, {} clients", s.clients));
    let mkdirs = measure(&rt, &clients, &pids, dirs, move |mut nn, _, i| {
        let path = if i < file_dirs { file_dir(i) } else { format!("/meta/empty/d{}", i - file_dirs) };
        async move {
            nn.mkdirs(pb::MkdirsRequest { path, create_parent: true }).await?;
            Ok(())
        }
    })?;

    step(&format!("meta: populating {} single-block files (replication {REPLICATION})", s.files));
    let populate = measure(&rt, &clients, &pids, s.files, {
        let tiny = tiny.clone();
        move |nn, k, i| single_block_file(nn, tiny.clone(), k, file_path(i))
    })?;
    let rss_full = rss(pid).context("namenode memory")?;

    step(&format!("meta: create-close of {} empty files", s.ops));
    let create_close =
        measure(&rt, &clients, &pids, s.ops, move |nn, k, i| create_close(nn, empty_path(i, false), client_name(k)))?;

    step(&format!("meta: stat of {} files", s.ops));
    let files = s.files;
    let stat = measure(&rt, &clients, &pids, s.ops, move |mut nn, _, i| {
        let path = file_path(spread(i, files));
        async move {
            let st = nn.get_file_info(pb::GetFileInfoRequest { path }).await?.into_inner();
            if st.status.is_none_or(|s| s.length != BLOCK_BYTES) {
                bail!("stat did not return the file with its length");
            }
            Ok(())
        }
    })?;

    step("meta: permission checks, an ordinary user against the superuser");
    let superusers = rt.block_on(connect(&url, s.clients, &current_user()))?;
    let populated = crate::perm::Populated { files: s.files, path: file_path, length: BLOCK_BYTES };
    let perm = crate::perm::run(&rt, &clients, &superusers, &pids, s.ops, populated, step)?;
    drop(superusers);

    step(&format!("meta: listing of {} directories", s.ops));
    let list = measure(&rt, &clients, &pids, s.ops, move |mut nn, _, i| {
        // Only full directories, so every listing returns FILES_PER_DIR entries.
        let path = file_dir(spread(i, files / FILES_PER_DIR));
        async move {
            let req = pb::GetListingRequest { path, start_after: String::new(), limit: 0 };
            let page = nn.get_listing(req).await?.into_inner();
            if page.entries.len() as u64 != FILES_PER_DIR {
                bail!("listing returned {} entries, not {FILES_PER_DIR}", page.entries.len());
            }
            Ok(())
        }
    })?;

    step(&format!("meta: rename of {} files", s.ops));
    let rename = measure(&rt, &clients, &pids, s.ops, move |mut nn, _, i| {
        let (src, dst) = (empty_path(i, false), empty_path(i, true));
        async move {
            nn.rename(pb::RenameRequest { src, dst }).await?;
            Ok(())
        }
    })?;

    step(&format!("meta: delete of {} files", s.ops));
    let delete = measure(&rt, &clients, &pids, s.ops, move |mut nn, _, i| {
        let path = empty_path(i, true);
        async move {
            nn.delete(pb::DeleteRequest { path, recursive: false }).await?;
            Ok(())
        }
    })?;
    drop(clients);

    step(&format!("meta: fsck of / over {} files while the tiny datanodes heartbeat", s.files));
    let fsck = fsck_under_heartbeats(&cluster)?;

    step("meta: namenode restart (SIGTERM, start, until out of safe mode)");
    let restart = restart(&mut cluster, &rt, &url)?;
    stop.cancel();
    Ok(Meta {
        files: s.files,
        dirs,
        mkdirs,
        populate,
        create_close,
        stat,
        list,
        rename,
        delete,
        rss_empty,
        rss_full,
        restart,
        perm,
        fsck,
    })
}

/// What the fsck step saw.
pub struct Fsck {
    took: Duration,
    files: u64,
    live_after: usize,
    /// The longest the namesystem lock was held at a time in the whole phase, fsck included
    /// (`hdfs_namenode_namesystem_lock_longest_hold_seconds`).
    longest_hold: Option<f64>,
}

fn fsck_under_heartbeats(cluster: &Cluster) -> anyhow::Result<Fsck> {
    let started = Instant::now();
    let r = cluster.probe.fsck("/", false)?;
    let took = started.elapsed();
    let live_after = cluster.probe.live_datanodes()?;
    let metrics = crate::web::get(&cluster.namenode_http, "/metrics")?;
    let longest_hold = metrics
        .lines()
        .find_map(|l| l.strip_prefix("hdfs_namenode_namesystem_lock_longest_hold_seconds "))
        .and_then(|v| v.trim().parse().ok());
    Ok(Fsck { took, files: r.files, live_after, longest_hold })
}

/// `/meta`, made by the superuser (who runs the namenode) and given to [`BENCH_USER`].
async fn own_top_dir(url: &str) -> anyhow::Result<()> {
    let channel = hdfs_proto::grpc::endpoint(url)?.connect().await.context("connect to the namenode")?;
    let mut nn = namenode_client(channel, &current_user());
    nn.mkdirs(pb::MkdirsRequest { path: "/meta".into(), create_parent: true }).await?;
    let owner = pb::SetOwnerRequest { path: "/meta".into(), owner: BENCH_USER.into(), group: String::new() };
    nn.set_owner(owner).await?;
    Ok(())
}

/// create, add_block, the replicas reported by the tiny datanodes the block was given, complete.
pub async fn single_block_file(
    mut nn: NamenodeClient,
    tiny: Arc<Vec<TinyDatanode>>,
    k: usize,
    path: String,
) -> anyhow::Result<()> {
    let client_name = client_name(k);
    nn.create(create_request(&path, &client_name)).await?;
    let req = pb::AddBlockRequest { path: path.clone(), client_name: client_name.clone(), ..Default::default() };
    let located = nn.add_block(req).await?.into_inner().block.context("add_block returned no block")?;
    let mut block = located.block.context("add_block returned no block id")?;
    block.num_bytes = BLOCK_BYTES;
    let mut reported = Vec::new();
    for loc in &located.locations {
        let dn = tiny.iter().find(|t| t.id == loc.datanode_id).context("a block placed on an unknown datanode")?;
        reported.push(dn.received(block));
    }
    for r in reported {
        r.await?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let req = pb::CompleteRequest { path: path.clone(), client_name: client_name.clone(), last: Some(block) };
        if nn.complete(req).await?.into_inner().completed {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("complete still refused after 30 s although the replicas were reported");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn restart(cluster: &mut Cluster, rt: &tokio::runtime::Runtime, url: &str) -> anyhow::Result<Restart> {
    let stop = cluster.stop_namenode()?;
    let start = Instant::now();
    cluster.start_namenode()?;
    rt.block_on(async {
        let endpoint = hdfs_proto::grpc::endpoint(url)?;
        let deadline = start + RESTART_TIMEOUT;
        let mut nn = loop {
            if let Ok(ch) = endpoint.connect().await {
                let mut nn = namenode_client(ch, &current_user());
                if nn.get_file_info(pb::GetFileInfoRequest { path: file_path(0) }).await.is_ok() {
                    break nn;
                }
            }
            if Instant::now() > deadline {
                bail!("the restarted namenode did not answer within {RESTART_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let answering = start.elapsed();
        let out_of_safe_mode = loop {
            let req = pb::SetSafeModeRequest { action: pb::SafeModeAction::Get as i32 };
            if !nn.set_safe_mode(req).await?.into_inner().on {
                break Some(start.elapsed());
            }
            if Instant::now() > deadline {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Ok(Restart { stop, answering, out_of_safe_mode })
    })
}

impl Meta {
    /// The performance issue's metadata figures.
    pub fn rows(&self) -> Vec<Row> {
        let m = self;
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
        let mut rows = vec![
            m.mkdirs.row("meta_mkdirs_ops", format!("mkdirs ({} directories)", m.dirs)),
            m.populate.row(
                "meta_single_block_file_ops",
                "single-block file: create, add_block, 3 replicas reported, complete".into(),
            ),
            m.create_close
                .row("meta_create_close_ops", "create + close of an empty file, both durable".into())
                .target(Target::AtLeast(5000.0)),
            m.stat.row("meta_stat_ops", format!("stat of a file among {}", m.files)).target(Target::AtLeast(20000.0)),
            m.list
                .row("meta_list_ops", format!("list of a directory of {FILES_PER_DIR} files"))
                .target(Target::AtLeast(20000.0)),
            m.rename.row("meta_rename_ops", "rename of a file, durable".into()),
            m.delete.row("meta_delete_ops", "delete of a file, durable".into()),
            Row::new(
                "meta_namenode_bytes_per_file",
                format!("namenode resident memory per file at {} single-block files", m.files),
                Unit::Bytes,
                Some(per_file),
            )
            .target(Target::AtMost(280.0))
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
            Row::new(
                "meta_fsck_s",
                format!("fsck of / over {} files while 3 tiny datanodes heartbeat every second", m.fsck.files),
                Unit::Seconds,
                Some(m.fsck.took.as_secs_f64()),
            ),
            Row::new(
                "meta_fsck_live_datanodes",
                "datanodes still live after that fsck (none declared dead)",
                Unit::Count,
                Some(m.fsck.live_after as f64),
            )
            .target(Target::AtLeast(3.0)),
            Row::new(
                "meta_longest_lock_hold_ms",
                "longest the namesystem lock was held at a time in this phase, fsck included",
                Unit::Ms,
                m.fsck.longest_hold.map(|s| s * 1e3),
            ),
        ];
        rows.extend(m.perm.rows());
        rows
    }
}
