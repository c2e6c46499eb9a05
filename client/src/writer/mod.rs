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
//!
//! Split by activity: this file is the `AsyncWrite` front (cutting packets, the channel, close);
//! `blocks` is the background task (allocate, finish and complete blocks; recover a broken
//! pipeline); `pipeline` is one block's stream to its datanodes (the window of unacked packets,
//! acks, resending after a recovery).
//!
//! ```text
//!  write() ─▶ FileWriter ─Item::Packet─▶ BlockWriter ─Packet─▶ Pipeline ─▶ first datanode ─▶ …
//!             (front, buf)   (QUEUE)    (add_block,   (WINDOW     ◀─acks──┘
//!                                        recover,      unacked)
//!                                        complete)
//! ```

mod blocks;
mod pipeline;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use hdfs_proto::path::HdfsPath;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::PollSender;

use crate::conn::Conn;
use crate::error::{Error, Result};
use blocks::{BlockWriter, Item};

/// Bytes of data per packet: 1 MiB messages gave the best throughput on these machines.
pub const PACKET_SIZE: usize = 1 << 20;
/// Packets queued between the writer and its background task.
const QUEUE: usize = 4;

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
    conn: Conn,
}

impl FileWriter {
    pub(crate) fn new(conn: Conn, path: HdfsPath, replication: u32, block_size: u64, live_datanodes: u32) -> Self {
        let task = BlockWriter::new(conn.clone(), path.clone(), block_size);
        Self::start(conn, path, replication, block_size, live_datanodes, 0, task)
    }

    /// A writer appending to a file of `length` bytes whose last block is `last`.
    pub(crate) fn appending(
        conn: Conn,
        path: HdfsPath,
        replication: u32,
        block_size: u64,
        length: u64,
        last: Option<hdfs_proto::pb::namenode::LocatedBlock>,
    ) -> Self {
        let task = BlockWriter::appending(conn.clone(), path.clone(), block_size, length, last);
        Self::start(conn, path, replication, block_size, replication, length, task)
    }

    fn start(
        conn: Conn,
        path: HdfsPath,
        replication: u32,
        block_size: u64,
        live_datanodes: u32,
        written: u64,
        task: BlockWriter,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        conn.writer_opened();
        let task = tokio::spawn(task.run(rx));
        let mut w = Self {
            path,
            replication,
            live_datanodes,
            block_size,
            written,
            buf: BytesMut::new(),
            tx: PollSender::new(tx),
            task: Some(task),
            closed: None,
            counted: true,
            conn,
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

    /// Bytes in the file once what was written so far arrives: where the next byte goes.
    pub fn position(&self) -> u64 {
        self.written
    }

    /// HDFS's `hflush`: sends what is buffered and waits until every datanode of the pipeline
    /// has it and serves it, so a reader that opens the file now reads up to here (the file's
    /// length at the namenode still changes only as blocks are committed). Not a durability
    /// point: that is [`close`](Self::close), as for HDFS's hflush (its hsync syncs to disk).
    pub async fn hflush(&mut self) -> Result<()> {
        if self.closed.is_some() {
            return Err(Error::FailedPrecondition(format!("{}: hflush after close", self.path)));
        }
        if !self.buf.is_empty() {
            std::future::poll_fn(|cx| self.poll_send_packet(cx)).await?;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut tx = Some(tx);
        std::future::poll_fn(|cx| self.poll_send(cx, |_| Item::Flush(tx.take().expect("sent once")))).await?;
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(std::future::poll_fn(|cx| self.poll_task_error(cx)).await),
        }
    }
}

impl FileWriter {
    fn uncount(&mut self) {
        if std::mem::take(&mut self.counted) {
            self.conn.writer_closed();
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
