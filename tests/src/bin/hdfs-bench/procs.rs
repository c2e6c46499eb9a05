//! Child processes that never outlive the benchmark, and their peak resident memory.
//!
//! Every child is held by a [`Proc`], which stops it (SIGTERM, then SIGKILL after a grace
//! period) when dropped, so an error anywhere in the benchmark leaves no node running. Peak
//! memory is the kernel's high-water mark of resident memory (`VmHWM` in `/proc/PID/status`),
//! which only grows over a process's life; it is gone once the process has exited, so a
//! short-lived client is sampled while it runs.

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long a stopped child gets to exit on SIGTERM before it is killed. The datanode waits up
/// to 2 s for transfers in flight, so this leaves it room.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// Sampling interval of a running client's peak memory.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

pub struct Proc {
    name: String,
    child: Child,
}

impl Proc {
    pub fn spawn(name: impl Into<String>, mut cmd: Command) -> anyhow::Result<Self> {
        let name = name.into();
        let child = cmd.spawn().with_context(|| format!("start {name} ({:?})", cmd.get_program()))?;
        Ok(Self { name, child })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the child has exited.
    pub fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        self.child.try_wait().with_context(|| format!("wait for {}", self.name))
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub fn stop(&mut self, grace: Duration) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.exited()? {
            return Ok(status);
        }
        let term = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        if term.is_ok_and(|s| s.success()) {
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Some(status) = self.exited()? {
                    return Ok(status);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            eprintln!("hdfs-bench: {} ignored SIGTERM for {grace:?}; killing it", self.name);
        }
        self.child.kill().with_context(|| format!("kill {}", self.name))?;
        self.child.wait().with_context(|| format!("wait for {}", self.name))
    }

    /// SIGKILL at once (no chance to shut down cleanly), then reap it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if self.exited()?.is_none() {
            self.child.kill().with_context(|| format!("kill {}", self.name))?;
            self.child.wait().with_context(|| format!("wait for {}", self.name))?;
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Err(e) = self.stop(STOP_GRACE) {
            eprintln!("hdfs-bench: could not stop {}: {e:#}", self.name);
        }
    }
}

/// The peak resident memory of a running process, in bytes (`None` once it has exited).
pub fn peak_rss(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmHWM:")
}

/// The resident memory of a running process now, in bytes (`None` once it has exited).
pub fn rss(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmRSS:")
}

/// The system's load averages (1, 5 and 15 minutes), as `/proc/loadavg` gives them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A `kB` field of `/proc/PID/status`, in bytes.
fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.trim_start_matches(field).trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// A command run to completion while its peak memory was sampled.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    pub elapsed: Duration,
    /// The last `VmHWM` read before the process exited.
    pub peak_rss: u64,
}

/// Runs `cmd` to completion, sampling its peak memory every 20 ms. A non-zero exit is an error
/// that quotes the end of `stderr_log` (where the caller sent the command's stderr).
pub fn run_watched(name: &str, cmd: Command, stderr_log: &Path) -> anyhow::Result<Watched> {
    let start = Instant::now();
    let mut proc = Proc::spawn(name, cmd)?;
    let mut peak = 0;
    let status = loop {
        if let Some(status) = proc.exited()? {
            break status;
        }
        if let Some(p) = peak_rss(proc.pid()) {
            peak = p;
        }
        std::thread::sleep(SAMPLE_EVERY);
    };
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("{name} failed ({status}): {}", log_tail(stderr_log, 5).trim());
    }
    Ok(Watched { elapsed, peak_rss: peak })
}

/// The last `lines` lines of a log file (empty if unreadable).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Polls `cond` every `every` until it holds; fails after `timeout`, naming `what`.
pub fn poll_until(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut cond: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        if cond()? {
            return Ok(start.elapsed());
        }
        if start.elapsed() >= timeout {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(every);
    }
}

/// CPU time a process has used so far (user + system), in seconds (`None` once it has exited).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses: utime and stime
    // are the 12th and 13th of them, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The whole machine's CPU time so far: (busy, all) in clock ticks, from `/proc/stat`.
pub fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next() else { return (0, 0) };
    let v: Vec<u64> = cpu.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let all: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (all - idle, all)
}

/// TCP connections this network namespace has opened so far (`ActiveOpens` in `/proc/net/snmp`).
pub fn tcp_active_opens() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut tcp = snmp.lines().filter(|l| l.starts_with("Tcp:"));
    let (Some(names), Some(values)) = (tcp.next(), tcp.next()) else { return 0 };
    let at = names.split_whitespace().position(|n| n == "ActiveOpens");
    at.and_then(|i| values.split_whitespace().nth(i)?.parse().ok()).unwrap_or(0)
}
