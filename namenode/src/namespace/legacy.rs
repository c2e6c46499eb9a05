//! The namespace as fsimages written before owners and modes hold it (image version 1), read
//! once and upgraded: every inode becomes the superuser's, `0755` for a directory and `0644` for
//! a file, as the root always was (what an HDFS user gets when permissions are first enabled on
//! a namespace nobody owned). New images are version 2 (`namesystem/state.rs` tells them apart).

use std::collections::HashMap;

use hdfs_proto::BlockId;
use serde::Deserialize;

use smallvec::SmallVec;

use super::{Block, File, Inode, InodeId, InodeKind, Names, Namespace, Perm};
use crate::idmap::IdMap;

#[derive(Deserialize)]
struct LegacyInode {
    parent: InodeId,
    name: Box<str>,
    mtime_ms: u64,
    kind: LegacyKind,
}

#[derive(Deserialize)]
enum LegacyKind {
    Directory(Vec<InodeId>),
    File(LegacyFile),
}

/// A file before its block size and replication shared one word.
#[derive(Deserialize)]
struct LegacyFile {
    block_size: u64,
    replication: u16,
    blocks: SmallVec<[Block; 1]>,
}

/// The version 1 image's namespace.
#[derive(Deserialize)]
pub struct LegacyNamespace {
    inodes: IdMap<LegacyInode>,
    writers: HashMap<InodeId, Box<str>>,
    next_inode: InodeId,
    next_block: BlockId,
}

impl From<LegacyNamespace> for Namespace {
    fn from(old: LegacyNamespace) -> Namespace {
        let mut inodes = IdMap::default();
        for (id, i) in old.inodes.iter() {
            let (perm, kind) = match &i.kind {
                LegacyKind::Directory(children) => (Perm::legacy(true), InodeKind::Directory(children.clone())),
                LegacyKind::File(f) => {
                    let mut file = File::new(f.replication, f.block_size);
                    file.blocks = f.blocks.clone();
                    (Perm::legacy(false), InodeKind::File(file))
                }
            };
            inodes.insert(id, Inode { parent: i.parent, name: i.name.clone(), mtime_ms: i.mtime_ms, perm, kind });
        }
        Namespace {
            inodes,
            writers: old.writers,
            next_inode: old.next_inode,
            next_block: old.next_block,
            names: Names::default(),
            truncating: HashMap::new(),
        }
    }
}
