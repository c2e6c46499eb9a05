//! The namesystem: namespace, edit log, block map, datanodes and leases behind one lock.
//!
//! Like HDFS's FSNamesystem, one lock covers the whole state, so every operation sees and
//! leaves it consistent. A mutation validates and applies its [`Op`] and appends it to the log
//! under the lock, then waits for the log to be durable *outside* it, so concurrent writers
//! share fsyncs (group commit) instead of queueing behind each other's. Until that wait ends the
//! caller gets no answer, so nothing unacknowledged is promised; another client may see the
//! change a moment before it is durable, as in HDFS.
//!
//! By activity: [`client`](self::client) (HDFS's `ClientProtocol`), [`datanode`](self::datanode)
//! (`DatanodeProtocol`), [`admin`](self::admin) (safe mode, decommission, fsck) and
//! [`monitor`](self::monitor) (the replication monitor loop and its [`Namesystem::tick`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

mod admin;
mod client;
mod datanode;
mod monitor;

pub use admin::SafeModeAction;
pub use client::{CreateOptions, FileInfo, LocatedBlock};
pub(crate) use monitor::ReplicationMonitor;

use crate::blocks::BlockManager;
use crate::config::Config;
use crate::editlog::{EditLog, LogSync};
use crate::error::{Error, Result};
use crate::leases::Leases;
use hdfs_proto::path::HdfsPath;

use crate::namespace::{Effects, File, InodeId, Namespace, Op};

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
            return Err(Error::storage_refused("edit log failed earlier; restart the namenode"));
        }
        let r = {
            let mut st = self.lock();
            if st.bm.safe_mode.is_on() {
                return Err(Error::SafeMode(st.bm.safe_mode_tip(&st.ns).unwrap_or_default()));
            }
            let (op, carried) = build(&mut st)?;
            let fx = st.ns.apply(&op)?;
            let index = match st.log.append(&op) {
                Ok(index) => index,
                Err(e) => {
                    self.log_failed.store(true, Ordering::Release);
                    tracing::error!(error = %e.detail(), "edit log append failed; refusing further mutations");
                    return Err(e);
                }
            };
            st.bm.begin_op(index);
            let r = after(&mut st, fx, carried);
            if st.log.needs_checkpoint(self.config.checkpoint_every, st.ns.inode_count()) {
                let State { log, ns, .. } = &mut *st;
                if let Err(e) = log.checkpoint(ns) {
                    tracing::warn!(error = %e.detail(), "checkpoint failed; the log keeps growing");
                }
            }
            (r, index)
        };
        let (r, index) = r;
        if let Err(e) = self.sync.wait(index).await {
            // The op is applied in memory but maybe not on disk: stop taking more.
            self.log_failed.store(true, Ordering::Release);
            tracing::error!(error = %e.detail(), "edit log sync failed; refusing further mutations");
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
}

/// `hdfs safemode get|enter|leave`.
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

    fn writable_file(&self, path: &HdfsPath, client: &str) -> Result<(InodeId, &File)> {
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
