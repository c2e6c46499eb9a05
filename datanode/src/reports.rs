//! The datanode's side of its conversation with the namenode: registration, heartbeats (whose
//! replies carry commands), full block reports and incremental reports.
//!
//! Each namenode of the group gets its own pair of loops, sharing one channel to it:
//! - [`HeartbeatLoop`] registers (then sends a full block report), heartbeats every interval,
//!   runs the commands it is given, and sends a full report again every `block_report_interval`.
//!   A namenode that answers "unknown datanode" (it restarted) gets a new registration and a full
//!   report, as HDFS datanodes do.
//! - [`IncrementalReportLoop`] tells the namenode about each replica finalized or deleted as soon
//!   as it happens (batched with whatever else is pending), so a client's `complete` need not wait
//!   for the next heartbeat.
//!
//! The link they share (clients, identity, replica events) is [`crate::link`]; the commands a
//! heartbeat reply carries run here, each handed to the part that does the work: deletes to the
//! store, copies to `transfer::copy_replica`, block recovery to `recovery`.

use std::time::{Duration, Instant};

use hdfs_proto::pb::namenode::{self as pb, datanode_command::Command};
use hdfs_proto::{BlockId, BlockRef, GenStamp};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::Code;

use crate::link::{Event, NamenodeLink, ReplicaEvents, ReplicaEventsRx, Waiter, extended};

/// Wait before resending an incremental report that failed.
const IBR_RETRY: Duration = Duration::from_millis(300);

pub(crate) struct HeartbeatLoop {
    pub(crate) link: NamenodeLink,
    pub(crate) events: ReplicaEvents,
    /// Copies and recoveries run as tracked tasks, outside the loop.
    pub(crate) tracker: TaskTracker,
    pub(crate) interval: Duration,
    pub(crate) block_report_interval: Duration,
}

