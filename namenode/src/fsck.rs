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
use crate::namespace::{File, InodeId, InodeKind, Namespace};

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

/// Inodes one step of a walk visits before it lets the namesystem's lock go: a step costs
/// about a millisecond, so heartbeats, reports and calls wait at most that long behind fsck.
pub const STEP: usize = 10_000;

/// An fsck walk that can stop and go on: each [`Walk::step`] runs under the namesystem's lock,
/// and the lock is released between steps (HDFS's fsck does the same), so a walk over millions
/// of files never starves heartbeats. Between steps the tree may change: an entry removed
/// meanwhile is skipped, one added to a directory already listed is not counted, as in HDFS.
pub struct Walk {
    r: FsckReport,
    with_files: bool,
    /// Entries still to visit, deepest last.
    stack: Vec<(HdfsPath, InodeId)>,
}

impl Walk {
    pub fn new(ns: &Namespace, path: &HdfsPath, with_files: bool) -> Result<Walk> {
        let r = FsckReport { path: path.to_string(), ..Default::default() };
        Ok(Walk { r, with_files, stack: vec![(path.clone(), ns.resolve(path)?)] })
    }

    /// Visits up to `budget` entries; the report once the walk is over.
    pub fn step(&mut self, ns: &Namespace, bm: &BlockManager, budget: usize) -> Result<Option<FsckReport>> {
        let (r, with_files) = (&mut self.r, self.with_files);
        for _ in 0..budget {
            let Some((p, id)) = self.stack.pop() else {
                r.healthy = r.missing == 0 && r.corrupt == 0;
                return Ok(Some(std::mem::take(r)));
            };
            let Some(inode) = ns.inode(id) else { continue };
            let file = match &inode.kind {
                InodeKind::Directory(_) => {
                    r.directories += 1;
                    let (children, _) = ns.list(&p, "", usize::MAX)?;
                    self.stack.extend(children.into_iter().rev());
                    continue;
                }
                InodeKind::File(f) => f,
            };
            check_file(r, ns, bm, (&p, id), file, with_files);
        }
        Ok(None)
    }
}

fn check_file(
    r: &mut FsckReport,
    ns: &Namespace,
    bm: &BlockManager,
    (p, id): (&HdfsPath, InodeId),
    file: &File,
    with_files: bool,
) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::namespace::Op;

    fn mkdirs(ns: &mut Namespace, path: String) {
        ns.apply(&Op::Mkdirs { path, mtime_ms: 1, owner: "alice".into(), mode: 0o755 }).unwrap();
    }

    fn walk(ns: &Namespace, bm: &BlockManager, budget: usize) -> (FsckReport, usize) {
        let mut w = Walk::new(ns, &HdfsPath::root(), false).unwrap();
        let mut steps = 1;
        loop {
            if let Some(r) = w.step(ns, bm, budget).unwrap() {
                return (r, steps);
            }
            steps += 1;
        }
    }

    #[test]
    fn a_walk_in_steps_counts_what_a_walk_at_once_does_and_skips_what_went_meanwhile() {
        let mut ns = Namespace::default();
        for d in 0..50 {
            for e in 0..20 {
                mkdirs(&mut ns, format!("/d{d}/e{e}"));
            }
        }
        let bm = BlockManager::new(&Config::new("/nonexistent"));
        let (whole, steps) = walk(&ns, &bm, usize::MAX);
        assert_eq!((whole.directories, steps), (1 + 50 + 1000, 1));
        let (stepped, steps) = walk(&ns, &bm, 100);
        assert_eq!(stepped, whole);
        assert_eq!(steps, 11, "1,051 entries in steps of 100");
        // Entries deleted between steps are skipped, not an error.
        let mut w = Walk::new(&ns, &HdfsPath::root(), false).unwrap();
        assert!(w.step(&ns, &bm, 2).unwrap().is_none());
        for d in 0..50 {
            ns.apply(&Op::Delete { path: format!("/d{d}"), recursive: true, mtime_ms: 2 }).unwrap();
        }
        let r = loop {
            if let Some(r) = w.step(&ns, &bm, 100).unwrap() {
                break r;
            }
        };
        assert!(r.directories < 1 + 50 + 1000 && r.healthy, "{r:?}");
    }
}
