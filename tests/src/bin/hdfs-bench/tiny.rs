//! The meta phase's tiny datanodes (NNThroughputBenchmark's `TinyDatanode`): datanodes in this
//! process that store no bytes, so the namenode can be loaded with real, reported blocks while
//! the benchmark's machine does nothing but the namenode's work.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use hdfs_proto::auth::MemberChannel;
use hdfs_proto::pb::namenode::{self as pb, datanode_protocol_client::DatanodeProtocolClient};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

const TINY_DATANODES: usize = 3;
/// How often the tiny datanodes heartbeat (and retry registering while the namenode is away).
const TINY_HEARTBEAT: Duration = Duration::from_millis(200);

/// A datanode with no disk: it registers, heartbeats, reports the blocks it is told it received
/// (batched, as a datanode's incremental reports are) and sends a full report of them whenever it
/// (re-)registers. Commands in heartbeat replies are ignored. Given a namenode group's URLs, it
/// does all of this with every member, as a real datanode does.
#[derive(Clone)]
pub struct TinyDatanode {
    pub id: String,
    /// Every block reported so far (for the full report at each (re-)registration).
    held: Arc<Mutex<Vec<pb::ExtendedBlock>>>,
    /// One incremental-report queue per namenode.
    received: Vec<mpsc::UnboundedSender<(pb::ExtendedBlock, oneshot::Sender<()>)>>,
}

impl TinyDatanode {
    /// Three tiny datanodes, each registered with every namenode of `urls`.
    pub async fn start_all(urls: &[String], stop: &CancellationToken) -> anyhow::Result<Arc<Vec<TinyDatanode>>> {
        let mut all = Vec::new();
        for n in 0..TINY_DATANODES {
            // A distinct, unused port for each, so the namenode sees distinct nodes.
            let info = pb::DatanodeInfo {
                datanode_id: format!("tiny-{n}"),
                address: format!("127.0.0.1:{}", 9 + n),
                http_address: String::new(),
            };
            let held = Arc::new(Mutex::new(Vec::new()));
            let mut received = Vec::new();
            for url in urls {
                let channel = hdfs_proto::grpc::endpoint(url)?.connect().await.context("connect to the namenode")?;
                let nn = DatanodeProtocolClient::new(crate::cluster::secret().member_channel(channel))
                    .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
                    .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE);
                let (tx, rx) = mpsc::unbounded_channel();
                register(&mut nn.clone(), &info, &held).await.context("register a tiny datanode")?;
                tokio::spawn(report_received(nn.clone(), info.datanode_id.clone(), rx));
                tokio::spawn(heartbeat(nn, info.clone(), held.clone(), stop.clone()));
                received.push(tx);
            }
            all.push(TinyDatanode { id: info.datanode_id, held, received });
        }
        Ok(Arc::new(all))
    }

    /// Reports `block` as received to every namenode; resolves once all of them have taken the
    /// report.
    pub fn received(&self, block: pb::ExtendedBlock) -> impl std::future::Future<Output = anyhow::Result<()>> + use<> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).push(block);
        let acks: Vec<_> = self
            .received
            .iter()
            .map(|tx| {
                let (ack, rx) = oneshot::channel();
                let _ = tx.send((block, ack));
                rx
            })
            .collect();
        async move {
            for ack in acks {
                ack.await.context("a tiny datanode could not report a block")?;
            }
            Ok(())
        }
    }
}

fn storage() -> pb::StorageReport {
    pb::StorageReport { capacity: 1 << 50, dfs_used: 0, remaining: 1 << 50, active_transfers: 0 }
}

async fn register(
    nn: &mut DatanodeProtocolClient<MemberChannel>,
    info: &pb::DatanodeInfo,
    held: &Mutex<Vec<pb::ExtendedBlock>>,
) -> anyhow::Result<()> {
    nn.register(pb::RegisterRequest { datanode: Some(info.clone()), storage: Some(storage()) }).await?;
    let blocks = held.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let req = pb::BlockReportRequest { datanode_id: info.datanode_id.clone(), blocks, unfinished: Vec::new() };
    nn.block_report(req).await?;
    Ok(())
}

async fn heartbeat(
    mut nn: DatanodeProtocolClient<MemberChannel>,
    info: pb::DatanodeInfo,
    held: Arc<Mutex<Vec<pb::ExtendedBlock>>>,
    stop: CancellationToken,
) {
    let mut registered = true;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(TINY_HEARTBEAT) => {}
        }
        if registered {
            let req = pb::HeartbeatRequest { datanode_id: info.datanode_id.clone(), storage: Some(storage()) };
            if let Err(status) = nn.heartbeat(req).await {
                // NotFound: a restarted namenode that does not know us yet.
                registered = status.code() != tonic::Code::NotFound;
            }
        } else {
            registered = register(&mut nn, &info, &held).await.is_ok();
        }
    }
}

/// Sends what arrived since the last report in one incremental report, then tells the waiters.
async fn report_received(
    mut nn: DatanodeProtocolClient<MemberChannel>,
    datanode_id: String,
    mut rx: mpsc::UnboundedReceiver<(pb::ExtendedBlock, oneshot::Sender<()>)>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(next) = rx.try_recv() {
            batch.push(next);
        }
        let received: Vec<_> = batch.iter().map(|(b, _)| *b).collect();
        let req =
            pb::BlockReceivedAndDeletedRequest { datanode_id: datanode_id.clone(), received, deleted: Vec::new() };
        if let Err(e) = nn.block_received_and_deleted(req).await {
            // The waiters see their sender dropped and fail with the file they were writing.
            eprintln!("hdfs-bench: tiny datanode {datanode_id}: incremental report failed: {e}");
            continue;
        }
        for (_, tx) in batch {
            let _ = tx.send(());
        }
    }
}
