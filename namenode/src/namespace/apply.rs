//! The namespace's transitions: [`Namespace::apply`] checks everything an op needs before it
//! changes anything, so a refused op leaves no trace (and a replayed one does exactly what it did
//! the first time).

use hdfs_proto::path::HdfsPath;

use hdfs_proto::BlockId;

use super::perm::{Perm, SUPER};
use super::{Block, CommittedBlock, Effects, File, Inode, InodeId, InodeKind, Namespace, Op, ROOT, RemovedFile, parse};
use crate::error::{Error, Result};

impl Namespace {
    /// Validates `op` against the current state and applies it; on error nothing changed.
    pub fn apply(&mut self, op: &Op) -> Result<Effects> {
        let mut fx = Effects::default();
        match op {
            Op::MkdirsV1 { path, mtime_ms } => {
                self.mkdirs(&parse(path)?, *mtime_ms, None, Perm::legacy(true).mode())?;
            }
            Op::Mkdirs { path, mtime_ms, owner, mode } => {
                self.mkdirs(&parse(path)?, *mtime_ms, Some(owner), *mode)?;
            }
            Op::CreateV1 { path, client, replication, block_size, overwrite, create_parent, mtime_ms } => {
                let (file, dir) = (Perm::legacy(false).mode(), Perm::legacy(true).mode());
                let how = NewFile { client, owner: None, mode: file, dir_mode: dir, overwrite: *overwrite };
                let file = File::new(check_replication(*replication)?, check_block_size(*block_size)?);
                fx = self.create(&parse(path)?, file, &how, *create_parent, *mtime_ms)?;
            }
            Op::Create {
                path,
                client,
                replication,
                block_size,
                overwrite,
                create_parent,
                mtime_ms,
                owner,
                mode,
                dir_mode,
            } => {
                let how =
                    NewFile { client, owner: Some(owner), mode: *mode, dir_mode: *dir_mode, overwrite: *overwrite };
                let file = File::new(check_replication(*replication)?, check_block_size(*block_size)?);
                fx = self.create(&parse(path)?, file, &how, *create_parent, *mtime_ms)?;
            }
            Op::AddBlock { path, previous, block, generation_stamp } => {
                let path = parse(path)?;
                // The next id is handed out after this one: there must be one.
                let Some(next) = block.0.checked_add(1).map(BlockId) else {
                    let reason = "block id out of range (no id may follow it)".to_string();
                    return Err(Error::BadBlock { path, block: *block, reason });
                };
                let id = self.resolve(&path)?;
                let file = self.written_file_mut(id, &path)?;
                commit_last(file, &path, *previous)?;
                let b = Block { id: *block, generation_stamp: *generation_stamp, num_bytes: 0 };
                file.blocks.push(b);
                self.next_block = self.next_block.max(next);
                fx.added_block = Some((id, b));
            }
            Op::Complete { path, last, mtime_ms } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let file = self.written_file_mut(id, &path)?;
                commit_last(file, &path, *last)?;
                let writer = self.writers.remove(&id).map(String::from).unwrap_or_default();
                self.inodes.get_mut(id).expect("resolved").mtime_ms = *mtime_ms;
                fx.completed = Some((id, writer));
            }
            Op::UpdateBlock { path, block, generation_stamp } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let last = last_block_mut(self.written_file_mut(id, &path)?, &path, *block)?;
                last.generation_stamp = *generation_stamp;
                fx.updated_block = Some(*last);
            }
            Op::AbandonBlock { path, block } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let file = self.written_file_mut(id, &path)?;
                last_block_mut(file, &path, *block)?;
                fx.dropped_block = file.blocks.pop();
            }
            Op::CommitRecovery { path, block, generation_stamp, num_bytes, mtime_ms } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                let file = self.open_file_mut(id, &path)?;
                let last = last_block_mut(file, &path, *block)?;
                check_length(&path, *block, *num_bytes)?;
                if *num_bytes == 0 {
                    fx.dropped_block = file.blocks.pop();
                } else {
                    last.generation_stamp = *generation_stamp;
                    last.num_bytes = *num_bytes;
                    fx.updated_block = Some(*last);
                }
                let writer = self.writers.remove(&id).map(String::from).unwrap_or_default();
                self.truncating.remove(&id);
                self.inodes.get_mut(id).expect("resolved").mtime_ms = *mtime_ms;
                fx.completed = Some((id, writer));
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
                let replication = check_replication(*replication)?;
                let id = self.resolve(&path)?;
                match &mut self.inodes.get_mut(id).expect("resolved").kind {
                    InodeKind::File(f) => f.set_replication(replication),
                    InodeKind::Directory(_) => return Err(Error::IsADirectory(path)),
                }
            }
            Op::SetPermission { path, mode } => {
                let id = self.resolve(&parse(path)?)?;
                let inode = self.inodes.get_mut(id).expect("resolved");
                inode.perm = inode.perm.with_mode(*mode);
            }
            Op::SetOwner { path, owner, group } => {
                let id = self.resolve(&parse(path)?)?;
                let names = [owner, group].into_iter().flatten().filter(|n| self.names.id(n).is_none()).count();
                if names > 0 && !self.names.has_room() {
                    return Err(Error::TooManyNames);
                }
                let mut perm = self.inodes[id].perm;
                if let Some(owner) = owner {
                    perm = perm.with_owner(self.names.intern(owner).ok_or(Error::TooManyNames)?);
                }
                if let Some(group) = group {
                    perm = perm.with_group(self.names.intern(group).ok_or(Error::TooManyNames)?);
                }
                self.inodes.get_mut(id).expect("resolved").perm = perm;
            }
            Op::Append { path, client } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                if self.inodes[id].is_dir() {
                    return Err(Error::IsADirectory(path));
                }
                if self.writers.contains_key(&id) {
                    return Err(Error::LeaseHeldByOther(path));
                }
                self.writers.insert(id, client.as_str().into());
                fx.created = Some(id);
            }
            Op::Truncate { path, client, new_length, mtime_ms } => {
                let path = parse(path)?;
                let id = self.resolve(&path)?;
                if self.writers.contains_key(&id) {
                    return Err(Error::LeaseHeldByOther(path));
                }
                let file = match &mut self.inodes.get_mut(id).expect("resolved").kind {
                    InodeKind::File(f) => f,
                    InodeKind::Directory(_) => return Err(Error::IsADirectory(path)),
                };
                let length = file.length();
                if *new_length > length {
                    return Err(Error::TruncateBeyondEnd { path, length, new_length: *new_length });
                }
                // Blocks wholly past the new end go; the one it falls inside (if any) is cut.
                let mut start = 0;
                let keep = file
                    .blocks
                    .iter()
                    .take_while(|b| {
                        let keep = start < *new_length;
                        start += b.num_bytes;
                        keep
                    })
                    .count();
                let dropped: Vec<Block> = file.blocks.drain(keep..).collect();
                let cut = file.length() - *new_length;
                if cut > 0 {
                    let last = file.blocks.last_mut().expect("a block holds the bytes cut");
                    last.num_bytes -= cut;
                    self.writers.insert(id, client.as_str().into());
                    self.truncating.insert(id, last.num_bytes);
                    fx.created = Some(id);
                }
                if !dropped.is_empty() {
                    // The file stays: its dropped blocks leave the block map as a removed
                    // file's do (no writer to forget).
                    fx.removed_files.push(RemovedFile { id, blocks: dropped, writer: None });
                }
                self.inodes.get_mut(id).expect("resolved").mtime_ms = *mtime_ms;
            }
            Op::SetTimes { path, mtime_ms } => {
                let id = self.resolve(&parse(path)?)?;
                self.inodes.get_mut(id).expect("resolved").mtime_ms = *mtime_ms;
            }
            Op::Concat { target, sources, mtime_ms } => self.concat(target, sources, *mtime_ms)?,
        }
        Ok(fx)
    }

    /// [`Op::Concat`]: every check first, then the move, so a refused concat changes nothing.
    fn concat(&mut self, target: &str, sources: &[String], mtime_ms: u64) -> Result<()> {
        let target_path = parse(target)?;
        let target = self.closed_file(&target_path)?;
        if sources.is_empty() {
            return Err(Error::Concat(format!("{target_path}: no source files given")));
        }
        let mut ids = Vec::with_capacity(sources.len());
        for s in sources {
            let path = parse(s)?;
            let id = self.closed_file(&path)?;
            if id == target {
                return Err(Error::Concat(format!("{path}: a source cannot be the target")));
            }
            if ids.contains(&id) {
                return Err(Error::Concat(format!("{path}: the same source twice")));
            }
            if self.inodes[id].as_file().is_some_and(|f| f.blocks.is_empty()) {
                return Err(Error::Concat(format!("{path}: source file is empty")));
            }
            ids.push(id);
        }
        // The target keeps the highest replication of them all, as HDFS's concat does.
        let replication = |inode: &Inode| inode.as_file().map_or(0, File::replication);
        let most = ids.iter().map(|&id| replication(&self.inodes[id])).max().unwrap_or(0);
        let mut moved = Vec::new();
        for id in ids {
            let parent = self.inodes[id].parent;
            self.inodes.get_mut(parent).expect("parent exists").mtime_ms = mtime_ms;
            // Not a removed file's blocks: they stay, in the target.
            moved.extend(self.remove_subtree(id).into_iter().flat_map(|r| r.blocks));
        }
        let inode = self.inodes.get_mut(target).expect("resolved");
        inode.mtime_ms = mtime_ms;
        if let InodeKind::File(f) = &mut inode.kind {
            f.blocks.extend(moved);
            f.set_replication(f.replication().max(most));
        }
        Ok(())
    }

    /// The closed file at `path`.
    fn closed_file(&self, path: &HdfsPath) -> Result<InodeId> {
        let id = self.resolve(path)?;
        if self.inodes[id].is_dir() {
            return Err(Error::IsADirectory(path.clone()));
        }
        if self.writers.contains_key(&id) {
            return Err(Error::LeaseHeldByOther(path.clone()));
        }
        Ok(id)
    }

    /// Makes `path` and any missing parents (owned by `owner`, `None`: the superuser), or
    /// fails changing nothing.
    fn mkdirs(&mut self, path: &HdfsPath, mtime_ms: u64, owner: Option<&str>, mode: u16) -> Result<InodeId> {
        // Walk down the existing directories; everything below the deepest one is created.
        let names: Vec<&str> = path.components().collect();
        let (mut cur, mut depth) = (ROOT, 0);
        while let Some(child) = names.get(depth).and_then(|n| self.child(cur, n)) {
            if self.children(child).is_none() {
                let at = path.prefix(depth + 1);
                return Err(if at == *path { Error::AlreadyExists(path.clone()) } else { Error::NotADirectory(at) });
            }
            (cur, depth) = (child, depth + 1);
        }
        if depth == names.len() {
            // Exists already: HDFS's mkdirs succeeds (the namesystem decides what to answer).
            return Ok(cur);
        }
        let owner = self.owner_id(owner)?;
        for (i, name) in names[depth..].iter().enumerate() {
            // The parents made on the way can be written through by their owner.
            let mode = if depth + i + 1 == names.len() { mode } else { mode | 0o300 };
            let perm = Perm::new(owner, self.inodes[cur].perm.group(), mode);
            cur = self.add_inode(cur, name, mtime_ms, perm, InodeKind::Directory(Vec::new()));
        }
        Ok(cur)
    }

    /// Creates the file `path` open for writing, or fails changing nothing.
    fn create(
        &mut self,
        path: &HdfsPath,
        file: File,
        how: &NewFile,
        create_parent: bool,
        mtime_ms: u64,
    ) -> Result<Effects> {
        let mut fx = Effects::default();
        let parent = match self.parent_dir(path) {
            Err(Error::ParentNotFound(_)) if create_parent => None,
            r => Some(r?),
        };
        let mut replaced = None;
        if let Some(parent) = parent
            && let Some(existing) = self.child(parent, path.name())
        {
            match &self.inodes[existing].kind {
                InodeKind::Directory(_) => return Err(Error::IsADirectory(path.clone())),
                InodeKind::File(_) if !how.overwrite => return Err(Error::AlreadyExists(path.clone())),
                InodeKind::File(_) => replaced = Some(existing),
            }
        }
        let owner = self.owner_id(how.owner)?;
        if let Some(existing) = replaced {
            fx.removed_files = self.remove_subtree(existing);
        }
        let parent = match parent {
            Some(p) => p,
            // Validated all it needs above (the parent is missing, so no name on the way is a
            // file: parent_dir would have said NotADirectory); nothing after it fails.
            None => self.mkdirs(&path.parent().expect("not root"), mtime_ms, how.owner, how.dir_mode)?,
        };
        let perm = Perm::new(owner, self.inodes[parent].perm.group(), how.mode);
        let id = self.add_inode(parent, path.name(), mtime_ms, perm, InodeKind::File(file));
        self.writers.insert(id, how.client.into());
        fx.created = Some(id);
        Ok(fx)
    }

    /// The id of a new entry's owner (`None`: the superuser), interning the name.
    fn owner_id(&mut self, owner: Option<&str>) -> Result<u32> {
        match owner {
            None => Ok(SUPER),
            Some(name) => self.names.intern(name).ok_or(Error::TooManyNames),
        }
    }

    fn open_file_mut(&mut self, id: InodeId, path: &HdfsPath) -> Result<&mut File> {
        let open = self.writers.contains_key(&id);
        match &mut self.inodes.get_mut(id).expect("resolved").kind {
            InodeKind::File(f) if open => Ok(f),
            InodeKind::File(_) => Err(Error::NotUnderConstruction(path.clone())),
            InodeKind::Directory(_) => Err(Error::IsADirectory(path.clone())),
        }
    }

    /// A file open for its writer's blocks: not one being truncated, whose last block only its
    /// recovery may change and which only [`Op::CommitRecovery`] closes.
    fn written_file_mut(&mut self, id: InodeId, path: &HdfsPath) -> Result<&mut File> {
        if self.truncating.contains_key(&id) {
            return Err(Error::BeingTruncated(path.clone()));
        }
        self.open_file_mut(id, path)
    }

    fn add_inode(&mut self, parent: InodeId, name: &str, mtime_ms: u64, perm: Perm, kind: InodeKind) -> InodeId {
        let id = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(id, Inode { parent, name: name.into(), mtime_ms, perm, kind });
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
                InodeKind::File(f) => {
                    self.truncating.remove(&id);
                    let writer = self.writers.remove(&id).map(String::from);
                    removed.push(RemovedFile { id, blocks: f.blocks.into_vec(), writer });
                }
            }
        }
        removed
    }
}

