//! The edit log's record: one namespace mutation ([`Op`]), and what applying it did beyond the
//! tree ([`Effects`]), for the block map and the leases. Ops carry everything that is not derived
//! from the state (block ids, generation stamps, times) so that replaying them is deterministic;
//! their serialized form is the edit log's and the fsimage's, so a change here is a format change.
//!
//! # Versions
//!
//! bincode names a variant by its position, so a variant, once written, keeps its place and its
//! fields: a new form of an op is a new variant at the end, and the old one stays to read old
//! logs (`MkdirsV1` and `CreateV1` are the ops from before owners and modes; what they create is
//! the superuser's, as the root is).

use hdfs_proto::{BlockId, GenStamp};
use serde::{Deserialize, Serialize};

use super::{Block, CommittedBlock, InodeId};

/// One namespace mutation: the unit of the edit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// [`Op::Mkdirs`] from before owners and modes (read from old logs only).
    MkdirsV1 {
        path: String,
        mtime_ms: u64,
    },
    /// [`Op::Create`] from before owners and modes (read from old logs only).
    CreateV1 {
        path: String,
        client: String,
        replication: u32,
        block_size: u64,
        overwrite: bool,
        create_parent: bool,
        mtime_ms: u64,
    },
    /// Commits the length of the file's last block (if any) and appends a new one.
    AddBlock {
        path: String,
        previous: Option<CommittedBlock>,
        block: BlockId,
        generation_stamp: GenStamp,
    },
    /// Commits the last block's length and closes the file.
    Complete {
        path: String,
        last: Option<CommittedBlock>,
        mtime_ms: u64,
    },
    /// Gives the file's last block a new generation stamp (pipeline recovery), so replicas of
    /// the old generation are recognised as stale.
    UpdateBlock {
        path: String,
        block: BlockId,
        generation_stamp: GenStamp,
    },
    /// Drops the file's last block, which never received data (its pipeline failed at setup).
    AbandonBlock {
        path: String,
        block: BlockId,
    },
    /// Closes a file whose writer is gone, its last block at the length and generation its
    /// replicas agreed on (length 0: the block is dropped).
    CommitRecovery {
        path: String,
        block: BlockId,
        generation_stamp: GenStamp,
        num_bytes: u64,
        mtime_ms: u64,
    },
    Delete {
        path: String,
        recursive: bool,
        mtime_ms: u64,
    },
    Rename {
        src: String,
        dst: String,
        mtime_ms: u64,
    },
    SetReplication {
        path: String,
        replication: u32,
    },
    /// Creates the directory and any missing parents, owned by `owner` with `mode` (the parents
    /// made on the way get `mode` plus u+wx, as HDFS's), each in its parent's group.
    Mkdirs {
        path: String,
        mtime_ms: u64,
        owner: String,
        mode: u16,
    },
    /// Creates an empty file open for writing by `client`, owned by `owner` with `mode`, in its
    /// directory's group; replaces a file when `overwrite`; with `create_parent`, missing
    /// directories are made as [`Op::Mkdirs`] makes them, with `dir_mode`.
    Create {
        path: String,
        client: String,
        replication: u32,
        block_size: u64,
        overwrite: bool,
        create_parent: bool,
        mtime_ms: u64,
        owner: String,
        mode: u16,
        dir_mode: u16,
    },
    /// chmod.
    SetPermission {
        path: String,
        mode: u16,
    },
    /// chown / chgrp (`None`: unchanged).
    SetOwner {
        path: String,
        owner: Option<String>,
        group: Option<String>,
    },
    /// Sets the modification time.
    SetTimes {
        path: String,
        mtime_ms: u64,
    },
    /// Reopens a closed file for writing by `client` (append): the writer continues its partial
    /// last block (under a new generation stamp, by [`Op::UpdateBlock`]) or adds new ones.
    Append {
        path: String,
        client: String,
    },
    /// Cuts a closed file to `new_length`: blocks past it go; a block it falls inside is kept
    /// at `new_length`'s offset in it, the file open under `client` until block recovery has
    /// cut its replicas and closes it ([`Op::CommitRecovery`]).
    Truncate {
        path: String,
        client: String,
        new_length: u64,
        mtime_ms: u64,
    },
    /// Moves the blocks of closed files `sources`, in order, to the end of closed file
    /// `target`, and removes the sources (HDFS's concat). No byte moves: the block map's
    /// entries are re-pointed at the target.
    Concat {
        target: String,
        sources: Vec<String>,
        mtime_ms: u64,
    },
}

/// What applying an op did beyond the tree, for the block map and the leases (and, without the
/// removed files, the outcome a leader answers its caller from).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effects {
    /// Files that are gone (deleted, or replaced by an overwrite).
    pub removed_files: Vec<RemovedFile>,
    /// A file opened for writing: created by `Create`, or reopened by `Append`.
    pub created: Option<InodeId>,
    /// A block appended by `AddBlock`, with its file.
    pub added_block: Option<(InodeId, Block)>,
    /// A file closed by `Complete` or `CommitRecovery`, with the writer whose lease ended.
    pub completed: Option<(InodeId, String)>,
    /// A block dropped from a file that stays (abandoned, or recovered empty).
    pub dropped_block: Option<Block>,
    /// A block whose generation stamp or length changed.
    pub updated_block: Option<Block>,
}

/// A file dropped from the namespace, with what the block map and leases must forget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedFile {
    pub id: InodeId,
    pub blocks: Vec<Block>,
    pub writer: Option<String>,
}
