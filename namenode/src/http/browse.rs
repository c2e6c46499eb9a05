//! The namespace browser's view, `/api/browse?path=/x` and `/browse?path=/x`: a directory's
//! entries (a page of them, `after` the last name of the previous page), or a file's status,
//! its blocks with where their replicas are, and the WebHDFS URL that downloads it.
//!
//! The browser reads as `user.name` if the query gives one, else as the HTTP port's default
//! user (`--http-default-user`, `dr.who`), with that user's permissions, as WebHDFS does.

use std::collections::HashMap;

use hdfs_proto::html::{url_path, url_query};
use hdfs_proto::path::HdfsPath;
use hdfs_proto::perm::symbolic;
use hdfs_proto::webhdfs::{self, Params, RemoteError};
use serde::Serialize;

use super::Web;
use super::json::remote;
use crate::namesystem::{DEFAULT_LIST_LIMIT, FileInfo, LocatedBlock};

/// A directory's entry, or a file's status.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The last component (`""` for the root).
    pub name: String,
    pub path: String,
    /// `file` or `directory`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Bytes (0 for a directory).
    pub length: u64,
    pub replication: u32,
    pub block_size: u64,
    pub owner: String,
    pub group: String,
    /// `rwxr-xr-x`, as `ls -l` spells it.
    pub permission: String,
    /// The same as an octal number's digits (`755`).
    pub mode: String,
    pub modified_ms: u64,
    /// Entries of a directory.
    pub children: u64,
    /// A file being written.
    pub under_construction: bool,
}

impl Entry {
    fn of(info: &FileInfo) -> Entry {
        Entry {
            name: info.path.name().to_string(),
            path: info.path.to_string(),
            kind: if info.is_dir { "directory" } else { "file" },
            length: info.length,
            replication: info.replication,
            block_size: info.block_size,
            owner: info.owner.clone(),
            group: info.group.clone(),
            permission: symbolic(info.permission),
            mode: format!("{:o}", info.permission),
            modified_ms: info.mtime_ms,
            children: info.children,
            under_construction: info.under_construction,
        }
    }
}

/// A directory's page of entries.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub path: String,
    pub parent: Option<String>,
    /// In name order, at most a thousand.
    pub entries: Vec<Entry>,
    /// Entries after these; `next_after` asks for them.
    pub remaining: u64,
    pub next_after: Option<String>,
}

/// Where one replica of a block is.
#[derive(Debug, Clone, Serialize)]
pub struct Replica {
    pub datanode_id: String,
    pub address: String,
    /// Its HTTP port (its page); `""` if unknown.
    pub http_address: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockView {
    pub block_id: u64,
    pub generation_stamp: u64,
    /// Where the block starts in the file.
    pub offset: u64,
    pub length: u64,
    /// False for the last block of a file being written (its length still grows).
    pub complete: bool,
    /// Replicas a reader would be sent to, best first (corrupt ones and dead nodes left out).
    pub replicas: Vec<Replica>,
}

/// A file: its status, its blocks, and where to download it.
#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub path: String,
    pub parent: Option<String>,
    pub status: Entry,
    pub blocks: Vec<BlockView>,
    /// `/webhdfs/v1/PATH?op=OPEN` on this port: redirected to a datanode holding the data.
    pub download: String,
}

/// `/api/browse`: `{"type": "directory", ...}` or `{"type": "file", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Browse {
    Directory(Listing),
    File(FileView),
}

/// The query of a browse request.
pub struct Query {
    pub path: HdfsPath,
    pub after: String,
    /// `user.name` as given.
    pub user: Option<String>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Result<Query, RemoteError> {
        let params = Params::parse(query);
        let raw = params.get("path").unwrap_or("/");
        let path = HdfsPath::parse(raw)
            .map_err(|e| RemoteError::illegal_argument(format!("Invalid value for parameter \"path\": {e}")))?;
        let after = params.get("after").unwrap_or("").to_string();
        Ok(Query { path, after, user: params.user().map(str::to_string) })
    }

    /// `&user.name=...` if the query named a user, for links that keep it.
    pub fn user_suffix(&self) -> String {
        self.user.as_deref().map(|u| format!("&user.name={}", url_query(u))).unwrap_or_default()
    }
}

impl Browse {
    pub async fn of(web: &Web, q: &Query) -> Result<Browse, RemoteError> {
        let ns = &web.ns;
        let user = q.user.as_deref().unwrap_or(&ns.config().http_default_user);
        let caller = ns.permissions().caller(Some(user));
        let path = &q.path;
        let info = ns.file_info(path, &caller).await.map_err(remote)?;
        let parent = path.parent().map(|p| p.to_string());
        if info.is_dir {
            let (page, remaining) = ns.list(path, &q.after, DEFAULT_LIST_LIMIT, &caller).await.map_err(remote)?;
            let next_after = (remaining > 0).then(|| page.last().map(|e| e.path.name().to_string())).flatten();
            return Ok(Browse::Directory(Listing {
                path: path.to_string(),
                parent,
                entries: page.iter().map(Entry::of).collect(),
                remaining: remaining as u64,
                next_after,
            }));
        }
        let located = ns.block_locations(path, 0, 0, &caller).await.map_err(remote)?;
        let http: HashMap<String, String> =
            ns.datanodes_seen().into_iter().map(|r| (r.location.datanode_id, r.http_address)).collect();
        let replicas = |locations: &[crate::datanodes::Location]| {
            locations
                .iter()
                .map(|l| Replica {
                    datanode_id: l.datanode_id.clone(),
                    address: l.address.clone(),
                    http_address: http.get(&l.datanode_id).cloned().unwrap_or_default(),
                })
                .collect()
        };
        let view = |b: &LocatedBlock, complete: bool| BlockView {
            block_id: b.block.id.0,
            generation_stamp: b.block.generation_stamp.0,
            offset: b.offset,
            length: b.block.num_bytes,
            complete,
            replicas: replicas(&b.locations),
        };
        // The complete blocks, then a file being written's last one.
        let complete = located.blocks.iter().map(|b| view(b, true));
        let blocks: Vec<BlockView> = complete.chain(located.last_block.iter().map(|b| view(b, false))).collect();
        let download = format!("{}{}?op=OPEN{}", webhdfs::PREFIX, url_path(path.as_str()), q.user_suffix());
        Ok(Browse::File(FileView { path: path.to_string(), parent, status: Entry::of(&info), blocks, download }))
    }
}
