//! Closed-loop load: `clients` tasks share `ops` operations, each task issuing its next one as
//! soon as the last returned, and every operation's latency kept for percentiles.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cpu::CpuUse;
use crate::report::{Row, Unit};

/// What one batch of operations measured.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub ops: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    /// What the run cost, when it was measured (see `cpu.rs`).
    pub cpu: Option<CpuUse>,
}

impl Rate {
    pub fn per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The rate as a report row, with its latencies (and its cost, if measured) in the note.
    pub fn row(&self, key: &str, metric: String) -> Row {
        Row::new(key, metric, Unit::OpsPerS, Some(self.per_sec())).note(self.describe())
    }

    /// "N ops in T s, p50 .., p99 ..", then the CPU they cost if it was measured.
    pub fn describe(&self) -> String {
        let cpu = self.cpu.map_or(String::new(), |c| format!("; {}", c.describe(self.ops)));
        format!(
            "{} ops in {:.1} s, p50 {:.2} ms, p99 {:.2} ms{cpu}",
            self.ops,
            self.elapsed.as_secs_f64(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        )
    }
}

/// Runs operations `0..ops` on `clients` concurrent tasks (task `k` takes `k`, `k + clients`, ...)
/// and returns their rate and latencies. `op(k, i)` is operation `i` on task `k`. The first
/// error ends the run, named with its operation.
pub async fn run<F, Fut>(clients: usize, ops: u64, op: F) -> anyhow::Result<Rate>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..clients {
        let op = op.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity((ops / clients as u64 + 1) as usize);
            let mut i = k as u64;
            while i < ops {
                let t = Instant::now();
                op(k, i).await.with_context(|| format!("operation {i} (client {k})"))?;
                latencies.push(t.elapsed());
                i += clients as u64;
            }
            anyhow::Ok(latencies)
        });
    }
    let mut all = Vec::with_capacity(ops as usize);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.context("a load task panicked")??);
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    let at = |q: f64| all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1))).copied();
    Ok(Rate { ops, elapsed, p50: at(0.50).unwrap_or_default(), p99: at(0.99).unwrap_or_default(), cpu: None })
}

/// A well-spread pseudo-random index below `n` for operation `i` (splitmix64), so that reads
/// hit the namespace all over rather than in creation order.
pub fn spread(i: u64, n: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) % n.max(1)
}

/// Operations per second over several runs of one kind (their ops over their summed time).
pub fn combined(runs: &[Rate]) -> f64 {
    let ops: u64 = runs.iter().map(|r| r.ops).sum();
    ops as f64 / runs.iter().map(|r| r.elapsed.as_secs_f64()).sum::<f64>().max(1e-9)
}

/// Each run's rate and what it cost, for a row's note.
pub fn each(runs: &[Rate]) -> String {
    let runs: Vec<String> = runs.iter().map(|r| format!("{:.0}/s: {}", r.per_sec(), r.describe())).collect();
    format!("runs: {}", runs.join(" | "))
}
