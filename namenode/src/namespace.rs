//! The namespace: a tree of directories and files, changed only by applying [`Op`]s.
//!
//! Every mutation is an operation applied to this state machine: the live path validates and
//! applies an op, then appends it to the edit log; a restart replays the log over the last
//! fsimage. `apply` is deterministic (inode ids come from the state, block ids and times from the
//! op), checks everything before it changes anything, and so leaves the state untouched on error.
//! That is what lets the log be replicated later by a consensus engine without changing this file.

use std::collections::HashMap;

use hdfs_proto::path::HdfsPath;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::idmap::IdMap;

pub type InodeId = u64;
pub const ROOT: InodeId = 1;

/// A block of a file, as the namespace knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub id: u64,
    pub generation_stamp: u64,
    /// Bytes in the block; 0 until the writer commits it (next add_block or complete).
    pub num_bytes: u64,
}

/// A file's attributes and blocks. Kept small: a namenode holds one per file (see
/// docs/SCALE.md). The writer of a file under construction is kept beside the tree, in
/// [`Namespace::writer`], since few files are open at a time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct File {
    pub block_size: u64,
    pub replication: u16,
    /// Inline for a one-block file, so most files cost no allocation of their own.
    pub blocks: SmallVec<[Block; 1]>,
}

impl File {
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
    pub kind: InodeKind,
}

impl Inode {
    pub fn as_file(&self) -> Option<&File> {
        match &self.kind {
            InodeKind::File(f) => Some(f),
            InodeKind::Directory(_) => None,
        }
    }
}

/// One namespace mutation: the unit of the edit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Creates the directory and any missing parents.
    Mkdirs {
        path: String,
        mtime_ms: u64,
    },
    /// Creates an empty file open for writing by `client`; replaces a file when `overwrite`.
    Create {
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
        previous: Option<(u64, u64)>,
        block: u64,
        generation_stamp: u64,
    },
    /// Commits the last block's length and closes the file.
    Complete {
        path: String,
        last: Option<(u64, u64)>,
        mtime_ms: u64,
    },
    /// Gives the file's last block a new generation stamp (pipeline recovery), so replicas of
    /// the old generation are recognised as stale.
    UpdateBlock {
        path: String,
        block: u64,
        generation_stamp: u64,
    },
    /// Drops the file's last block, which never received data (its pipeline failed at setup).
    AbandonBlock {
        path: String,
        block: u64,
    },
    /// Closes a file whose writer is gone, its last block at the length and generation its
    /// replicas agreed on (length 0: the block is dropped).
    CommitRecovery {
        path: String,
        block: u64,
        generation_stamp: u64,
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
}

/// What applying an op did beyond the tree, for the block map and the leases.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Files that are gone (deleted, or replaced by an overwrite).
    pub removed_files: Vec<RemovedFile>,
    /// A file created by `Create`.
    pub created: Option<InodeId>,
    /// A block appended by `AddBlock`, with its file.
    pub added_block: Option<(InodeId, Block)>,
    /// A file closed by `Complete` or `CommitRecovery`.
    pub completed: Option<InodeId>,
    /// A block dropped from a file that stays (abandoned, or recovered empty).
    pub dropped_block: Option<Block>,
    /// A block whose generation stamp or length changed.
    pub updated_block: Option<Block>,
}

