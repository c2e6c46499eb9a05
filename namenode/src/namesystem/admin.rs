//! Administration and health: safe mode, decommissioning, fsck and what tests observe.

use hdfs_proto::path::HdfsPath;

use super::{Caller, Namesystem};
use crate::blocks::{BlockSummary, RepairStatus, ScheduledCopy, status_line};
use crate::datanodes::Location;
use crate::error::Result;
use crate::events::{Event, EventKind};
use crate::fsck::{self, FsckReport};

/// What `hdfs safemode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafeModeAction {
    Get,
    Enter,
    Leave,
}

/// The namespace and the cluster at a glance: what the status page's overview and the metrics
/// show. Counting files walks the inode table (no path building, no block lookups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub files: u64,
    pub directories: u64,
    #[serde(flatten)]
    pub blocks: BlockSummary,
}

impl Namesystem {
    pub fn summary(&self) -> Summary {
        let st = self.lock();
        let files = st.ns.files().count() as u64;
        let directories = st.ns.inode_count() as u64 - files;
        Summary { files, directories, blocks: st.bm.summary() }
    }

    /// The current repair (on the leader; another member schedules none): copies made,
    /// blocks left, the recent rate and the estimated end.
    pub fn repair_status(&self) -> RepairStatus {
        self.lock().bm.repair_status(std::time::Instant::now())
    }

    /// Why safe mode is on and what ends it; `None` when it is off.
    pub fn safe_mode_tip(&self) -> Option<String> {
        let st = self.lock();
        if !st.bm.safe_mode.is_on() {
            return None;
        }
        st.bm.safe_mode_tip(&st.ns)
    }

    /// Up to `limit` of the latest events (datanodes, repairs, safe mode, leadership), newest
    /// first.
    pub fn events(&self, limit: usize) -> Vec<Event> {
        self.lock().bm.events.recent(limit)
    }

    /// Applies a safe-mode action; returns whether safe mode is on and a description.
    pub fn safe_mode(&self, action: SafeModeAction, caller: &Caller) -> Result<(bool, String)> {
        self.leader_only()?;
        if action != SafeModeAction::Get {
            self.perms.check_superuser(caller)?;
        }
        let mut st = self.lock();
        match action {
            SafeModeAction::Get => {}
            SafeModeAction::Enter => {
                st.bm.safe_mode.enter();
                tracing::info!("safe mode entered by an operator");
                let message = format!("safe mode entered by {}", caller.user);
                st.bm.events.record(Event::new(EventKind::SafeModeEntered, message));
            }
            SafeModeAction::Leave => {
                st.bm.safe_mode.leave();
                let ids = st.bm.blocks.ids();
                st.bm.check(ids);
                let (reported, total) = st.bm.reported_blocks(&st.ns);
                tracing::info!(reported, total, "safe mode left by an operator");
                let message = format!("safe mode left by {}: {reported} of {total} blocks reported", caller.user);
                st.bm.events.record(Event::new(EventKind::SafeModeLeft, message));
                if reported < total {
                    // Left knowingly: say what is still missing (HDFS's `-safemode forceExit`
                    // warns the same way).
                    let missing = total - reported;
                    return Ok((
                        false,
                        format!(
                            "Safe mode is OFF. {missing} of {total} blocks have no reported replica: the files \
                             holding them cannot be read until a datanode with a replica returns \
                             (`hdfs fsck / --list-corruptfileblocks` names them)."
                        ),
                    ));
                }
            }
        }
        let tip = st.bm.safe_mode_tip(&st.ns);
        Ok((tip.is_some(), status_line(tip.as_deref())))
    }

    /// Starts or stops draining a datanode named by id or address.
    pub fn decommission(&self, name: &str, decommission: bool, caller: &Caller) -> Result<Location> {
        self.leader_only()?;
        self.perms.check_superuser(caller)?;
        self.lock().bm.set_decommission(name, decommission)
    }

    /// Health of every file under `path`, walked [`fsck::STEP`] entries at a time with the
    /// lock let go in between, so heartbeats and calls go on during a long fsck.
    pub async fn fsck(&self, path: &HdfsPath, with_files: bool) -> Result<FsckReport> {
        self.read_barrier().await?;
        let mut walk = fsck::Walk::new(&self.lock().ns, path, with_files)?;
        loop {
            let done = {
                let st = self.lock();
                walk.step(&st.ns, &st.bm, fsck::STEP)?
            };
            match done {
                Some(report) => return Ok(report),
                None => tokio::task::yield_now().await,
            }
        }
    }

    /// Copies the monitor has scheduled, in order (for tests and diagnostics).
    pub fn scheduled_copies(&self) -> Vec<ScheduledCopy> {
        self.lock().bm.history().to_vec()
    }
}
