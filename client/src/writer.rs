//! [`FileWriter`]: an `AsyncWrite` that streams a file into the cluster block by block.
//!
//! The writer cuts what it is given into packets of [`PACKET_SIZE`] bytes, aligned to block
//! boundaries so that a packet never spans two blocks and every packet but a block's last holds
//! whole checksum chunks. Packets go through a small bounded channel to a background task, which
//! asks the namenode for each block and its pipeline of datanodes, computes the CRC32C of each
//! chunk, streams the packets to the first datanode (which forwards them down the pipeline), and
//! keeps at most [`WINDOW`] packets unacknowledged. Memory stays bounded whatever the file size:
//! about (channel + window + 1) packets.
//!
//! Closing sends the rest, waits for the last block's final ack (durable on every node of its
//! pipeline) and completes the file at the namenode. A writer dropped without being closed does
//! not complete the file: it stays under construction until its lease expires, as in HDFS.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hdfs_proto::checksum::{BYTES_PER_CHECKSUM, chunk_checksums};
use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::datanode::{self as dpb, write_block_request::Msg};
use hdfs_proto::pb::namenode as pb;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::PollSender;
use tonic::Streaming;

use crate::client::{Client, request};
use crate::error::{Error, Result};

/// Bytes of data per packet: 1 MiB messages gave the best throughput on these machines.
pub const PACKET_SIZE: usize = 1 << 20;
/// Packets sent to the pipeline and not yet acknowledged.
pub const WINDOW: usize = 8;
/// Packets queued between the writer and its background task.
const QUEUE: usize = 4;
/// Longest wait for one ack before the pipeline is declared stuck.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for the namenode to hear of the last block's replicas at close.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(60);

enum Item {
    Packet(Bytes),
    Close,
}

/// Writes a file; see the module docs. Close it to make the file complete.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cluster = hdfs_tests::MiniCluster::start(1).await?;
/// # let client = hdfs_client::Client::connect(&cluster.namenode_url()).await?;
/// use hdfs_client::CreateOptions;
/// use tokio::io::AsyncWriteExt;
///
/// let mut w = client.create("/hello.txt", CreateOptions::default().replication(1)).await?;
/// w.write_all(b"hello, world\n").await?;
/// assert_eq!(w.close().await?, 13);
/// assert_eq!(client.stat("/hello.txt").await?.length, 13);
/// # Ok(()) }
/// ```
pub struct FileWriter {
    path: HdfsPath,
    replication: u32,
    live_datanodes: u32,
    block_size: u64,
    /// Bytes accepted so far.
    written: u64,
    buf: BytesMut,
    tx: PollSender<Item>,
    task: Option<JoinHandle<Result<u64>>>,
    closed: Option<u64>,
    /// Whether this writer still counts as open for lease renewal.
    counted: bool,
    client: Client,
}

