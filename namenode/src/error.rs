//! The namenode's errors, and their one mapping to gRPC status codes.

use std::path::Path;

use hdfs_proto::path::{HdfsPath, PathError};
use tonic::{Code, Status};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Serializable because an op's outcome is kept in the retry cache, and so in the fsimage: new
/// variants go at the end (serde numbers them in order), and none is skipped (serde numbers a
/// skipped variant when it writes but not when it reads, so every error declared after one came
/// back as another, or failed to decode); only the OS error behind `Storage` is left out.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum Error {
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    #[error("missing field {0}")]
    MissingField(String),
    #[error("{0}: no such file or directory")]
    NotFound(HdfsPath),
    #[error("{0}: parent directory does not exist")]
    ParentNotFound(HdfsPath),
    #[error("{0}: already exists")]
    AlreadyExists(HdfsPath),
    #[error("{0}: not a directory")]
    NotADirectory(HdfsPath),
    #[error("{0}: is a directory")]
    IsADirectory(HdfsPath),
    #[error("{0}: directory is not empty (delete it recursively)")]
    DirectoryNotEmpty(HdfsPath),
    #[error("{0}: the root directory cannot be deleted or renamed")]
    RootOperation(HdfsPath),
    #[error("cannot move {src} into itself ({dst})")]
    RenameIntoSelf { src: HdfsPath, dst: HdfsPath },
    #[error("replication {0} is out of range (1..={max})", max = hdfs_proto::MAX_REPLICATION)]
    InvalidReplication(u32),
    #[error(
        "block size {0} is out of range ({min}..={max} bytes)",
        min = hdfs_proto::MIN_BLOCK_SIZE,
        max = hdfs_proto::MAX_BLOCK_SIZE
    )]
    InvalidBlockSize(u64),
    /// Another client's lease: its name stays in the namenode's log, not in the answer.
    #[error("{0}: being written by another client")]
    LeaseHeldByOther(HdfsPath),
    #[error("{path}: client {client} holds no lease on it (was it deleted or overwritten?)")]
    NoLease { path: HdfsPath, client: String },
    #[error("{0}: file is not open for writing")]
    NotUnderConstruction(HdfsPath),
    #[error("{path}: block {got} is not the file's last block ({expected})")]
    BlockMismatch { path: HdfsPath, expected: String, got: hdfs_proto::BlockId },
    #[error("{0}: blocks not yet reported by any datanode; retry")]
    BlocksNotReported(HdfsPath),
    #[error("namenode is in safe mode. {0}")]
    SafeMode(String),
    #[error("block {0}: unknown")]
    UnknownBlock(hdfs_proto::BlockId),
    #[error("no live datanodes to place a block on")]
    NoLiveDatanodes,
    /// This member does not lead the group; `leader` is the leader's client URL, if known.
    #[error("{}", not_leader_message(*.id, .leader))]
    NotLeader { id: u64, leader: Option<(u64, String)> },
    /// The group could not commit or confirm within the call's time (no majority reachable).
    #[error("no quorum: {0}")]
    NoQuorum(String),
    /// This member's consensus stopped (its edit log failed: a full or broken disk): it serves
    /// nothing until restarted; clients go to the others.
    #[error("namenode {id} stopped serving: {why}")]
    Stopped { id: u64, why: String },
    /// A membership change that cannot be made.
    #[error("{0}")]
    Membership(String),
    #[error("datanode {0} is not registered (register again)")]
    UnknownDatanode(String),
    #[error("edit log record {index}: {reason}")]
    CorruptLog { index: u64, reason: String },
    /// The edit log, the fsimage or the data directory could not be used; `source` is the OS
    /// error, where there is one.
    #[error("metadata storage: {context}")]
    Storage {
        context: String,
        #[source]
        #[serde(skip)]
        source: Option<std::sync::Arc<std::io::Error>>,
    },
    /// A new name over the fs-limits, or with a control character (`namesystem/limits.rs`).
    #[error("{0}")]
    InvalidName(String),
    /// HDFS's `MaxDirectoryItemsExceededException`, in its words.
    #[error("The directory item limit of {dir} is exceeded: limit={limit} items={items}")]
    DirectoryItemLimit { dir: HdfsPath, limit: usize, items: usize },
    /// HDFS's `AccessControlException`, in its words: `Permission denied: user=bob,
    /// access=WRITE, inode="/user/alice":alice:supergroup:drwx------`, or a refused chown.
    #[error("{0}")]
    PermissionDenied(String),
    /// Every one of the 16 million user and group ids is taken.
    #[error("too many distinct user and group names (16777215)")]
    TooManyNames,
    /// A mode with bits HDFS does not have (setuid, setgid, or beyond).
    #[error("invalid permission {0:o}: HDFS modes go up to 1777 (no setuid or setgid)")]
    InvalidMode(u32),
    /// HDFS's words for a truncate past the end.
    #[error("{path}: Cannot truncate to a larger file size. Current size: {length}, truncate size: {new_length}.")]
    TruncateBeyondEnd { path: HdfsPath, length: u64, new_length: u64 },
    /// A concat refused for what its sources are (none, the target itself, twice, empty).
    #[error("concat: {0}")]
    Concat(String),
    /// A registration under the id of a datanode that is still heartbeating from elsewhere.
    #[error(
        "datanode {id} is live at {live_at} (heard {heard_ms} ms ago); refusing a second registration \
         from {address} (two datanodes with one id: a copied data directory?)"
    )]
    DuplicateDatanode { id: String, live_at: String, address: String, heard_ms: u64 },
    /// A block id or length out of range (ids run out at `u64::MAX`; a block holds at most
    /// `MAX_BLOCK_SIZE`).
    #[error("{path}: block {block}: {reason}")]
    BadBlock { path: HdfsPath, block: hdfs_proto::BlockId, reason: String },
    /// A client op on a file that a truncate left to block recovery to close.
    #[error("{0}: being truncated; block recovery closes it")]
    BeingTruncated(HdfsPath),
}

