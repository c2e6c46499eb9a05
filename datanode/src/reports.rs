//! The datanode's side of its conversation with the namenode: registration, heartbeats (whose
//! replies carry commands), full block reports and incremental reports.
//!
//! Two named loops share one channel to the namenode:
//! - [`HeartbeatLoop`] registers (then sends a full block report), heartbeats every interval,
//!   runs the commands it is given, and sends a full report again every `block_report_interval`.
//!   A namenode that answers "unknown datanode" (it restarted) gets a new registration and a full
//!   report, as HDFS datanodes do.
//! - [`IncrementalReportLoop`] tells the namenode about each replica finalized or deleted as soon
//!   as it happens (batched with whatever else is pending), so a client's `complete` need not wait
//!   for the next heartbeat.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use hdfs_proto::pb::datanode as dpb;
use hdfs_proto::pb::namenode::{
    self as pb, datanode_command::Command, datanode_protocol_client::DatanodeProtocolClient,
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::store::{BlockStore, ReplicaInfo};

/// Deadline of every call to the namenode.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// Wait before resending an incremental report that failed.
const IBR_RETRY: Duration = Duration::from_millis(300);

#[derive(Debug)]
enum Event {
    /// A finalized replica, and who waits for the namenode to have heard of it.
    Received(ReplicaInfo, Option<oneshot::Sender<()>>),
    Deleted(ReplicaInfo),
}

/// Where the block store's users announce finalized and deleted replicas.
#[derive(Clone)]
pub struct ReplicaEvents(mpsc::UnboundedSender<Event>);

impl ReplicaEvents {
    pub fn channel() -> (Self, ReplicaEventsRx) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), ReplicaEventsRx(rx))
    }

    pub fn received(&self, info: ReplicaInfo) {
        let _ = self.0.send(Event::Received(info, None));
    }

    /// Like `received`; the answer resolves once the namenode has the report.
    pub fn received_and_reported(&self, info: ReplicaInfo) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let _ = self.0.send(Event::Received(info, Some(tx)));
        rx
    }

    pub fn deleted(&self, info: ReplicaInfo) {
        let _ = self.0.send(Event::Deleted(info));
    }
}

pub struct ReplicaEventsRx(mpsc::UnboundedReceiver<Event>);

fn ext(i: &ReplicaInfo) -> pb::ExtendedBlock {
    pb::ExtendedBlock { block_id: i.block, generation_stamp: i.generation_stamp, num_bytes: i.len }
}

/// What both loops need to talk to the namenode.
#[derive(Clone)]
pub struct NamenodeLink {
    pub client: DatanodeProtocolClient<Channel>,
    /// For reporting bad replicas (a `ClientProtocol` call, as readers make it).
    pub client_protocol: hdfs_proto::pb::namenode::client_protocol_client::ClientProtocolClient<Channel>,
    pub datanode_id: String,
    pub address: String,
    pub store: BlockStore,
    pub active: Arc<AtomicU32>,
}

impl NamenodeLink {
    fn storage(&self) -> pb::StorageReport {
        let used = self.store.used_bytes();
        let (capacity, remaining) = match rustix::fs::statvfs(self.store.dir()) {
            Ok(s) => (s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize),
            Err(_) => (0, 0),
        };
        pb::StorageReport { capacity, dfs_used: used, remaining, active_transfers: self.active.load(Ordering::Relaxed) }
    }

    pub(crate) fn request<T>(msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        r.set_timeout(RPC_TIMEOUT);
        r
    }

    async fn register(&mut self) -> Result<(), Status> {
        let datanode = pb::DatanodeInfo { datanode_id: self.datanode_id.clone(), address: self.address.clone() };
        let req = pb::RegisterRequest { datanode: Some(datanode), storage: Some(self.storage()) };
        self.client.register(Self::request(req)).await?;
        tracing::info!(datanode = %self.datanode_id, address = %self.address, "registered with the namenode");
        self.full_report().await
    }

    async fn full_report(&mut self) -> Result<(), Status> {
        let store = self.store.clone();
        let (finalized, unfinished) = tokio::task::spawn_blocking(move || store.list())
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| Status::internal(e.to_string()))?;
        let n = finalized.len();
        let req = pb::BlockReportRequest {
            datanode_id: self.datanode_id.clone(),
            blocks: finalized.iter().map(ext).collect(),
            unfinished: unfinished.iter().map(ext).collect(),
        };
        self.client.block_report(Self::request(req)).await?;
        tracing::debug!(replicas = n, unfinished = unfinished.len(), "full block report sent");
        Ok(())
    }
}

