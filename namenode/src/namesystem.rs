//! The namesystem: namespace, edit log, block map, datanodes and leases behind one lock.
//!
//! Like HDFS's FSNamesystem, one lock covers the whole state, so every operation sees and
//! leaves it consistent. A mutation validates and applies its [`Op`] and appends it to the log
//! under the lock, then waits for the log to be durable *outside* it, so concurrent writers
//! share fsyncs (group commit) instead of queueing behind each other's. Until that wait ends the
//! caller gets no answer, so nothing unacknowledged is promised; another client may see the
//! change a moment before it is durable, as in HDFS.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hdfs_proto::path::HdfsPath;

use crate::blockmap::BlockMap;
use crate::config::Config;
use crate::datanodes::{DatanodeManager, Liveness, NodeIdx, Storage, liveness};
use crate::editlog::EditLog;
use crate::error::{Error, Result};
use crate::leases::Leases;
use crate::namespace::{Block, ContentSummary, Effects, InodeId, InodeKind, Namespace, Op};
use crate::placement::{Candidate, choose_targets};

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
pub struct Location {
    pub datanode_id: String,
    pub address: String,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatanodeReport {
    pub location: Location,
    pub state: Liveness,
    pub storage: Storage,
    pub blocks: u64,
    pub last_contact: std::time::Duration,
}

/// A replica as a datanode reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedReplica {
    pub block: u64,
    pub generation_stamp: u64,
    pub num_bytes: u64,
}

/// Work for a datanode, returned in its heartbeat reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Delete these replicas (block id, generation stamp).
    DeleteBlocks(Vec<(u64, u64)>),
}

struct State {
    ns: Namespace,
    log: EditLog,
    blocks: BlockMap,
    nodes: DatanodeManager,
    leases: Leases,
}

