//! The datanode's HTTP port (`--http-addr`, Hadoop's 9864): the data side of WebHDFS
//! (`webhdfs.rs`), where the namenode's redirects send clients.
//!
//! It does the client's work with the client library, as the caller named in the URL: a
//! CREATE or APPEND runs the same replicated, checksummed, durable pipeline as `hdfs put`, an
//! OPEN the same verified reads with replica failover as `hdfs get`.
//!
//! It also serves Prometheus metrics at `/metrics` (`metrics.rs`).

mod metrics;
mod webhdfs;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};
use prometheus_client::registry::Registry;

pub(crate) use metrics::registry;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Web {
    /// The namenode URLs this datanode reports to (the client library follows the leader).
    pub namenodes: String,
    /// What `/metrics` shows ([`registry`]).
    pub metrics: Arc<Registry>,
}

pub(crate) fn router(web: Web) -> Router {
    Router::new()
        .route("/webhdfs/v1", any(webhdfs::handle))
        .route("/webhdfs/v1/", any(webhdfs::handle))
        .route("/webhdfs/v1/{*path}", any(webhdfs::handle))
        .route("/metrics", get(metrics::scrape))
        .fallback(hdfs_proto::http::not_found)
        .with_state(web)
}
