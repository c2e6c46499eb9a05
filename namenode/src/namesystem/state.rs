//! The state behind the namesystem's lock: the replicated part (namespace, retry cache, what
//! was applied last) and what each member derives from it and from the datanodes (block map,
//! leases, recoveries), with its loading from the fsimage and the small operations every
//! activity shares.

use std::collections::HashMap;
use std::time::Instant;

use hdfs_proto::BlockId;
use hdfs_proto::path::HdfsPath;
use serde::{Deserialize, Serialize};

use super::retry::RetryCache;
use crate::blocks::BlockManager;
use crate::config::Config;
use crate::editlog::read_image;
use crate::error::{Error, Result};
use crate::leases::Leases;
use crate::metrics::LockMetrics;
use crate::namespace::{File, InodeId, LegacyNamespace, Namespace, RemovedFile};
use crate::raft::{LogId, StoredMembership};

pub(crate) struct State {
    pub(super) ns: Namespace,
    pub(super) bm: BlockManager,
    pub(super) leases: Leases,
    /// Files whose writer's lease expired, with when their block recovery was last asked for.
    pub(super) recovering: HashMap<InodeId, Instant>,
    pub(super) retry: RetryCache,
    /// The last entry applied, and the membership as of it.
    pub(super) applied: Option<LogId>,
    pub(super) membership: StoredMembership,
    /// Ops applied since the last fsimage (an entry without ops counts as one).
    pub(super) since_snapshot: u64,
    /// Block ids handed out by this member as leader, ahead of what is applied (proposals in
    /// flight): the next one is the larger of this and the namespace's.
    pub(super) next_block: BlockId,
}

/// The fsimage's body: the replicated state.
#[derive(Serialize, Deserialize)]
pub(super) struct Image {
    pub(super) namespace: Namespace,
    pub(super) retry: RetryCache,
}

/// A body from before owners and modes (image version 1).
#[derive(Deserialize)]
struct LegacyImage {
    namespace: LegacyNamespace,
    retry: RetryCache,
}

#[derive(Serialize)]
struct ImageRef<'a> {
    namespace: &'a Namespace,
    pub(super) retry: &'a RetryCache,
}

/// The first 8 bytes of a version 2 body. A version 1 body starts with its inode count, which
/// is never this large.
const IMAGE_V2: u64 = u64::MAX - 2;

impl State {
    /// The fsimage's body: the replicated state, encoded (version 2).
    pub(super) fn encode_image(&self) -> std::result::Result<Vec<u8>, bincode::Error> {
        bincode::serialize(&(IMAGE_V2, ImageRef { namespace: &self.ns, retry: &self.retry }))
    }
}

/// Decodes an fsimage body of either version.
pub(super) fn decode_image(bytes: &[u8]) -> std::result::Result<Image, bincode::Error> {
    let image = match bytes.strip_prefix(&IMAGE_V2.to_le_bytes()) {
        Some(body) => bincode::deserialize(body)?,
        None => {
            let old: LegacyImage = bincode::deserialize(bytes)?;
            tracing::info!("upgrading an fsimage from before owners and modes: entries become the superuser's");
            Image { namespace: old.namespace.into(), retry: old.retry }
        }
    };
    // The image has no checksum: a damaged one must not reach the tree's lookups.
    image.namespace.check().map_err(|e| bincode::ErrorKind::Custom(format!("inconsistent namespace: {e}")))?;
    Ok(image)
}

impl State {
    /// The state as of the fsimage in `config.data_dir` (empty without one); openraft replays
    /// the log over it.
    pub(super) fn load(config: &Config) -> Result<State> {
        let (ns, retry, applied, membership) = match read_image(&config.data_dir)? {
            Some((meta, bytes)) => {
                let image = decode_image(&bytes).map_err(|e| {
                    Error::storage_refused(format!("decode {}/fsimage: {e}", config.data_dir.display()))
                })?;
                (image.namespace, image.retry, meta.last_log_id, meta.last_membership)
            }
            None => (Namespace::default(), Default::default(), None, StoredMembership::default()),
        };
        let (bm, leases) = derived_state(&ns, config);
        Ok(State {
            ns,
            bm,
            leases,
            recovering: HashMap::new(),
            retry,
            applied,
            membership,
            since_snapshot: 0,
            next_block: BlockId(0),
        })
    }

    /// Drops removed files' blocks and their writers' leases.
    pub(super) fn forget_removed(&mut self, removed: Vec<RemovedFile>) {
        for file in removed {
            self.bm.remove_blocks(&file.blocks);
            if let Some(writer) = file.writer {
                self.leases.remove(&writer, file.id);
            }
            self.recovering.remove(&file.id);
        }
    }

    /// Asks the block manager to check every block of a file.
    pub(super) fn check_file(&mut self, file: InodeId) {
        if let Some(f) = self.ns.inode(file).and_then(|i| i.as_file()) {
            self.bm.check(f.blocks.iter().map(|b| b.id));
        }
    }

    /// A block id no proposal in flight has taken.
    pub(super) fn allocate_block_id(&mut self) -> BlockId {
        let id = self.next_block.max(self.ns.next_block_id());
        self.next_block = id.next();
        id
    }

    pub(super) fn writable_file(&self, path: &HdfsPath, client: &str) -> Result<(InodeId, &File)> {
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

    /// Replaces the replicated state with a snapshot's. The block map starts over: datanodes
    /// are told to register again at their next heartbeat and report every replica.
    pub(super) fn install(&mut self, image: Image, last: Option<LogId>, membership: StoredMembership, config: &Config) {
        let (mut bm, leases) = derived_state(&image.namespace, config);
        bm.inherit(&mut self.bm);
        self.ns = image.namespace;
        self.retry = image.retry;
        self.bm = bm;
        self.leases = leases;
        self.recovering.clear();
        self.applied = last;
        self.membership = membership;
        self.since_snapshot = 0;
    }
}

/// The block map's files and the leases, as a namespace implies them (at start-up and after a
/// snapshot is installed); replicas come from the datanodes' reports.
pub(super) fn derived_state(ns: &Namespace, config: &Config) -> (BlockManager, Leases) {
    let mut bm = BlockManager::new(config);
    let mut leases = Leases::default();
    let now = Instant::now();
    for (id, file) in ns.files() {
        for b in &file.blocks {
            bm.add_block(b, id);
        }
    }
    for (id, writer) in ns.open_files() {
        leases.add(writer, id, now);
    }
    (bm, leases)
}

/// The namesystem's state, locked: released when dropped, and how long it was held recorded
/// (`hdfs_namenode_namesystem_lock_hold_seconds`, and the longest hold on the status page's
/// metrics): every heartbeat and call waits behind whoever holds it.
pub(crate) struct Locked<'a> {
    guard: std::sync::MutexGuard<'a, State>,
    since: Instant,
    metrics: &'a LockMetrics,
}

impl<'a> Locked<'a> {
    pub(crate) fn new(state: &'a std::sync::Mutex<State>, metrics: &'a LockMetrics) -> Self {
        // A panic while holding the lock would be a bug; the state is still the best we have.
        let guard = state.lock().unwrap_or_else(|p| p.into_inner());
        Locked { guard, since: Instant::now(), metrics }
    }
}

impl std::ops::Deref for Locked<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.metrics.held(self.since.elapsed());
    }
}
