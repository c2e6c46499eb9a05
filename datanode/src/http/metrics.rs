//! `GET /metrics`: the datanode in Prometheus's text format (prometheus-client encodes it), every
//! name prefixed `hdfs_datanode_`: the counters of the data paths (`metrics.rs` at the crate
//! root), and gauges read at scrape time: replicas held, the disk's space as heartbeats report
//! it, and transfers in progress.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::State;
use axum::response::Response;
use hdfs_proto::http::gauge;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::{Registry, Unit};

use super::Web;
use crate::metrics::Metrics;
use crate::store::BlockStore;

/// Everything `/metrics` shows: `metrics` and gauges read from `store` and `active` (transfers
/// in progress).
pub(crate) fn registry(metrics: &Metrics, store: BlockStore, active: Arc<AtomicU32>) -> Registry {
    let mut r = Registry::with_prefix("hdfs_datanode");
    metrics.register(&mut r);
    r.register_collector(Box::new(Gauges { store, active }));
    r
}

pub(super) async fn scrape(State(web): State<Web>) -> Response {
    hdfs_proto::http::metrics_answer(&web.metrics)
}

struct Gauges {
    store: BlockStore,
    active: Arc<AtomicU32>,
}

impl fmt::Debug for Gauges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("datanode gauges")
    }
}

impl Collector for Gauges {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        // What heartbeats report (`link.rs`), so these match `hdfs report` for this node.
        let (capacity, remaining) = self.store.disk_space();
        let bytes = Some(Unit::Bytes);
        gauge(
            &mut e,
            "capacity_total",
            "Size of the file system holding the data directory.",
            bytes.clone(),
            capacity,
        )?;
        gauge(&mut e, "capacity_used", "Bytes of finalized replicas.", bytes.clone(), self.store.used_bytes())?;
        gauge(&mut e, "capacity_remaining", "Space left on the data directory's file system.", bytes, remaining)?;
        gauge(&mut e, "blocks", "Finalized replicas held.", None, self.store.counts().finalized)?;
        let active = u64::from(self.active.load(Ordering::Relaxed));
        gauge(
            &mut e,
            "active_transfers",
            "Reads, writes and copies in progress (the load heartbeats report).",
            None,
            active,
        )
    }
}
