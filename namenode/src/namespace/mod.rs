//! The namespace: a tree of directories and files, changed only by applying [`Op`]s.
//!
//! Every mutation is an operation applied to this state machine: the live path validates and
//! applies an op, then appends it to the edit log; a restart replays the log over the last
//! fsimage. `apply` is deterministic (inode ids come from the state, block ids and times from the
//! op), checks everything before it changes anything, and so leaves the state untouched on error.
//! That is what lets the log be replicated later by a consensus engine without changing this file.

use std::collections::HashMap;

use hdfs_proto::path::HdfsPath;
use hdfs_proto::{BlockId, BlockRef, GenStamp};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::idmap::IdMap;

mod apply;
mod legacy;
mod op;
mod perm;

pub use legacy::LegacyNamespace;
pub use op::{Effects, Op, RemovedFile};
pub use perm::{Names, Perm, SUPER};

pub type InodeId = u64;
pub const ROOT: InodeId = 1;

/// A block of a file, as the namespace knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub id: BlockId,
    pub generation_stamp: GenStamp,
    /// Bytes in the block; 0 until the writer commits it (next add_block or complete).
    pub num_bytes: u64,
}

impl Block {
    /// The block at its generation stamp: what its replicas are named by.
    pub fn block_ref(&self) -> BlockRef {
        BlockRef { id: self.id, gen_stamp: self.generation_stamp }
    }
}

/// A block's length as its writer commits it (with the next `add_block`, or at `complete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedBlock {
    pub id: BlockId,
    pub num_bytes: u64,
}

/// A file's attributes and blocks. Kept small: a namenode holds one per file (see
/// docs/SCALE.md). The writer of a file under construction is kept beside the tree, in
/// [`Namespace::writer`], since few files are open at a time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct File {
    /// The block size (48 bits: at most 2 GiB) and the replication (16 bits) in one word, as
    /// HDFS's `INodeFile` header packs them.
    header: u64,
    /// Inline for a one-block file, so most files cost no allocation of their own.
    pub blocks: SmallVec<[Block; 1]>,
}

impl File {
    pub fn new(replication: u16, block_size: u64) -> File {
        debug_assert!(block_size < 1 << 48);
        File { header: (block_size << 16) | u64::from(replication), blocks: SmallVec::new() }
    }

    pub fn replication(&self) -> u16 {
        self.header as u16
    }

    pub fn block_size(&self) -> u64 {
        self.header >> 16
    }

    pub fn set_replication(&mut self, replication: u16) {
        self.header = (self.header & !0xffff) | u64::from(replication);
    }