pub struct Namesystem {
    config: Config,
    state: Mutex<State>,
    db: sled::Db,
    /// Set when the edit log failed to take a record: the in-memory namespace may then be ahead
    /// of the disk, so every further mutation is refused (HDFS shuts down in that case).
    log_failed: AtomicBool,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Namesystem {
    /// Loads the namespace from `config.data_dir`.
    pub fn open(config: Config) -> Result<Self> {
        let (log, ns) = EditLog::open(&config.data_dir)?;
        let mut blocks = BlockMap::default();
        let mut leases = Leases::default();
        let now = Instant::now();
        for (id, file) in ns.files() {
            for b in &file.blocks {
                blocks.insert(b.id, b.generation_stamp, id);
            }
            if let Some(writer) = &file.writer {
                leases.add(writer, id, now);
            }
        }
        let db = log.db();
        let state = State {
            ns,
            log,
            blocks,
            nodes: DatanodeManager::default(),
            leases,
        };
        Ok(Self {
            config,
            state: Mutex::new(state),
            db,
            log_failed: AtomicBool::new(false),
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
            return Err(Error::Image(
                "edit log failed earlier; restart the namenode".into(),
            ));
        }
        let r = {
            let mut st = self.lock();
            let (op, carried) = build(&mut st)?;
            let fx = st.ns.apply(&op)?;
            if let Err(e) = st.log.append(&op) {
                self.log_failed.store(true, Ordering::Release);
                tracing::error!(error = %e, "edit log append failed; refusing further mutations");
                return Err(e);
            }
            let r = after(&mut st, fx, carried);
            if st.log.needs_checkpoint(self.config.checkpoint_every) {
                let State { log, ns, .. } = &mut *st;
                if let Err(e) = log.checkpoint(ns) {
                    tracing::warn!(error = %e, "checkpoint failed; the log keeps growing");
                }
            }
            r
        };
        EditLog::sync(&self.db).await?;
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
        let op = Op::Mkdirs {
            path: path.to_string(),
            mtime_ms: now_ms(),
        };
        self.mutate(
            |st| {
                match st.ns.resolve(path) {
                    Ok(id) if st.ns.inode(id).is_some_and(|i| i.as_file().is_some()) => {
                        return Err(Error::AlreadyExists(path.clone()));
                    }
                    Ok(_) if !create_parent => return Err(Error::AlreadyExists(path.clone())),
                    Err(Error::NotFound(_)) if !create_parent => {
                        let parent = path
                            .parent()
                            .ok_or_else(|| Error::AlreadyExists(path.clone()))?;
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

    pub fn list(
        &self,
        path: &HdfsPath,
        start_after: &str,
        limit: usize,
    ) -> Result<(Vec<FileInfo>, bool)> {
        let limit = if limit == 0 {
            DEFAULT_LIST_LIMIT
        } else {
            limit.min(DEFAULT_LIST_LIMIT * 10)
        };
        let st = self.lock();
        let (entries, more) = st.ns.list(path, start_after, limit)?;
        Ok((
            entries
                .into_iter()
                .map(|(p, id)| file_info(&st.ns, p, id))
                .collect(),
            more,
        ))
    }

    pub fn content_summary(&self, path: &HdfsPath) -> Result<ContentSummary> {
        self.lock().ns.content_summary(path)
    }

    pub async fn delete(&self, path: &HdfsPath, recursive: bool) -> Result<()> {
        let op = Op::Delete {
            path: path.to_string(),
            recursive,
            mtime_ms: now_ms(),
        };
        self.mutate(|_| Ok((op, ())), |st, fx, ()| st.forget_removed(fx))
            .await
    }

    pub async fn rename(&self, src: &HdfsPath, dst: &HdfsPath) -> Result<()> {
        let op = Op::Rename {
            src: src.to_string(),
            dst: dst.to_string(),
            mtime_ms: now_ms(),
        };
        self.mutate(|_| Ok((op, ())), |_, _, ()| ()).await
    }

    pub async fn set_replication(&self, path: &HdfsPath, replication: u32) -> Result<()> {
        let op = Op::SetReplication {
            path: path.to_string(),
            replication,
        };
        self.mutate(|_| Ok((op, ())), |_, _, ()| ()).await
    }

    /// Creates a file open for writing by `client`; returns it and the number of live datanodes
    /// (fewer than the replication means the file will be under-replicated).
    pub async fn create(
        &self,
        path: &HdfsPath,
        client: &str,
        opts: CreateOptions,
    ) -> Result<(FileInfo, usize)> {
        let replication = if opts.replication == 0 {
            self.config.default_replication
        } else {
            opts.replication
        };
        let block_size = if opts.block_size == 0 {
            self.config.default_block_size
        } else {
            opts.block_size
        };
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
                    && let Some(writer) = st
                        .ns
                        .inode(id)
                        .and_then(|i| i.as_file())
                        .and_then(|f| f.writer.as_ref())
                    && writer != client
                    && !st.leases.expired(writer, Instant::now(), hard_limit)
                {
                    return Err(Error::LeaseHeldByOther {
                        path: path.clone(),
                        holder: writer.clone(),
                    });
                }
                Ok((op, ()))
            },
            |st, fx, ()| {
                let id = fx.created.expect("create creates");
                st.forget_removed(fx);
                st.leases.add(client, id, Instant::now());
                let live = st.live_nodes(&self.config).count();
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
                let exclude: Vec<NodeIdx> = exclude
                    .iter()
                    .filter_map(|id| st.nodes.lookup(id))
                    .collect();
                let targets = st.choose_targets(&self.config, replication, block_size, &exclude);
                if targets.is_empty() {
                    return Err(Error::NoLiveDatanodes);
                }
                let block = st.ns.next_block_id();
                Ok((
                    Op::AddBlock {
                        path: path.to_string(),
                        previous,
                        block,
                        generation_stamp: 1,
                    },
                    targets,
                ))
            },
            |st, fx, targets| {
                let (file, block) = fx.added_block.expect("add_block adds");
                st.blocks.insert(block.id, block.generation_stamp, file);
                let offset = st
                    .ns
                    .inode(file)
                    .and_then(|i| i.as_file())
                    .map_or(0, |f| f.length());
                for &t in &targets {
                    st.nodes.get_mut(t).scheduled += 1;
                }
                tracing::debug!(%path, block = block.id, ?targets, "block allocated");
                LocatedBlock {
                    block,
                    offset,
                    locations: targets.iter().map(|&t| st.location(t)).collect(),
                }
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
        last: Option<(u64, u64)>,
    ) -> Result<bool> {
        let op = Op::Complete {
            path: path.to_string(),
            last,
            mtime_ms: now_ms(),
        };
        let done = self
            .mutate(
                |st| {
                    let (_, file) = st.writable_file(path, client)?;
                    if file
                        .blocks
                        .iter()
                        .any(|b| st.blocks.get(b.id).is_none_or(|e| e.replicas.is_empty()))
                    {
                        return Err(Error::BlocksNotReported(path.clone()));
                    }
                    Ok((op, ()))
                },
                |st, fx, ()| {
                    let id = fx.completed.expect("complete completes");
                    st.leases.remove(client, id);
                },
            )
            .await;
        match done {
            Ok(()) => Ok(true),
            Err(Error::BlocksNotReported(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn block_locations(
        &self,
        path: &HdfsPath,
        offset: u64,
        length: u64,
    ) -> Result<LocatedBlocks> {
        let st = self.lock();
        let id = st.ns.resolve(path)?;
        let file = st
            .ns
            .inode(id)
            .and_then(|i| i.as_file())
            .ok_or_else(|| Error::IsADirectory(path.clone()))?;
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
            blocks.push(LocatedBlock {
                block: *b,
                offset: start,
                locations: st.read_locations(&self.config, b.id),
            });
        }
        Ok(LocatedBlocks {
            file_length: file.length(),
            blocks,
            under_construction: file.writer.is_some(),
        })
    }

    pub fn renew_lease(&self, client: &str) {
        self.lock().leases.renew(client, Instant::now());
    }

    /// A reader found a bad replica: never hand it out again.
    pub fn report_bad_block(&self, block: u64, datanode_id: &str) -> Result<()> {
        let mut st = self.lock();
        let node = st
            .nodes
            .lookup(datanode_id)
            .ok_or_else(|| Error::UnknownDatanode(datanode_id.to_string()))?;
        if st.blocks.mark_corrupt(block, node) {
            tracing::warn!(block, datanode = datanode_id, "replica reported corrupt");
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // Datanode operations

    pub fn register(&self, datanode_id: &str, address: &str, storage: Storage) {
        let mut st = self.lock();
        let known = st.nodes.lookup(datanode_id).is_some();
        st.nodes
            .register(datanode_id, address, storage, Instant::now());
        tracing::info!(
            datanode = datanode_id,
            address,
            known,
            "datanode registered"
        );
    }

    pub fn heartbeat(&self, datanode_id: &str, storage: Storage) -> Result<Vec<Command>> {
        let mut st = self.lock();
        let idx = st
            .nodes
            .lookup(datanode_id)
            .ok_or_else(|| Error::UnknownDatanode(datanode_id.to_string()))?;
        let node = st.nodes.get_mut(idx);
        node.storage = storage;
        node.last_heartbeat = Instant::now();
        let mut commands = Vec::new();
        if !node.pending_deletes.is_empty() {
            commands.push(Command::DeleteBlocks(std::mem::take(
                &mut node.pending_deletes,
            )));
        }
        Ok(commands)
    }

    /// A full block report: the node holds exactly these replicas.
    pub fn block_report(&self, datanode_id: &str, replicas: &[ReportedReplica]) -> Result<()> {
        let mut st = self.lock();
        let idx = st
            .nodes
            .lookup(datanode_id)
            .ok_or_else(|| Error::UnknownDatanode(datanode_id.to_string()))?;
        let reported: std::collections::HashSet<u64> = replicas.iter().map(|r| r.block).collect();
        let gone: Vec<u64> = st
            .nodes
            .get(idx)
            .blocks
            .iter()
            .filter(|b| !reported.contains(b))
            .copied()
            .collect();
        for b in gone {
            st.blocks.remove_replica(b, idx);
            st.nodes.get_mut(idx).blocks.remove(&b);
        }
        let mut orphans = 0;
        for r in replicas {
            orphans += usize::from(!st.replica_received(idx, r));
        }
        tracing::info!(
            datanode = datanode_id,
            replicas = replicas.len(),
            orphans,
            "block report processed"
        );
        Ok(())
    }

    /// An incremental block report.
    pub fn blocks_received_and_deleted(
        &self,
        datanode_id: &str,
        received: &[ReportedReplica],
        deleted: &[ReportedReplica],
    ) -> Result<()> {
        let mut st = self.lock();
        let idx = st
            .nodes
            .lookup(datanode_id)
            .ok_or_else(|| Error::UnknownDatanode(datanode_id.to_string()))?;
        for r in received {
            let node = st.nodes.get_mut(idx);
            node.scheduled = node.scheduled.saturating_sub(1);
            st.replica_received(idx, r);
        }
        for r in deleted {
            st.blocks.remove_replica(r.block, idx);
            st.nodes.get_mut(idx).blocks.remove(&r.block);
        }
        Ok(())
    }

    /// Every datanode ever registered, with its state.
    pub fn datanode_report(&self) -> Vec<DatanodeReport> {
        let st = self.lock();
        let now = Instant::now();
        st.nodes
            .iter()
            .map(|(_, n)| {
                let since = now - n.last_heartbeat;
                DatanodeReport {
                    location: Location {
                        datanode_id: n.id.clone(),
                        address: n.address.clone(),
                    },
                    state: liveness(
                        since,
                        self.config.heartbeat_interval,
                        self.config.dead_after,
                    ),
                    storage: n.storage,
                    blocks: n.blocks.len() as u64,
                    last_contact: since,
                }
            })
            .collect()
    }
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
            replication: f.replication,
            block_size: f.block_size,
            mtime_ms: inode.mtime_ms,
            under_construction: f.writer.is_some(),
            children: 0,
        },
    }
}

impl State {
    /// Drops removed files' blocks from the block map and schedules their replicas' deletion.
    fn forget_removed(&mut self, fx: Effects) {
        for file in fx.removed_files {
            for b in file.blocks {
                for node in self.blocks.remove(b.id) {
                    let n = self.nodes.get_mut(node);
                    n.blocks.remove(&b.id);
                    n.pending_deletes.push((b.id, b.generation_stamp));
                }
            }
            if let Some(writer) = file.writer {
                self.leases.remove(&writer, file.id);
            }
        }
    }

    fn writable_file(
        &self,
        path: &HdfsPath,
        client: &str,
    ) -> Result<(InodeId, &crate::namespace::File)> {
        let id = self.ns.resolve(path)?;
        let file = self
            .ns
            .inode(id)
            .and_then(|i| i.as_file())
            .ok_or_else(|| Error::IsADirectory(path.clone()))?;
        match &file.writer {
            Some(w) if w == client => Ok((id, file)),
            Some(_) | None => Err(Error::NoLease {
                path: path.clone(),
                client: client.to_string(),
            }),
        }
    }

    /// Datanodes that are not dead, with their liveness.
    fn usable_nodes<'a>(
        &'a self,
        config: &'a Config,
    ) -> impl Iterator<Item = (NodeIdx, Liveness)> + 'a {
        let now = Instant::now();
        self.nodes.iter().filter_map(move |(idx, n)| {
            let l = liveness(
                now - n.last_heartbeat,
                config.heartbeat_interval,
                config.dead_after,
            );
            (l != Liveness::Dead).then_some((idx, l))
        })
    }

    fn live_nodes<'a>(&'a self, config: &'a Config) -> impl Iterator<Item = NodeIdx> + 'a {
        self.usable_nodes(config)
            .filter(|(_, l)| *l == Liveness::Live)
            .map(|(idx, _)| idx)
    }

    fn choose_targets(
        &self,
        config: &Config,
        n: usize,
        block_size: u64,
        exclude: &[NodeIdx],
    ) -> Vec<NodeIdx> {
        let candidates = self
            .usable_nodes(config)
            .map(|(idx, l)| {
                let node = self.nodes.get(idx);
                Candidate {
                    node: idx,
                    stale: l == Liveness::Stale,
                    load: node.storage.active_transfers + node.scheduled,
                    capacity: node.storage.capacity,
                    remaining: node.storage.remaining,
                }
            })
            .collect();
        choose_targets(candidates, n, block_size, exclude)
    }

    fn location(&self, idx: NodeIdx) -> Location {
        let n = self.nodes.get(idx);
        Location {
            datanode_id: n.id.clone(),
            address: n.address.clone(),
        }
    }

    /// Replicas to read from: not dead, not corrupt; live ones first, least loaded first.
    fn read_locations(&self, config: &Config, block: u64) -> Vec<Location> {
        let Some(entry) = self.blocks.get(block) else {
            return Vec::new();
        };
        let now = Instant::now();
        let mut nodes: Vec<(Liveness, u32, NodeIdx)> = entry
            .replicas
            .iter()
            .filter(|n| !entry.corrupt.contains(n))
            .map(|&idx| {
                let n = self.nodes.get(idx);
                (
                    liveness(
                        now - n.last_heartbeat,
                        config.heartbeat_interval,
                        config.dead_after,
                    ),
                    n.storage.active_transfers,
                    idx,
                )
            })
            .filter(|(l, _, _)| *l != Liveness::Dead)
            .collect();
        nodes.sort();
        nodes
            .into_iter()
            .map(|(_, _, idx)| self.location(idx))
            .collect()
    }

    /// Records a reported replica; an unknown block (an orphan) is scheduled for deletion.
    fn replica_received(&mut self, idx: NodeIdx, r: &ReportedReplica) -> bool {
        if self.blocks.add_replica(r.block, r.generation_stamp, idx) {
            self.nodes.get_mut(idx).blocks.insert(r.block);
            true
        } else {
            tracing::info!(block = r.block, datanode = %self.nodes.get(idx).id, "orphan replica: scheduling deletion");
            self.nodes
                .get_mut(idx)
                .pending_deletes
                .push((r.block, r.generation_stamp));
            false
        }
    }
}
