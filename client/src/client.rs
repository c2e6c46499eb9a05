//! [`Client`]: the façade: namespace operations against the namenode, the entry points for
//! streaming file bytes to and from datanodes ([`FileWriter`], [`FileReader`]), uploads and
//! downloads of local files, and the admin calls (`admin`).
//!
//! It holds nothing but a [`Conn`]; every handle it returns gets a clone of that, not of the
//! `Client`, so the handles do not depend on this file.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdfs_proto::pb::namenode::{self as pb};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::admin::{self, DatanodeReport, FsckReport, SafeModeAction};
use crate::checksum::{FileChecksum, file_checksum};
use crate::conn::{Conn, path, rpc};
use crate::error::{Error, Result};
use crate::group::{self, NamenodeStatus};
use crate::reader::FileReader;
use crate::writer::FileWriter;

/// A file or directory as `stat` and `ls` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStatus {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: FileKind,
    pub length: u64,
    pub replication: u32,
    pub block_size: u64,
    pub modification_time_ms: u64,
    pub under_construction: bool,
    /// Entries of a directory (0 for a file).
    pub children: u64,
    /// Mode bits (`0o755`; `0o1000` is the sticky bit).
    pub permission: u16,
    pub owner: String,
    pub group: String,
}

impl FileStatus {
    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Directory
    }

    pub fn modification_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.modification_time_ms)
    }

    /// `drwxr-xr-x`, as `ls -l` and `hdfs dfs -ls` show the type and mode.
    pub fn mode_string(&self) -> String {
        hdfs_proto::perm::listing(self.permission, self.is_dir())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Directory,
}

impl TryFrom<pb::FileStatus> for FileStatus {
    type Error = Error;
    fn try_from(s: pb::FileStatus) -> Result<Self> {
        let kind = match pb::FileType::try_from(s.file_type) {
            Ok(pb::FileType::File) => FileKind::File,
            Ok(pb::FileType::Directory) => FileKind::Directory,
            _ => {
                return Err(Error::InvalidArgument(format!("{}: unknown file type {}", s.path, s.file_type)));
            }
        };
        Ok(FileStatus {
            path: s.path,
            kind,
            length: s.length,
            replication: s.replication,
            block_size: s.block_size,
            modification_time_ms: s.modification_time_ms,
            under_construction: s.under_construction,
            children: s.children,
            permission: (s.permission as u16) & hdfs_proto::perm::MODE_MASK,
            owner: s.owner,
            group: s.group,
        })
    }
}

/// What a subtree holds (`du`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContentSummary {
    pub length: u64,
    pub file_count: u64,
    pub directory_count: u64,
    /// Bytes stored counting every replica.
    pub space_consumed: u64,
}

/// Options for [`Client::create`]. Zero replication or block size means the namenode's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateOptions {
    /// Replace an existing file.
    pub overwrite: bool,
    /// Create missing parent directories.
    pub create_parent: bool,
    pub replication: u32,
    pub block_size: u64,
    /// The new file's mode as given (HDFS applies no umask to it); `None`: 0666 less the
    /// namenode's umask.
    pub permission: Option<u16>,
}

impl CreateOptions {
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }
    pub fn create_parent(mut self, yes: bool) -> Self {
        self.create_parent = yes;
        self
    }
    pub fn replication(mut self, n: u32) -> Self {
        self.replication = n;
        self
    }
    pub fn block_size(mut self, bytes: u64) -> Self {
        self.block_size = bytes;
        self
    }
    pub fn permission(mut self, mode: u16) -> Self {
        self.permission = Some(mode);
        self
    }

    /// Checks the options here, for a clear error before any round trip.
    pub fn validate(&self) -> Result<()> {
        if self.replication > hdfs_proto::MAX_REPLICATION {
            return Err(Error::InvalidArgument(format!(
                "replication {} is out of range (1..={})",
                self.replication,
                hdfs_proto::MAX_REPLICATION
            )));
        }
        if self.block_size != 0 && !(hdfs_proto::MIN_BLOCK_SIZE..=hdfs_proto::MAX_BLOCK_SIZE).contains(&self.block_size)
        {
            return Err(Error::InvalidArgument(format!(
                "block size {} is out of range ({}..={} bytes)",
                self.block_size,
                hdfs_proto::MIN_BLOCK_SIZE,
                hdfs_proto::MAX_BLOCK_SIZE
            )));
        }
        Ok(())
    }
}

/// A connection to a cluster. Cheap to clone; clones share connections.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cluster = hdfs_tests::MiniCluster::start(1).await?;
/// # let url = cluster.namenode_url();
/// use hdfs_client::Client;
/// let client = Client::connect(&url).await?;
/// client.mkdirs("/data/logs", true).await?;
/// assert!(client.stat("/data/logs").await?.is_dir());
/// assert_eq!(client.list("/data").await?.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    conn: Conn,
}

