//! `fsck`: the health of every file under a path, from the namespace and the block map.
//!
//! As in HDFS, a block with no good replica is *missing* (or *corrupt* when only corrupt
//! replicas are left), and either makes the path CORRUPT; under- and over-replicated blocks are
//! reported but leave it HEALTHY, since the replication monitor repairs them by itself. Blocks
//! of files still being written are counted but not judged.

use hdfs_proto::path::HdfsPath;
use hdfs_proto::{BlockId, GenStamp};

use crate::blocks::BlockManager;
use crate::datanodes::Location;
use crate::error::Result;
use crate::namespace::{InodeKind, Namespace};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsckReport {
    pub path: String,
    pub healthy: bool,
    pub files: u64,
    pub directories: u64,
    pub open_files: u64,
    pub total_bytes: u64,
    pub blocks: u64,
    pub under_replicated: u64,
    pub over_replicated: u64,
    pub missing: u64,
    pub corrupt: u64,
    /// Per file, when asked for.
    pub file_details: Vec<FsckFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsckFile {
    pub path: String,
    pub length: u64,
    pub replication: u32,
    pub under_construction: bool,
    pub blocks: Vec<FsckBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsckBlock {
    pub block_id: BlockId,
    pub generation_stamp: GenStamp,
    pub num_bytes: u64,
    pub live: u32,
    pub decommissioning: u32,
    pub locations: Vec<Location>,
    pub corrupt_locations: Vec<Location>,
}

pub fn check(ns: &Namespace, bm: &BlockManager, path: &HdfsPath, with_files: bool) -> Result<FsckReport> {
    let mut r = FsckReport { path: path.to_string(), ..Default::default() };
    let mut stack = vec![(path.clone(), ns.resolve(path)?)];
    while let Some((p, id)) = stack.pop() {
        let Some(inode) = ns.inode(id) else { continue };
        let file = match &inode.kind {
            InodeKind::Directory(_) => {
                r.directories += 1;
                let (children, _) = ns.list(&p, "", usize::MAX)?;
                stack.extend(children.into_iter().rev());
                continue;
            }
            InodeKind::File(f) => f,
        };
        r.files += 1;
        r.total_bytes += file.length();
        let open = ns.writer(id).is_some();
        r.open_files += u64::from(open);
        let mut details = Vec::new();
        for b in &file.blocks {
            r.blocks += 1;
            let c = bm.counts(b.id);
            if !open {
                let target = file.replication() as usize;
                if c.live == 0 && c.decommissioning == 0 {
                    if c.corrupt > 0 { r.corrupt += 1 } else { r.missing += 1 }
                } else if c.live < target {
                    r.under_replicated += 1;
                } else if c.live > target {
                    r.over_replicated += 1;
                }
            }
            if with_files {
                let entry = bm.blocks.get(b.id);
                let (mut good, mut bad) = (Vec::new(), Vec::new());
                for &n in entry.map(|e| e.replicas.as_slice()).unwrap_or_default() {
                    let corrupt = bm.blocks.is_corrupt(b.id, n);
                    if corrupt { bad.push(bm.location(n)) } else { good.push(bm.location(n)) }
                }
                details.push(FsckBlock {
                    block_id: b.id,
                    generation_stamp: b.generation_stamp,
                    num_bytes: b.num_bytes,
                    live: c.live as u32,
                    decommissioning: c.decommissioning as u32,
                    locations: good,
                    corrupt_locations: bad,
                });
            }
        }
        if with_files {
            r.file_details.push(FsckFile {
                path: p.to_string(),
                length: file.length(),
                replication: file.replication().into(),
                under_construction: open,
                blocks: details,
            });
        }
    }
    r.healthy = r.missing == 0 && r.corrupt == 0;
    Ok(r)
}
