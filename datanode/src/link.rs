//! The datanode's links to the namenodes, and the channel that announces replica changes to them.
//!
//! A datanode serves every member of the namenode group (as HDFS datanodes report to the active
//! and the standbys), so a new leader already knows where every block is. [`NamenodeLink`] is
//! one namenode as every part that talks to it shares it: the `DatanodeProtocol` client
//! (registration, heartbeats, block reports, recovery commits), a `ClientProtocol` client for
//! reporting corrupt replicas (the call readers make), this node's identity and address, the
//! store (for the storage report), the count of transfers in progress (its load), and the
//! [`Fencing`] all links share. [`ReplicaEvents`] is where the store's users (transfers,
//! recovery, deletes) announce each replica finalized or deleted, to every namenode's
//! incremental report loop (HDFS's `IncrementalBlockReportManager`).
//!
//! Fencing: commands are obeyed only from a namenode that says it leads, in a term no lower
//! than the highest this datanode has heard from any namenode, so a deposed leader that has
//! not noticed yet cannot order deletions.
//!
//! A leaf on purpose: transfers, recovery, the scanner and the report loops all depend on it,
//! and it on none of them, which is what keeps them from depending on one another.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdfs_proto::auth::ClusterSecret;
use hdfs_proto::pb::namenode::{
    self as pb, client_protocol_client::ClientProtocolClient, datanode_protocol_client::DatanodeProtocolClient,
};
use tokio::sync::{mpsc, oneshot};
use tonic::Status;
use tonic::transport::Channel;

use crate::store::{BlockStore, ReplicaInfo};

/// Deadline of every call to the namenode.
pub(crate) const RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// Who waits for a finalized replica to be reported: answered by the first namenode that
/// takes the report.
#[derive(Debug, Clone)]
pub(crate) struct Waiter(Arc<Mutex<Option<oneshot::Sender<()>>>>);

impl Waiter {
    pub(crate) fn answer(&self) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A finalized replica, and who waits for a namenode to have heard of it.
    Received(ReplicaInfo, Option<Waiter>),
    Deleted(ReplicaInfo),
}

/// Where the block store's users announce finalized and deleted replicas: to every namenode's
/// report loop (one subscribes as each namenode becomes known; its full report at registration
/// covers what happened before).
#[derive(Clone, Default)]
pub(crate) struct ReplicaEvents(Arc<Mutex<Vec<mpsc::UnboundedSender<Event>>>>);

impl ReplicaEvents {
    /// A receiver of every event from now on.
    pub(crate) fn subscribe(&self) -> ReplicaEventsRx {
        let (tx, rx) = mpsc::unbounded_channel();
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(tx);
        ReplicaEventsRx(rx)
    }

    fn send(&self, ev: Event) {
        let mut txs = self.0.lock().unwrap_or_else(|p| p.into_inner());
        txs.retain(|tx| tx.send(ev.clone()).is_ok());
    }

    pub(crate) fn received(&self, info: ReplicaInfo) {
        self.send(Event::Received(info, None));
    }

    /// Like `received`; the answer resolves once a namenode has the report.
    pub(crate) fn received_and_reported(&self, info: ReplicaInfo) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.send(Event::Received(info, Some(Waiter(Arc::new(Mutex::new(Some(tx)))))));
        rx
    }

    pub(crate) fn deleted(&self, info: ReplicaInfo) {
        self.send(Event::Deleted(info));
    }
}

/// The highest namenode term this datanode has heard, shared by its links.
#[derive(Debug, Default)]
pub(crate) struct Fencing {
    highest_term: AtomicU64,
}

impl Fencing {
    /// Whether a reply from a namenode in `term`, leading or not, may be obeyed; raises the
    /// highest term seen.
    pub(crate) fn admits(&self, term: u64, leader: bool) -> bool {
        let before = self.highest_term.fetch_max(term, Ordering::AcqRel);
        leader && term >= before
    }

    pub(crate) fn highest(&self) -> u64 {
        self.highest_term.load(Ordering::Acquire)
    }
}

/// The receiving end of [`ReplicaEvents`].
pub(crate) struct ReplicaEventsRx(mpsc::UnboundedReceiver<Event>);

impl ReplicaEventsRx {
    /// The next event; `None` once every sender is gone. Cancel-safe.
    pub(crate) async fn recv(&mut self) -> Option<Event> {
        self.0.recv().await
    }

    /// An event already waiting, if any.
    pub(crate) fn try_recv(&mut self) -> Option<Event> {
        self.0.try_recv().ok()
    }
}