/// A file dropped from the namespace, with what the block map and leases must forget.
#[derive(Debug, PartialEq, Eq)]
pub struct RemovedFile {
    pub id: InodeId,
    pub blocks: Vec<Block>,
    pub writer: Option<String>,
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
pub struct Namespace {
    inodes: IdMap<Inode>,
    /// The client writing each file under construction.
    writers: HashMap<InodeId, Box<str>>,
    next_inode: InodeId,
    next_block: u64,
}

impl Default for Namespace {
    fn default() -> Self {
        let root = Inode { parent: ROOT, name: "".into(), mtime_ms: 0, kind: InodeKind::Directory(Vec::new()) };
        let mut inodes = IdMap::default();
        inodes.insert(ROOT, root);
        Self { inodes, writers: HashMap::new(), next_inode: ROOT + 1, next_block: 1 }
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

    /// Every file under construction, with its writer.
    pub fn open_files(&self) -> impl Iterator<Item = (InodeId, &str)> {
        self.writers.iter().map(|(&id, w)| (id, &**w))
    }

    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    /// Every file with its blocks (used to rebuild the block map after loading).
    pub fn files(&self) -> impl Iterator<Item = (InodeId, &File)> {
        self.inodes.iter().filter_map(|(id, i)| i.as_file().map(|f| (id, f)))
    }

    /// The next block id to hand out.
    pub fn next_block_id(&self) -> u64 {
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
    pub fn list(&self, path: &HdfsPath, start_after: &str, limit: usize) -> Result<(Vec<(HdfsPath, InodeId)>, bool)> {
        let id = self.resolve(path)?;
        let Some(children) = self.children(id) else {
            return Ok((vec![(path.clone(), id)], false));
        };
        let from = children.partition_point(|&c| *self.inodes[c].name <= *start_after);
        let page = &children[from..children.len().min(from.saturating_add(limit))];
        let mut out = Vec::with_capacity(page.len());
        for &child in page {
            out.push((path.join(&self.inodes[child].name)?, child));
        }
        Ok((out, from + page.len() < children.len()))
    }

    pub fn content_summary(&self, path: &HdfsPath) -> Result<ContentSummary> {
        let mut sum = ContentSummary::default();
        let mut stack = vec![self.resolve(path)?];
        while let Some(id) = stack.pop() {
            match &self.inodes[id].kind {
                InodeKind::Directory(c) => {
                    sum.directories += 1;
                    stack.extend(c.iter().copied());
                }
                InodeKind::File(f) => {
                    sum.files += 1;
                    sum.length += f.length();
                    sum.space_consumed += f.length() * u64::from(f.replication);
                }
            }
        }
        Ok(sum)
    }

    /// Validates `op` against the current state and applies it; on error nothing changed.
    pub fn apply(&mut self, op: &Op) -> Result<Effects> {
        let mut fx = Effects::default();
        match op {
            Op::Mkdirs { path, mtime_ms } => {
                let path = parse(path)?;
                // Walk down the existing directories; everything below the deepest one is created.
                let names: Vec<&str> = path.components().collect();
                let (mut cur, mut depth) = (ROOT, 0);
                while let Some(child) = names.get(depth).and_then(|n| self.child(cur, n)) {
                    if self.children(child).is_none() {
                        let at = parse(&format!("/{}", names[..=depth].join("/")))?;
                        return Err(if at == path { Error::AlreadyExists(path) } else { Error::NotADirectory(at) });
                    }
                    (cur, depth) = (child, depth + 1);
                }
                for name in &names[depth..] {
                    cur = self.add_inode(cur, name, *mtime_ms, InodeKind::Directory(Vec::new()));
                }
            }
            Op::Create { path, client, replication, block_size, overwrite, create_parent, mtime_ms } => {
                let path = parse(path)?;
                check_replication(*replication)?;
                check_block_size(*block_size)?;
                let parent = match self.parent_dir(&path) {
                    Err(Error::ParentNotFound(_)) if *create_parent => None,
                    r => Some(r?),
                };
                if let Some(parent) = parent
                    && let Some(existing) = self.child(parent, path.name())
                {
                    match &self.inodes[existing].kind {
                        InodeKind::Directory(_) => return Err(Error::IsADirectory(path)),
                        InodeKind::File(_) if !overwrite => return Err(Error::AlreadyExists(path)),
                        InodeKind::File(_) => {
                            let blocks = self.remove_subtree(existing);
                            fx.removed_files = blocks;
                        }
                    }
                }
                let parent = match parent {
                    Some(p) => p,
                    None => {
                        // Mkdirs validates before it changes anything, and nothing after it fails.
                        let dir = path.parent().expect("not root");
                        self.apply(&Op::Mkdirs { path: dir.to_string(), mtime_ms: *mtime_ms })?;
                        self.resolve(&dir)?
                    }
                };
                // check_replication bounds it far below u16::MAX.
                let file = File { replication: *replication as u16, block_size: *block_size, blocks: SmallVec::new() };
                let id = self.add_inode(parent, path.name(), *mtime_ms, InodeKind::File(file));
                self.writers.insert(id, client.as_str().into());
                fx.created = Some(id);
            }
            Op::AddBlock { path, previous, block, generation_stamp } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let file = self.open_file_mut(id, &path)?;
                commit_last(file, &path, *previous)?;
                let b = Block { id: *block, generation_stamp: *generation_stamp, num_bytes: 0 };
                file.blocks.push(b);
                self.next_block = self.next_block.max(block + 1);
                fx.added_block = Some((id, b));
            }
            Op::Complete { path, last, mtime_ms } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let file = self.open_file_mut(id, &path)?;
                commit_last(file, &path, *last)?;
                self.writers.remove(&id);
                self.inodes.get_mut(id).expect("resolved").mtime_ms = *mtime_ms;
                fx.completed = Some(id);
            }
            Op::UpdateBlock { path, block, generation_stamp } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let last = last_block_mut(self.open_file_mut(id, &path)?, &path, *block)?;
                last.generation_stamp = *generation_stamp;
                fx.updated_block = Some(*last);
            }
            Op::AbandonBlock { path, block } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let file = self.open_file_mut(id, &path)?;
                last_block_mut(file, &path, *block)?;
                fx.dropped_block = file.blocks.pop();
            }
            Op::CommitRecovery { path, block, generation_stamp, num_bytes, mtime_ms } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let file = self.open_file_mut(id, &path)?;
                let last = last_block_mut(file, &path, *block)?;
                if *num_bytes == 0 {
                    fx.dropped_block = file.blocks.pop();
                } else {
                    last.generation_stamp = *generation_stamp;
                    last.num_bytes = *num_bytes;
                    fx.updated_block = Some(*last);
                }
                self.writers.remove(&id);
                self.inodes.get_mut(id).expect("resolved").mtime_ms = *mtime_ms;
                fx.completed = Some(id);
            }
            Op::Delete { path, recursive, mtime_ms } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                if id == ROOT {
                    return Err(Error::RootOperation(path));
                }
                if let Some(c) = self.children(id)
                    && !c.is_empty()
                    && !recursive
                {
                    return Err(Error::DirectoryNotEmpty(path));
                }
                let parent = self.inodes[id].parent;
                fx.removed_files = self.remove_subtree(id);
                self.inodes.get_mut(parent).expect("parent exists").mtime_ms = *mtime_ms;
            }
            Op::Rename { src, dst, mtime_ms } => {
                let (src, dst) = (parse(src)?, parse(dst)?);
                let id = self.resolve(&src)?;
                if id == ROOT || dst.is_root() {
                    return Err(Error::RootOperation(if id == ROOT { src } else { dst }));
                }
                if src == dst {
                    return Ok(fx);
                }
                if dst.starts_with(&src) {
                    return Err(Error::RenameIntoSelf { src, dst });
                }
                let new_parent = self.parent_dir(&dst)?;
                if self.child(new_parent, dst.name()).is_some() {
                    return Err(Error::AlreadyExists(dst));
                }
                let old_parent = self.inodes[id].parent;
                self.unlink(old_parent, src.name());
                let inode = self.inodes.get_mut(id).expect("resolved");
                inode.parent = new_parent;
                inode.name = dst.name().into();
                self.link(new_parent, id);
                for p in [old_parent, new_parent] {
                    self.inodes.get_mut(p).expect("parent exists").mtime_ms = *mtime_ms;
                }
            }
            Op::SetReplication { path, replication } => {
                let path = parse(path)?;
                check_replication(*replication)?;
                let id = self.resolve(&path)?;
                match &mut self.inodes.get_mut(id).expect("resolved").kind {
                    InodeKind::File(f) => f.replication = *replication as u16,
                    InodeKind::Directory(_) => return Err(Error::IsADirectory(path)),
                }
            }
        }
        Ok(fx)
    }

    fn open_file_mut(&mut self, id: InodeId, path: &HdfsPath) -> Result<&mut File> {
        let open = self.writers.contains_key(&id);
        match &mut self.inodes.get_mut(id).expect("resolved").kind {
            InodeKind::File(f) if open => Ok(f),
            InodeKind::File(_) => Err(Error::NotUnderConstruction(path.clone())),
            InodeKind::Directory(_) => Err(Error::IsADirectory(path.clone())),
        }
    }

    fn add_inode(&mut self, parent: InodeId, name: &str, mtime_ms: u64, kind: InodeKind) -> InodeId {
        let id = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(id, Inode { parent, name: name.into(), mtime_ms, kind });
        self.inodes.get_mut(parent).expect("parent exists").mtime_ms = mtime_ms;
        self.link(parent, id);
        id
    }

    /// Unlinks and drops a subtree, returning the files it held.
    fn remove_subtree(&mut self, id: InodeId) -> Vec<RemovedFile> {
        let inode = &self.inodes[id];
        let (parent, name) = (inode.parent, inode.name.clone());
        self.unlink(parent, &name);
        let mut removed = Vec::new();
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            match self.inodes.remove(id).expect("inode in tree").kind {
                InodeKind::Directory(c) => stack.extend(c),
                InodeKind::File(f) => removed.push(RemovedFile {
                    id,
                    blocks: f.blocks.into_vec(),
                    writer: self.writers.remove(&id).map(String::from),
                }),
            }
        }
        removed
    }
}

