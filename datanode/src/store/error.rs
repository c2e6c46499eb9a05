//! [`StoreError`]: what can go wrong with a replica, and the one place it becomes a gRPC status.
//!
//! Callers branch on the variants (the scanner tells a rotten replica from one deleted under
//! it; block recovery and the transfer service answer peers with them), so they stay typed down
//! to the edge, where [`From<StoreError> for Status`](#impl-From<StoreError>-for-Status) maps
//! each to one code: missing → not found, stale or present → failed precondition, a bad request
//! → invalid argument, a busy replica → unavailable, bytes or records that fail their checks →
//! data loss, the disk and the index → internal.

use std::path::{Path, PathBuf};

use hdfs_proto::checksum::VerifyError;
use hdfs_proto::{BlockId, GenStamp};
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("block {0}: no such replica")]
    NotFound(BlockId),
    #[error("block {block}: replica has generation stamp {have}, {want} asked")]
    WrongGeneration { block: BlockId, have: GenStamp, want: GenStamp },
    #[error(
        "block {block}: replica has generation stamp {have}{}, a recovery to {want} must be newer",
        if *.finalized { " and is finalized" } else { "" }
    )]
    StaleRecovery { block: BlockId, have: GenStamp, want: GenStamp, finalized: bool },
    #[error("block {0}: replica already exists")]
    AlreadyExists(BlockId),
    #[error("block {block}: packet at offset {got}, expected {expected}")]
    OutOfOrder { block: BlockId, expected: u64, got: u64 },
    #[error("block {block}: replica would exceed {max} bytes", max = hdfs_proto::MAX_BLOCK_SIZE)]
    TooLarge { block: BlockId },
    #[error("block {block} at offset {offset}: {source}")]
    Checksum { block: BlockId, offset: u64, source: VerifyError },
    #[error("block {block}: read offset {offset} is past the replica's end ({len})")]
    OffsetPastEnd { block: BlockId, offset: u64, len: u64 },
    #[error("block {block}: stored record is unreadable: {reason}")]
    BadRecord { block: BlockId, reason: String },
    /// A record bincode could not decode (or encode).
    #[error("block {block}: stored record is unreadable: {source}")]
    Undecodable { block: BlockId, source: bincode::Error },
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("block {block}: cannot recover to {want} bytes, the replica has {have}")]
    RecoveryTooLong { block: BlockId, want: u64, have: u64 },
    #[error(
        "volume full: {} free, {} kept free (--reserved and the index's headroom)",
        hdfs_proto::units::format_size(*free), hdfs_proto::units::format_size(*keep)
    )]
    DiskFull { free: u64, keep: u64 },
    #[error("block {0}: a writer is still busy with this replica")]
    Busy(BlockId),
    #[error("block store index: {0}")]
    Sled(#[from] sled::Error),
    /// The blocking thread running a store call died (a bug: it panicked).
    #[error("block store task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Wraps an `io::Error` with what was being done to which file.
pub(super) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { action, path, source }
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => Status::not_found(e.to_string()),
            StoreError::WrongGeneration { .. } | StoreError::StaleRecovery { .. } | StoreError::AlreadyExists(_) => {
                Status::failed_precondition(e.to_string())
            }
            StoreError::OutOfOrder { .. }
            | StoreError::TooLarge { .. }
            | StoreError::OffsetPastEnd { .. }
            | StoreError::RecoveryTooLong { .. } => Status::invalid_argument(e.to_string()),
            StoreError::Busy(_) => Status::unavailable(e.to_string()),
            StoreError::DiskFull { .. } => Status::resource_exhausted(e.to_string()),
            StoreError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                Status::resource_exhausted(e.to_string())
            }
            StoreError::Checksum { .. } | StoreError::BadRecord { .. } | StoreError::Undecodable { .. } => {
                Status::data_loss(e.to_string())
            }
            StoreError::Io { .. } | StoreError::Sled(_) | StoreError::Task(_) => Status::internal(e.to_string()),
        }
    }
}
