//! What the namenode counts where things happen: edit-log syncs (recorded by the syncer thread)
//! and RPC calls (recorded at the gRPC edge). The gauges, which are read from the namesystem at
//! scrape time, and the `/metrics` page are the HTTP port's (`http/metrics.rs`).
//!
//! A leaf, so the edit log and the RPC edge can record without depending on the HTTP port.
//! Recording is an atomic add for a counter and a short uncontended lock for a histogram
//! (prometheus-client's), once per sync or per call, never per byte.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Bucket bounds (seconds) for latencies: an fdatasync takes from ~0.1 ms (a fast SSD) to tens
/// of milliseconds (a disk), an RPC from well under a millisecond (a read) to seconds (waiting
/// for a quorum).
const LATENCY_BUCKETS: [f64; 16] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The edit log's group commits. Clones share the counts.
#[derive(Clone, Debug)]
pub struct EditLogMetrics {
    syncs: Counter,
    sync_seconds: Histogram,
    written: Counter,
    failures: Counter,
}

impl Default for EditLogMetrics {
    fn default() -> Self {
        Self {
            syncs: Counter::default(),
            sync_seconds: latency_histogram(),
            written: Counter::default(),
            failures: Counter::default(),
        }
    }
}

impl EditLogMetrics {
    /// One write + fdatasync of `bytes` that took `took`.
    pub fn synced(&self, bytes: usize, took: Duration) {
        self.syncs.inc();
        self.written.inc_by(bytes as u64);
        self.sync_seconds.observe(took.as_secs_f64());
    }

    /// A write or sync failed (the log stops acknowledging).
    pub fn failed(&self) {
        self.failures.inc();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: String,
    code: &'static str,
}

/// gRPC calls, by method (`Create`, `Heartbeat`, `AppendEntries`, ...). Clones share the counts.
#[derive(Clone, Debug)]
pub struct RpcMetrics {
    calls: Family<CallLabels, Counter>,
    /// By method only: a histogram per (method, code) would multiply the series for little.
    seconds: Family<MethodLabels, Histogram, fn() -> Histogram>,
}

impl Default for RpcMetrics {
    fn default() -> Self {
        Self { calls: Family::default(), seconds: Family::new_with_constructor(latency_histogram) }
    }
}

impl RpcMetrics {
    /// A call to `method` answered with `code` (a gRPC status code name) after `took`.
    pub fn record(&self, method: String, code: &'static str, took: Duration) {
        let labels = MethodLabels { method };
        self.seconds.get_or_create(&labels).observe(took.as_secs_f64());
        self.calls.get_or_create(&CallLabels { method: labels.method, code }).inc();
    }
}

/// How long the namesystem's lock is held at a time: what every heartbeat, report and call may
/// wait behind. Clones share the counts.
#[derive(Clone, Debug)]
pub struct LockMetrics {
    hold_seconds: Histogram,
    longest_ns: Arc<AtomicU64>,
}

impl Default for LockMetrics {
    fn default() -> Self {
        Self { hold_seconds: latency_histogram(), longest_ns: Arc::default() }
    }
}

impl LockMetrics {
    /// The lock was held for `took`.
    pub fn held(&self, took: Duration) {
        self.hold_seconds.observe(took.as_secs_f64());
        self.longest_ns.fetch_max(took.as_nanos() as u64, Ordering::Relaxed);
    }

    /// The longest hold since the namenode started.
    pub fn longest(&self) -> Duration {
        Duration::from_nanos(self.longest_ns.load(Ordering::Relaxed))
    }
}

/// Everything recorded as it happens, registered under the registry's prefix
/// (`hdfs_namenode_`).
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    pub editlog: EditLogMetrics,
    pub rpc: RpcMetrics,
    pub lock: LockMetrics,
}

impl Metrics {
    pub fn register(&self, r: &mut Registry) {
        let e = &self.editlog;
        r.register("editlog_syncs", "Edit log syncs: one write and fdatasync of the appends gathered", e.syncs.clone());
        r.register_with_unit("editlog_sync", "Time one edit log sync took", Unit::Seconds, e.sync_seconds.clone());
        r.register_with_unit("editlog_written", "Bytes written to edit log segments", Unit::Bytes, e.written.clone());
        r.register(
            "editlog_sync_failures",
            "Edit log writes or syncs that failed (after one, the namenode stops acknowledging)",
            e.failures.clone(),
        );
        r.register("rpc_calls", "gRPC calls answered, by method and status code", self.rpc.calls.clone());
        r.register_with_unit("rpc", "Time to answer a gRPC call, by method", Unit::Seconds, self.rpc.seconds.clone());
        let hold = "How long the namesystem lock was held at a time (what heartbeats and calls wait behind)";
        r.register_with_unit("namesystem_lock_hold", hold, Unit::Seconds, self.lock.hold_seconds.clone());
    }
}