impl FileWriter {
    pub(crate) fn new(client: Client, path: HdfsPath, replication: u32, block_size: u64, live_datanodes: u32) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        client.writer_opened();
        let task = BlockWriter { client: client.clone(), path: path.clone(), block_size, previous: None, block: None };
        let task = tokio::spawn(task.run(rx));
        let mut w = Self {
            path,
            replication,
            live_datanodes,
            block_size,
            written: 0,
            buf: BytesMut::new(),
            tx: PollSender::new(tx),
            task: Some(task),
            closed: None,
            counted: true,
            client,
        };
        w.buf.reserve(w.packet_target());
        w
    }

    pub fn path(&self) -> &str {
        self.path.as_str()
    }

    /// The file's replication factor.
    pub fn replication(&self) -> u32 {
        self.replication
    }

    /// Live datanodes when the file was created: fewer than the replication means the file will
    /// be under-replicated until more datanodes join.
    pub fn live_datanodes(&self) -> u32 {
        self.live_datanodes
    }

    /// The size the current packet is filled to: a full packet, or what is left of the block.
    fn packet_target(&self) -> usize {
        let pos_in_block = (self.written - self.buf.len() as u64) % self.block_size;
        PACKET_SIZE.min((self.block_size - pos_in_block) as usize)
    }

    /// The background task's error, once it has stopped.
    fn poll_task_error(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(Error::FailedPrecondition(format!("{}: writer already closed", self.path)));
        };
        let r = ready!(Pin::new(task).poll(cx));
        self.task = None;
        Poll::Ready(match r {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => Error::FailedPrecondition(format!("{}: writer stopped early", self.path)),
            Err(e) => Error::Remote { code: tonic::Code::Internal, message: format!("writer task: {e}") },
        })
    }

    fn poll_send(&mut self, cx: &mut Context<'_>, item: impl FnOnce(&mut Self) -> Item) -> Poll<Result<()>> {
        if ready!(self.tx.poll_reserve(cx)).is_err() {
            return Poll::Ready(Err(ready!(self.poll_task_error(cx))));
        }
        let item = item(self);
        if self.tx.send_item(item).is_err() {
            return Poll::Ready(Err(ready!(self.poll_task_error(cx))));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_send_packet(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        ready!(self.poll_send(cx, |w| Item::Packet(w.buf.split().freeze())))?;
        let target = self.packet_target();
        self.buf.reserve(target);
        Poll::Ready(Ok(()))
    }

    /// Sends what is buffered, waits until the file is durable and complete, and returns its
    /// length. Closing again returns the same length.
    pub fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<u64>> {
        if let Some(n) = self.closed {
            return Poll::Ready(Ok(n));
        }
        if !self.buf.is_empty() {
            ready!(self.poll_send_packet(cx))?;
        }
        if !self.tx.is_closed() {
            ready!(self.poll_send(cx, |_| Item::Close))?;
            self.tx.close();
        }
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(Err(Error::FailedPrecondition(format!("{}: writer failed earlier", self.path))));
        };
        let r = ready!(Pin::new(task).poll(cx));
        self.task = None;
        self.uncount();
        let n =
            r.map_err(|e| Error::Remote { code: tonic::Code::Internal, message: format!("writer task: {e}") })??;
        self.closed = Some(n);
        Poll::Ready(Ok(n))
    }

    /// Copies everything `reader` yields into the file (without closing it); `progress` hears
    /// of each piece. Returns the bytes copied.
    pub async fn write_from(
        &mut self,
        mut reader: impl AsyncRead + Unpin,
        mut progress: impl FnMut(u64),
    ) -> Result<u64> {
        let mut buf = vec![0u8; PACKET_SIZE];
        let mut total = 0;
        loop {
            let n = reader.read(&mut buf).await.map_err(|e| Error::Io { context: "read input".into(), source: e })?;
            if n == 0 {
                return Ok(total);
            }
            self.write_all(&buf[..n]).await?;
            total += n as u64;
            progress(n as u64);
        }
    }

    /// Closes the file: see [`poll_close`](Self::poll_close).
    pub async fn close(&mut self) -> Result<u64> {
        std::future::poll_fn(|cx| self.poll_close(cx)).await
    }
}

impl FileWriter {
    fn uncount(&mut self) {
        if std::mem::take(&mut self.counted) {
            self.client.writer_closed();
        }
    }
}

impl std::fmt::Debug for FileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWriter").field("path", &self.path).field("written", &self.written).finish_non_exhaustive()
    }
}

impl Drop for FileWriter {
    /// A writer dropped unclosed: its task sees the channel end without `Close` and abandons
    /// the file, which stays under construction until its lease expires.
    fn drop(&mut self) {
        self.uncount();
    }
}

impl AsyncWrite for FileWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.closed.is_some() {
            return Poll::Ready(Err(Error::FailedPrecondition(format!("{}: write after close", this.path)).into()));
        }
        let target = this.packet_target();
        if this.buf.len() >= target {
            ready!(this.poll_send_packet(cx))?;
        }
        let target = this.packet_target();
        let n = data.len().min(target - this.buf.len());
        this.buf.extend_from_slice(&data[..n]);
        this.written += n as u64;
        Poll::Ready(Ok(n))
    }

    /// Does nothing: packets go out as they fill, and durability comes with close.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_close(cx).map(|r| r.map(|_| ()).map_err(Into::into))
    }
}