pub struct HeartbeatLoop {
    pub link: NamenodeLink,
    pub events: ReplicaEvents,
    /// Copies and recoveries run as tracked tasks, outside the loop.
    pub tracker: TaskTracker,
    /// Rung when a copy finishes: heartbeat at once, so the next command comes without waiting
    /// for the interval.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
    pub interval: Duration,
    pub block_report_interval: Duration,
}

impl HeartbeatLoop {
    pub async fn run(mut self, shutdown: CancellationToken) {
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
                match self.link.client.heartbeat(NamenodeLink::request(req)).await {
                    Ok(reply) => {
                        let reply = reply.into_inner();
                        // The namenode may ask for an early heartbeat while it has repair work.
                        next = match reply.next_heartbeat_ms {
                            0 => self.interval,
                            ms => self.interval.min(Duration::from_millis(u64::from(ms))),
                        };
                        for cmd in reply.commands {
                            self.execute(cmd).await;
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
                _ = self.wake.notified() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    async fn execute(&self, cmd: pb::DatanodeCommand) {
        match cmd.command {
            Some(Command::DeleteBlocks(d)) => {
                let store = self.link.store.clone();
                let events = self.events.clone();
                let blocks: Vec<(u64, u64)> = d.blocks.iter().map(|b| (b.block_id, b.generation_stamp)).collect();
                let r = tokio::task::spawn_blocking(move || {
                    for (b, generation_stamp) in blocks {
                        match store.delete(b, generation_stamp) {
                            Ok(Some(info)) => events.deleted(info),
                            Ok(None) => {}
                            Err(e) => {
                                tracing::warn!(block = b, error = %e, "could not delete replica")
                            }
                        }
                    }
                })
                .await;
                if let Err(e) = r {
                    tracing::error!(error = %e, "delete task failed");
                }
                tracing::debug!(count = d.blocks.len(), "replicas deleted as the namenode asked");
            }
            Some(Command::Replicate(r)) => {
                let Some(b) = r.block else { return };
                let block = dpb::BlockRef { block_id: b.block_id, generation_stamp: b.generation_stamp };
                let targets: Vec<String> = r.targets.into_iter().map(|t| t.address).collect();
                let (store, active, me) =
                    (self.link.store.clone(), self.link.active.clone(), self.link.address.clone());
                self.tracker.spawn(async move {
                    tracing::info!(block = block.block_id, ?targets, "copying a replica as the namenode asked");
                    match crate::transfer::copy_replica(store, block, targets, active, me).await {
                        Ok(len) => tracing::info!(block = block.block_id, len, "replica copied"),
                        Err(e) => tracing::warn!(block = block.block_id, error = %e.message(), "copy failed"),
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

pub struct IncrementalReportLoop {
    pub link: NamenodeLink,
    pub rx: ReplicaEventsRx,
}

impl IncrementalReportLoop {
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut batch = Batch::default();
        // An event that must wait for the next batch (see `Batch::push`).
        let mut held: Option<Event> = None;
        loop {
            if batch.is_empty() {
                let ev = match held.take() {
                    Some(ev) => ev,
                    None => {
                        let ev = tokio::select! {
                            ev = self.rx.0.recv() => ev,
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
                let Ok(ev) = self.rx.0.try_recv() else { break };
                held = batch.push(ev).err();
            }
            let req = pb::BlockReceivedAndDeletedRequest {
                datanode_id: self.link.datanode_id.clone(),
                received: batch.received.clone(),
                deleted: batch.deleted.clone(),
            };
            match self.link.client.block_received_and_deleted(NamenodeLink::request(req)).await {
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
                let _ = w.send(());
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
    waiters: Vec<oneshot::Sender<()>>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.received.is_empty() && self.deleted.is_empty()
    }

    /// Adds `ev`, or gives it back if it must go in a later batch.
    fn push(&mut self, ev: Event) -> Result<(), Event> {
        match ev {
            Event::Received(i, _) if self.deleted.iter().any(|d| d.block_id == i.block) => return Err(ev),
            Event::Received(i, waiter) => {
                self.received.push(ext(&i));
                self.waiters.extend(waiter);
            }
            Event::Deleted(i) => self.deleted.push(ext(&i)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_after_a_delete_of_the_same_block_waits_for_the_next_batch() {
        let info = |block| ReplicaInfo { block, generation_stamp: 1, len: 1 };
        let mut b = Batch::default();
        assert!(b.push(Event::Received(info(1), None)).is_ok());
        assert!(b.push(Event::Deleted(info(1))).is_ok(), "received then deleted is applied in order");
        assert!(b.push(Event::Deleted(info(2))).is_ok());
        assert!(b.push(Event::Received(info(2), None)).is_err(), "deleted then received must not share a batch");
        assert!(b.push(Event::Received(info(3), None)).is_ok());
        assert_eq!((b.received.len(), b.deleted.len()), (2, 2));
    }
}
