//! The JSON behind each view of the status page: `/api/overview`, `/api/datanodes`,
//! `/api/events` (`?limit=N`, newest first) and `/api/browse?path=/x`. The same structs the
//! pages render (`views.rs`, `browse.rs`), serialized as they are. Errors are
//! `{"error": message}` with the status WebHDFS would answer.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use hdfs_proto::html::{json, json_error};
use hdfs_proto::webhdfs::Params;

use super::Web;
use super::browse::{Browse, Query};
use super::views::{Datanodes, Events, Overview};
use crate::events::CAPACITY;

pub(super) async fn overview(State(web): State<Web>) -> Response {
    json(StatusCode::OK, &Overview::of(&web))
}

pub(super) async fn datanodes(State(web): State<Web>) -> Response {
    json(StatusCode::OK, &Datanodes::of(&web))
}

pub(super) async fn events(State(web): State<Web>, uri: Uri) -> Response {
    let limit = match Params::parse(uri.query()).u64("limit") {
        Ok(l) => l.map_or(CAPACITY, |l| l.min(CAPACITY as u64) as usize),
        Err(e) => return json_error(e.status, &e.message),
    };
    json(StatusCode::OK, &Events::of(&web, limit))
}

pub(super) async fn browse(State(web): State<Web>, uri: Uri) -> Response {
    let answer = match Query::parse(uri.query()) {
        Ok(q) => Browse::of(&web, &q).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(b) => json(StatusCode::OK, &b),
        Err(e) => json_error(e.status, &e.message),
    }
}