/// The background task: allocates blocks and drives their pipelines.
struct BlockWriter {
    client: Client,
    path: HdfsPath,
    block_size: u64,
    /// The last finished block (id, generation stamp, length), committed by the next call.
    previous: Option<pb::ExtendedBlock>,
    block: Option<Pipeline>,
}

/// Times an allocation is retried with the failed datanodes excluded before giving up.
const SETUP_ATTEMPTS: usize = 3;

impl BlockWriter {
    async fn run(mut self, mut rx: mpsc::Receiver<Item>) -> Result<u64> {
        let mut total = 0u64;
        loop {
            match rx.recv().await {
                Some(Item::Packet(data)) => {
                    total += data.len() as u64;
                    if self.block.is_none() {
                        self.block = Some(self.next_block().await?);
                    }
                    self.send(data, false).await?;
                    if self.block.as_ref().is_some_and(|b| b.len == self.block_size) {
                        self.finish_block().await?;
                    }
                }
                Some(Item::Close) => break,
                None => {
                    tracing::debug!(path = %self.path, "writer dropped without close; file left open");
                    return Err(Error::FailedPrecondition(format!("{}: writer dropped before close", self.path)));
                }
            }
        }
        if self.block.is_some() {
            self.finish_block().await?;
        }
        self.complete().await?;
        Ok(total)
    }

    fn pipeline(&mut self) -> &mut Pipeline {
        self.block.as_mut().expect("a block is open")
    }

    /// Sends a packet, recovering the pipeline as often as it breaks.
    async fn send(&mut self, data: Bytes, last: bool) -> Result<()> {
        loop {
            // An error here means the packet was not queued: send it again after recovery.
            match self.pipeline().send(data.clone(), last).await {
                Ok(()) => return Ok(()),
                Err(broken) => self.recover(broken).await?,
            }
        }
    }

    async fn finish_block(&mut self) -> Result<()> {
        self.send(Bytes::new(), true).await?;
        let final_len = loop {
            match self.pipeline().wait_all().await {
                Ok(len) => break len,
                Err(broken) => self.recover(broken).await?,
            }
        };
        let p = self.block.take().expect("a block is open");
        if final_len != p.len {
            return Err(Error::Remote {
                code: tonic::Code::Internal,
                message: format!("block {}: datanodes stored {final_len} bytes of {}", p.block.block_id, p.len),
            });
        }
        self.previous = Some(pb::ExtendedBlock { num_bytes: p.len, ..p.block });
        Ok(())
    }

    /// Drops the failed node and continues the block with the others under a new generation
    /// stamp: they cut their replicas back to what every node acknowledged, and the unacked
    /// packets are sent again. Fails only when no node is left.
    async fn recover(&mut self, mut broken: Broken) -> Result<()> {
        loop {
            let (path, client) = (self.path.to_string(), self.client.client_name().to_string());
            let p = self.block.as_mut().expect("a block is open");
            p.nodes.retain(|n| n.address != broken.bad);
            tracing::warn!(path, block = p.block.block_id, bad = %broken.bad, left = p.nodes.len(), error = %broken.error, "pipeline broke; recovering");
            if p.nodes.is_empty() {
                return Err(broken.error);
            }
            self.client.drop_datanode(&broken.bad);
            let req = pb::UpdatePipelineRequest { path, client_name: client, block_id: p.block.block_id };
            p.block.generation_stamp =
                self.client.namenode().update_pipeline(request(req)).await?.into_inner().generation_stamp;
            let from = p.acked_len();
            match p.connect(&self.client, Some(from)).await {
                Ok(()) => return Ok(()),
                Err(b) => broken = b,
            }
        }
    }

