//! What the datanode counts on its data paths: bytes written and read, replicas written, failed
//! pipeline writes, and the block scanner's progress. The gauges (replicas held, disk space,
//! transfers in progress), read at scrape time, and the `/metrics` page are the HTTP port's
//! (`http/metrics.rs`).
//!
//! A leaf, so transfers and the scanner can record without depending on the HTTP port. Every
//! count is an atomic add (per packet at most), with no lock on the data path.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::{Registry, Unit};

/// Clones share the counts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Metrics {
    /// Bytes appended to replicas by pipeline writes (clients' and replica copies from other
    /// nodes).
    pub(crate) written: Counter,
    pub(crate) blocks_written: Counter,
    /// Bytes of replicas sent to readers.
    pub(crate) read: Counter,
    pub(crate) pipeline_failures: Counter,
    pub(crate) scanned: Counter,
    pub(crate) scan_errors: Counter,
}

impl Metrics {
    pub(crate) fn register(&self, r: &mut Registry) {
        let written = "Bytes written to replicas by pipeline writes (clients' and copies from other datanodes)";
        r.register_with_unit("written", written, Unit::Bytes, self.written.clone());
        r.register("blocks_written", "Replicas written and finalized by pipeline writes", self.blocks_written.clone());
        r.register_with_unit("read", "Bytes of replicas sent to readers", Unit::Bytes, self.read.clone());
        let failures = "Pipeline writes through this datanode that failed, here or further down the pipeline";
        r.register("pipeline_failures", failures, self.pipeline_failures.clone());
        r.register_with_unit("scanned", "Bytes the block scanner read and verified", Unit::Bytes, self.scanned.clone());
        let errors = "Replicas the block scanner found bad (a checksum mismatch or a read error)";
        r.register("scanner_errors", errors, self.scan_errors.clone());
    }
}
