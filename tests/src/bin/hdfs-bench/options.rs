//! Command-line options. Parsed by hand: the package has no clap, and five flags do not need it.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use hdfs_proto::units::parse_size;

pub const USAGE: &str = "\
usage: cargo build --release && target/release/hdfs-bench [OPTIONS]

Starts a local cluster (1 namenode, 3 datanodes) from the binaries next to this one and measures
put/get at replication 3 against this machine's raw disk and loopback limits, memory, disk space
and datanode restart time.

options:
  --size SIZE        file for the throughput figures (default 1GiB)
  --big-size SIZE    file for the memory, disk-space and restart figures (default 4GiB)
  --dir DIR          where to make the working directory (default: the system temp dir)
  --json FILE        also write the figures as one JSON document to FILE
  --keep             keep the working directory (data and logs) at the end
  -h, --help         this text";

#[derive(Debug, Clone)]
pub struct Options {
    pub size: u64,
    pub big_size: u64,
    pub dir: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub keep: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { size: 1 << 30, big_size: 4 << 30, dir: None, json: None, keep: false }
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
            "--dir" => opts.dir = Some(PathBuf::from(value()?)),
            "--json" => opts.json = Some(PathBuf::from(value()?)),
            "--keep" => opts.keep = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(Some(opts))
}

fn size(s: &str) -> anyhow::Result<u64> {
    let n = parse_size(s).map_err(|e| anyhow::anyhow!("size {e}"))?;
    if n == 0 {
        bail!("size {s:?}: must be more than 0 bytes");
    }
    Ok(n)
}