    /// Allocates the next block and opens its pipeline; a pipeline that fails at setup is
    /// abandoned and the block allocated again without the failed node.
    async fn next_block(&mut self) -> Result<Pipeline> {
        let mut exclude = Vec::new();
        for attempt in 1..=SETUP_ATTEMPTS {
            // Committing the previous block again on a retry is harmless: same length.
            let req = pb::AddBlockRequest {
                path: self.path.to_string(),
                client_name: self.client.client_name().to_string(),
                previous: self.previous,
                exclude_datanodes: exclude.clone(),
            };
            let located = self
                .client
                .namenode()
                .add_block(request(req))
                .await?
                .into_inner()
                .block
                .ok_or_else(|| Error::InvalidArgument("namenode sent no block".into()))?;
            let mut p = Pipeline::new(located)?;
            match p.connect(&self.client, None).await {
                Ok(()) => return Ok(p),
                Err(broken) if attempt < SETUP_ATTEMPTS => {
                    tracing::warn!(bad = %broken.bad, error = %broken.error, "pipeline setup failed; abandoning the block");
                    self.client.drop_datanode(&broken.bad);
                    let req = pb::AbandonBlockRequest {
                        path: self.path.to_string(),
                        client_name: self.client.client_name().to_string(),
                        block_id: p.block.block_id,
                    };
                    self.client.namenode().abandon_block(request(req)).await?;
                    exclude.push(broken.bad);
                }
                Err(broken) => return Err(broken.error),
            }
        }
        unreachable!("the last attempt returns")
    }

    async fn complete(&mut self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + COMPLETE_TIMEOUT;
        let mut backoff = Duration::from_millis(5);
        loop {
            let req = pb::CompleteRequest {
                path: self.path.to_string(),
                client_name: self.client.client_name().to_string(),
                last: self.previous,
            };
            if self.client.namenode().complete(request(req)).await?.into_inner().completed {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Unavailable(format!(
                    "{}: no datanode reported the file's blocks within {COMPLETE_TIMEOUT:?}",
                    self.path
                )));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }
}

/// A pipeline failure: the datanode to drop, and why.
struct Broken {
    bad: String,
    error: Error,
}

impl Broken {
    /// From a status: the node it names, else `first` (the node we talk to directly).
    fn from_status(s: tonic::Status, first: &str) -> Self {
        Self { bad: hdfs_proto::grpc::bad_node(&s).unwrap_or_else(|| first.to_string()), error: s.into() }
    }
}

/// A packet kept until acknowledged, to be sent again after a recovery.
struct Packet {
    seqno: u64,
    offset: u64,
    data: Bytes,
    checksums: Vec<u32>,
    last: bool,
}

impl Packet {
    fn message(&self) -> dpb::WriteBlockRequest {
        let p = dpb::Packet {
            seqno: self.seqno,
            offset_in_block: self.offset,
            data: self.data.clone(),
            checksums: self.checksums.clone(),
            last: self.last,
        };
        dpb::WriteBlockRequest { msg: Some(Msg::Packet(p)) }
    }
}

struct Stream {
    tx: mpsc::Sender<dpb::WriteBlockRequest>,
    acks: Streaming<dpb::WriteBlockAck>,
}

/// One block's write pipeline.
struct Pipeline {
    block: pb::ExtendedBlock,
    nodes: Vec<pb::DatanodeInfo>,
    stream: Option<Stream>,
    unacked: VecDeque<Packet>,
    seqno: u64,
    /// Bytes sent.
    len: u64,
}

impl Pipeline {
    fn new(located: pb::LocatedBlock) -> Result<Self> {
        let block = located.block.ok_or_else(|| Error::InvalidArgument("located block without block".into()))?;
        if located.locations.is_empty() {
            return Err(Error::Unavailable("namenode gave no datanode for the block".into()));
        }
        Ok(Self { block, nodes: located.locations, stream: None, unacked: VecDeque::new(), seqno: 0, len: 0 })
    }

    fn first(&self) -> &str {
        self.nodes.first().map_or("", |n| n.address.as_str())
    }

    /// Bytes every node has acknowledged.
    fn acked_len(&self) -> u64 {
        self.unacked.front().map_or(self.len, |p| p.offset)
    }