/// The file's last block, which must be the one named.
fn last_block_mut<'a>(file: &'a mut File, path: &HdfsPath, block: BlockId) -> Result<&'a mut Block> {
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
fn commit_last(file: &mut File, path: &HdfsPath, block: Option<CommittedBlock>) -> Result<()> {
    match (file.blocks.last_mut(), block) {
        (None, None) => Ok(()),
        (Some(last), Some(c)) if last.id == c.id => {
            last.num_bytes = check_length(path, c.id, c.num_bytes)?;
            Ok(())
        }
        (last, got) => Err(Error::BlockMismatch {
            path: path.clone(),
            expected: last.map_or("none".to_string(), |b| b.id.to_string()),
            got: got.map_or(BlockId(0), |c| c.id),
        }),
    }
}

/// A block length as committed by a writer or a recovery: no block holds more than the largest
/// block size (a larger one would overflow the file's length).
fn check_length(path: &HdfsPath, block: BlockId, num_bytes: u64) -> Result<u64> {
    if num_bytes > hdfs_proto::MAX_BLOCK_SIZE {
        let reason = format!("length {num_bytes} exceeds the largest block size ({})", hdfs_proto::MAX_BLOCK_SIZE);
        return Err(Error::BadBlock { path: path.clone(), block, reason });
    }
    Ok(num_bytes)
}

/// How a new file is made: its writer, owner (`None`: the superuser) and modes.
struct NewFile<'a> {
    client: &'a str,
    owner: Option<&'a str>,
    mode: u16,
    dir_mode: u16,
    overwrite: bool,
}

/// A replication factor in range (which fits a file's `u16`).
pub fn check_replication(r: u32) -> Result<u16> {
    if r == 0 || r > hdfs_proto::MAX_REPLICATION {
        return Err(Error::InvalidReplication(r));
    }
    Ok(r as u16)
}

pub fn check_block_size(size: u64) -> Result<u64> {
    if !(hdfs_proto::MIN_BLOCK_SIZE..=hdfs_proto::MAX_BLOCK_SIZE).contains(&size) {
        return Err(Error::InvalidBlockSize(size));
    }
    Ok(size)
}
