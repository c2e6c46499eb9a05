//! Command-line options. Parsed by hand: the package has no clap, and a few flags do not need it.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use hdfs_proto::units::parse_size;

/// Files per directory in the meta phase: its listings need at least one full directory.
pub const META_FILES_PER_DIR: u64 = 32;

pub const USAGE: &str = "\
usage: cargo build --release && target/release/hdfs-bench [OPTIONS]

Starts local clusters from the binaries next to this one and measures them. Seven phases, each
on clusters of its own:
  main    1 namenode + 3 datanodes: put/get at replication 1 and 3, one client and 4 at once,
          against this machine's raw disk and loopback limits; memory, disk space and
          datanode restart time
  repair  1 namenode + 4 datanodes: put at replication 1, then at replication 3; one datanode
          killed; the time until the namenode declares it dead and until fsck is HEALTHY
          again, and the repair's rate against the replication-1 put
  meta    1 namenode + 3 in-process tiny datanodes: mkdirs, single-block files, create-close,
          stat, list, rename, delete with --clients clients; memory per file; restart
  small   1 namenode + 3 datanodes: --small-files files of --small-size written at
          replication 3, then read, by --clients clients; ops/s, p50 and p99
  ha      a namenode group of 3 beside a namenode alone: create-close, stat and list with
          --clients clients, --meta-ops of each; --ha-kills kills of the leader until a create
          succeeds; then --ha-files single-block files on a new group of 3, memory per file on
          each member, and a 4th member joining (snapshot install until caught up)
  webhdfs 1 namenode + 3 datanodes: --size through WebHDFS with curl (CREATE, OPEN) against
          hdfs put and get; peak memory; put throughput with /metrics scraped every second
  page    1 namenode in this process with --page-datanodes fake datanodes registered and
          heartbeating: the status page /, /api/datanodes and /api/overview fetched
          --page-requests times each; p50, p99, max (needs no other binary)
  tls     2 clusters of 1 namenode + 3 datanodes, one with TLS on every port: hdfs put and
          get of --size on each (A B B A), TLS against plaintext

options:
  --size SIZE          file for the throughput and repair figures (default 1GiB)
  --big-size SIZE      file for the memory, disk-space and restart figures (default 4GiB)
  --phases LIST        phases to run, comma-separated: main, repair, meta, small, ha, webhdfs,
                       page, tls
                       (default all)
  --clients N          meta, small and ha phases: concurrent clients (default 16)
  --meta-files N       meta phase: single-block files in the namespace (default 1000000)
  --meta-ops N         meta and ha phases: operations of each kind measured (default 100000)
  --small-files N      small phase: files written and read (default 100000)
  --small-size SIZE    small phase: size of each file (default 1KiB)
  --ha-files N         ha phase: single-block files for the snapshot and memory figures
                       (default 1000000)
  --ha-kills N         ha phase: times the leader is killed (default 5)
  --page-datanodes N   page phase: fake datanodes registered (default 1000)
  --page-requests N    page phase: fetches of each page measured (default 200)
  --permissions on|off meta phase: the namenode checks permissions (default on; its clients are
                       an ordinary user, so every check runs in full)
  --repair-streams N   repair phase: the namenode's --max-replication-streams (default: its own, 2)
  --repair-block-size SIZE
                       repair phase: block size of both puts (default: the namenode's, 128MiB)
  --dir DIR            where to make the working directory (default: the system temp dir)
  --json FILE          also write the figures as one JSON document to FILE
  --keep               keep the working directory (data and logs) at the end
  -h, --help           this text";

#[derive(Debug, Clone)]
pub struct Options {
    pub size: u64,
    pub big_size: u64,
    pub main: bool,
    pub repair: bool,
    pub meta: bool,
    pub small: bool,
    pub ha: bool,
    pub webhdfs: bool,
    pub page: bool,
    pub tls: bool,
    pub clients: usize,
    pub meta_files: u64,
    pub meta_ops: u64,
    pub small_files: u64,
    pub small_size: u64,
    pub ha_files: u64,
    pub ha_kills: usize,
    pub page_datanodes: usize,
    pub page_requests: usize,
    pub permissions: bool,
    pub repair_streams: Option<u32>,
    pub repair_block_size: Option<u64>,
    pub dir: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub keep: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            size: 1 << 30,
            big_size: 4 << 30,
            main: true,
            repair: true,
            meta: true,
            small: true,
            ha: true,
            webhdfs: true,
            page: true,
            tls: true,
            clients: 16,
            meta_files: 1_000_000,
            meta_ops: 100_000,
            small_files: 100_000,
            small_size: 1 << 10,
            ha_files: 1_000_000,
            ha_kills: 5,
            page_datanodes: 1000,
            page_requests: 200,
            permissions: true,
            repair_streams: None,
            repair_block_size: None,
            dir: None,
            json: None,
            keep: false,
        }
    }
}

