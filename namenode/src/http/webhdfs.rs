//! WebHDFS on the namenode: metadata operations answered here, from the namesystem as the
//! gRPC handlers call it; data operations (`OPEN`, `CREATE`, `APPEND`, `GETFILECHECKSUM`)
//! answered with a `307 Temporary Redirect` to a datanode's HTTP port, which does the client's
//! work: bytes never pass through the namenode.
//!
//! The datanode URL carries everything the datanode needs (operation, user, offset, length,
//! create options), so clients that reuse it (fsspec appends every chunk to one URL) work.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hdfs_proto::path::HdfsPath;
use hdfs_proto::webhdfs::{self, Params, RemoteError, json};
use serde_json::{Value, json as j};

use super::Web;
use super::json::{file_status, listing, remote, standby};
use crate::error::Error;
use crate::namesystem::{Caller, DEFAULT_LIST_LIMIT};

pub(super) async fn handle(State(web): State<Web>, req: Request) -> Response {
    match call(&web, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

type Answer = Result<Response, RemoteError>;

/// A request to the namenode's WebHDFS: checked, then one operation.
async fn call(web: &Web, req: Request) -> Answer {
    let (parts, body) = req.into_parts();
    let params = Params::parse(parts.uri.query());
    let path = webhdfs::path(parts.uri.path())?;
    let op = params.op()?;
    // The namenode takes no data: it is sent to the datanode a redirect names.
    if axum::body::to_bytes(body, 0).await.is_err() {
        return Err(RemoteError::illegal_argument(format!("{op}: the namenode takes no request body")));
    }
    let ns = &web.ns;
    if !ns.role().1 {
        return Err(standby("this namenode does not lead its group"));
    }
    let user = params.user().unwrap_or(&ns.config().http_default_user).to_string();
    let caller = ns.permissions().caller(Some(&user));
    let call = Call { web, params: &params, path: &path, caller: &caller, user: &user };
    match (&parts.method, op.as_str()) {
        (&Method::GET, "GETFILESTATUS") => call.file_status().await,
        (&Method::GET, "LISTSTATUS") => call.list_status().await,
        (&Method::GET, "LISTSTATUS_BATCH") => call.list_status_batch().await,
        (&Method::GET, "GETCONTENTSUMMARY") => call.content_summary().await,
        (&Method::GET, "GETHOMEDIRECTORY") => ok_json(j!({"Path": format!("/user/{user}")})),
        (&Method::GET, "OPEN") => call.open().await,
        (&Method::GET, "GETFILECHECKSUM") => call.checksum().await,
        (&Method::PUT, "CREATE") => call.create().await,
        (&Method::PUT, "MKDIRS") => call.mkdirs().await,
        (&Method::PUT, "RENAME") => call.rename().await,
        (&Method::PUT, "SETREPLICATION") => call.set_replication().await,
        (&Method::PUT, "SETPERMISSION") => call.set_permission().await,
        (&Method::PUT, "SETOWNER") => call.set_owner().await,
        (&Method::PUT, "SETTIMES") => call.set_times().await,
        (&Method::POST, "APPEND") => call.append().await,
        (&Method::POST, "CONCAT") => call.concat().await,
        (&Method::POST, "TRUNCATE") => call.truncate().await,
        (&Method::DELETE, "DELETE") => call.delete().await,
        (m, op) => Err(webhdfs::unknown_op(m.as_str(), op)),
    }
}

/// One operation's inputs.
struct Call<'a> {
    web: &'a Web,
    params: &'a Params,
    path: &'a HdfsPath,
    caller: &'a Caller,
    user: &'a str,
}

fn ok_json(v: Value) -> Answer {
    Ok(json(StatusCode::OK, &v))
}

fn ok_empty() -> Answer {
    Ok((StatusCode::OK, [(header::CONTENT_LENGTH, HeaderValue::from_static("0"))], Body::empty()).into_response())
}

fn boolean(b: bool) -> Answer {
    ok_json(j!({ "boolean": b }))
}

impl Call<'_> {
    async fn file_status(&self) -> Answer {
        let info = self.web.ns.file_info(self.path, self.caller).await.map_err(remote)?;
        ok_json(j!({"FileStatus": file_status(&info, "")}))
    }

    async fn list_status(&self) -> Answer {
        let mut all = Vec::new();
        let mut after = String::new();
        loop {
            let (page, remaining) =
                self.web.ns.list(self.path, &after, DEFAULT_LIST_LIMIT, self.caller).await.map_err(remote)?;
            after = page.last().map(|e| e.path.name().to_string()).unwrap_or_default();
            all.extend(listing(&page, self.path));
            if remaining == 0 || page.is_empty() {
                break;
            }
        }
        ok_json(j!({"FileStatuses": {"FileStatus": all}}))
    }

    async fn list_status_batch(&self) -> Answer {
        let after = self.params.get("startafter").unwrap_or("");
        let (page, remaining) =
            self.web.ns.list(self.path, after, DEFAULT_LIST_LIMIT, self.caller).await.map_err(remote)?;
        ok_json(j!({"DirectoryListing": {
            "partialListing": {"FileStatuses": {"FileStatus": listing(&page, self.path)}},
            "remainingEntries": remaining,
        }}))
    }

    async fn content_summary(&self) -> Answer {
        let s = self.web.ns.content_summary(self.path, self.caller).await.map_err(remote)?;
        ok_json(j!({"ContentSummary": {
            "directoryCount": s.directories,
            "fileCount": s.files,
            "length": s.length,
            "quota": -1,
            "spaceConsumed": s.space_consumed,
            "spaceQuota": -1,
            "typeQuota": {},
        }}))
    }

    /// OPEN: to a datanode holding the block at `offset`.
    async fn open(&self) -> Answer {
        let offset = self.params.u64("offset")?.unwrap_or(0);
        let length = self.params.u64("length")?;
        let lb = self.web.ns.block_locations(self.path, offset, 1, self.caller).await.map_err(remote)?;
        let readable = lb.file_length + lb.last_block.as_ref().map_or(0, |b| b.block.num_bytes);
        if offset > readable {
            return Err(RemoteError::illegal_argument(format!(
                "Invalid value for webhdfs parameter \"offset\": Offset={offset} out of the range [0, {readable}]"
            )));
        }
        let holders = lb.blocks.first().or(lb.last_block.as_ref()).map(|b| b.locations.clone()).unwrap_or_default();
        let mut query = vec![("offset", offset.to_string())];
        if let Some(l) = length {
            query.push(("length", l.to_string()));
        }
        self.redirect("OPEN", &holders, query)
    }

    async fn checksum(&self) -> Answer {
        let info = self.web.ns.file_info(self.path, self.caller).await.map_err(remote)?;
        if info.is_dir {
            return Err(remote(Error::IsADirectory(self.path.clone())));
        }
        let lb = self.web.ns.block_locations(self.path, 0, 1, self.caller).await.map_err(remote)?;
        let holders = lb.blocks.first().map(|b| b.locations.clone()).unwrap_or_default();
        self.redirect("GETFILECHECKSUM", &holders, Vec::new())
    }

    /// CREATE: checked here for what can be told without data (an existing path, bad options),
    /// then to a datanode with room, which creates the file as the caller.
    async fn create(&self) -> Answer {
        let overwrite = self.params.bool("overwrite", false)?;
        let replication = self.params.u64("replication")?;
        let block_size = self.params.u64("blocksize")?;
        let permission = self.params.permission("permission")?;
        if let Some(r) = replication
            && !(1..=u64::from(hdfs_proto::MAX_REPLICATION)).contains(&r)
        {
            return Err(remote(Error::InvalidReplication(r.min(u64::from(u32::MAX)) as u32)));
        }
        if let Some(b) = block_size
            && !(hdfs_proto::MIN_BLOCK_SIZE..=hdfs_proto::MAX_BLOCK_SIZE).contains(&b)
        {
            return Err(remote(Error::InvalidBlockSize(b)));
        }
        match self.web.ns.file_info(self.path, self.caller).await {
            Ok(info) if info.is_dir => {
                return Err(RemoteError::io(
                    "FileAlreadyExistsException",
                    format!("{} already exists as a directory", self.path),
                ));
            }
            Ok(_) if !overwrite => return Err(remote(Error::AlreadyExists(self.path.clone()))),
            Ok(_) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(remote(e)),
        }
        let mut query = vec![("overwrite", overwrite.to_string())];
        query.extend(replication.map(|r| ("replication", r.to_string())));
        query.extend(block_size.map(|b| ("blocksize", b.to_string())));
        query.extend(permission.map(|p| ("permission", format!("{p:o}"))));
        self.redirect("CREATE", &[], query)
    }

    async fn append(&self) -> Answer {
        let info = self.web.ns.file_info(self.path, self.caller).await.map_err(remote)?;
        if info.is_dir {
            return Err(remote(Error::IsADirectory(self.path.clone())));
        }
        self.redirect("APPEND", &[], Vec::new())
    }

    /// The answer naming the datanode that does `op`: 307 with `Location`, or with
    /// `noredirect=true`, 200 with `{"Location": ...}`.
    fn redirect(&self, op: &str, holders: &[crate::datanodes::Location], extra: Vec<(&str, String)>) -> Answer {
        let ns = &self.web.ns;
        let Some(dn) = ns.http_target(holders, ns.config().default_block_size) else {
            return Err(RemoteError::io("IOException", "Failed to find datanode, suggest to check cluster health."));
        };
        let mut query = vec![("op", op.to_string()), ("user.name", self.user.to_string())];
        if let Some(rpc) = &ns.config().advertise_addr {
            query.push(("namenoderpcaddress", rpc.clone()));
        }
        query.extend(extra);
        let location = format!(
            "{}://{dn}{}{}?{}",
            hdfs_proto::tls::scheme(),
            webhdfs::PREFIX,
            webhdfs::encode_path(self.path.as_str()),
            Params::encode(&query)
        );
        if self.params.bool("noredirect", false)? {
            return ok_json(j!({ "Location": location }));
        }
        let value = HeaderValue::from_str(&location).map_err(|e| RemoteError::internal(e.to_string()))?;
        Ok((
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, value), (header::CONTENT_LENGTH, HeaderValue::from_static("0"))],
            Body::empty(),
        )
            .into_response())
    }

    async fn mkdirs(&self) -> Answer {
        let mode = self.params.permission("permission")?.unwrap_or(0o755);
        self.web.ns.mkdirs(self.path, true, Some(mode.into()), self.caller, None).await.map_err(remote)?;
        boolean(true)
    }

    /// RENAME as Hadoop's WebHDFS does it (the old `rename`): into an existing directory, and
    /// `false` rather than an error when the source is missing or the target taken.
    async fn rename(&self) -> Answer {
        let dst = HdfsPath::parse(self.params.required("destination")?).map_err(|e| {
            RemoteError::illegal_argument(format!("Invalid value for webhdfs parameter \"destination\": {e}"))
        })?;
        let ns = &self.web.ns;
        let dst = match ns.file_info(&dst, self.caller).await {
            Ok(info) if info.is_dir && !self.path.is_root() => {
                dst.join(self.path.name()).map_err(|e| remote(e.into()))?
            }
            _ => dst,
        };
        match ns.rename(self.path, &dst, self.caller, None).await {
            Ok(()) => boolean(true),
            Err(
                Error::NotFound(_) | Error::ParentNotFound(_) | Error::AlreadyExists(_) | Error::RenameIntoSelf { .. },
            ) => boolean(false),
            Err(e) => Err(remote(e)),
        }
    }

    async fn set_replication(&self) -> Answer {
        let r = self.params.u64("replication")?.unwrap_or(u64::from(self.web.ns.config().default_replication));
        let r = u32::try_from(r).map_err(|_| remote(Error::InvalidReplication(u32::MAX)))?;
        match self.web.ns.set_replication(self.path, r, self.caller, None).await {
            Ok(()) => boolean(true),
            Err(Error::IsADirectory(_)) => boolean(false),
            Err(e) => Err(remote(e)),
        }
    }

    async fn set_permission(&self) -> Answer {
        let mode = self.params.permission("permission")?.unwrap_or(0o755);
        self.web.ns.set_permission(self.path, mode.into(), self.caller, None).await.map_err(remote)?;
        ok_empty()
    }

    async fn set_owner(&self) -> Answer {
        let (owner, group) = (self.params.get("owner"), self.params.get("group"));
        if owner.is_none() && group.is_none() {
            return Err(RemoteError::illegal_argument("Both owner and group are empty."));
        }
        self.web.ns.set_owner(self.path, owner, group, self.caller, None).await.map_err(remote)?;
        ok_empty()
    }

    /// SETTIMES: the modification time (-1 keeps it); access times are not kept.
    async fn set_times(&self) -> Answer {
        let mtime = self.params.i64("modificationtime")?.unwrap_or(-1);
        self.params.i64("accesstime")?;
        if mtime >= 0 {
            self.web.ns.set_times(self.path, mtime as u64, self.caller, None).await.map_err(remote)?;
        } else {
            self.web.ns.file_info(self.path, self.caller).await.map_err(remote)?;
        }
        ok_empty()
    }

    async fn concat(&self) -> Answer {
        let sources = self.params.required("sources")?;
        let sources = sources
            .split(',')
            .map(|s| {
                HdfsPath::parse(s.trim()).map_err(|e| {
                    RemoteError::illegal_argument(format!("Invalid value for webhdfs parameter \"sources\": {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.web.ns.concat(self.path, &sources, self.caller, None).await.map_err(remote)?;
        ok_empty()
    }

    async fn truncate(&self) -> Answer {
        let new_length = self
            .params
            .u64("newlength")?
            .ok_or_else(|| RemoteError::illegal_argument("Invalid value for webhdfs parameter \"newlength\": null"))?;
        let client = format!("webhdfs-{}", self.user);
        let done = self.web.ns.truncate(self.path, new_length, &client, self.caller, None).await.map_err(remote)?;
        boolean(done)
    }

    async fn delete(&self) -> Answer {
        let recursive = self.params.bool("recursive", false)?;
        match self.web.ns.delete(self.path, recursive, self.caller, None).await {
            Ok(()) => boolean(true),
            Err(Error::NotFound(_) | Error::RootOperation(_)) => boolean(false),
            Err(e) => Err(remote(e)),
        }
    }
}
