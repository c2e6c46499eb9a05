//! A local cluster of real processes: the `namenode`, `datanode` and `hdfs` binaries found next
//! to this one, on free loopback ports, with data and logs under the benchmark's working
//! directory. Dropping the cluster stops every node.

use hdfs_proto::auth::ClusterSecret;
use std::ffi::OsStr;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::probe::Probe;
use crate::procs::{Proc, STOP_GRACE, log_tail, poll_until};

/// Fast heartbeats so a restarted datanode is seen quickly; dead after 10 s so that the restart
/// and repair measurements do not wait HDFS's minutes for the namenode to forget a stopped node.
pub const HEARTBEAT: &str = "1s";
pub const DEAD_AFTER: &str = "10s";
/// Longest wait for the cluster to come up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The cluster secret of every cluster this run starts (one per run: clusters do not meet).
pub fn secret() -> &'static ClusterSecret {
    static SECRET: std::sync::OnceLock<ClusterSecret> = std::sync::OnceLock::new();
    SECRET.get_or_init(ClusterSecret::generate)
}

/// `cmd` with the run's cluster secret in its environment (namenodes and datanodes read it).
pub fn with_secret(cmd: &mut Command) -> &mut Command {
    cmd.env("HDFS_CLUSTER_SECRET", secret().to_hex())
}

#[derive(Clone)]
pub struct Binaries {
    namenode: PathBuf,
    datanode: PathBuf,
    hdfs: PathBuf,
}

impl Binaries {
    /// The binaries in the directory of this executable (`target/release` after a build).
    pub fn next_to_self() -> anyhow::Result<Self> {
        let me = std::env::current_exe().context("find this executable's path")?;
        let dir = me.parent().context("this executable's path has no directory")?;
        let find = |name: &str| -> anyhow::Result<PathBuf> {
            let p = dir.join(name);
            if !p.is_file() {
                bail!(
                    "{} not found; build the binaries first: cargo build --release (then run target/release/hdfs-bench)",
                    p.display()
                );
            }
            Ok(p)
        };
        Ok(Self { namenode: find("namenode")?, datanode: find("datanode")?, hdfs: find("hdfs")? })
    }

    /// The `namenode` binary (the ha phase starts groups of them).
    pub fn namenode(&self) -> &Path {
        &self.namenode
    }
}

pub struct Datanode {
    pub addr: String,
    /// Its HTTP port (WebHDFS's data side).
    pub http: String,
    pub dir: PathBuf,
    log: PathBuf,
    proc: Option<Proc>,
}

impl Datanode {
    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().map(Proc::pid)
    }
}

pub struct Cluster {
    bins: Binaries,
    root: PathBuf,
    pub namenode_url: String,
    /// gRPC questions to the cluster, below the `hdfs` command.
    pub probe: Probe,
    namenode: Option<Proc>,
    namenode_addr: String,
    /// The namenode's HTTP port (WebHDFS, metrics).
    pub namenode_http: String,
    namenode_args: Vec<String>,
    namenode_log: PathBuf,
    pub datanodes: Vec<Datanode>,
    /// The certificates (`deploy/make-certs.sh`'s directory) of a cluster with TLS on.
    tls: Option<PathBuf>,
}

impl Cluster {
    /// Starts a namenode (with `namenode_args` after the benchmark's own flags) and `datanodes`
    /// datanodes under `root`; returns once all of them are live.
    pub fn start(bins: Binaries, root: &Path, datanodes: usize, namenode_args: &[String]) -> anyhow::Result<Self> {
        Self::start_with(bins, root, datanodes, namenode_args, None)
    }

    /// As [`Self::start`], with TLS on every port when `tls` names a directory of certificates
    /// (the caller's process must trust its `ca.pem`: the probe talks to the namenode).
    pub fn start_with(
        bins: Binaries,
        root: &Path,
        datanodes: usize,
        namenode_args: &[String],
        tls: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let logs = root.join("logs");
        std::fs::create_dir_all(&logs).with_context(|| format!("create {}", logs.display()))?;
        let nn_addr = free_port()?;
        let namenode_url = format!("{}://{nn_addr}", if tls.is_some() { "https" } else { "http" });
        let mut cluster = Self {
            bins,
            root: root.to_path_buf(),
            probe: Probe::new(&namenode_url)?,
            namenode_url,
            namenode: None,
            namenode_addr: nn_addr,
            namenode_http: free_port()?,
            namenode_args: namenode_args.to_vec(),
            namenode_log: logs.join("namenode.log"),
            datanodes: Vec::new(),
            tls: tls.map(Path::to_path_buf),
        };
        cluster.start_namenode()?;
        for i in 0..datanodes {
            cluster.datanodes.push(Datanode {
                addr: free_port()?,
                http: free_port()?,
                dir: root.join(format!("datanode-{i}")),
                log: logs.join(format!("datanode-{i}.log")),
                proc: None,
            });
            cluster.start_datanode(i)?;
        }
        poll_until(&format!("{datanodes} live datanodes"), START_TIMEOUT, Duration::from_millis(50), || {
            cluster.check_running()?;
            Ok(cluster.probe.live_datanodes().is_ok_and(|n| n >= datanodes))
        })?;
        Ok(cluster)
    }

