//! Client operations (HDFS's `ClientProtocol`): namespace reads and mutations, and the write
//! path's calls (create, add_block, complete, pipeline and block recovery). Each mutation is one
//! [`Op`] through [`Namesystem::mutate`]: checked and built under the lock, committed by the
//! group, applied by every member, and answered once a majority holds it. Each read waits for
//! the read barrier first, so it sees every acknowledged write. `call` is the caller's call id
//! for the retry cache.

use std::time::Instant;

use hdfs_proto::path::HdfsPath;
use hdfs_proto::perm::Access;
use hdfs_proto::{BlockId, GenStamp};

use super::Namesystem;
use super::limits;
use super::permission::{Caller, Need, valid_mode};
use super::propose::now_ms;
pub use super::status::FileInfo;
use super::status::file_info;
use crate::datanodes::{Location, NodeIdx};
use crate::error::{Error, Result};
use crate::namespace::{Block, CommittedBlock, ContentSummary, Op, SummaryWalk};
use crate::raft::CallId;

/// Entries a content summary visits under the lock at a time (HDFS's
/// `dfs.content-summary.limit` is 5000).
const SUMMARY_STEP: usize = 10_000;

/// Listing page size when the client asks for none (HDFS's `dfs.ls.limit`).
pub const DEFAULT_LIST_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedBlock {
    pub block: Block,
    pub offset: u64,
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedBlocks {
    /// Of `blocks`: a file being written without its last block.
    pub file_length: u64,
    pub blocks: Vec<LocatedBlock>,
    pub under_construction: bool,
    /// A file being written: its last block, on the nodes of its pipeline, whose readable
    /// length those nodes tell.
    pub last_block: Option<LocatedBlock>,
}

/// Options of [`Namesystem::create`]; zeros mean the namenode's defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateOptions {
    pub overwrite: bool,
    pub create_parent: bool,
    pub replication: u32,
    pub block_size: u64,
    /// The file's mode as given (no umask); `None`: 0666 less the umask.
    pub mode: Option<u32>,
}