impl Client {
    /// Connects to the namenode at `url` (`http://host:8020`; a bare `host:port` works too), or
    /// to a namenode group: its members' URLs, comma-separated. Calls go to the group's leader
    /// and follow it through failovers.
    pub async fn connect(url: &str) -> Result<Client> {
        Self::connect_as(url, &crate::current_user()).await
    }

    /// [`connect`](Self::connect), calling as `user` (as `HADOOP_USER_NAME` does for the
    /// command): the owner of what this client creates, and whose permissions are checked.
    pub async fn connect_as(url: &str, user: &str) -> Result<Client> {
        Ok(Client { conn: Conn::connect(url, user).await? })
    }

    /// The user this client calls as.
    pub fn user(&self) -> &str {
        self.conn.user()
    }

    /// The name this client's leases are held under.
    pub fn client_name(&self) -> &str {
        self.conn.client_name()
    }

    /// Creates a directory; with `create_parent`, missing parents too and no error if it exists.
    pub async fn mkdirs(&self, p: &str, create_parent: bool) -> Result<()> {
        let path = path(p)?.to_string();
        rpc!(self.conn, mkdirs, pb::MkdirsRequest { path, create_parent }).await?;
        Ok(())
    }

    /// A file or directory's status. A file being written counts its last block as far as
    /// its writer has hflushed it (what readers see; the namenode knows only the blocks before),
    /// when a node of its pipeline says; else the namenode's length stands.
    pub async fn stat(&self, p: &str) -> Result<FileStatus> {
        let path = path(p)?;
        let req = pb::GetFileInfoRequest { path: path.to_string() };
        let r = rpc!(self.conn, get_file_info, req).await?;
        let mut st: FileStatus =
            r.status.ok_or_else(|| Error::InvalidArgument("namenode sent no status".into()))?.try_into()?;
        if st.under_construction
            && !st.is_dir()
            && let Ok(len) = crate::reader::readable_length(&self.conn, &path).await
        {
            st.length = st.length.max(len);
        }
        Ok(st)
    }

    /// Entries of a directory in name order (a file lists as itself), fetched page by page.
    pub async fn list(&self, p: &str) -> Result<Vec<FileStatus>> {
        let path = path(p)?.to_string();
        let mut out = Vec::new();
        let mut start_after = String::new();
        loop {
            let req = pb::GetListingRequest { path: path.clone(), start_after: start_after.clone(), limit: 0 };
            let page = rpc!(self.conn, get_listing, req).await?;
            for e in page.entries {
                out.push(FileStatus::try_from(e)?);
            }
            if !page.has_more {
                return Ok(out);
            }
            start_after = match out.last() {
                Some(last) => last.path.rsplit('/').next().unwrap_or_default().to_string(),
                None => return Ok(out),
            };
        }
    }

    /// Deletes a file, or a directory (which must be empty unless `recursive`).
    pub async fn delete(&self, p: &str, recursive: bool) -> Result<()> {
        let path = path(p)?.to_string();
        rpc!(self.conn, delete, pb::DeleteRequest { path, recursive }).await?;
        Ok(())
    }

    /// Renames `src` to `dst`; `dst` must not exist.
    pub async fn rename(&self, src: &str, dst: &str) -> Result<()> {
        let (src, dst) = (path(src)?.to_string(), path(dst)?.to_string());
        rpc!(self.conn, rename, pb::RenameRequest { src, dst }).await?;
        Ok(())
    }

    pub async fn set_replication(&self, p: &str, replication: u32) -> Result<()> {
        let path = path(p)?.to_string();
        rpc!(self.conn, set_replication, pb::SetReplicationRequest { path, replication }).await?;
        Ok(())
    }

    /// Sets the mode bits (`chmod`): only the owner or a superuser may.
    pub async fn set_permission(&self, p: &str, mode: u16) -> Result<()> {
        let path = path(p)?.to_string();
        let permission = u32::from(mode);
        rpc!(self.conn, set_permission, pb::SetPermissionRequest { path, permission }).await?;
        Ok(())
    }

    /// Sets the owner and/or the group (`chown`, `chgrp`; `None` leaves it): only a superuser
    /// changes an owner; the owner may change the group to one of their own groups.
    pub async fn set_owner(&self, p: &str, owner: Option<&str>, group: Option<&str>) -> Result<()> {
        let path = path(p)?.to_string();
        let (owner, group) = (owner.unwrap_or_default().to_string(), group.unwrap_or_default().to_string());
        if owner.is_empty() && group.is_empty() {
            return Err(Error::InvalidArgument("set_owner: neither an owner nor a group given".into()));
        }
        rpc!(self.conn, set_owner, pb::SetOwnerRequest { path, owner, group }).await?;
        Ok(())
    }