fn not_leader_message(id: u64, leader: &Option<(u64, String)>) -> String {
    match leader {
        Some((lid, addr)) => format!("namenode {id} is not the leader; namenode {lid} at {addr} is"),
        None => format!("namenode {id} is not the leader, and no leader is known yet"),
    }
}

/// The gRPC metadata naming the leader's URL in a NotLeader answer.
pub const LEADER_HEADER: &str = "x-hdfs-leader";
/// The gRPC metadata on every error status a namenode gives.
pub const FROM_HEADER: &str = "x-hdfs-from";
/// The gRPC metadata on every "try another namenode" answer (NotLeader, NoQuorum): the id of the
/// member that answered (0 when not known), so a client knows a member was reached.
pub const MEMBER_HEADER: &str = "x-hdfs-namenode-id";

impl Error {
    /// `what` failed on `path` with `source`.
    pub(crate) fn storage(what: &str, path: &Path, source: std::io::Error) -> Self {
        Error::Storage { context: format!("{what} {}", path.display()), source: Some(std::sync::Arc::new(source)) }
    }

    /// The storage is unusable for a reason of our own (no OS error behind it).
    pub(crate) fn storage_refused(context: impl Into<String>) -> Self {
        Error::Storage { context: context.into(), source: None }
    }

    /// The message with the chain of its sources, for clients and logs.
    pub fn detail(&self) -> String {
        let mut s = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(e) = source {
            s.push_str(": ");
            s.push_str(&e.to_string());
            source = e.source();
        }
        s
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        let code = match &e {
            Error::InvalidPath(_)
            | Error::MissingField(_)
            | Error::RootOperation(_)
            | Error::RenameIntoSelf { .. }
            | Error::InvalidReplication(_)
            | Error::InvalidBlockSize(_)
            | Error::InvalidName(_)
            | Error::InvalidMode(_)
            | Error::TruncateBeyondEnd { .. }
            | Error::Concat(_)
            | Error::BlockMismatch { .. }
            | Error::BadBlock { .. } => Code::InvalidArgument,
            Error::NotFound(_) | Error::ParentNotFound(_) | Error::UnknownDatanode(_) | Error::UnknownBlock(_) => {
                Code::NotFound
            }
            Error::AlreadyExists(_) => Code::AlreadyExists,
            Error::NotADirectory(_)
            | Error::IsADirectory(_)
            | Error::DirectoryNotEmpty(_)
            | Error::LeaseHeldByOther(_)
            | Error::NoLease { .. }
            | Error::NotUnderConstruction(_)
            | Error::BeingTruncated(_)
            | Error::BlocksNotReported(_)
            | Error::SafeMode(_)
            | Error::DirectoryItemLimit { .. }
            | Error::TooManyNames
            | Error::DuplicateDatanode { .. }
            | Error::Membership(_) => Code::FailedPrecondition,
            Error::PermissionDenied(_) => Code::PermissionDenied,
            // UNAVAILABLE means "try another namenode of the group" to clients; this is not that.
            Error::NoLiveDatanodes => Code::ResourceExhausted,
            Error::NotLeader { .. } | Error::NoQuorum(_) | Error::Stopped { .. } => Code::Unavailable,
            Error::CorruptLog { .. } | Error::Storage { .. } => Code::Internal,
        };
        let mut status = Status::new(code, e.detail());
        // A status the namenode itself gave, so clients tell it from a broken connection.
        status.metadata_mut().insert(FROM_HEADER, tonic::metadata::MetadataValue::from_static("namenode"));
        match &e {
            Error::NotLeader { id, leader } => {
                status.metadata_mut().insert(MEMBER_HEADER, (*id).into());
                if let Some(v) = leader.as_ref().and_then(|(_, url)| url.parse().ok()) {
                    status.metadata_mut().insert(LEADER_HEADER, v);
                }
            }
            Error::NoQuorum(_) => {
                status.metadata_mut().insert(MEMBER_HEADER, 0u64.into());
            }
            Error::Stopped { id, .. } => {
                status.metadata_mut().insert(MEMBER_HEADER, (*id).into());
            }
            _ => {}
        }
        status
    }
}