/// The file's last block, which must be the one named.
fn last_block_mut<'a>(file: &'a mut File, path: &HdfsPath, block: u64) -> Result<&'a mut Block> {
    match file.blocks.last_mut() {
        Some(last) if last.id == block => Ok(last),
        last => Err(Error::BlockMismatch {
            path: path.clone(),
            expected: last.map_or("none".to_string(), |b| b.id.to_string()),
            got: block,
        }),
    }
}

/// Sets the length of the file's last block, which must be the one named.
fn commit_last(file: &mut File, path: &HdfsPath, block: Option<(u64, u64)>) -> Result<()> {
    match (file.blocks.last_mut(), block) {
        (None, None) => Ok(()),
        (Some(last), Some((id, len))) if last.id == id => {
            last.num_bytes = len;
            Ok(())
        }
        (last, got) => Err(Error::BlockMismatch {
            path: path.clone(),
            expected: last.map_or("none".to_string(), |b| b.id.to_string()),
            got: got.map_or(0, |(id, _)| id),
        }),
    }
}

pub fn check_replication(r: u32) -> Result<()> {
    if r == 0 || r > hdfs_proto::MAX_REPLICATION {
        return Err(Error::InvalidReplication(r));
    }
    Ok(())
}

pub fn check_block_size(size: u64) -> Result<()> {
    if !(hdfs_proto::MIN_BLOCK_SIZE..=hdfs_proto::MAX_BLOCK_SIZE).contains(&size) {
        return Err(Error::InvalidBlockSize(size));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HdfsPath {
        HdfsPath::parse(s).unwrap()
    }

    fn mkdirs(ns: &mut Namespace, path: &str) -> Result<Effects> {
        ns.apply(&Op::Mkdirs { path: path.into(), mtime_ms: 1 })
    }

    fn create(ns: &mut Namespace, path: &str, overwrite: bool) -> Result<Effects> {
        ns.apply(&Op::Create {
            path: path.into(),
            client: "c1".into(),
            replication: 3,
            block_size: 1 << 20,
            overwrite,
            create_parent: false,
            mtime_ms: 1,
        })
    }

    /// One inode per file and directory: docs/SCALE.md counts on this size.
    #[test]
    fn an_inode_slot_stays_small() {
        assert!(std::mem::size_of::<Option<Inode>>() <= 88, "{}", std::mem::size_of::<Option<Inode>>());
    }

    #[test]
    fn children_stay_sorted_through_creates_renames_and_deletes() {
        let mut ns = Namespace::default();
        for n in ["m", "b", "z", "a", "k"] {
            create(&mut ns, &format!("/{n}"), false).unwrap();
        }
        ns.apply(&Op::Rename { src: "/z".into(), dst: "/c".into(), mtime_ms: 1 }).unwrap();
        ns.apply(&Op::Delete { path: "/k".into(), recursive: false, mtime_ms: 1 }).unwrap();
        let (page, _) = ns.list(&p("/"), "", 10).unwrap();
        let names: Vec<_> = page.iter().map(|(p, _)| p.name().to_string()).collect();
        assert_eq!(names, ["a", "b", "c", "m"]);
        for n in &names {
            assert!(ns.resolve(&p(&format!("/{n}"))).is_ok(), "{n} resolves");
        }
        assert!(ns.resolve(&p("/z")).is_err() && ns.resolve(&p("/k")).is_err());
        let (page, more) = ns.list(&p("/"), "b", 1).unwrap();
        assert_eq!((page[0].0.name(), more), ("c", true));
    }

    #[test]
    fn mkdirs_creates_parents_and_is_idempotent() {
        let mut ns = Namespace::default();
        mkdirs(&mut ns, "/a/b/c").unwrap();
        mkdirs(&mut ns, "/a/b/c").unwrap();
        assert!(ns.resolve(&p("/a/b/c")).is_ok());
        assert_eq!(ns.content_summary(&p("/")).unwrap().directories, 4);
    }

    #[test]
    fn mkdirs_through_a_file_fails() {
        let mut ns = Namespace::default();
        create(&mut ns, "/f", false).unwrap();
        assert!(matches!(mkdirs(&mut ns, "/f/x"), Err(Error::NotADirectory(_))));
        assert!(matches!(mkdirs(&mut ns, "/f"), Err(Error::AlreadyExists(_))));
    }

    #[test]
    fn create_refuses_existing_unless_overwrite_and_reports_removed_blocks() {
        let mut ns = Namespace::default();
        create(&mut ns, "/f", false).unwrap();
        ns.apply(&Op::AddBlock { path: "/f".into(), previous: None, block: 7, generation_stamp: 1 }).unwrap();
        ns.apply(&Op::Complete { path: "/f".into(), last: Some((7, 100)), mtime_ms: 2 }).unwrap();
        assert!(matches!(create(&mut ns, "/f", false), Err(Error::AlreadyExists(_))));
        let fx = create(&mut ns, "/f", true).unwrap();
        assert_eq!(fx.removed_files.len(), 1);
        assert_eq!(fx.removed_files[0].blocks, vec![Block { id: 7, generation_stamp: 1, num_bytes: 100 }]);
        assert_eq!(fx.removed_files[0].writer, None);
        assert_eq!(ns.next_block_id(), 8);
    }

    #[test]
    fn create_without_parent_fails_unless_asked() {
        let mut ns = Namespace::default();
        assert!(matches!(create(&mut ns, "/x/y", false), Err(Error::ParentNotFound(_))));
        let op = Op::Create {
            path: "/x/y".into(),
            client: "c".into(),
            replication: 1,
            block_size: 1 << 20,
            overwrite: false,
            create_parent: true,
            mtime_ms: 1,
        };
        ns.apply(&op).unwrap();
        assert!(ns.resolve(&p("/x/y")).is_ok());
    }

    #[test]
    fn create_validates_replication_and_block_size_before_changing_anything() {
        let mut ns = Namespace::default();
        let mut op = Op::Create {
            path: "/f".into(),
            client: "c".into(),
            replication: 0,
            block_size: 1 << 20,
            overwrite: false,
            create_parent: false,
            mtime_ms: 1,
        };
        assert!(matches!(ns.apply(&op), Err(Error::InvalidReplication(0))));
        if let Op::Create { replication, block_size, .. } = &mut op {
            *replication = 3;
            *block_size = 1000;
        }
        assert!(matches!(ns.apply(&op), Err(Error::InvalidBlockSize(1000))));
        assert!(ns.resolve(&p("/f")).is_err());
    }

    #[test]
    fn blocks_commit_in_order() {
        let mut ns = Namespace::default();
        create(&mut ns, "/f", false).unwrap();
        let add = |previous, block| Op::AddBlock { path: "/f".into(), previous, block, generation_stamp: 1 };
        assert!(matches!(ns.apply(&add(Some((9, 1)), 1)), Err(Error::BlockMismatch { .. })));
        ns.apply(&add(None, 1)).unwrap();
        ns.apply(&add(Some((1, 10)), 2)).unwrap();
        ns.apply(&Op::Complete { path: "/f".into(), last: Some((2, 5)), mtime_ms: 3 }).unwrap();
        let f = ns.inode(ns.resolve(&p("/f")).unwrap()).unwrap().as_file().unwrap();
        assert_eq!(f.length(), 15);
        assert!(ns.writer(ns.resolve(&p("/f")).unwrap()).is_none());
        assert!(matches!(ns.apply(&add(Some((2, 5)), 3)), Err(Error::NotUnderConstruction(_))));
    }

    #[test]
    fn recovery_ops_touch_only_the_last_block_of_an_open_file() {
        let mut ns = Namespace::default();
        create(&mut ns, "/f", false).unwrap();
        let add = |previous, block| Op::AddBlock { path: "/f".into(), previous, block, generation_stamp: 1 };
        ns.apply(&add(None, 1)).unwrap();
        ns.apply(&add(Some((1, 10)), 2)).unwrap();
        let bump = |block| Op::UpdateBlock { path: "/f".into(), block, generation_stamp: 5 };
        assert!(matches!(ns.apply(&bump(1)), Err(Error::BlockMismatch { .. })));
        assert_eq!(ns.apply(&bump(2)).unwrap().updated_block.map(|b| b.generation_stamp), Some(5));
        let fx = ns.apply(&Op::AbandonBlock { path: "/f".into(), block: 2 }).unwrap();
        assert_eq!(fx.dropped_block.map(|b| b.id), Some(2));
        ns.apply(&add(Some((1, 10)), 3)).unwrap();
        let commit = Op::CommitRecovery { path: "/f".into(), block: 3, generation_stamp: 6, num_bytes: 7, mtime_ms: 9 };
        let fx = ns.apply(&commit).unwrap();
        assert!(fx.completed.is_some());
        let f = ns.inode(ns.resolve(&p("/f")).unwrap()).unwrap().as_file().unwrap();
        let open = ns.writer(ns.resolve(&p("/f")).unwrap()).is_some();
        assert_eq!((f.length(), open, f.blocks[1].generation_stamp), (17, false, 6));
        assert!(matches!(ns.apply(&commit), Err(Error::NotUnderConstruction(_))));
    }

    #[test]
    fn delete_needs_recursive_for_non_empty_directories() {
        let mut ns = Namespace::default();
        mkdirs(&mut ns, "/d/e").unwrap();
        create(&mut ns, "/d/e/f", false).unwrap();
        let del = |recursive| Op::Delete { path: "/d".into(), recursive, mtime_ms: 1 };
        assert!(matches!(ns.apply(&del(false)), Err(Error::DirectoryNotEmpty(_))));
        let fx = ns.apply(&del(true)).unwrap();
        assert_eq!(fx.removed_files.len(), 1);
        assert_eq!(ns.inode_count(), 1);
        assert!(matches!(
            ns.apply(&Op::Delete { path: "/".into(), recursive: true, mtime_ms: 1 }),
            Err(Error::RootOperation(_))
        ));
    }

    #[test]
    fn rename_moves_subtrees_and_refuses_moving_into_itself() {
        let mut ns = Namespace::default();
        mkdirs(&mut ns, "/a/b").unwrap();
        mkdirs(&mut ns, "/z").unwrap();
        create(&mut ns, "/a/b/f", false).unwrap();
        let mv = |s: &str, d: &str| Op::Rename { src: s.into(), dst: d.into(), mtime_ms: 1 };
        assert!(matches!(ns.apply(&mv("/a", "/a/b/c")), Err(Error::RenameIntoSelf { .. })));
        assert!(matches!(ns.apply(&mv("/a", "/z")), Err(Error::AlreadyExists(_))));
        assert!(matches!(ns.apply(&mv("/a", "/nope/x")), Err(Error::ParentNotFound(_))));
        ns.apply(&mv("/a", "/z/a2")).unwrap();
        assert_eq!(ns.path_of(ns.resolve(&p("/z/a2/b/f")).unwrap()), p("/z/a2/b/f"));
        assert!(ns.resolve(&p("/a")).is_err());
    }

    #[test]
    fn listing_pages_in_name_order() {
        let mut ns = Namespace::default();
        for n in ["c", "a", "b", "d"] {
            mkdirs(&mut ns, &format!("/{n}")).unwrap();
        }
        let (page, more) = ns.list(&p("/"), "", 3).unwrap();
        let names: Vec<_> = page.iter().map(|(p, _)| p.name().to_string()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(more);
        let (page, more) = ns.list(&p("/"), "c", 3).unwrap();
        assert_eq!(page.len(), 1);
        assert!(!more);
    }

    #[test]
    fn resolve_through_a_file_is_not_a_directory() {
        let mut ns = Namespace::default();
        create(&mut ns, "/f", false).unwrap();
        assert!(matches!(ns.resolve(&p("/f/g")), Err(Error::NotADirectory(d)) if d == p("/f")));
    }
}