    /// Sets the modification time (`touch -m`, `put -p`).
    pub async fn set_times(&self, p: &str, modification_time: SystemTime) -> Result<()> {
        let path = path(p)?.to_string();
        let modification_time_ms = modification_time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        rpc!(self.conn, set_times, pb::SetTimesRequest { path, modification_time_ms }).await?;
        Ok(())
    }

    /// Whether this client's user may access `p` as asked (`Access::READ`, `WRITE`, ...):
    /// `Ok(())`, or [`Error::PermissionDenied`] saying why (`FileSystem.access`).
    pub async fn check_access(&self, p: &str, access: hdfs_proto::perm::Access) -> Result<()> {
        let path = path(p)?.to_string();
        rpc!(self.conn, check_access, pb::CheckAccessRequest { path, access: u32::from(access.0) }).await?;
        Ok(())
    }

    pub async fn content_summary(&self, p: &str) -> Result<ContentSummary> {
        let path = path(p)?.to_string();
        let r = rpc!(self.conn, get_content_summary, pb::GetContentSummaryRequest { path }).await?;
        Ok(ContentSummary {
            length: r.length,
            file_count: r.file_count,
            directory_count: r.directory_count,
            space_consumed: r.space_consumed,
        })
    }

    /// The number of live replicas of each block of a file, in order.
    pub async fn replica_counts(&self, p: &str) -> Result<Vec<usize>> {
        let path = path(p)?.to_string();
        let r =
            rpc!(self.conn, get_block_locations, pb::GetBlockLocationsRequest { path, offset: 0, length: 0 }).await?;
        Ok(r.blocks.iter().map(|b| b.locations.len()).collect())
    }

    /// The file's checksum: the CRC32C of its bytes, composed from its blocks' CRCs
    /// (`hdfs dfs -checksum`, Hadoop's `COMPOSITE-CRC32C`; see [`FileChecksum`]).
    pub async fn checksum(&self, p: &str) -> Result<FileChecksum> {
        file_checksum(&self.conn, path(p)?).await
    }

    /// Creates a file and returns a writer for it. The file becomes visible, complete, when the
    /// writer is closed ([`FileWriter::close`] or `AsyncWriteExt::shutdown`).
    pub async fn create(&self, p: &str, opts: CreateOptions) -> Result<FileWriter> {
        opts.validate()?;
        let path = path(p)?;
        let req = pb::CreateRequest {
            path: path.to_string(),
            client_name: self.client_name().to_string(),
            overwrite: opts.overwrite,
            create_parent: opts.create_parent,
            replication: opts.replication,
            block_size: opts.block_size,
            permission: opts.permission.map(u32::from),
        };
        let r = rpc!(self.conn, create, req).await?;
        let status: FileStatus =
            r.status.ok_or_else(|| Error::InvalidArgument("namenode sent no status".into()))?.try_into()?;
        Ok(FileWriter::new(self.conn.clone(), path, status.replication, status.block_size, r.live_datanodes))
    }

    /// Reopens a closed file to write at its end (HDFS's append): the writer continues its
    /// partial last block, under a new generation stamp, or starts a new one. Fails cleanly
    /// while another writer holds the file's lease.
    pub async fn append(&self, p: &str) -> Result<FileWriter> {
        let path = path(p)?;
        let req = pb::AppendRequest { path: path.to_string(), client_name: self.conn.client_name().to_string() };
        let r = rpc!(self.conn, append, req).await?;
        let st: FileStatus =
            r.status.ok_or_else(|| Error::InvalidArgument("namenode sent no status".into()))?.try_into()?;
        let conn = self.conn.clone();
        Ok(FileWriter::appending(conn, path, st.replication, st.block_size, st.length, r.last_block))
    }

    /// Cuts a closed file to `new_length` bytes (HDFS's truncate): `true` when done at once
    /// (on a block boundary); `false` while the datanodes cut the last block, the file staying
    /// open until they have (readers see the new length at once; an append waits for it).
    pub async fn truncate(&self, p: &str, new_length: u64) -> Result<bool> {
        let path = path(p)?.to_string();
        let req = pb::TruncateRequest { path, new_length, client_name: self.conn.client_name().to_string() };
        Ok(rpc!(self.conn, truncate, req).await?.done)
    }

    /// Moves the blocks of closed files `sources`, in order, to the end of closed file `target`
    /// and removes the sources (HDFS's concat: no bytes are copied).
    pub async fn concat(&self, target: &str, sources: &[&str]) -> Result<()> {
        let sources = sources.iter().map(|s| Ok(path(s)?.to_string())).collect::<Result<Vec<_>>>()?;
        let req = pb::ConcatRequest { target: path(target)?.to_string(), sources };
        rpc!(self.conn, concat, req).await?;
        Ok(())
    }

