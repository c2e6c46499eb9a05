//! What the benchmark asks the cluster over gRPC, below the `hdfs` command: how many datanodes
//! are live, where a file's blocks are, whether one given datanode serves a read, and the
//! namenode's datanode report and fsck (the calls behind `hdfs report` and `hdfs fsck`).
//!
//! A `get` cannot show that one particular node serves: it reads from whichever replica the
//! namenode ranks first. The report and fsck are asked here rather than through `hdfs`, because
//! they are polled every 100 ms while a repair is timed, and a new `hdfs` process (a new
//! connection) per poll would cost more than the poll interval's resolution.
//!
//! The probe must not add delays of its own to what it times. The namenode's channel is kept
//! (it never restarts here), because the first call on a new connection sometimes stalls for
//! about 40 ms (see docs/BENCHMARKS.md). A datanode is connected afresh on each read, since it
//! restarts; a read takes what it asked for and does not wait for the end of the stream, as the
//! client library does not.

use anyhow::{Context, bail};
use hdfs_proto::checksum;
use hdfs_proto::pb::datanode::{self as dpb, data_transfer_client::DataTransferClient};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::user::{NamenodeClient, current_user, namenode_client};
use tokio::runtime::Runtime;
use tonic::transport::Channel;

pub struct Probe {
    rt: Runtime,
    namenode: NamenodeClient,
}

impl Probe {
    pub fn new(namenode_url: &str) -> anyhow::Result<Self> {
        // A worker thread, not a current-thread runtime: connections must keep being driven
        // between calls, or a dropped one stays open unanswered (a datanode shutting down
        // gracefully waits for its clients to acknowledge, and would wait for ever).
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("start a tokio runtime")?;
        let endpoint =
            hdfs_proto::grpc::endpoint(namenode_url).with_context(|| format!("namenode URL {namenode_url:?}"))?;
        // Lazy: the namenode may not listen yet; the channel connects (again) when called.
        let channel = rt.block_on(async { endpoint.connect_lazy() });
        let namenode = namenode_client(channel, &current_user());
        Ok(Self { rt, namenode })
    }

    /// Datanodes the namenode counts as live.
    pub fn live_datanodes(&self) -> anyhow::Result<usize> {
        let mut nn = self.namenode.clone();
        self.rt.block_on(async {
            let reply = nn.get_datanode_report(pb::GetDatanodeReportRequest {}).await?.into_inner();
            Ok(reply.datanodes.iter().filter(|d| d.state == pb::DatanodeState::Live as i32).count())
        })
    }

    /// The namenode's view of every datanode (`hdfs report`).
    pub fn datanode_report(&self) -> anyhow::Result<Vec<pb::DatanodeReport>> {
        let mut nn = self.namenode.clone();
        self.rt.block_on(async {
            let reply = nn.get_datanode_report(pb::GetDatanodeReportRequest {}).await.context("datanode report")?;
            Ok(reply.into_inner().datanodes)
        })
    }

    /// `hdfs fsck PATH` (with `--files --blocks --locations` when `files`).
    pub fn fsck(&self, path: &str, files: bool) -> anyhow::Result<pb::FsckResponse> {
        let mut nn = self.namenode.clone();
        self.rt.block_on(async {
            let req = pb::FsckRequest { path: path.to_string(), include_files: files };
            Ok(nn.fsck(req).await.with_context(|| format!("fsck {path}"))?.into_inner())
        })
    }

    /// The blocks of `path` with the replicas the namenode would hand a reader.
    pub fn blocks(&self, path: &str) -> anyhow::Result<Vec<pb::LocatedBlock>> {
        let mut nn = self.namenode.clone();
        self.rt.block_on(async {
            let req = pb::GetBlockLocationsRequest { path: path.to_string(), offset: 0, length: 0 };
            let reply = nn.get_block_locations(req).await.with_context(|| format!("locate the blocks of {path}"))?;
            Ok(reply.into_inner().blocks)
        })
    }

    /// Reads the first `len` bytes of each block from the datanode at `addr` and verifies their
    /// checksums. Ok only if every block was served in full and intact.
    pub fn read_from(&self, addr: &str, blocks: &[pb::LocatedBlock], len: u64) -> anyhow::Result<()> {
        self.rt.block_on(async {
            let channel = hdfs_proto::grpc::endpoint(addr)?
                .connect()
                .await
                .with_context(|| format!("connect to datanode {addr}"))?;
            let mut dn = DataTransferClient::new(channel).max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE);
            for located in blocks {
                let b = located.block.context("a located block without its block")?;
                read_block_head(&mut dn, &b, located.token.clone(), len.min(b.num_bytes))
                    .await
                    .with_context(|| format!("read block {} from {addr}", b.block_id))?;
            }
            Ok(())
        })
    }
}

async fn read_block_head(
    dn: &mut DataTransferClient<Channel>,
    b: &pb::ExtendedBlock,
    token: Option<dpb::BlockToken>,
    len: u64,
) -> anyhow::Result<()> {
    let req = dpb::ReadBlockRequest {
        block: Some(dpb::BlockRef { block_id: b.block_id, generation_stamp: b.generation_stamp }),
        offset: 0,
        length: len,
        token,
    };
    let mut stream = dn.read_block(req).await?.into_inner();
    let mut got = 0;
    while got < len {
        let Some(msg) = stream.message().await? else {
            bail!("stream ended after {got} of {len} bytes");
        };
        if msg.bytes_per_checksum == 0 {
            bail!("message at offset {} has no checksum chunk size", msg.offset);
        }
        checksum::verify(&msg.data, msg.bytes_per_checksum as usize, &msg.checksums)?;
        got = got.max(msg.offset + msg.data.len() as u64);
    }
    Ok(())
}