/// A replica as the namenode names it.
pub(crate) fn extended(i: &ReplicaInfo) -> pb::ExtendedBlock {
    pb::ExtendedBlock { num_bytes: i.len, ..i.block.into() }
}

/// What every loop needs to talk to one namenode.
#[derive(Clone)]
pub(crate) struct NamenodeLink {
    /// The namenode's URL, for logs.
    pub(crate) url: String,
    pub(crate) fencing: Arc<Fencing>,
    /// Where the heartbeat loop passes on the group's members as a namenode lists them, so
    /// links to members added later are made.
    pub(crate) discovered: mpsc::UnboundedSender<Vec<String>>,
    pub(crate) client: DatanodeProtocolClient<Channel>,
    /// For reporting bad replicas (a `ClientProtocol` call, as readers make it).
    pub(crate) client_protocol: ClientProtocolClient<Channel>,
    pub(crate) datanode_id: String,
    pub(crate) address: String,
    /// host:port of this node's HTTP port, advertised at registration ("" if none).
    pub(crate) http_address: String,
    pub(crate) store: BlockStore,
    pub(crate) active: Arc<AtomicU32>,
    /// Presented on every call to the namenode and on block recovery calls to other datanodes.
    pub(crate) secret: ClusterSecret,
}

impl NamenodeLink {
    /// A link to the namenode at `url` that connects on first use (the heartbeat loop retries
    /// until it is up).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        url: &str,
        fencing: Arc<Fencing>,
        discovered: mpsc::UnboundedSender<Vec<String>>,
        datanode_id: String,
        (address, http_address): (String, String),
        store: BlockStore,
        active: Arc<AtomicU32>,
        secret: ClusterSecret,
    ) -> Result<Self, tonic::transport::Error> {
        let channel = hdfs_proto::grpc::endpoint(url)?.timeout(RPC_TIMEOUT).connect_lazy();
        Ok(Self {
            url: url.to_string(),
            fencing,
            discovered,
            client: DatanodeProtocolClient::new(channel.clone())
                .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
                .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE),
            client_protocol: ClientProtocolClient::new(channel),
            datanode_id,
            address,
            http_address,
            store,
            active,
            secret,
        })
    }

    pub(crate) fn storage(&self) -> pb::StorageReport {
        let used = self.store.used_bytes();
        let (capacity, remaining) = self.store.disk_space();
        pb::StorageReport { capacity, dfs_used: used, remaining, active_transfers: self.active.load(Ordering::Relaxed) }
    }

    /// A request with the namenode call deadline and this cluster's member credential.
    pub(crate) fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut r = self.secret.request(msg);
        r.set_timeout(RPC_TIMEOUT);
        r
    }

    /// Registers this datanode, then sends a full block report.
    pub(crate) async fn register(&mut self) -> Result<(), Status> {
        let datanode = pb::DatanodeInfo {
            datanode_id: self.datanode_id.clone(),
            address: self.address.clone(),
            http_address: self.http_address.clone(),
        };
        let req = pb::RegisterRequest { datanode: Some(datanode), storage: Some(self.storage()) };
        self.client.register(self.request(req)).await?;
        tracing::info!(datanode = %self.datanode_id, address = %self.address, namenode = %self.url, "registered with the namenode");
        self.full_report().await
    }

    /// Every replica this node holds, finalized and unfinished.
    pub(crate) async fn full_report(&mut self) -> Result<(), Status> {
        let (finalized, unfinished) =
            self.store.blocking(|s| s.list()).await.map_err(|e| Status::internal(e.to_string()))?;
        let n = finalized.len();
        let req = pb::BlockReportRequest {
            datanode_id: self.datanode_id.clone(),
            blocks: finalized.iter().map(extended).collect(),
            unfinished: unfinished.iter().map(extended).collect(),
        };
        self.client.block_report(self.request(req)).await?;
        tracing::debug!(replicas = n, unfinished = unfinished.len(), "full block report sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Fencing;

    #[test]
    fn commands_are_obeyed_only_from_a_leader_of_the_newest_term_seen() {
        let f = Fencing::default();
        assert!(f.admits(2, true), "the leader of term 2");
        assert!(!f.admits(3, false), "a follower's reply is never obeyed, but its term is seen");
        assert_eq!(f.highest(), 3);
        assert!(!f.admits(2, true), "a deposed leader of term 2, after term 3 was seen");
        assert!(f.admits(3, true), "the leader of term 3");
        assert!(f.admits(3, true), "again");
        assert!(f.admits(5, true), "a newer leader");
        assert!(!f.admits(3, true), "term 3 is stale now");
    }
}