impl Namesystem {
    /// Makes directory `path` (and its missing parents if `create_parent`), with `mode` as given
    /// (no umask) or, if `None`, 0777 less the umask.
    pub async fn mkdirs(
        &self,
        path: &HdfsPath,
        create_parent: bool,
        mode: Option<u32>,
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<()> {
        let op = Op::Mkdirs {
            path: path.to_string(),
            mtime_ms: now_ms(),
            owner: caller.user.to_string(),
            mode: match mode {
                Some(m) => valid_mode(m)?,
                None => self.perms.new_modes().1,
            },
        };
        self.mutate(
            call,
            |st| {
                let exists = st.ns.resolve(path).is_ok();
                self.perms.check(
                    caller,
                    &st.ns,
                    path,
                    if exists { Need::traverse() } else { Need::ancestor(Access::WRITE) },
                )?;
                limits::check_new(&self.config, &st.ns, path)?;
                match st.ns.resolve(path) {
                    Ok(id) if st.ns.inode(id).is_some_and(|i| i.as_file().is_some()) => {
                        return Err(Error::AlreadyExists(path.clone()));
                    }
                    Ok(_) if !create_parent => return Err(Error::AlreadyExists(path.clone())),
                    Err(Error::NotFound(_)) if !create_parent => {
                        let parent = path.parent().ok_or_else(|| Error::AlreadyExists(path.clone()))?;
                        match st.ns.resolve(&parent) {
                            Err(Error::NotFound(_)) => {
                                return Err(Error::ParentNotFound(path.clone()));
                            }
                            Err(e) => return Err(e),
                            Ok(_) => {}
                        }
                    }
                    _ => {}
                }
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    pub async fn file_info(&self, path: &HdfsPath, caller: &Caller) -> Result<FileInfo> {
        self.read_barrier().await?;
        let st = self.lock();
        let on = self.perms.check(caller, &st.ns, path, Need::traverse())?;
        let id = st.ns.resolved(path, &on)?;
        Ok(file_info(&self.perms, &st.ns, path.clone(), id))
    }

    pub async fn list(
        &self,
        path: &HdfsPath,
        start_after: &str,
        limit: usize,
        caller: &Caller,
    ) -> Result<(Vec<FileInfo>, usize)> {
        let limit = if limit == 0 { DEFAULT_LIST_LIMIT } else { limit.min(DEFAULT_LIST_LIMIT * 10) };
        self.read_barrier().await?;
        let st = self.lock();
        self.perms.check(caller, &st.ns, path, Need { dir: Some(Access::READ_EXECUTE), ..Need::default() })?;
        let (entries, more) = st.ns.list(path, start_after, limit)?;
        Ok((entries.into_iter().map(|(p, id)| file_info(&self.perms, &st.ns, p, id)).collect(), more))
    }

    /// The subtree's counts, walked [`SUMMARY_STEP`] entries at a time with the lock let go in
    /// between (as fsck), so a `du` of millions of files does not hold up heartbeats.
    pub async fn content_summary(&self, path: &HdfsPath, caller: &Caller) -> Result<ContentSummary> {
        self.read_barrier().await?;
        let mut walk = {
            let st = self.lock();
            let need = Need { subtree: Some(Access::READ_EXECUTE), ..Need::default() };
            self.perms.check(caller, &st.ns, path, need)?;
            SummaryWalk::new(&st.ns, path)?
        };
        loop {
            let done = walk.step(&self.lock().ns, SUMMARY_STEP);
            match done {
                Some(sum) => return Ok(sum),
                None => tokio::task::yield_now().await,
            }
        }
    }

    pub async fn delete(&self, path: &HdfsPath, recursive: bool, caller: &Caller, call: Option<CallId>) -> Result<()> {
        let op = Op::Delete { path: path.to_string(), recursive, mtime_ms: now_ms() };
        let need = Need {
            parent: Some(Access::WRITE),
            subtree: recursive.then_some(Access::ALL),
            skip_empty: true,
            ..Need::default()
        };
        self.mutate(
            call,
            |st| {
                self.perms.check(caller, &st.ns, path, need)?;
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    pub async fn rename(&self, src: &HdfsPath, dst: &HdfsPath, caller: &Caller, call: Option<CallId>) -> Result<()> {
        let op = Op::Rename { src: src.to_string(), dst: dst.to_string(), mtime_ms: now_ms() };
        self.mutate(
            call,
            |st| {
                self.perms.check(caller, &st.ns, src, Need::parent(Access::WRITE))?;
                self.perms.check(caller, &st.ns, dst, Need::ancestor(Access::WRITE))?;
                // Within one directory a rename adds no entry to it.
                if src.parent() == dst.parent() {
                    limits::check_name(&self.config, dst)
                } else {
                    limits::check_new(&self.config, &st.ns, dst)
                }?;
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    pub async fn set_replication(
        &self,
        path: &HdfsPath,
        replication: u32,
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<()> {
        let op = Op::SetReplication { path: path.to_string(), replication };
        self.mutate(
            call,
            |st| {
                self.perms.check(caller, &st.ns, path, Need::inode(Access::WRITE))?;
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    /// Creates a file open for writing by `client`; returns it and the number of live datanodes
    /// (fewer than the replication means the file will be under-replicated).
    pub async fn create(
        &self,
        path: &HdfsPath,
        client: &str,
        opts: CreateOptions,
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<(FileInfo, usize)> {
        let replication = if opts.replication == 0 { self.config.default_replication } else { opts.replication };
        let block_size = if opts.block_size == 0 { self.config.default_block_size } else { opts.block_size };
        let op = Op::Create {
            path: path.to_string(),
            client: client.to_string(),
            replication,
            block_size,
            overwrite: opts.overwrite,
            create_parent: opts.create_parent,
            mtime_ms: now_ms(),
            owner: caller.user.to_string(),
            mode: match opts.mode {
                Some(m) => valid_mode(m)?,
                None => self.perms.new_modes().0,
            },
            dir_mode: self.perms.new_modes().1,
        };
        let hard_limit = self.config.lease_hard_limit;
        self.mutate(
            call,
            |st| {
                let exists = st.ns.resolve(path).is_ok();
                let need = Need {
                    ancestor: Some(Access::WRITE),
                    inode: (opts.overwrite && exists).then_some(Access::WRITE),
                    ..Need::default()
                };
                self.perms.check(caller, &st.ns, path, need)?;
                limits::check_new(&self.config, &st.ns, path)?;
                // Another writer's file may be taken over only once its lease has expired.
                if let Ok(id) = st.ns.resolve(path)
                    && let Some(writer) = st.ns.writer(id)
                    && writer != client
                    && !st.leases.expired(writer, Instant::now(), hard_limit)
                {
                    tracing::info!(%path, holder = writer, "create refused: another client holds the lease");
                    return Err(Error::LeaseHeldByOther(path.clone()));
                }
                Ok((op, ()))
            },
            |st, fx, ()| {
                let id = fx.created.expect("create creates");
                let live = st.bm.live_count();
                (file_info(&self.perms, &st.ns, path.clone(), id), live)
            },
        )
        .await
    }

    /// Commits `previous` (the block just written) and allocates the next block with targets.
    pub async fn add_block(
        &self,
        path: &HdfsPath,
        client: &str,
        previous: Option<CommittedBlock>,
        exclude: &[String],
        call: Option<CallId>,
    ) -> Result<LocatedBlock> {
        self.mutate(
            call,
            |st| {
                let (_, file) = st.writable_file(path, client)?;
                let replication = file.replication() as usize;
                let block_size = file.block_size();
                let exclude: Vec<NodeIdx> = exclude.iter().filter_map(|id| st.bm.nodes.find(id)).collect();
                let targets = st.bm.choose_targets(replication, block_size, &exclude);
                if targets.is_empty() {
                    return Err(Error::NoLiveDatanodes);
                }
                let block = st.allocate_block_id();
                Ok((
                    Op::AddBlock { path: path.to_string(), previous, block, generation_stamp: GenStamp::FIRST },
                    targets,
                ))
            },
            |st, fx, targets| {
                let (file, block) = fx.added_block.expect("add_block adds");
                st.bm.set_pipeline(block.id, &targets);
                let offset = st.ns.inode(file).and_then(|i| i.as_file()).map_or(0, |f| f.length());
                tracing::debug!(%path, block = %block.id, ?targets, "block allocated");
                LocatedBlock { block, offset, locations: targets.iter().map(|&t| st.bm.location(t)).collect() }
            },
        )
        .await
    }

    /// Commits the last block and closes the file. Returns false (changing nothing) while some
    /// block has no reported replica yet; the client retries shortly.
    pub async fn complete(
        &self,
        path: &HdfsPath,
        client: &str,
        last: Option<CommittedBlock>,
        call: Option<CallId>,
    ) -> Result<bool> {
        let op = Op::Complete { path: path.to_string(), last, mtime_ms: now_ms() };
        let done = self
            .mutate(
                call,
                |st| {
                    let (_, file) = st.writable_file(path, client)?;
                    if file.blocks.iter().any(|b| st.bm.blocks.get(b.id).is_none_or(|e| e.replicas.is_empty())) {
                        return Err(Error::BlocksNotReported(path.clone()));
                    }
                    Ok((op, ()))
                },
                |_, _, ()| (),
            )
            .await;
        match done {
            Ok(()) => Ok(true),
            Err(Error::BlocksNotReported(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn block_locations(
        &self,
        path: &HdfsPath,
        offset: u64,
        length: u64,
        caller: &Caller,
    ) -> Result<LocatedBlocks> {
        self.read_barrier().await?;
        let st = self.lock();
        let on = self.perms.check(caller, &st.ns, path, Need::inode(Access::READ))?;
        let id = st.ns.resolved(path, &on)?;
        let file = st.ns.inode(id).and_then(|i| i.as_file()).ok_or_else(|| Error::IsADirectory(path.clone()))?;
        // A file being written: its last block goes apart, with its pipeline. (One being
        // truncated is not written: its last block is listed at its new length.)
        let open = st.ns.writer(id).is_some() && st.ns.truncating(id).is_none();
        let (done, last) = match file.blocks.split_last() {
            Some((last, done)) if open => (done, Some(*last)),
            _ => (&file.blocks[..], None),
        };
        let end = offset.saturating_add(if length == 0 { u64::MAX } else { length });
        let mut blocks = Vec::new();
        let mut pos = 0;
        for b in done {
            let (start, stop) = (pos, pos + b.num_bytes);
            pos = stop;
            if b.num_bytes == 0 || stop <= offset || start >= end {
                continue;
            }
            blocks.push(LocatedBlock { block: *b, offset: start, locations: st.bm.read_locations(b.id) });
        }
        let last_block = last.map(|b| LocatedBlock { block: b, offset: pos, locations: st.bm.write_locations(b.id) });
        Ok(LocatedBlocks { file_length: pos, blocks, under_construction: open, last_block })
    }

    pub fn renew_lease(&self, client: &str) -> Result<()> {
        self.leader_only()?;
        self.lock().leases.renew(client, Instant::now());
        Ok(())
    }

    /// A reader or a datanode's scanner found a bad replica.
    pub fn report_bad_block(&self, block: BlockId, datanode_id: &str) -> Result<()> {
        self.leader_only()?;
        self.lock().bm.report_bad(block, datanode_id)
    }

    /// Gives the last block of a file being written a new generation stamp, for a pipeline
    /// that lost a node: the survivors continue under it, so a replica left on the lost node
    /// is recognisably stale.
    pub async fn update_pipeline(
        &self,
        path: &HdfsPath,
        client: &str,
        block: BlockId,
        call: Option<CallId>,
    ) -> Result<GenStamp> {
        self.mutate(
            call,
            |st| {
                let (_, file) = st.writable_file(path, client)?;
                let gen_stamp =
                    file.blocks.last().filter(|b| b.id == block).map_or(GenStamp(0), |b| b.generation_stamp).next();
                Ok((Op::UpdateBlock { path: path.to_string(), block, generation_stamp: gen_stamp }, ()))
            },
            |_, fx, ()| {
                let b = fx.updated_block.expect("update updates");
                tracing::info!(%path, block = %b.id, generation_stamp = %b.generation_stamp, "pipeline updated");
                b.generation_stamp
            },
        )
        .await
    }

    /// Drops the last block of a file being written, whose pipeline failed before any data.
    pub async fn abandon_block(
        &self,
        path: &HdfsPath,
        client: &str,
        block: BlockId,
        call: Option<CallId>,
    ) -> Result<()> {
        self.mutate(
            call,
            |st| {
                st.writable_file(path, client)?;
                Ok((Op::AbandonBlock { path: path.to_string(), block }, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    /// A datanode finished recovering a block whose writer went away: close the file there.
    pub async fn commit_block_recovery(
        &self,
        block: BlockId,
        generation_stamp: GenStamp,
        num_bytes: u64,
        holders: &[String],
    ) -> Result<()> {
        self.mutate(
            None,
            |st| {
                let file = st.bm.blocks.get(block).map(|e| e.file).ok_or(Error::UnknownBlock(block))?;
                let path = st.ns.path_of(file);
                Ok((
                    Op::CommitRecovery {
                        path: path.to_string(),
                        block,
                        generation_stamp,
                        num_bytes,
                        mtime_ms: now_ms(),
                    },
                    file,
                ))
            },
            |st, fx, file| {
                if let Some(b) = fx.updated_block {
                    st.bm.recovered(b.id, b.generation_stamp, holders);
                }
                st.check_file(file);
                tracing::info!(block = %block, generation_stamp = %generation_stamp, num_bytes, "block recovered; file closed");
            },
        )
        .await
    }
}
