//! The datanode's HTTP port (`--http-addr`, Hadoop's 9864): the data side of WebHDFS
//! (`webhdfs.rs`), where the namenode's redirects send clients, and the datanode's own page
//! (`status.rs`: `/` and `/api/datanode`: volumes, replicas, the block scanner's progress).
//!
//! WebHDFS does the client's work with the client library, as the caller named in the URL: a
//! CREATE or APPEND runs the same replicated, checksummed, durable pipeline as `hdfs put`, an
//! OPEN the same verified reads with replica failover as `hdfs get`.
//!
//! It also serves Prometheus metrics at `/metrics` (`metrics.rs`).

mod metrics;
mod status;
mod webhdfs;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::{any, get};
use prometheus_client::registry::Registry;

pub(crate) use metrics::registry;

use crate::scanner::ScanProgress;
use crate::store::BlockStore;

/// Who this datanode is, for its page.
pub(crate) struct NodeInfo {
    pub datanode_id: String,
    pub address: String,
    pub http_address: String,
    pub started: SystemTime,
    pub scan_bytes_per_sec: u64,
    pub scan_period: Duration,
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Web {
    /// The namenode URLs this datanode reports to (the client library follows the leader).
    pub namenodes: String,
    /// What `/metrics` shows ([`registry`]).
    pub metrics: Arc<Registry>,
    pub store: BlockStore,
    pub scan: Arc<ScanProgress>,
    pub node: Arc<NodeInfo>,
}

pub(crate) fn router(web: Web) -> Router {
    Router::new()
        .route("/", get(status::page_handler))
        .route("/api/datanode", get(status::api))
        .route("/webhdfs/v1", any(webhdfs::handle))
        .route("/webhdfs/v1/", any(webhdfs::handle))
        .route("/webhdfs/v1/{*path}", any(webhdfs::handle))
        .route("/metrics", get(metrics::scrape))
        .fallback(hdfs_proto::http::not_found)
        .with_state(web)
}