    /// Opens the stream to the first node (which connects the rest), resuming at `recover_from`
    /// in a recovery, and sends the unacked packets again.
    async fn connect(&mut self, client: &Client, recover_from: Option<u64>) -> Result<(), Broken> {
        // Close the broken stream first: until it ends, the surviving nodes' old writers hold
        // the replica and refuse to resume it.
        self.stream = None;
        let first = self.first().to_string();
        let header = dpb::WriteHeader {
            block: Some(dpb::BlockRef { block_id: self.block.block_id, generation_stamp: self.block.generation_stamp }),
            downstream: self.nodes[1..].iter().map(|n| n.address.clone()).collect(),
            bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
            client_name: client.client_name().to_string(),
            recovery: recover_from.is_some(),
            recover_from: recover_from.unwrap_or(0),
        };
        let (tx, rx) = mpsc::channel(WINDOW + 1);
        let _ = tx.send(dpb::WriteBlockRequest { msg: Some(Msg::Header(header)) }).await;
        let broken = |error| Broken { bad: first.clone(), error };
        let mut dn = client.datanode(&first).await.map_err(broken)?;
        let acks =
            match tokio::time::timeout(ACK_TIMEOUT, dn.write_block(tokio_stream::wrappers::ReceiverStream::new(rx)))
                .await
            {
                Ok(Ok(r)) => r.into_inner(),
                Ok(Err(s)) => return Err(Broken::from_status(s, &first)),
                Err(_) => {
                    return Err(broken(Error::Unavailable(format!(
                        "datanode {first}: no answer within {ACK_TIMEOUT:?}"
                    ))));
                }
            };
        for p in &self.unacked {
            if tx.send(p.message()).await.is_err() {
                break; // the reason shows on the ack stream
            }
        }
        tracing::debug!(block = self.block.block_id, first = %first, nodes = self.nodes.len(), ?recover_from, "pipeline open");
        self.stream = Some(Stream { tx, acks });
        Ok(())
    }

    /// Queues a packet in the window (waiting for room) and sends it. An error comes only from
    /// waiting for room, before the packet is queued; once queued, a failed send shows up on the
    /// ack stream, and recovery sends the packet again with the rest of the window.
    async fn send(&mut self, data: Bytes, last: bool) -> Result<(), Broken> {
        while self.unacked.len() >= WINDOW {
            self.wait_ack().await?;
        }
        let checksums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        let p = Packet { seqno: self.seqno, offset: self.len, checksums, last, data };
        self.seqno += 1;
        self.len += p.data.len() as u64;
        let msg = p.message();
        self.unacked.push_back(p);
        if let Some(s) = &self.stream {
            // A closed stream is reported by the next wait for an ack.
            let _ = s.tx.send(msg).await;
        }
        Ok(())
    }

    /// Waits for the oldest unacked packet's ack; returns the block length it carries.
    async fn wait_ack(&mut self) -> Result<u64, Broken> {
        let first = self.first().to_string();
        let Some(stream) = self.stream.as_mut() else {
            return Err(Broken { bad: first, error: Error::Unavailable("pipeline not connected".into()) });
        };
        let ack = match tokio::time::timeout(ACK_TIMEOUT, stream.acks.message()).await {
            Ok(Ok(Some(ack))) => ack,
            Ok(Ok(None)) => {
                let e = Error::Unavailable(format!("pipeline from {first} closed before all acks"));
                return Err(Broken { bad: first, error: e });
            }
            Ok(Err(s)) => return Err(Broken::from_status(s, &first)),
            Err(_) => {
                let e = Error::Unavailable(format!("pipeline from {first}: no ack within {ACK_TIMEOUT:?}"));
                return Err(Broken { bad: first, error: e });
            }
        };
        match self.unacked.pop_front() {
            Some(p) if p.seqno == ack.seqno => Ok(ack.block_length),
            expected => Err(Broken {
                bad: first.clone(),
                error: Error::Remote {
                    code: tonic::Code::Internal,
                    message: format!(
                        "pipeline from {first}: ack {} where {:?} was due",
                        ack.seqno,
                        expected.map(|p| p.seqno)
                    ),
                },
            }),
        }
    }

    /// Waits for every outstanding ack; returns the length the last one carries.
    async fn wait_all(&mut self) -> Result<u64, Broken> {
        let mut len = 0;
        while !self.unacked.is_empty() {
            len = self.wait_ack().await?;
        }
        Ok(len)
    }
}
