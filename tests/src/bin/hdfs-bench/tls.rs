//! The `tls` phase: `hdfs put` and a cold `hdfs get` of `--size` on a cluster with TLS on every
//! port (certificates from `deploy/make-certs.sh`) against the same on a plaintext cluster, in
//! the same run: two clusters of 1 namenode and 3 datanodes, each way twice in the order
//! A B B A (plaintext, TLS, TLS, plaintext) so that the machine's drift falls on both.
//!
//! This process trusts the CA (its probe asks the TLS namenode questions), which makes bare
//! addresses `https` from then on: the phase runs last.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use hdfs_proto::units::format_size;

use crate::cluster::{Binaries, Cluster};
use crate::options::Options;
use crate::procs::run_watched;
use crate::raw;
use crate::report::{Row, Target, Unit, mb_s};
use crate::steps;

const REMOTE: &str = "/bench/tls";

pub struct Tls {
    size: u64,
    /// Each in the order they ran (two each).
    plain_puts: Vec<Duration>,
    tls_puts: Vec<Duration>,
    plain_gets: Vec<Duration>,
    tls_gets: Vec<Duration>,
}

pub fn setup(opts: &Options) -> String {
    format!("{} file, 2 clusters of 1 namenode + 3 datanodes (plaintext, TLS), replication 3", format_size(opts.size))
}

pub fn run(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Tls> {
    let src = root.join("tls-test-file");
    step(&format!("tls: making the {} test file and the certificates", format_size(opts.size)));
    raw::make_test_file(&src, opts.size)?;
    let certs = root.join("tls-certs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/make-certs.sh");
    let made = std::process::Command::new("bash").arg(&script).arg(&certs).output().context("run make-certs.sh")?;
    if !made.status.success() {
        bail!("{}: {}", script.display(), String::from_utf8_lossy(&made.stderr).trim());
    }
    hdfs_proto::tls::trust(&certs.join("ca.pem")).map_err(anyhow::Error::msg)?;
    step("tls: starting a plaintext cluster and a TLS cluster (1 namenode, 3 datanodes each)");
    let plain = Cluster::start(bins.clone(), &root.join("tls-plain"), 3, &[])?;
    let tls = Cluster::start_with(bins, &root.join("tls-on"), 3, &[], Some(&certs))?;
    for c in [&plain, &tls] {
        let log = c.client_log();
        run_watched("hdfs mkdir", c.hdfs(["mkdir", "-p", "/bench"], &log)?, &log)?;
    }

    step(&format!("tls: hdfs put of {}, plaintext and TLS, twice each (A B B A)", format_size(opts.size)));
    let (mut plain_puts, mut tls_puts) = (Vec::new(), Vec::new());
    for on in [false, true, true, false] {
        let c = if on { &tls } else { &plain };
        let log = c.client_log();
        let args = [
            OsStr::new("put"),
            "-f".as_ref(),
            "--replication".as_ref(),
            "3".as_ref(),
            src.as_os_str(),
            REMOTE.as_ref(),
        ];
        let took = run_watched("hdfs put", c.hdfs(args, &log)?, &log)?.elapsed;
        if on { &mut tls_puts } else { &mut plain_puts }.push(took);
    }
    steps::check_replicas(&plain, REMOTE, 3)?;
    steps::check_replicas(&tls, REMOTE, 3)?;

    step(&format!("tls: hdfs get of {}, cold, output fsynced, plaintext and TLS (A B B A)", format_size(opts.size)));
    let out = root.join("tls-read-output");
    let (mut plain_gets, mut tls_gets) = (Vec::new(), Vec::new());
    for on in [false, true, true, false] {
        let c = if on { &tls } else { &plain };
        steps::evict_datanodes(c)?;
        let log = c.client_log();
        let args = [OsStr::new("get"), "-f".as_ref(), REMOTE.as_ref(), out.as_os_str()];
        let took = run_watched("hdfs get", c.hdfs(args, &log)?, &log)?.elapsed;
        if !raw::same_contents(&src, &out)? {
            bail!(
                "{} differs from the source after a get over {}",
                out.display(),
                if on { "TLS" } else { "plaintext" }
            );
        }
        std::fs::remove_file(&out).with_context(|| format!("remove {}", out.display()))?;
        if on { &mut tls_gets } else { &mut plain_gets }.push(took);
    }
    std::fs::remove_file(&src).context("remove the test file")?;
    Ok(Tls { size: opts.size, plain_puts, tls_puts, plain_gets, tls_gets })
}

impl Tls {
    pub fn rows(&self) -> Vec<Row> {
        let s = format_size(self.size);
        let rate = |d: &[Duration]| mb_s(self.size * d.len() as u64, d.iter().sum());
        let runs =
            |d: &[Duration]| d.iter().map(|d| format!("{:.0}", mb_s(self.size, *d))).collect::<Vec<_>>().join(", ");
        let (plain_put, plain_get) = (rate(&self.plain_puts), rate(&self.plain_gets));
        vec![
            Row::new(
                "tls_plain_put_mb_s",
                format!("hdfs put {s}, replication 3, plaintext (runs {})", runs(&self.plain_puts)),
                Unit::MbPerS,
                Some(plain_put),
            ),
            Row::new(
                "tls_put_mb_s",
                format!(
                    "hdfs put {s}, replication 3, TLS on every hop (runs {}), against plaintext",
                    runs(&self.tls_puts)
                ),
                Unit::MbPerS,
                Some(rate(&self.tls_puts)),
            )
            .against(plain_put)
            .target(Target::MinShareOfBaseline(0.80)),
            Row::new(
                "tls_plain_get_mb_s",
                format!("hdfs get {s}, cold, output fsynced, plaintext (runs {})", runs(&self.plain_gets)),
                Unit::MbPerS,
                Some(plain_get),
            ),
            Row::new(
                "tls_get_mb_s",
                format!("hdfs get {s}, cold, output fsynced, TLS (runs {}), against plaintext", runs(&self.tls_gets)),
                Unit::MbPerS,
                Some(rate(&self.tls_gets)),
            )
            .against(plain_get)
            .target(Target::MinShareOfBaseline(0.80)),
        ]
    }
}