impl Options {
    /// The phases that run, in order, as `--phases` spells them.
    pub fn phases(&self) -> Vec<&'static str> {
        [
            ("main", self.main),
            ("repair", self.repair),
            ("meta", self.meta),
            ("small", self.small),
            ("ha", self.ha),
            ("webhdfs", self.webhdfs),
            ("page", self.page),
            ("tls", self.tls),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(p, _)| p)
        .collect()
    }
}

/// The options, or `None` when help was asked for.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<Option<Options>> {
    let mut opts = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.into_string().map_err(|a| anyhow::anyhow!("{a:?}: not valid UTF-8"))?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || -> anyhow::Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().and_then(|v| v.into_string().ok()).with_context(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--size" => opts.size = size(&value()?)?,
            "--big-size" => opts.big_size = size(&value()?)?,
            "--phases" => set_phases(&mut opts, &value()?)?,
            "--clients" => opts.clients = count(&flag, &value()?)? as usize,
            "--meta-files" => opts.meta_files = count(&flag, &value()?)?,
            "--meta-ops" => opts.meta_ops = count(&flag, &value()?)?,
            "--small-files" => opts.small_files = count(&flag, &value()?)?,
            "--small-size" => opts.small_size = size(&value()?)?,
            "--ha-files" => opts.ha_files = count(&flag, &value()?)?,
            "--ha-kills" => opts.ha_kills = count(&flag, &value()?)? as usize,
            "--page-datanodes" => opts.page_datanodes = count(&flag, &value()?)? as usize,
            "--page-requests" => opts.page_requests = count(&flag, &value()?)? as usize,
            "--permissions" => {
                opts.permissions = match value()?.as_str() {
                    "on" | "true" => true,
                    "off" | "false" => false,
                    v => bail!("--permissions {v:?}: on or off"),
                }
            }
            "--repair-streams" => opts.repair_streams = Some(count(&flag, &value()?)? as u32),
            "--repair-block-size" => opts.repair_block_size = Some(size(&value()?)?),
            "--dir" => opts.dir = Some(PathBuf::from(value()?)),
            "--json" => opts.json = Some(PathBuf::from(value()?)),
            "--keep" => opts.keep = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    if opts.meta && opts.meta_files < META_FILES_PER_DIR {
        bail!(
            "--meta-files {} is too few: the listings need at least one full directory ({} files)",
            opts.meta_files,
            META_FILES_PER_DIR
        );
    }
    if opts.ha && (opts.meta_ops < META_FILES_PER_DIR || opts.ha_files < META_FILES_PER_DIR) {
        bail!(
            "the ha phase needs --meta-ops and --ha-files of at least one full directory ({} files)",
            META_FILES_PER_DIR
        );
    }
    Ok(Some(opts))
}

/// `--phases main,repair`: exactly the phases listed run.
fn set_phases(opts: &mut Options, list: &str) -> anyhow::Result<()> {
    let mut on = [false; 8];
    for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some(i) = PHASES.iter().position(|&known| known == p) else {
            bail!("--phases: unknown phase {p:?} (known: {})", PHASES.join(", "));
        };
        on[i] = true;
    }
    if !on.contains(&true) {
        bail!("--phases {list:?}: no phase to run");
    }
    [opts.main, opts.repair, opts.meta, opts.small, opts.ha, opts.webhdfs, opts.page, opts.tls] = on;
    Ok(())
}

/// Every phase, in the order they run.
const PHASES: [&str; 8] = ["main", "repair", "meta", "small", "ha", "webhdfs", "page", "tls"];

/// A positive whole number.
fn count(flag: &str, v: &str) -> anyhow::Result<u64> {
    match v.replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("{flag} {v:?}: expected a whole number above 0"),
    }
}

fn size(s: &str) -> anyhow::Result<u64> {
    let n = parse_size(s).map_err(|e| anyhow::anyhow!("size {e}"))?;
    if n == 0 {
        bail!("size {s:?}: must be more than 0 bytes");
    }
    Ok(n)
}
