//! `GET /metrics`: the namenode in Prometheus's text format (prometheus-client encodes it), every
//! name prefixed `hdfs_namenode_`.
//!
//! Two kinds of numbers: what is counted as it happens (edit-log syncs, RPC calls: `metrics.rs`
//! at the crate root), and gauges read at scrape time by a collector: the cluster at a glance
//! from [`Namesystem::summary`] (one pass over the datanodes and the most urgent repair queue,
//! never over every block) and this member's place in the namenode group. Gauges read on demand
//! cannot go stale or drift from what `hdfs report` and fsck say.

use std::fmt;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use hdfs_proto::http::gauge;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::Web;
use crate::namesystem::Namesystem;

/// Everything `/metrics` shows.
pub(super) fn registry(ns: Arc<Namesystem>) -> Registry {
    let mut r = Registry::with_prefix("hdfs_namenode");
    ns.metrics().register(&mut r);
    r.register_collector(Box::new(Gauges { ns }));
    r
}

pub(super) async fn scrape(State(web): State<Web>) -> Response {
    hdfs_proto::http::metrics_answer(&web.metrics)
}

/// The gauges, read from the namesystem on each scrape.
struct Gauges {
    ns: Arc<Namesystem>,
}

impl fmt::Debug for Gauges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("namenode gauges")
    }
}

/// A gauge with one label, one sample per (label value, value); none at all without samples.
fn gauges(e: &mut DescriptorEncoder, name: &str, help: &str, label: &str, samples: &[(String, u64)]) -> fmt::Result {
    if samples.is_empty() {
        return Ok(());
    }
    let mut m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (value, v) in samples {
        ConstGauge::new(*v).encode(m.encode_family(&[(label, value.as_str())])?)?;
    }
    Ok(())
}

impl Collector for Gauges {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let s = self.ns.summary();
        let b = &s.blocks;
        let bytes = Some(Unit::Bytes);
        gauge(&mut e, "capacity_total", "Raw capacity of the datanodes that are not dead.", bytes.clone(), b.capacity)?;
        gauge(&mut e, "capacity_used", "Bytes of replicas on the datanodes that are not dead.", bytes.clone(), b.used)?;
        gauge(&mut e, "capacity_remaining", "Space left on the datanodes that are not dead.", bytes, b.remaining)?;
        gauge(&mut e, "files", "Files in the namespace.", None, s.files)?;
        gauge(&mut e, "directories", "Directories in the namespace, the root included.", None, s.directories)?;
        gauge(&mut e, "blocks", "Blocks of all files.", None, b.blocks)?;
        let under = "Blocks with fewer live replicas than their target, missing and corrupt ones included (as HDFS counts them).";
        gauge(&mut e, "under_replicated_blocks", under, None, b.under_replicated)?;
        gauge(&mut e, "missing_blocks", "Blocks with no replica left anywhere.", None, b.missing)?;
        gauge(&mut e, "corrupt_blocks", "Blocks whose only replicas are corrupt.", None, b.corrupt)?;
        let queue = "Blocks queued for more replicas (the queue under_replicated_blocks counts).";
        gauge(&mut e, "replication_queue_blocks", queue, None, b.under_replicated)?;
        let copies = "Replica copies scheduled on datanodes and not yet confirmed.";
        gauge(&mut e, "copies_in_flight", copies, None, b.copies_in_flight)?;
        gauge(
            &mut e,
            "safe_mode",
            "1 while the namenode is in safe mode (refusing changes).",
            None,
            u64::from(b.safe_mode),
        )?;
        let by_state = [
            ("live", b.live_datanodes),
            ("stale", b.stale_datanodes),
            ("dead", b.dead_datanodes),
            ("decommissioning", b.decommissioning_datanodes),
            ("decommissioned", b.decommissioned_datanodes),
        ]
        .map(|(k, v)| (k.to_string(), v));
        let help = "Datanodes by liveness (live, stale, dead) and by admin state (decommissioning, decommissioned).";
        gauges(&mut e, "datanodes", help, "state", &by_state)?;

        let longest = self.ns.metrics().lock.longest().as_secs_f64();
        let help = "The longest the namesystem lock has been held at a time since the namenode started.";
        let m = e.encode_descriptor("namesystem_lock_longest_hold", help, Some(&Unit::Seconds), MetricType::Gauge)?;
        ConstGauge::new(longest).encode(m)?;

        let g = self.ns.group_status();
        let me = &g.me;
        gauge(&mut e, "raft_leader", "1 if this namenode leads its group.", None, u64::from(me.role == "leader"))?;
        gauge(&mut e, "raft_term", "This namenode's current Raft term.", None, me.term)?;
        gauge(
            &mut e,
            "raft_last_log_index",
            "Index of the last entry in this namenode's log.",
            None,
            me.last_log_index,
        )?;
        gauge(
            &mut e,
            "raft_applied_index",
            "Index of the last entry applied to the namespace.",
            None,
            me.applied_index,
        )?;
        let lag = "Entries in this namenode's log not applied yet (not yet committed, or committed and waiting).";
        gauge(&mut e, "raft_apply_lag", lag, None, me.last_log_index.saturating_sub(me.applied_index))?;
        // Only a leader knows how far each member has replicated.
        let behind: Vec<(String, u64)> = g
            .members
            .iter()
            .filter(|m| m.id != g.id)
            .filter_map(|m| Some((m.id.to_string(), me.last_log_index.saturating_sub(m.matched_index?))))
            .collect();
        let help = "As the leader sees it: entries each other member has not replicated yet, by member id.";
        gauges(&mut e, "raft_follower_lag", help, "member", &behind)
    }
}
