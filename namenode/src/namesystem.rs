//! The namesystem: namespace, edit log, block map, datanodes and leases behind one lock.
//!
//! Like HDFS's FSNamesystem, one lock covers the whole state, so every operation sees and
//! leaves it consistent. A mutation validates and applies its [`Op`] and appends it to the log
//! under the lock, then waits for the log to be durable *outside* it, so concurrent writers
//! share fsyncs (group commit) instead of queueing behind each other's. Until that wait ends the
//! caller gets no answer, so nothing unacknowledged is promised; another client may see the
//! change a moment before it is durable, as in HDFS.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hdfs_proto::path::HdfsPath;

use crate::blockmanager::BlockManager;
pub use crate::blockmanager::{Command, DatanodeReport, Location, ReportedReplica, ScheduledCopy};
use crate::config::Config;
use crate::datanodes::NodeIdx;
use crate::editlog::{EditLog, LogSync};
use crate::error::{Error, Result};
use crate::leases::Leases;
use crate::namespace::{Block, ContentSummary, Effects, InodeId, InodeKind, Namespace, Op};

/// Listing page size when the client asks for none (HDFS's `dfs.ls.limit`).
pub const DEFAULT_LIST_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub path: HdfsPath,
    pub is_dir: bool,
    pub length: u64,
    pub replication: u32,
    pub block_size: u64,
    pub mtime_ms: u64,
    pub under_construction: bool,
    pub children: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedBlock {
    pub block: Block,
    pub offset: u64,
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedBlocks {
    pub file_length: u64,
    pub blocks: Vec<LocatedBlock>,
    pub under_construction: bool,
}

struct State {
    ns: Namespace,
    log: EditLog,
    bm: BlockManager,
    leases: Leases,
    /// Files whose writer's lease expired, with when their block recovery was last asked for.
    recovering: HashMap<InodeId, Instant>,
}

pub struct Namesystem {
    config: Config,
    state: Mutex<State>,
    sync: LogSync,
    /// Set when the edit log failed to take a record: the in-memory namespace may then be ahead
    /// of the disk, so every further mutation is refused (HDFS shuts down in that case).
    log_failed: AtomicBool,
    /// Wakes the replication monitor before its next interval.
    wake: tokio::sync::Notify,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Namesystem {
    /// Loads the namespace from `config.data_dir`.
    pub fn open(config: Config) -> Result<Self> {
        let (log, ns) = EditLog::open(&config.data_dir)?;
        let mut bm = BlockManager::new(&config);
        let mut leases = Leases::default();
        let now = Instant::now();
        for (id, file) in ns.files() {
            for b in &file.blocks {
                bm.add_block(b, id, &[]);
            }
        }
        for (id, writer) in ns.open_files() {
            leases.add(writer, id, now);
        }
        let sync = log.sync_handle();
        let state = State { ns, log, bm, leases, recovering: HashMap::new() };
        Ok(Self {
            config,
            state: Mutex::new(state),
            sync,
            log_failed: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock would be a bug; the state is still the best we have.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies the op that `build` returns, lets `after` update the derived state, and returns
    /// once the op is durable.
    /// `build` may pass a value of its own (`T`) on to `after`.
    async fn mutate<T, R>(
        &self,
        build: impl FnOnce(&mut State) -> Result<(Op, T)>,
        after: impl FnOnce(&mut State, Effects, T) -> R,
    ) -> Result<R> {
        if self.log_failed.load(Ordering::Acquire) {
            return Err(Error::Storage("edit log failed earlier; restart the namenode".into()));
        }
        let r = {
            let mut st = self.lock();
            if st.bm.safe_mode.is_on() {
                let (reported, total) = st.bm.reported_blocks(&st.ns);
                return Err(Error::SafeMode(st.bm.safe_mode.describe(reported, total)));
            }
            let (op, carried) = build(&mut st)?;
            let fx = st.ns.apply(&op)?;
            let index = match st.log.append(&op) {
                Ok(index) => index,
                Err(e) => {
                    self.log_failed.store(true, Ordering::Release);
                    tracing::error!(error = %e, "edit log append failed; refusing further mutations");
                    return Err(e);
                }
            };
            st.bm.begin_op(index);
            let r = after(&mut st, fx, carried);
            if st.log.needs_checkpoint(self.config.checkpoint_every, st.ns.inode_count()) {
                let State { log, ns, .. } = &mut *st;
                if let Err(e) = log.checkpoint(ns) {
                    tracing::warn!(error = %e, "checkpoint failed; the log keeps growing");
                }
            }
            (r, index)
        };
        let (r, index) = r;
        if let Err(e) = self.sync.wait(index).await {
            // The op is applied in memory but maybe not on disk: stop taking more.
            self.log_failed.store(true, Ordering::Release);
            tracing::error!(error = %e, "edit log sync failed; refusing further mutations");
            return Err(e);
        }
        self.lock().bm.release_deletes(index);
        Ok(r)
    }

    /// Writes a checkpoint now (at shutdown, so the next start replays nothing).
    pub fn checkpoint(&self) -> Result<()> {
        let mut st = self.lock();
        let State { log, ns, .. } = &mut *st;
        log.checkpoint(ns)
    }

    // ----------------------------------------------------------------------------------------
    // Client operations

    pub async fn mkdirs(&self, path: &HdfsPath, create_parent: bool) -> Result<()> {
        let op = Op::Mkdirs { path: path.to_string(), mtime_ms: now_ms() };
        self.mutate(
            |st| {
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

    pub fn file_info(&self, path: &HdfsPath) -> Result<FileInfo> {
        let st = self.lock();
        let id = st.ns.resolve(path)?;
        Ok(file_info(&st.ns, path.clone(), id))
    }

    pub fn list(&self, path: &HdfsPath, start_after: &str, limit: usize) -> Result<(Vec<FileInfo>, bool)> {
        let limit = if limit == 0 { DEFAULT_LIST_LIMIT } else { limit.min(DEFAULT_LIST_LIMIT * 10) };
        let st = self.lock();
        let (entries, more) = st.ns.list(path, start_after, limit)?;
        Ok((entries.into_iter().map(|(p, id)| file_info(&st.ns, p, id)).collect(), more))
    }

    pub fn content_summary(&self, path: &HdfsPath) -> Result<ContentSummary> {
        self.lock().ns.content_summary(path)
    }

    pub async fn delete(&self, path: &HdfsPath, recursive: bool) -> Result<()> {
        let op = Op::Delete { path: path.to_string(), recursive, mtime_ms: now_ms() };
        self.mutate(|_| Ok((op, ())), |st, fx, ()| st.forget_removed(fx)).await
    }

    pub async fn rename(&self, src: &HdfsPath, dst: &HdfsPath) -> Result<()> {
        let op = Op::Rename { src: src.to_string(), dst: dst.to_string(), mtime_ms: now_ms() };
        self.mutate(|_| Ok((op, ())), |_, _, ()| ()).await
    }

    pub async fn set_replication(&self, path: &HdfsPath, replication: u32) -> Result<()> {
        let op = Op::SetReplication { path: path.to_string(), replication };
        self.mutate(
            |_| Ok((op, ())),
            |st, _, ()| {
                if let Ok(id) = st.ns.resolve(path) {
                    let blocks =
                        st.ns.inode(id).and_then(|i| i.as_file()).map(|f| f.blocks.clone()).unwrap_or_default();
                    st.bm.check(blocks.iter().map(|b| b.id));
                }
            },
        )
        .await
    }

    /// Creates a file open for writing by `client`; returns it and the number of live datanodes
    /// (fewer than the replication means the file will be under-replicated).
    pub async fn create(&self, path: &HdfsPath, client: &str, opts: CreateOptions) -> Result<(FileInfo, usize)> {
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
        };
        let hard_limit = self.config.lease_hard_limit;
        self.mutate(
            |st| {
                // Another writer's file may be taken over only once its lease has expired.
                if let Ok(id) = st.ns.resolve(path)
                    && let Some(writer) = st.ns.writer(id)
                    && writer != client
                    && !st.leases.expired(writer, Instant::now(), hard_limit)
                {
                    return Err(Error::LeaseHeldByOther { path: path.clone(), holder: writer.to_string() });
                }
                Ok((op, ()))
            },
            |st, fx, ()| {
                let id = fx.created.expect("create creates");
                st.forget_removed(fx);
                st.leases.add(client, id, Instant::now());
                let live = st.bm.live_count();
                (file_info(&st.ns, path.clone(), id), live)
            },
        )
        .await
    }

    /// Commits `previous` (the block just written) and allocates the next block with targets.
    pub async fn add_block(
        &self,
        path: &HdfsPath,
        client: &str,
        previous: Option<(u64, u64)>,
        exclude: &[String],
    ) -> Result<LocatedBlock> {
        self.mutate(
            |st| {
                let (_, file) = st.writable_file(path, client)?;
                let replication = file.replication as usize;
                let block_size = file.block_size;
                let exclude: Vec<NodeIdx> = exclude.iter().filter_map(|id| st.bm.nodes.find(id)).collect();
                let targets = st.bm.choose_targets(replication, block_size, &exclude);
                if targets.is_empty() {
                    return Err(Error::NoLiveDatanodes);
                }
                let block = st.ns.next_block_id();
                Ok((Op::AddBlock { path: path.to_string(), previous, block, generation_stamp: 1 }, targets))
            },
            |st, fx, targets| {
                let (file, block) = fx.added_block.expect("add_block adds");
                st.bm.add_block(&block, file, &targets);
                let offset = st.ns.inode(file).and_then(|i| i.as_file()).map_or(0, |f| f.length());
                tracing::debug!(%path, block = block.id, ?targets, "block allocated");
                LocatedBlock { block, offset, locations: targets.iter().map(|&t| st.bm.location(t)).collect() }
            },
        )
        .await
    }

    /// Commits the last block and closes the file. Returns false (changing nothing) while some
    /// block has no reported replica yet; the client retries shortly.
    pub async fn complete(&self, path: &HdfsPath, client: &str, last: Option<(u64, u64)>) -> Result<bool> {
        let op = Op::Complete { path: path.to_string(), last, mtime_ms: now_ms() };
        let done = self
            .mutate(
                |st| {
                    let (_, file) = st.writable_file(path, client)?;
                    if file.blocks.iter().any(|b| st.bm.blocks.get(b.id).is_none_or(|e| e.replicas.is_empty())) {
                        return Err(Error::BlocksNotReported(path.clone()));
                    }
                    Ok((op, ()))
                },
                |st, fx, ()| {
                    let id = fx.completed.expect("complete completes");
                    st.leases.remove(client, id);
                    if let Some(f) = st.ns.inode(id).and_then(|i| i.as_file()) {
                        for b in &f.blocks {
                            st.bm.blocks.clear_expected(b.id);
                        }
                    }
                    st.check_file(id);
                },
            )
            .await;
        match done {
            Ok(()) => Ok(true),
            Err(Error::BlocksNotReported(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn block_locations(&self, path: &HdfsPath, offset: u64, length: u64) -> Result<LocatedBlocks> {
        let st = self.lock();
        let id = st.ns.resolve(path)?;
        let file = st.ns.inode(id).and_then(|i| i.as_file()).ok_or_else(|| Error::IsADirectory(path.clone()))?;
        let end = offset.saturating_add(if length == 0 { u64::MAX } else { length });
        let mut blocks = Vec::new();
        let mut pos = 0;
        for b in &file.blocks {
            let (start, stop) = (pos, pos + b.num_bytes);
            pos = stop;
            // Only committed bytes are visible: the block being written has length 0 until then.
            if b.num_bytes == 0 || stop <= offset || start >= end {
                continue;
            }
            blocks.push(LocatedBlock { block: *b, offset: start, locations: st.bm.read_locations(b.id) });
        }
        Ok(LocatedBlocks { file_length: file.length(), blocks, under_construction: st.ns.writer(id).is_some() })
    }

    pub fn renew_lease(&self, client: &str) {
        self.lock().leases.renew(client, Instant::now());
    }

    /// A reader or a datanode's scanner found a bad replica.
    pub fn report_bad_block(&self, block: u64, datanode_id: &str) -> Result<()> {
        self.lock().bm.report_bad(block, datanode_id)
    }

    /// Gives the last block of a file being written a new generation stamp, for a pipeline
    /// that lost a node: the survivors continue under it, so a replica left on the lost node
    /// is recognisably stale.
    pub async fn update_pipeline(&self, path: &HdfsPath, client: &str, block: u64) -> Result<u64> {
        self.mutate(
            |st| {
                let (_, file) = st.writable_file(path, client)?;
                let gen_stamp = file.blocks.last().filter(|b| b.id == block).map_or(0, |b| b.generation_stamp) + 1;
                Ok((Op::UpdateBlock { path: path.to_string(), block, generation_stamp: gen_stamp }, ()))
            },
            |st, fx, ()| {
                let b = fx.updated_block.expect("update updates");
                st.bm.new_generation(b.id, b.generation_stamp);
                tracing::info!(%path, block = b.id, generation_stamp = b.generation_stamp, "pipeline updated");
                b.generation_stamp
            },
        )
        .await
    }

    /// Drops the last block of a file being written, whose pipeline failed before any data.
    pub async fn abandon_block(&self, path: &HdfsPath, client: &str, block: u64) -> Result<()> {
        self.mutate(
            |st| {
                st.writable_file(path, client)?;
                Ok((Op::AbandonBlock { path: path.to_string(), block }, ()))
            },
            |st, fx, ()| st.bm.remove_blocks(fx.dropped_block.as_slice()),
        )
        .await
    }

    /// A datanode finished recovering a block whose writer went away: close the file there.
    pub async fn commit_block_recovery(
        &self,
        block: u64,
        generation_stamp: u64,
        num_bytes: u64,
        holders: &[String],
    ) -> Result<()> {
        self.mutate(
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
                st.bm.remove_blocks(fx.dropped_block.as_slice());
                st.recovering.remove(&file);
                st.check_file(file);
                tracing::info!(block, generation_stamp, num_bytes, "block recovered; file closed");
            },
        )
        .await
    }

    // ----------------------------------------------------------------------------------------
    // Datanode operations

    pub fn register(&self, datanode_id: &str, address: &str, storage: crate::datanodes::Storage) {
        self.lock().bm.register(datanode_id, address, storage, Instant::now());
    }

    /// Records a heartbeat; returns the node's commands and, when it should heartbeat again
    /// early, after how long.
    pub fn heartbeat(
        &self,
        datanode_id: &str,
        storage: crate::datanodes::Storage,
    ) -> Result<(Vec<Command>, Option<std::time::Duration>)> {
        let (commands, soon) = self.lock().bm.heartbeat(datanode_id, storage, Instant::now())?;
        // A fifth of an interval: soon enough for the next round of copies, rare enough that
        // a large cluster in repair does not flood the namenode (5 heartbeats per interval).
        let early = soon.then(|| self.config.heartbeat_interval / 5);
        Ok((commands, early))
    }

    /// A full block report: finalized replicas, and unfinished ones.
    pub fn block_report(
        &self,
        datanode_id: &str,
        replicas: &[ReportedReplica],
        unfinished: &[ReportedReplica],
    ) -> Result<()> {
        let mut st = self.lock();
        let State { ns, bm, .. } = &mut *st;
        bm.block_report(ns, datanode_id, replicas, unfinished)
    }

    /// An incremental block report.
    pub fn blocks_received_and_deleted(
        &self,
        datanode_id: &str,
        received: &[ReportedReplica],
        deleted: &[ReportedReplica],
    ) -> Result<()> {
        let mut st = self.lock();
        let State { ns, bm, .. } = &mut *st;
        if bm.incremental_report(ns, datanode_id, received, deleted)? {
            self.wake.notify_one();
        }
        Ok(())
    }

    pub fn datanode_report(&self) -> Vec<DatanodeReport> {
        self.lock().bm.datanode_report(Instant::now())
    }

    // ----------------------------------------------------------------------------------------
    // Administration and health

    /// Applies a safe-mode action; returns whether safe mode is on and a description.
    pub fn safe_mode(&self, action: SafeModeAction) -> (bool, String) {
        let mut st = self.lock();
        match action {
            SafeModeAction::Get => {}
            SafeModeAction::Enter => {
                st.bm.safe_mode.enter();
                tracing::info!("safe mode entered by an operator");
            }
            SafeModeAction::Leave => {
                st.bm.safe_mode.leave();
                let ids = st.bm.blocks.ids();
                st.bm.check(ids);
                tracing::info!("safe mode left by an operator");
            }
        }
        let (reported, total) = st.bm.reported_blocks(&st.ns);
        (st.bm.safe_mode.is_on(), st.bm.safe_mode.describe(reported, total))
    }

    /// Starts or stops draining a datanode named by id or address.
    pub fn decommission(&self, name: &str, decommission: bool) -> Result<Location> {
        self.lock().bm.set_decommission(name, decommission)
    }

    /// Health of every file under `path`.
    pub fn fsck(&self, path: &HdfsPath, with_files: bool) -> Result<crate::fsck::FsckReport> {
        let st = self.lock();
        crate::fsck::check(&st.ns, &st.bm, path, with_files)
    }

    /// Copies the monitor has scheduled, in order (for tests and diagnostics).
    pub fn scheduled_copies(&self) -> Vec<ScheduledCopy> {
        self.lock().bm.history().to_vec()
    }

    /// Resolves when work for the replication monitor has arrived (a copy confirmed).
    pub async fn work_arrived(&self) {
        self.wake.notified().await
    }

    /// When the next datanode will pass its dead-after deadline, if any is alive.
    pub fn next_death(&self) -> Option<Instant> {
        self.lock().bm.next_death()
    }

    /// One unit of background work: liveness, safe mode, repair scheduling, expired leases.
    pub async fn tick(&self) {
        let now = Instant::now();
        let closable = {
            let mut st = self.lock();
            let State { ns, bm, .. } = &mut *st;
            bm.tick(ns, now);
            if st.bm.safe_mode.is_on() { Vec::new() } else { st.recover_expired_leases(&self.config, now) }
        };
        // Files whose writer left no unfinished block anywhere are closed as they are.
        for (file, path, last) in closable {
            let op = match last {
                None => Op::Complete { path: path.to_string(), last: None, mtime_ms: now_ms() },
                Some(b) => Op::CommitRecovery {
                    path: path.to_string(),
                    block: b.id,
                    generation_stamp: b.generation_stamp,
                    num_bytes: 0,
                    mtime_ms: now_ms(),
                },
            };
            let r = self.mutate(
                |_| Ok((op, ())),
                |st, fx, ()| {
                    st.bm.remove_blocks(fx.dropped_block.as_slice());
                    st.recovering.remove(&file);
                    st.check_file(file);
                },
            );
            if let Err(e) = r.await {
                tracing::warn!(%path, error = %e, "could not close a file after its lease expired");
            }
        }
    }
}

/// `hdfs safemode get|enter|leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafeModeAction {
    Get,
    Enter,
    Leave,
}

/// Options of [`Namesystem::create`]; zeros mean the namenode's defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateOptions {
    pub overwrite: bool,
    pub create_parent: bool,
    pub replication: u32,
    pub block_size: u64,
}

fn file_info(ns: &Namespace, path: HdfsPath, id: InodeId) -> FileInfo {
    let inode = ns.inode(id).expect("resolved inode exists");
    match &inode.kind {
        InodeKind::Directory(children) => FileInfo {
            path,
            is_dir: true,
            length: 0,
            replication: 0,
            block_size: 0,
            mtime_ms: inode.mtime_ms,
            under_construction: false,
            children: children.len() as u64,
        },
        InodeKind::File(f) => FileInfo {
            path,
            is_dir: false,
            length: f.length(),
            replication: f.replication.into(),
            block_size: f.block_size,
            mtime_ms: inode.mtime_ms,
            under_construction: ns.writer(id).is_some(),
            children: 0,
        },
    }
}

impl State {
    /// Drops removed files' blocks and their writers' leases.
    fn forget_removed(&mut self, fx: Effects) {
        for file in fx.removed_files {
            self.bm.remove_blocks(&file.blocks);
            if let Some(writer) = file.writer {
                self.leases.remove(&writer, file.id);
            }
            self.recovering.remove(&file.id);
        }
    }

    /// Asks the block manager to check every block of a file.
    fn check_file(&mut self, file: InodeId) {
        if let Some(f) = self.ns.inode(file).and_then(|i| i.as_file()) {
            self.bm.check(f.blocks.iter().map(|b| b.id));
        }
    }

    /// Starts block recovery for files whose writer's lease expired. Returns the files that
    /// need no recovery (no block, or a last block nobody holds) to be closed as they are.
    fn recover_expired_leases(&mut self, config: &Config, now: Instant) -> Vec<(InodeId, HdfsPath, Option<Block>)> {
        for (client, files) in self.leases.take_expired(now, config.lease_hard_limit) {
            for file in files {
                tracing::info!(client, path = %self.ns.path_of(file), "lease expired; recovering the file");
                // Due at once: as if last asked a whole timeout ago.
                self.recovering.insert(file, now.checked_sub(config.replication_timeout).unwrap_or(now));
            }
        }
        let mut closable = Vec::new();
        let due: Vec<InodeId> = self
            .recovering
            .iter()
            .filter(|(_, at)| now.duration_since(**at) >= config.replication_timeout)
            .map(|(&f, _)| f)
            .collect();
        for file in due {
            let Some(f) = self.ns.inode(file).and_then(|i| i.as_file()).filter(|_| self.ns.writer(file).is_some())
            else {
                self.recovering.remove(&file);
                continue;
            };
            let last = f.blocks.last().copied();
            let holders: Vec<NodeIdx> = last
                .and_then(|b| Some((b, self.bm.blocks.get(b.id)?)))
                .map(|(b, e)| self.bm.blocks.expected(b.id).iter().chain(&e.replicas).copied().collect())
                .unwrap_or_default();
            match last {
                Some(b) if !holders.is_empty() => {
                    // Asked again after a timeout if no holder is alive or the primary fails.
                    self.bm.start_recovery(b, &holders);
                    self.recovering.insert(file, now);
                }
                // No node ever held any of the last block (or there is none): close without it.
                last => closable.push((file, self.ns.path_of(file), last)),
            }
        }
        closable
    }

    fn writable_file(&self, path: &HdfsPath, client: &str) -> Result<(InodeId, &crate::namespace::File)> {
        let id = self.ns.resolve(path)?;
        let file = self.ns.inode(id).and_then(|i| i.as_file()).ok_or_else(|| Error::IsADirectory(path.clone()))?;
        match self.ns.writer(id) {
            // Its lease expired and block recovery has the file: the old writer must not go on.
            Some(_) if self.recovering.contains_key(&id) => {
                Err(Error::NoLease { path: path.clone(), client: client.to_string() })
            }
            Some(w) if w == client => Ok((id, file)),
            Some(_) | None => Err(Error::NoLease { path: path.clone(), client: client.to_string() }),
        }
    }
}