impl HeartbeatLoop {
    pub(crate) async fn run(mut self, shutdown: CancellationToken) {
        let mut registered = false;
        let mut last_report = Instant::now();
        loop {
            let mut next = self.interval;
            if !registered {
                match self.link.register().await {
                    Ok(()) => {
                        registered = true;
                        last_report = Instant::now();
                    }
                    Err(e) => tracing::warn!(error = %e.message(), "registration failed; retrying"),
                }
            } else {
                let req = pb::HeartbeatRequest {
                    datanode_id: self.link.datanode_id.clone(),
                    storage: Some(self.link.storage()),
                };
                match self.link.client.heartbeat(self.link.request(req)).await {
                    Ok(reply) => {
                        let reply = reply.into_inner();
                        // The namenode may ask for an early heartbeat while it has repair work.
                        next = match reply.next_heartbeat_ms {
                            0 => self.interval,
                            ms => self.interval.min(Duration::from_millis(u64::from(ms))),
                        };
                        if !reply.namenodes.is_empty() {
                            let _ = self.link.discovered.send(reply.namenodes);
                        }
                        if self.link.fencing.admits(reply.term, reply.leader) {
                            for cmd in reply.commands {
                                self.execute(cmd).await;
                            }
                        } else if !reply.commands.is_empty() {
                            tracing::warn!(
                                namenode = %self.link.url,
                                term = reply.term,
                                highest = self.link.fencing.highest(),
                                "refusing commands from a namenode that does not lead in the highest term seen"
                            );
                        }
                    }
                    Err(e) if e.code() == Code::NotFound => {
                        tracing::info!("namenode does not know this datanode (restarted?); registering again");
                        registered = false;
                        continue;
                    }
                    Err(e) => tracing::warn!(error = %e.message(), "heartbeat failed"),
                }
                if last_report.elapsed() >= self.block_report_interval {
                    match self.link.full_report().await {
                        Ok(()) => last_report = Instant::now(),
                        Err(e) => tracing::warn!(error = %e.message(), "block report failed"),
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    async fn execute(&self, cmd: pb::DatanodeCommand) {
        match cmd.command {
            Some(Command::DeleteBlocks(d)) => {
                let events = self.events.clone();
                let blocks: Vec<(BlockId, GenStamp)> =
                    d.blocks.iter().map(|b| (BlockId(b.block_id), GenStamp(b.generation_stamp))).collect();
                let r = self
                    .link
                    .store
                    .blocking(move |store| {
                        for (b, up_to) in blocks {
                            match store.delete(b, up_to) {
                                Ok(Some(info)) => events.deleted(info),
                                Ok(None) => {}
                                Err(e) => {
                                    tracing::warn!(block = %b, error = %e, "could not delete replica")
                                }
                            }
                        }
                        Ok(())
                    })
                    .await;
                if let Err(e) = r {
                    tracing::error!(error = %e, "delete task failed");
                }
                tracing::debug!(count = d.blocks.len(), "replicas deleted as the namenode asked");
            }
            Some(Command::Replicate(r)) => {
                let Some(b) = r.block else { return };
                let block = BlockRef::new(b.block_id, b.generation_stamp);
                let targets: Vec<String> = r.targets.into_iter().map(|t| t.address).collect();
                let (store, active, me) =
                    (self.link.store.clone(), self.link.active.clone(), self.link.address.clone());
                self.tracker.spawn(async move {
                    tracing::info!(block = %block.id, ?targets, "copying a replica as the namenode asked");
                    match crate::transfer::copy_replica(store, block, targets, r.token, active, me).await {
                        Ok(len) => tracing::info!(block = %block.id, len, "replica copied"),
                        Err(e) => tracing::warn!(block = %block.id, error = %e.message(), "copy failed"),
                    }
                });
            }
            Some(Command::RecoverBlock(r)) => {
                let link = self.link.clone();
                let events = self.events.clone();
                self.tracker.spawn(async move {
                    let id = r.block.map_or(0, |b| b.block_id);
                    if let Err(e) = crate::recovery::recover_block(link, events, r).await {
                        tracing::warn!(block = id, error = %e.message(), "block recovery failed; the namenode will retry");
                    }
                });
            }
            None => tracing::warn!("empty command from the namenode"),
        }
    }
}

pub(crate) struct IncrementalReportLoop {
    pub(crate) link: NamenodeLink,
    pub(crate) rx: ReplicaEventsRx,
}

impl IncrementalReportLoop {
    pub(crate) async fn run(mut self, shutdown: CancellationToken) {
        let mut batch = Batch::default();
        // An event that must wait for the next batch (see `Batch::push`).
        let mut held: Option<Event> = None;
        loop {
            if batch.is_empty() {
                let ev = match held.take() {
                    Some(ev) => ev,
                    None => {
                        let ev = tokio::select! {
                            ev = self.rx.recv() => ev,
                            _ = shutdown.cancelled() => return,
                        };
                        let Some(ev) = ev else { return };
                        ev
                    }
                };
                // An empty batch takes any event.
                let _ = batch.push(ev);
            }
            while held.is_none() {
                let Some(ev) = self.rx.try_recv() else { break };
                held = batch.push(ev).err();
            }
            let req = pb::BlockReceivedAndDeletedRequest {
                datanode_id: self.link.datanode_id.clone(),
                received: batch.received.clone(),
                deleted: batch.deleted.clone(),
            };
            match self.link.client.block_received_and_deleted(self.link.request(req)).await {
                Ok(_) => {}
                // Not registered (yet, or any more): the full report after registration covers these.
                Err(e) if e.code() == Code::NotFound => {}
                Err(e) => {
                    tracing::warn!(error = %e.message(), "incremental block report failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(IBR_RETRY) => continue,
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
            for w in std::mem::take(&mut batch).waiters {
                w.answer();
            }
        }
    }
}

/// One incremental report. The namenode applies its received replicas before its deleted ones,
/// so a replica deleted and then received again (trimmed, later copied back) must not share a
/// batch: that receipt waits for the next one.
#[derive(Default)]
struct Batch {
    received: Vec<pb::ExtendedBlock>,
    deleted: Vec<pb::ExtendedBlock>,
    waiters: Vec<Waiter>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.received.is_empty() && self.deleted.is_empty()
    }

    /// Adds `ev`, or gives it back if it must go in a later batch.
    fn push(&mut self, ev: Event) -> Result<(), Event> {
        match ev {
            Event::Received(i, _) if self.deleted.iter().any(|d| d.block_id == i.block.id.0) => return Err(ev),
            Event::Received(i, waiter) => {
                self.received.push(extended(&i));
                self.waiters.extend(waiter);
            }
            Event::Deleted(i) => self.deleted.push(extended(&i)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ReplicaInfo;

    #[test]
    fn a_receipt_after_a_delete_of_the_same_block_waits_for_the_next_batch() {
        let info = |block| ReplicaInfo { block: BlockRef::new(block, 1), len: 1 };
        let mut b = Batch::default();
        assert!(b.push(Event::Received(info(1), None)).is_ok());
        assert!(b.push(Event::Deleted(info(1))).is_ok(), "received then deleted is applied in order");
        assert!(b.push(Event::Deleted(info(2))).is_ok());
        assert!(b.push(Event::Received(info(2), None)).is_err(), "deleted then received must not share a batch");
        assert!(b.push(Event::Received(info(3), None)).is_ok());
        assert_eq!((b.received.len(), b.deleted.len()), (2, 2));
    }
}
