//! The namenode's HTTP port (`--http-addr`, Hadoop's 9870): WebHDFS under `/webhdfs/v1`
//! (`webhdfs.rs`, with Hadoop's JSON shapes and exceptions in `json.rs`), Prometheus metrics at
//! `/metrics` (`metrics.rs`), and the status page.
//!
//! The status page is served by the namenode itself, rendered on the server with no script and
//! nothing fetched from elsewhere: `/` (`pages.rs`: overview, datanodes, last events) and
//! `/browse?path=/x` (`browse_page.rs`: a directory's entries, or a file's blocks and where they
//! are, with a download link through WebHDFS). Each view is a struct (`views.rs`, `browse.rs`)
//! that the HTML renders and `/api/overview`, `/api/datanodes`, `/api/events` and
//! `/api/browse` serialize as JSON (`api.rs`), so the page and scripts share one source.
//!
//! Handlers call the [`Namesystem`] as the gRPC handlers do, with the caller named by
//! `user.name`; the server loop and its limits are `hdfs_proto::http`'s.

mod api;
mod browse;
mod browse_page;
mod json;
mod metrics;
mod pages;
mod views;
mod webhdfs;

use std::sync::Arc;
use std::time::SystemTime;

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
    /// When this namenode started serving (the status page's "started").
    pub started: SystemTime,
}

/// Every page and API of the port.
pub(crate) fn router(ns: Arc<Namesystem>) -> Router {
    let metrics = Arc::new(metrics::registry(ns.clone()));
    Router::new()
        .route("/", get(pages::status))
        .route("/browse", get(browse_page::browse))
        .route("/api/overview", get(api::overview))
        .route("/api/datanodes", get(api::datanodes))
        .route("/api/events", get(api::events))
        .route("/api/browse", get(api::browse))
        .route("/webhdfs/v1", any(webhdfs::handle))
        .route("/webhdfs/v1/", any(webhdfs::handle))
        .route("/webhdfs/v1/{*path}", any(webhdfs::handle))
        .route("/metrics", get(metrics::scrape))
        .fallback(hdfs_proto::http::not_found)
        .with_state(Web { ns, metrics, started: SystemTime::now() })
}
