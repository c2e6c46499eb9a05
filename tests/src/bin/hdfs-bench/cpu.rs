//! What a measured run cost the machine: CPU time of the namenodes under test
//! (`/proc/PID/stat`) and of this process (the clients), how busy the two cores were
//! (`/proc/stat`), and how many TCP connections were opened (`/proc/net/snmp`). On this
//! machine the clients share the cores with the servers, so a rate is bounded by CPU as much as
//! by any wait; these say which.

use crate::procs::{cpu_seconds, machine_ticks, tcp_active_opens};

#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// CPU seconds of the servers whose pids were given.
    pub servers: f64,
    /// CPU seconds of this process (the benchmark's clients).
    pub clients: f64,
    /// The machine's busy share of its CPU time during the run.
    pub busy: f64,
    /// TCP connections opened in this network namespace during the run: the benchmark's
    /// clients keep theirs, so these are the servers' (and anything else running here).
    pub connections: u64,
}

/// Runs `f` and reads what it cost around it; `pids` are the servers'.
pub fn around<T>(pids: &[u32], f: impl FnOnce() -> T) -> (T, CpuUse) {
    let servers = || pids.iter().filter_map(|&p| cpu_seconds(p)).sum::<f64>();
    let me = || cpu_seconds(std::process::id()).unwrap_or(0.0);
    let (s0, c0, m0, t0) = (servers(), me(), machine_ticks(), tcp_active_opens());
    let out = f();
    let (s1, c1, m1, t1) = (servers(), me(), machine_ticks(), tcp_active_opens());
    let busy = m1.0.saturating_sub(m0.0) as f64 / m1.1.saturating_sub(m0.1).max(1) as f64;
    let cpu = CpuUse { servers: s1 - s0, clients: c1 - c0, busy, connections: t1.saturating_sub(t0) };
    (out, cpu)
}

impl CpuUse {
    /// Per operation, for a row's note.
    pub fn describe(&self, ops: u64) -> String {
        let per_op = |s: f64| s / ops.max(1) as f64 * 1e6;
        format!(
            "CPU/op namenodes {:.0} us, clients {:.0} us; machine {:.0}% busy; {} TCP connections opened",
            per_op(self.servers),
            per_op(self.clients),
            self.busy * 100.0,
            self.connections
        )
    }
}
