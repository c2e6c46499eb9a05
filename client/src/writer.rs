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
use tokio_stream::wrappers::ReceiverStream;
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
    pub(crate) fn new(
        client: Client,
        path: HdfsPath,
        replication: u32,
        block_size: u64,
        live_datanodes: u32,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        client.writer_opened();
        let task = BlockWriter {
            client: client.clone(),
            path: path.clone(),
            block_size,
            previous: None,
            block: None,
        };
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
            return Poll::Ready(Error::FailedPrecondition(format!(
                "{}: writer already closed",
                self.path
            )));
        };
        let r = ready!(Pin::new(task).poll(cx));
        self.task = None;
        Poll::Ready(match r {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => Error::FailedPrecondition(format!("{}: writer stopped early", self.path)),
            Err(e) => Error::Remote {
                code: tonic::Code::Internal,
                message: format!("writer task: {e}"),
            },
        })
    }

    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        item: impl FnOnce(&mut Self) -> Item,
    ) -> Poll<Result<()>> {
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
            return Poll::Ready(Err(Error::FailedPrecondition(format!(
                "{}: writer failed earlier",
                self.path
            ))));
        };
        let r = ready!(Pin::new(task).poll(cx));
        self.task = None;
        self.uncount();
        let n = r.map_err(|e| Error::Remote {
            code: tonic::Code::Internal,
            message: format!("writer task: {e}"),
        })??;
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
            let n = reader.read(&mut buf).await.map_err(|e| Error::Io {
                context: "read input".into(),
                source: e,
            })?;
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
        f.debug_struct("FileWriter")
            .field("path", &self.path)
            .field("written", &self.written)
            .finish_non_exhaustive()
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
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.closed.is_some() {
            return Poll::Ready(Err(Error::FailedPrecondition(format!(
                "{}: write after close",
                this.path
            ))
            .into()));
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
        self.get_mut()
            .poll_close(cx)
            .map(|r| r.map(|_| ()).map_err(Into::into))
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
                    let block = self.block.as_mut().expect("opened above");
                    block.send(data).await?;
                    if block.len == self.block_size {
                        self.finish_block().await?;
                    }
                }
                Some(Item::Close) => break,
                None => {
                    tracing::debug!(path = %self.path, "writer dropped without close; file left open");
                    return Err(Error::FailedPrecondition(format!(
                        "{}: writer dropped before close",
                        self.path
                    )));
                }
            }
        }
        if self.block.is_some() {
            self.finish_block().await?;
        }
        self.complete().await?;
        Ok(total)
    }

    async fn finish_block(&mut self) -> Result<()> {
        let block = self.block.take().expect("a block is open");
        self.previous = Some(block.finish().await?);
        Ok(())
    }

    async fn next_block(&mut self) -> Result<Pipeline> {
        let req = pb::AddBlockRequest {
            path: self.path.to_string(),
            client_name: self.client.client_name().to_string(),
            previous: self.previous.take(),
            exclude_datanodes: Vec::new(),
        };
        let located = self
            .client
            .namenode()
            .add_block(request(req))
            .await?
            .into_inner()
            .block
            .ok_or_else(|| Error::InvalidArgument("namenode sent no block".into()))?;
        Pipeline::open(&self.client, located).await
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
            if self
                .client
                .namenode()
                .complete(request(req))
                .await?
                .into_inner()
                .completed
            {
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

/// One block's write pipeline.
struct Pipeline {
    block: pb::ExtendedBlock,
    first: String,
    tx: mpsc::Sender<dpb::WriteBlockRequest>,
    acks: Streaming<dpb::WriteBlockAck>,
    unacked: VecDeque<u64>,
    seqno: u64,
    len: u64,
}

impl Pipeline {
    async fn open(client: &Client, located: pb::LocatedBlock) -> Result<Self> {
        let block = located
            .block
            .ok_or_else(|| Error::InvalidArgument("located block without block".into()))?;
        let mut addrs = located.locations.into_iter().map(|l| l.address);
        let first = addrs
            .next()
            .ok_or_else(|| Error::Unavailable("namenode gave no datanode for the block".into()))?;
        let header = dpb::WriteHeader {
            block: Some(dpb::BlockRef {
                block_id: block.block_id,
                generation_stamp: block.generation_stamp,
            }),
            downstream: addrs.collect(),
            bytes_per_checksum: BYTES_PER_CHECKSUM as u32,
            client_name: client.client_name().to_string(),
        };
        let (tx, rx) = mpsc::channel(WINDOW);
        tx.send(dpb::WriteBlockRequest {
            msg: Some(Msg::Header(header)),
        })
        .await
        .map_err(|_| Error::Unavailable("pipeline closed".into()))?;
        let mut dn = client.datanode(&first).await?;
        let acks = match dn.write_block(ReceiverStream::new(rx)).await {
            Ok(r) => r.into_inner(),
            Err(e) => {
                client.drop_datanode(&first);
                return Err(e.into());
            }
        };
        tracing::debug!(block = block.block_id, first = %first, "pipeline open");
        Ok(Self {
            block,
            first,
            tx,
            acks,
            unacked: VecDeque::new(),
            seqno: 0,
            len: 0,
        })
    }

    async fn send(&mut self, data: Bytes) -> Result<()> {
        while self.unacked.len() >= WINDOW {
            self.wait_ack().await?;
        }
        self.send_packet(data, false).await
    }

    async fn send_packet(&mut self, data: Bytes, last: bool) -> Result<()> {
        let checksums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        let n = data.len() as u64;
        let packet = dpb::Packet {
            seqno: self.seqno,
            offset_in_block: self.len,
            data,
            checksums,
            last,
        };
        if self
            .tx
            .send(dpb::WriteBlockRequest {
                msg: Some(Msg::Packet(packet)),
            })
            .await
            .is_err()
        {
            // The stream ended: the reason is on the ack stream.
            return self.wait_ack().await.and(Err(Error::Unavailable(format!(
                "pipeline to {} closed",
                self.first
            ))));
        }
        self.unacked.push_back(self.seqno);
        self.seqno += 1;
        self.len += n;
        Ok(())
    }

    /// Waits for the oldest unacked packet's ack; returns the block length it carries.
    async fn wait_ack(&mut self) -> Result<u64> {
        let ack = tokio::time::timeout(ACK_TIMEOUT, self.acks.message())
            .await
            .map_err(|_| {
                Error::Unavailable(format!(
                    "pipeline from {}: no ack within {ACK_TIMEOUT:?}",
                    self.first
                ))
            })??
            .ok_or_else(|| {
                Error::Unavailable(format!(
                    "pipeline from {} closed before all acks",
                    self.first
                ))
            })?;
        match self.unacked.pop_front() {
            Some(s) if s == ack.seqno => Ok(ack.block_length),
            expected => Err(Error::Remote {
                code: tonic::Code::Internal,
                message: format!(
                    "pipeline from {}: ack {} where {expected:?} was due",
                    self.first, ack.seqno
                ),
            }),
        }
    }

    /// Sends the end-of-block packet and waits for every ack; the block is then durable on
    /// every node of the pipeline.
    async fn finish(mut self) -> Result<pb::ExtendedBlock> {
        self.send_packet(Bytes::new(), true).await?;
        let mut final_len = 0;
        while !self.unacked.is_empty() {
            final_len = self.wait_ack().await?;
        }
        if final_len != self.len {
            return Err(Error::Remote {
                code: tonic::Code::Internal,
                message: format!(
                    "block {}: datanodes stored {final_len} bytes of {}",
                    self.block.block_id, self.len
                ),
            });
        }
        Ok(pb::ExtendedBlock {
            num_bytes: self.len,
            ..self.block
        })
    }
}
