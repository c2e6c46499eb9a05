//! Command-line options. Parsed by hand: the package has no clap, and a few flags do not need it.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use hdfs_proto::units::parse_size;

pub const USAGE: &str = "\
usage: cargo build --release && target/release/hdfs-bench [OPTIONS]

Starts local clusters from the binaries next to this one and measures them. Two phases, each on
a cluster of its own:
  main    1 namenode + 3 datanodes: put/get at replication 3 against this machine's raw disk
          and loopback limits, memory, disk space and datanode restart time
  repair  1 namenode + 4 datanodes: put at replication 1, then at replication 3; one datanode
          killed; the time until the namenode declares it dead and until fsck is HEALTHY
          again, and the repair's rate against the replication-1 put

options:
  --size SIZE          file for the throughput and repair figures (default 1GiB)
  --big-size SIZE      file for the memory, disk-space and restart figures (default 4GiB)
  --phases LIST        phases to run, comma-separated: main, repair (default main,repair)
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
        [("main", self.main), ("repair", self.repair)].into_iter().filter(|(_, on)| *on).map(|(p, _)| p).collect()
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
            "--phases" => (opts.main, opts.repair) = phases(&value()?)?,
            "--repair-streams" => {
                let v = value()?;
                let n: u32 = v.parse().map_err(|_| anyhow::anyhow!("--repair-streams {v:?}: not a number"))?;
                if n == 0 {
                    bail!("--repair-streams must be at least 1");
                }
                opts.repair_streams = Some(n);
            }
            "--repair-block-size" => opts.repair_block_size = Some(size(&value()?)?),
            "--dir" => opts.dir = Some(PathBuf::from(value()?)),
            "--json" => opts.json = Some(PathBuf::from(value()?)),
            "--keep" => opts.keep = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(Some(opts))
}

/// `main,repair` → (main, repair).
fn phases(list: &str) -> anyhow::Result<(bool, bool)> {
    let (mut main, mut repair) = (false, false);
    for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match p {
            "main" => main = true,
            "repair" => repair = true,
            other => bail!("--phases: unknown phase {other:?} (known: main, repair)"),
        }
    }
    if !main && !repair {
        bail!("--phases {list:?}: no phase to run");
    }
    Ok((main, repair))
}

fn size(s: &str) -> anyhow::Result<u64> {
    let n = parse_size(s).map_err(|e| anyhow::anyhow!("size {e}"))?;
    if n == 0 {
        bail!("size {s:?}: must be more than 0 bytes");
    }
    Ok(n)
}
