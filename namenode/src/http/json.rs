//! WebHDFS's JSON shapes, exactly as Hadoop writes them (`JsonUtil.java`), and the one mapping
//! of the namenode's errors to Hadoop's exceptions and status codes.

use hdfs_proto::webhdfs::RemoteError;
use serde_json::{Value, json};

use crate::error::Error;
use crate::namesystem::FileInfo;

/// A `FileStatus` object; `suffix` is the entry's name in a listing, "" for the path itself.
pub fn file_status(info: &FileInfo, suffix: &str) -> Value {
    json!({
        "accessTime": if info.is_dir { 0 } else { info.mtime_ms },
        "blockSize": info.block_size,
        "childrenNum": info.children,
        "fileId": info.file_id,
        "group": info.group,
        "length": info.length,
        "modificationTime": info.mtime_ms,
        "owner": info.owner,
        "pathSuffix": suffix,
        "permission": format!("{:o}", info.permission),
        "replication": info.replication,
        "storagePolicy": 0,
        "type": if info.is_dir { "DIRECTORY" } else { "FILE" },
    })
}

/// The entries of a listing of `dir`: children by name, or a file listing itself with an
/// empty suffix (what HdfsCLI checks to tell a file from a directory).
pub fn listing(entries: &[FileInfo], listed: &hdfs_proto::path::HdfsPath) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            let suffix = if !e.is_dir && e.path == *listed { "" } else { e.path.name() };
            file_status(e, suffix)
        })
        .collect()
}

/// The answer Hadoop gives for `e`.
pub fn remote(e: Error) -> RemoteError {
    let message = e.detail();
    match e {
        Error::NotFound(p) | Error::ParentNotFound(p) => {
            RemoteError::file_not_found(format!("File does not exist: {p}"))
        }
        Error::IsADirectory(p) => RemoteError::file_not_found(format!("Path is not a file: {p}")),
        Error::PermissionDenied(m) => RemoteError::access_control(m),
        Error::AlreadyExists(p) => RemoteError::io("FileAlreadyExistsException", format!("{p} already exists")),
        Error::InvalidPath(_)
        | Error::MissingField(_)
        | Error::InvalidReplication(_)
        | Error::InvalidBlockSize(_)
        | Error::InvalidName(_)
        | Error::InvalidMode(_)
        | Error::TruncateBeyondEnd { .. }
        | Error::Concat(_)
        | Error::RootOperation(_) => RemoteError::illegal_argument(message),
        Error::DirectoryNotEmpty(p) => {
            RemoteError::io("PathIsNotEmptyDirectoryException", format!("`{p} is non empty': Directory is not empty"))
        }
        Error::NotADirectory(_) => RemoteError::io("ParentNotDirectoryException", message),
        Error::LeaseHeldByOther(_) => RemoteError::io("AlreadyBeingCreatedException", message),
        Error::NoLease { .. } | Error::NotUnderConstruction(_) => RemoteError::io("LeaseExpiredException", message),
        Error::SafeMode(_) => RemoteError::io("SafeModeException", message),
        Error::BeingTruncated(_) => RemoteError::io("RecoveryInProgressException", message),
        Error::BlocksNotReported(_) => RemoteError::io("RetriableException", message),
        Error::NotLeader { .. } | Error::NoQuorum(_) | Error::Stopped { .. } => standby(&message),
        Error::RenameIntoSelf { .. } | Error::DirectoryItemLimit { .. } | Error::NoLiveDatanodes => {
            RemoteError::io("IOException", message)
        }
        Error::BlockMismatch { .. }
        | Error::BadBlock { .. }
        | Error::UnknownBlock(_)
        | Error::UnknownDatanode(_)
        | Error::DuplicateDatanode { .. }
        | Error::Membership(_)
        | Error::TooManyNames
        | Error::CorruptLog { .. }
        | Error::Storage { .. } => RemoteError::internal(message),
    }
}

/// What a member that does not lead answers: HdfsCLI and Hadoop's clients try the next
/// namenode on it.
pub fn standby(why: &str) -> RemoteError {
    RemoteError::io("StandbyException", format!("Operation category READ is not supported in state standby ({why})"))
}