    /// An `hdfs` command against this cluster, quiet, its stderr appended to `stderr_log`.
    pub fn hdfs<I, S>(&self, args: I, stderr_log: &Path) -> anyhow::Result<Command>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.bins.hdfs);
        self.with_tls(&mut cmd).args(["--namenode", &self.namenode_url, "--quiet"]).args(args);
        let err = File::options()
            .create(true)
            .append(true)
            .open(stderr_log)
            .with_context(|| format!("open {}", stderr_log.display()))?;
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(err);
        Ok(cmd)
    }

    /// `cmd` with this cluster's certificates in its environment, if it has TLS on.
    fn with_tls<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        Self::tls_vars(self.tls.as_deref(), cmd)
    }

    fn tls_vars<'c>(tls: Option<&Path>, cmd: &'c mut Command) -> &'c mut Command {
        if let Some(dir) = tls {
            let (cert, key) = (dir.join("node.pem"), dir.join("node.key"));
            cmd.env("NAMENODE_TLS_CERT", &cert).env("NAMENODE_TLS_KEY", &key);
            cmd.env("DATANODE_TLS_CERT", &cert).env("DATANODE_TLS_KEY", &key);
            cmd.env("HDFS_TLS_CA", dir.join("ca.pem"));
        }
        cmd
    }

    /// Where `hdfs` commands log their stderr.
    pub fn client_log(&self) -> PathBuf {
        self.root.join("logs").join("hdfs.log")
    }

    /// Starts the namenode on its port and data dir (again, after [`Self::stop_namenode`]).
    pub fn start_namenode(&mut self) -> anyhow::Result<()> {
        let mut cmd = Command::new(&self.bins.namenode);
        self.with_tls(with_secret(&mut cmd))
            .arg("--rpc-addr")
            .arg(&self.namenode_addr)
            .arg("--http-addr")
            .arg(&self.namenode_http);
        cmd.arg("--data-dir").arg(self.root.join("namenode"));
        cmd.args(["--heartbeat-interval", HEARTBEAT, "--dead-after", DEAD_AFTER]);
        cmd.args(&self.namenode_args);
        self.namenode = Some(Proc::spawn("namenode", logged(cmd, &self.namenode_log)?)?);
        Ok(())
    }

    /// Stops the namenode with SIGTERM (it checkpoints on the way out) and waits for it to exit;
    /// returns how long that took.
    pub fn stop_namenode(&mut self) -> anyhow::Result<Duration> {
        let Some(mut p) = self.namenode.take() else {
            bail!("the namenode is not running");
        };
        let start = std::time::Instant::now();
        let status = p.stop(STOP_GRACE)?;
        if !status.success() {
            bail!(
                "the namenode exited with {status} on SIGTERM; end of its log:\n{}",
                log_tail(&self.namenode_log, 10)
            );
        }
        Ok(start.elapsed())
    }

    pub fn namenode_pid(&self) -> Option<u32> {
        self.namenode.as_ref().map(Proc::pid)
    }

    /// Starts datanode `i` on its port and data dir (again, after [`Self::stop_datanode`]).
    pub fn start_datanode(&mut self, i: usize) -> anyhow::Result<()> {
        let dn = &mut self.datanodes[i];
        let mut cmd = Command::new(&self.bins.datanode);
        Self::tls_vars(self.tls.as_deref(), with_secret(&mut cmd)).args([
            "--namenode",
            &self.namenode_url,
            "--rpc-addr",
            &dn.addr,
            "--http-addr",
            &dn.http,
        ]);
        cmd.arg("--data-dir").arg(&dn.dir);
        cmd.args(["--heartbeat-interval", HEARTBEAT]);
        dn.proc = Some(Proc::spawn(format!("datanode-{i}"), logged(cmd, &dn.log)?)?);
        Ok(())
    }

    /// Stops datanode `i` with SIGTERM and waits for it to exit; returns how long that took.
    pub fn stop_datanode(&mut self, i: usize) -> anyhow::Result<Duration> {
        let Some(mut p) = self.datanodes[i].proc.take() else {
            bail!("datanode-{i} is not running");
        };
        let start = std::time::Instant::now();
        let status = p.stop(STOP_GRACE)?;
        let took = start.elapsed();
        if !status.success() {
            eprintln!("hdfs-bench: datanode-{i} exited with {status} on SIGTERM");
        }
        Ok(took)
    }

    /// Kills datanode `i` with SIGKILL, as a crash or a power cut would, and reaps it.
    pub fn kill_datanode(&mut self, i: usize) -> anyhow::Result<()> {
        let Some(mut p) = self.datanodes[i].proc.take() else {
            bail!("datanode-{i} is not running");
        };
        p.kill()
    }

    /// Where the namenode logs.
    pub fn namenode_log(&self) -> &Path {
        &self.namenode_log
    }

    /// Where datanode `i` logs.
    pub fn datanode_log(&self, i: usize) -> &Path {
        &self.datanodes[i].log
    }

    /// An error naming any node that has exited, with the end of its log.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        let mut nodes: Vec<(&mut Proc, &Path)> = Vec::new();
        if let Some(p) = self.namenode.as_mut() {
            nodes.push((p, &self.namenode_log));
        }
        for dn in &mut self.datanodes {
            if let Some(p) = dn.proc.as_mut() {
                nodes.push((p, &dn.log));
            }
        }
        for (p, log) in nodes {
            if let Some(status) = p.exited()? {
                bail!("{} exited ({status}); end of {}:\n{}", p.name(), log.display(), log_tail(log, 10));
            }
        }
        Ok(())
    }
}

impl Drop for Cluster {
    /// Datanodes first, so none of them spends its shutdown failing to reach the namenode.
    fn drop(&mut self) {
        for dn in &mut self.datanodes {
            drop(dn.proc.take());
        }
        // The namenode's `Proc` stops it when the fields are dropped, after this.
    }
}

/// `cmd` with stdout and stderr appended to `log`.
pub fn logged(mut cmd: Command, log: &Path) -> anyhow::Result<Command> {
    let out = File::options().create(true).append(true).open(log).with_context(|| format!("open {}", log.display()))?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    Ok(cmd)
}

/// A loopback address with a port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> anyhow::Result<String> {
    let l = TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0 to find a free port")?;
    Ok(l.local_addr()?.to_string())
}
