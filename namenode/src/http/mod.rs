//! The namenode's HTTP port (`--http-addr`, Hadoop's 9870): WebHDFS under `/webhdfs/v1`
//! (`webhdfs.rs`, with Hadoop's JSON shapes and exceptions in `json.rs`) and Prometheus metrics
//! at `/metrics` (`metrics.rs`).
//!
//! Handlers call the [`Namesystem`] as the gRPC handlers do, with the caller named by
//! `user.name`; the server loop and its limits are `hdfs_proto::http`'s.

mod json;
mod metrics;
mod webhdfs;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};
use prometheus_client::registry::Registry;

use crate::namesystem::Namesystem;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Web {
    pub ns: Arc<Namesystem>,
    /// What `/metrics` shows, built once.
    pub metrics: Arc<Registry>,
}

/// Every page and API of the port.
pub(crate) fn router(ns: Arc<Namesystem>) -> Router {
    let metrics = Arc::new(metrics::registry(ns.clone()));
    Router::new()
        .route("/webhdfs/v1", any(webhdfs::handle))
        .route("/webhdfs/v1/", any(webhdfs::handle))
        .route("/webhdfs/v1/{*path}", any(webhdfs::handle))
        .route("/metrics", get(metrics::scrape))
        .fallback(hdfs_proto::http::not_found)
        .with_state(Web { ns, metrics })
}