    /// Opens a file for reading from its start.
    pub async fn open(&self, p: &str) -> Result<FileReader> {
        self.open_at(p, 0).await
    }

    /// Opens a file for reading from `offset`.
    pub async fn open_at(&self, p: &str, offset: u64) -> Result<FileReader> {
        FileReader::open(self.conn.clone(), path(p)?, offset).await
    }

    /// Streams everything `reader` yields into a new file; `progress` hears of each piece sent.
    /// Returns the bytes written.
    pub async fn upload_from(
        &self,
        reader: impl AsyncRead + Unpin,
        remote: &str,
        opts: CreateOptions,
        progress: impl FnMut(u64),
    ) -> Result<u64> {
        let mut writer = self.create(remote, opts).await?;
        writer.write_from(reader, progress).await?;
        writer.close().await
    }

    /// Uploads a local file; `progress` hears of each piece sent.
    pub async fn upload(
        &self,
        local: &Path,
        remote: &str,
        opts: CreateOptions,
        progress: impl FnMut(u64),
    ) -> Result<u64> {
        let file = tokio::fs::File::open(local).await.map_err(Error::io(format!("open {}", local.display())))?;
        self.upload_from(file, remote, opts, progress).await
    }

    /// Streams a file into `writer`; `progress` hears of each piece received. Returns the bytes
    /// copied.
    pub async fn download_to(
        &self,
        remote: &str,
        mut writer: impl AsyncWrite + Unpin,
        mut progress: impl FnMut(u64),
    ) -> Result<u64> {
        let mut reader = self.open(remote).await?;
        let mut total = 0;
        while let Some(chunk) = reader.next_chunk().await? {
            writer.write_all(&chunk).await.map_err(Error::io("write output"))?;
            total += chunk.len() as u64;
            progress(chunk.len() as u64);
        }
        writer.flush().await.map_err(Error::io("write output"))?;
        Ok(total)
    }

    /// Downloads a file to a local path, through a temporary file renamed into place at the end,
    /// so a failed download leaves nothing half-written behind.
    pub async fn download(&self, remote: &str, local: &Path, progress: impl FnMut(u64)) -> Result<u64> {
        let tmp = temp_sibling(local);
        let file = tokio::fs::File::create(&tmp).await.map_err(Error::io(format!("create {}", tmp.display())))?;
        let result = async {
            let mut file = file;
            let n = self.download_to(remote, &mut file, progress).await?;
            file.sync_all().await.map_err(Error::io(format!("sync {}", tmp.display())))?;
            tokio::fs::rename(&tmp, local).await.map_err(Error::io(format!("rename to {}", local.display())))?;
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    /// Checks the health of every file under `p`; `include_files` adds per-file block details.
    pub async fn fsck(&self, p: &str, include_files: bool) -> Result<FsckReport> {
        admin::fsck(&self.conn, p, include_files).await
    }

    /// Every datanode the namenode knows, live or not.
    pub async fn datanode_report(&self) -> Result<Vec<DatanodeReport>> {
        admin::datanode_report(&self.conn).await
    }

    /// Gets, enters or leaves safe mode; returns whether it is on, and the namenode's words.
    pub async fn safe_mode(&self, action: SafeModeAction) -> Result<(bool, String)> {
        admin::safe_mode(&self.conn, action).await
    }

    /// Starts draining the datanode named by id or address (`decommission`), or stops it.
    /// Returns the node's address.
    pub async fn decommission(&self, node: &str, decommission: bool) -> Result<String> {
        admin::decommission(&self.conn, node, decommission).await
    }

    /// Every namenode of the group, each as it describes itself (`hdfs haadmin`).
    pub async fn namenode_group(&self) -> Vec<NamenodeStatus> {
        group::group_status(&self.conn).await
    }

    /// Adds namenode `id` at `address` (`host:port`) to the group: it catches up as a learner,
    /// then votes. Start it first with `--join`.
    pub async fn add_namenode(&self, id: u64, address: &str) -> Result<()> {
        let add = pb::AddMember { id, address: address.trim_start_matches("http://").to_string() };
        group::change_membership(&self.conn, pb::change_membership_request::Change::Add(add)).await
    }

    /// Removes namenode `id` from the group.
    pub async fn remove_namenode(&self, id: u64) -> Result<()> {
        group::change_membership(&self.conn, pb::change_membership_request::Change::Remove(id)).await
    }
}

/// `dir/.name.hdfs-tmp-RANDOM` next to `path`.
fn temp_sibling(path: &Path) -> std::path::PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.hdfs-tmp-{}", uuid::Uuid::new_v4().simple()))
}