    pub fn length(&self) -> u64 {
        self.blocks.iter().map(|b| b.num_bytes).sum()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum InodeKind {
    /// The children, sorted by name (looked up by binary search on their names, as HDFS's
    /// `INodeDirectory` does): 8 bytes a child instead of a map entry holding a second copy of
    /// the name.
    Directory(Vec<InodeId>),
    File(File),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inode {
    pub parent: InodeId,
    pub name: Box<str>,
    pub mtime_ms: u64,
    /// Owner, group and mode.
    pub perm: Perm,
    pub kind: InodeKind,
}

impl Inode {
    pub fn as_file(&self) -> Option<&File> {
        match &self.kind {
            InodeKind::File(f) => Some(f),
            InodeKind::Directory(_) => None,
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, InodeKind::Directory(_))
    }
}

/// Summary of a subtree.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ContentSummary {
    pub length: u64,
    pub files: u64,
    pub directories: u64,
    pub space_consumed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Decoded")]
pub struct Namespace {
    inodes: IdMap<Inode>,
    /// The client writing each file under construction.
    writers: HashMap<InodeId, Box<str>>,
    next_inode: InodeId,
    next_block: BlockId,
    /// The user and group names inodes' [`Perm`]s refer to.
    names: Names,
    /// Files being truncated inside a block, with the length their last block is cut to once
    /// block recovery has its replicas agree (HDFS's truncate block).
    truncating: HashMap<InodeId, u64>,
}

/// A namespace as an image holds it (the same fields; the inodes as the `(id, inode)` pairs an
/// [`IdMap`] is written as), checked before its inodes are placed: each id above the one before
/// and below the next to be handed out, so a damaged id is refused instead of allocating its
/// page index.
#[derive(Deserialize)]
struct Decoded {
    inodes: Vec<(InodeId, Inode)>,
    writers: HashMap<InodeId, Box<str>>,
    next_inode: InodeId,
    next_block: BlockId,
    names: Names,
    truncating: HashMap<InodeId, u64>,
}

impl TryFrom<Decoded> for Namespace {
    type Error = String;
    fn try_from(d: Decoded) -> std::result::Result<Self, String> {
        let mut inodes = IdMap::default();
        let mut last = 0;
        for (id, inode) in d.inodes {
            if id <= last || id >= d.next_inode {
                return Err(format!("inode id {id} out of order or not below the next one ({})", d.next_inode));
            }
            inodes.insert_decoded(id, inode)?;
            last = id;
        }
        let Decoded { writers, next_inode, next_block, names, truncating, .. } = d;
        Ok(Namespace { inodes, writers, next_inode, next_block, names, truncating })
    }
}

impl Default for Namespace {
    fn default() -> Self {
        let root = Inode {
            parent: ROOT,
            name: "".into(),
            mtime_ms: 0,
            perm: Perm::legacy(true),
            kind: InodeKind::Directory(Vec::new()),
        };
        let mut inodes = IdMap::default();
        inodes.insert(ROOT, root);
        Self {
            inodes,
            writers: HashMap::new(),
            next_inode: ROOT + 1,
            next_block: BlockId(1),
            names: Names::default(),
            truncating: HashMap::new(),
        }
    }
}

fn parse(path: &str) -> Result<HdfsPath> {
    Ok(HdfsPath::parse(path)?)
}

impl Namespace {
    pub fn inode(&self, id: InodeId) -> Option<&Inode> {
        self.inodes.get(id)
    }

    /// The client writing file `id`, if it is under construction.
    pub fn writer(&self, id: InodeId) -> Option<&str> {
        self.writers.get(&id).map(|w| &**w)
    }

    /// The length the last block of file `id` is being cut to, if it is being truncated.
    pub fn truncating(&self, id: InodeId) -> Option<u64> {
        self.truncating.get(&id).copied()
    }

    /// Every file under construction, with its writer.
    pub fn open_files(&self) -> impl Iterator<Item = (InodeId, &str)> {
        self.writers.iter().map(|(&id, w)| (id, &**w))
    }

    /// The user and group names of the inodes' owners and groups.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The inodes along `path`: the root, then one per component for as long as they exist
    /// (HDFS's `INodesInPath`, cut at the first missing component or a file met on the way).
    pub fn inodes_on(&self, path: &HdfsPath) -> SmallVec<[InodeId; 8]> {
        let mut out = SmallVec::new();
        out.push(ROOT);
        let mut cur = ROOT;
        for name in path.components() {
            match self.child(cur, name) {
                Some(child) => {
                    out.push(child);
                    cur = child;
                }
                None => break,
            }
        }
        out
    }

    /// `path`'s inode, from the inodes along it ([`inodes_on`](Self::inodes_on)), with
    /// [`resolve`](Self::resolve)'s errors: the walk is made once for a check and a lookup.
    pub fn resolved(&self, path: &HdfsPath, on: &[InodeId]) -> Result<InodeId> {
        let depth = path.components().count();
        if on.len() == depth + 1 {
            return Ok(on[depth]);
        }
        let last = *on.last().expect("the root is always there");
        if self.inodes.get(last).is_some_and(Inode::is_dir) {
            return Err(Error::NotFound(path.clone()));
        }
        Err(Error::NotADirectory(path.prefix(on.len() - 1)))
    }

    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    /// Every file with its blocks (used to rebuild the block map after loading).
    pub fn files(&self) -> impl Iterator<Item = (InodeId, &File)> {
        self.inodes.iter().filter_map(|(id, i)| i.as_file().map(|f| (id, f)))
    }

    /// The next block id to hand out.
    pub fn next_block_id(&self) -> BlockId {
        self.next_block
    }

    /// Resolves a path to its inode. A file met on the way is `NotADirectory`.
    pub fn resolve(&self, path: &HdfsPath) -> Result<InodeId> {
        let mut cur = ROOT;
        let mut walked = HdfsPath::root();
        for name in path.components() {
            match &self.inodes[cur].kind {
                InodeKind::Directory(_) => match self.child(cur, name) {
                    Some(child) => cur = child,
                    None => return Err(Error::NotFound(path.clone())),
                },
                InodeKind::File(_) => return Err(Error::NotADirectory(walked)),
            }
            walked = walked.join(name)?;
        }
        Ok(cur)
    }

    /// The path of an inode, rebuilt from its parents.
    pub fn path_of(&self, mut id: InodeId) -> HdfsPath {
        let mut names = Vec::new();
        while id != ROOT {
            let inode = &self.inodes[id];
            names.push(&*inode.name);
            id = inode.parent;
        }
        names.reverse();
        HdfsPath::parse(&format!("/{}", names.join("/"))).unwrap_or_else(|_| HdfsPath::root())
    }

    /// The entries of directory `dir` (none for a file).
    pub fn children_of(&self, dir: InodeId) -> &[InodeId] {
        self.children(dir).unwrap_or_default()
    }

    /// How many entries directory `dir` holds (0 for a file).
    pub fn child_count(&self, dir: InodeId) -> usize {
        self.children(dir).map_or(0, <[InodeId]>::len)
    }

    fn children(&self, dir: InodeId) -> Option<&[InodeId]> {
        match &self.inodes.get(dir)?.kind {
            InodeKind::Directory(c) => Some(c),
            InodeKind::File(_) => None,
        }
    }

    /// Where `name` is among the children of `dir` (`Err`: where it would go).
    fn search(&self, children: &[InodeId], name: &str) -> std::result::Result<usize, usize> {
        children.binary_search_by(|&c| (*self.inodes[c].name).cmp(name))
    }

    /// The child of directory `dir` called `name`.
    fn child(&self, dir: InodeId, name: &str) -> Option<InodeId> {
        let children = self.children(dir)?;
        self.search(children, name).ok().map(|i| children[i])
    }

    /// Links `child` (whose name is set) into directory `dir`, which has no child of that name.
    fn link(&mut self, dir: InodeId, child: InodeId) {
        let name = self.inodes[child].name.clone();
        let at = self.search(self.children(dir).expect("a directory"), &name).unwrap_or_else(|at| at);
        self.children_mut(dir).insert(at, child);
    }

    /// Unlinks the child called `name` from directory `dir`.
    fn unlink(&mut self, dir: InodeId, name: &str) {
        if let Ok(at) = self.search(self.children(dir).expect("a directory"), name) {
            self.children_mut(dir).remove(at);
        }
    }

    fn children_mut(&mut self, dir: InodeId) -> &mut Vec<InodeId> {
        match &mut self.inodes.get_mut(dir).expect("inode exists").kind {
            InodeKind::Directory(c) => c,
            InodeKind::File(_) => unreachable!("checked to be a directory"),
        }
    }

    /// The directory that holds (or would hold) `path`.
    fn parent_dir(&self, path: &HdfsPath) -> Result<InodeId> {
        let parent = path.parent().ok_or_else(|| Error::RootOperation(path.clone()))?;
        let id = self.resolve(&parent).map_err(|e| match e {
            Error::NotFound(_) => Error::ParentNotFound(path.clone()),
            e => e,
        })?;
        if self.children(id).is_none() {
            return Err(Error::NotADirectory(parent));
        }
        Ok(id)
    }

    /// Entries of a directory after `start_after`, at most `limit`, and whether more follow.
    /// A file lists as itself.
    /// Up to `limit` entries of directory `path` after `start_after`, and how many remain after
    /// them; a file lists itself.
    pub fn list(&self, path: &HdfsPath, start_after: &str, limit: usize) -> Result<(Vec<(HdfsPath, InodeId)>, usize)> {
        let id = self.resolve(path)?;
        let Some(children) = self.children(id) else {
            return Ok((vec![(path.clone(), id)], 0));
        };
        let from = children.partition_point(|&c| *self.inodes[c].name <= *start_after);
        let page = &children[from..children.len().min(from.saturating_add(limit))];
        let mut out = Vec::with_capacity(page.len());
        for &child in page {
            out.push((path.join(&self.inodes[child].name)?, child));
        }
        Ok((out, children.len() - from - page.len()))
    }

    /// Checks the structure every lookup relies on, which a damaged image could break (an
    /// image has no checksum of its own): the root a directory; each child an inode other than
    /// the root, whose parent is the directory listing it, with a valid name, in name order
    /// without repeats; every inode reachable from the root once; blocks no longer than a block
    /// can be; writers and truncations on files.
    pub fn check(&self) -> std::result::Result<(), String> {
        if !self.inodes.get(ROOT).is_some_and(Inode::is_dir) {
            return Err("the root is missing or not a directory".into());
        }
        let (mut seen, mut stack) = (1, vec![ROOT]);
        while let Some(dir) = stack.pop() {
            let mut prev: Option<&str> = None;
            for &c in self.children_of(dir) {
                let child = self.inodes.get(c).filter(|_| c != ROOT);
                let child = child.ok_or_else(|| format!("directory {dir} lists inode {c}, which is not its child"))?;
                if child.parent != dir || seen >= self.inodes.len() {
                    return Err(format!("inode {c} is listed in directory {dir}, its parent is {}", child.parent));
                }
                let name = &*child.name;
                let valid = !matches!(name, "" | "." | "..")
                    && name.len() <= hdfs_proto::path::MAX_COMPONENT_LEN
                    && !name.contains(['/', '\0']);
                if !valid || prev.is_some_and(|p| p >= name) {
                    return Err(format!("directory {dir}: entry {:?} invalid, out of order or repeated", child.name));
                }
                prev = Some(&child.name);
                seen += 1;
                match &child.kind {
                    InodeKind::Directory(_) => stack.push(c),
                    InodeKind::File(f) => {
                        if let Some(b) = f.blocks.iter().find(|b| b.num_bytes > hdfs_proto::MAX_BLOCK_SIZE) {
                            return Err(format!("inode {c}: block {} of {} bytes", b.id, b.num_bytes));
                        }
                    }
                }
            }
        }
        if seen != self.inodes.len() {
            return Err(format!("{} inodes not reachable from the root", self.inodes.len() - seen));
        }
        let not_file = |id: &InodeId| self.inodes.get(*id).is_none_or(|i| i.as_file().is_none());
        if let Some(id) = self.writers.keys().chain(self.truncating.keys()).find(|id| not_file(id)) {
            return Err(format!("inode {id} is open for writing but is not a file"));
        }
        Ok(())
    }

    pub fn content_summary(&self, path: &HdfsPath) -> Result<ContentSummary> {
        let mut walk = SummaryWalk::new(self, path)?;
        loop {
            if let Some(sum) = walk.step(self, usize::MAX) {
                return Ok(sum);
            }
        }
    }
}

/// A content summary (`du`, `count`) that can stop and go on, so the namesystem can let its
/// lock go between steps on a big subtree (HDFS's `ContentSummaryComputationContext` yields
/// the same way). Inode ids are never reused, so an entry removed between steps is skipped.
pub struct SummaryWalk {
    sum: ContentSummary,
    stack: Vec<InodeId>,
}

impl SummaryWalk {
    pub fn new(ns: &Namespace, path: &HdfsPath) -> Result<SummaryWalk> {
        Ok(SummaryWalk { sum: ContentSummary::default(), stack: vec![ns.resolve(path)?] })
    }

    /// Visits up to `budget` entries; the summary once the walk is over.
    pub fn step(&mut self, ns: &Namespace, budget: usize) -> Option<ContentSummary> {
        for _ in 0..budget {
            let Some(id) = self.stack.pop() else { return Some(std::mem::take(&mut self.sum)) };
            let Some(inode) = ns.inodes.get(id) else { continue };
            match &inode.kind {
                InodeKind::Directory(c) => {
                    self.sum.directories += 1;
                    self.stack.extend(c.iter().copied());
                }
                InodeKind::File(f) => {
                    self.sum.files += 1;
                    self.sum.length += f.length();
                    self.sum.space_consumed += f.length() * u64::from(f.replication());
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod prop_image;
#[cfg(test)]
mod prop_ops;
#[cfg(test)]
mod tests;
