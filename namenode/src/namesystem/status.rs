//! What a stat or a listing tells of an inode: [`FileInfo`], built under the lock.

use hdfs_proto::path::HdfsPath;

use super::permission::Permissions;
use crate::namespace::{InodeId, InodeKind, Namespace};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub path: HdfsPath,
    /// The inode's number (HDFS's fileId).
    pub file_id: u64,
    pub is_dir: bool,
    pub length: u64,
    pub replication: u32,
    pub block_size: u64,
    pub mtime_ms: u64,
    pub under_construction: bool,
    pub children: u64,
    pub permission: u16,
    pub owner: String,
    pub group: String,
}

pub(super) fn file_info(perms: &Permissions, ns: &Namespace, path: HdfsPath, id: InodeId) -> FileInfo {
    let inode = ns.inode(id).expect("resolved inode exists");
    let permission = inode.perm.mode();
    let owner = perms.owner_name(ns, inode.perm).to_string();
    let group = perms.group_name(ns, inode.perm).to_string();
    match &inode.kind {
        InodeKind::Directory(children) => FileInfo {
            path,
            file_id: id,
            is_dir: true,
            length: 0,
            replication: 0,
            block_size: 0,
            mtime_ms: inode.mtime_ms,
            under_construction: false,
            children: children.len() as u64,
            permission,
            owner,
            group,
        },
        InodeKind::File(f) => FileInfo {
            path,
            file_id: id,
            is_dir: false,
            length: f.length(),
            replication: f.replication().into(),
            block_size: f.block_size(),
            mtime_ms: inode.mtime_ms,
            under_construction: ns.writer(id).is_some(),
            children: 0,
            permission,
            owner,
            group,
        },
    }
}
