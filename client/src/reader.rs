//! [`FileReader`]: an `AsyncRead` over a file's blocks, fetched straight from datanodes.
//!
//! A background task asks the namenode where the blocks are, then streams each block (from the
//! wanted offset) from its best replica, verifying every chunk's CRC32C on receipt. On an error
//! or a checksum mismatch it reports a bad replica to the namenode, switches to the next replica
//! and carries on from the same offset. Data reaches the reader through a bounded channel of a
//! few packets, so memory stays bounded and the next packet is already on its way while the
//! caller consumes the current one.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hdfs_proto::BlockRef;
use hdfs_proto::checksum;
use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::datanode as dpb;
use hdfs_proto::pb::namenode as pb;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::conn::{Conn, rpc};
use crate::error::{Error, Result};

/// Packets buffered ahead of the reader.
const QUEUE: usize = 4;
/// Longest wait for one packet from a datanode before trying another replica.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a file; see the module docs.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cluster = hdfs_tests::MiniCluster::start(1).await?;
/// # let client = hdfs_client::Client::connect(&cluster.namenode_url()).await?;
/// # let mut w = client.create("/hello.txt", Default::default()).await?;
/// # tokio::io::AsyncWriteExt::write_all(&mut w, b"hello, world\n").await?;
/// # w.close().await?;
/// use tokio::io::AsyncReadExt;
///
/// let mut text = String::new();
/// client.open("/hello.txt").await?.read_to_string(&mut text).await?;
/// assert_eq!(text, "hello, world\n");
///
/// let mut tail = String::new();
/// client.open_at("/hello.txt", 7).await?.read_to_string(&mut tail).await?;
/// assert_eq!(tail, "world\n");
/// # Ok(()) }
/// ```
pub struct FileReader {
    len: u64,
    rx: mpsc::Receiver<Result<Bytes>>,
    current: Bytes,
    task: JoinHandle<()>,
}

impl FileReader {
    pub(crate) async fn open(conn: Conn, path: HdfsPath, offset: u64) -> Result<Self> {
        let (blocks, len) = readable_blocks(&conn, &path, offset).await?;
        if offset > len {
            return Err(Error::InvalidArgument(format!(
                "{path}: offset {offset} is past the end of the file ({len} bytes)"
            )));
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let fetch = Fetcher { conn, path, tx, failed: Default::default() };
        let task = tokio::spawn(fetch.run(blocks, offset));
        Ok(Self { len, rx, current: Bytes::new(), task })
    }

    /// The file's length when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The next piece of the file as it arrived, or `None` at the end: avoids a copy for callers
    /// that can take `Bytes`.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if !self.current.is_empty() {
            return Ok(Some(std::mem::take(&mut self.current)));
        }
        self.rx.recv().await.transpose()
    }
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader").field("len", &self.len).finish_non_exhaustive()
    }
}

impl Drop for FileReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AsyncRead for FileReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.current.is_empty() {
            match ready!(this.rx.poll_recv(cx)) {
                Some(Ok(b)) => this.current = b,
                Some(Err(e)) => return Poll::Ready(Err(e.into())),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = this.current.len().min(buf.remaining());
        buf.put_slice(&this.current.split_to(n));
        Poll::Ready(Ok(()))
    }
}

/// The blocks of a file from `offset` and the file's readable length: for a file being written,
/// its last block as far as the writer has hflushed it.
async fn readable_blocks(conn: &Conn, path: &HdfsPath, offset: u64) -> Result<(Vec<pb::LocatedBlock>, u64)> {
    let req = pb::GetBlockLocationsRequest { path: path.to_string(), offset, length: 0 };
    let located = rpc!(conn, get_block_locations, req).await?;
    let (mut blocks, mut len) = (located.blocks, located.file_length);
    if let Some(last) = located.last_block
        && let Some(block) = last.block
    {
        let visible = visible_length(conn, path, &block, &last).await?;
        if visible > 0 {
            let block = Some(pb::ExtendedBlock { num_bytes: visible, ..block });
            blocks.push(pb::LocatedBlock { block, offset: len, ..last });
            len += visible;
        }
    }
    Ok((blocks, len))
}

/// A file's readable length (see [`readable_blocks`]).
pub(crate) async fn readable_length(conn: &Conn, path: &HdfsPath) -> Result<u64> {
    Ok(readable_blocks(conn, path, u64::MAX).await?.1)
}

/// How much of a block being written readers may see: the first of its pipeline's nodes to
/// answer says (HDFS's `readBlockLength`). Nodes that do not have it yet: nothing is visible.
async fn visible_length(
    conn: &Conn,
    path: &HdfsPath,
    block: &pb::ExtendedBlock,
    located: &pb::LocatedBlock,
) -> Result<u64> {
    let mut last_error = None;
    for dn in &located.locations {
        let req = dpb::ReplicaVisibleLengthRequest {
            block: Some(BlockRef::new(block.block_id, block.generation_stamp).into()),
            token: located.token.clone(),
        };
        let answer = match conn.datanode(&dn.address).await {
            Ok(mut c) => tokio::time::timeout(READ_TIMEOUT, c.replica_visible_length(req))
                .await
                .map_err(|_| Error::Unavailable(format!("datanode {}: no answer within {READ_TIMEOUT:?}", dn.address)))
                .and_then(|r| r.map_err(Error::from)),
            Err(e) => Err(e),
        };
        match answer {
            Ok(r) => return Ok(r.into_inner().length),
            Err(e) => last_error = Some(e),
        }
    }
    match last_error {
        None | Some(Error::NotFound(_)) => Ok(0),
        Some(e) => Err(Error::Unavailable(format!(
            "{path}: cannot tell the length of block {} being written: {e}",
            block.block_id
        ))),
    }
}

struct Fetcher {
    conn: Conn,
    path: HdfsPath,
    tx: mpsc::Sender<Result<Bytes>>,
    /// Datanodes that failed earlier in this stream: tried last for the blocks that follow, so
    /// a hung node costs one timeout per read, not one per block (as HDFS's reader does).
    failed: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Fetcher {
    async fn run(self, blocks: Vec<pb::LocatedBlock>, offset: u64) {
        for b in blocks {
            let Some(block) = b.block else { continue };
            let start = offset.saturating_sub(b.offset);
            if start >= block.num_bytes {
                continue;
            }
            match self.read_block(&block, &b, start).await {
                Ok(true) => {}
                Ok(false) => return, // the reader went away
                Err(e) => {
                    let _ = self.tx.send(Err(e)).await;
                    return;
                }
            }
        }
    }

    /// Sends bytes `start..` of a block, trying replicas in turn. `Ok(false)`: reader gone.
    async fn read_block(&self, block: &pb::ExtendedBlock, located: &pb::LocatedBlock, start: u64) -> Result<bool> {
        let locations = &located.locations;
        if locations.is_empty() {
            return Err(Error::Unavailable(format!(
                "{}: block {} has no live replica (are its datanodes up?)",
                self.path, block.block_id
            )));
        }
        let mut pos = start;
        let mut last_error = None;
        let mut order: Vec<&pb::DatanodeInfo> = locations.iter().collect();
        {
            let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            order.sort_by_key(|dn| failed.contains(&dn.address)); // stable: the namenode's order otherwise
        }
        for dn in order {
            match self.stream_from(block, located.token.as_ref(), dn, &mut pos).await {
                Ok(sent) => return Ok(sent),
                Err(e) => {
                    tracing::warn!(block = block.block_id, datanode = %dn.address, error = %e, offset = pos, "replica failed; trying the next");
                    self.failed.lock().unwrap_or_else(|p| p.into_inner()).insert(dn.address.clone());
                    if matches!(e, Error::DataLoss(_)) {
                        self.report_bad(block, dn, &e).await;
                    } else {
                        self.conn.drop_datanode(&dn.address);
                    }
                    last_error = Some(e);
                }
            }
        }
        let e = last_error.expect("at least one replica was tried");
        Err(Error::DataLoss(format!("{}: block {}: every replica failed; last: {e}", self.path, block.block_id)))
    }

    /// Streams from one replica, advancing `pos` past every byte delivered.
    async fn stream_from(
        &self,
        block: &pb::ExtendedBlock,
        token: Option<&dpb::BlockToken>,
        dn: &pb::DatanodeInfo,
        pos: &mut u64,
    ) -> Result<bool> {
        let mut client = self.conn.datanode(&dn.address).await?;
        let req = dpb::ReadBlockRequest {
            block: Some(BlockRef::new(block.block_id, block.generation_stamp).into()),
            offset: *pos,
            length: block.num_bytes - *pos,
            token: token.cloned(),
        };
        let mut stream = tokio::time::timeout(READ_TIMEOUT, client.read_block(req))
            .await
            .map_err(|_| Error::Unavailable(format!("datanode {}: no answer within {READ_TIMEOUT:?}", dn.address)))??
            .into_inner();
        while *pos < block.num_bytes {
            let msg = tokio::time::timeout(READ_TIMEOUT, stream.message())
                .await
                .map_err(|_| Error::Unavailable(format!("datanode {}: stalled for {READ_TIMEOUT:?}", dn.address)))??
                .ok_or_else(|| {
                    Error::Unavailable(format!("datanode {}: stream ended at offset {}", dn.address, *pos))
                })?;
            let bpc = msg.bytes_per_checksum as usize;
            if bpc == 0 || msg.offset > *pos || msg.offset + msg.data.len() as u64 <= *pos {
                return Err(Error::Remote {
                    code: tonic::Code::Internal,
                    message: format!("datanode {}: sent offset {} where {} was due", dn.address, msg.offset, *pos),
                });
            }
            checksum::verify(&msg.data, bpc, &msg.checksums).map_err(|e| {
                Error::DataLoss(format!("datanode {}: block {} at {}: {e}", dn.address, block.block_id, msg.offset))
            })?;
            let skip = (*pos - msg.offset) as usize;
            // Never past the block's committed length, whatever the replica holds.
            let end = (block.num_bytes - msg.offset).min(msg.data.len() as u64) as usize;
            let data = msg.data.slice(skip..end);
            *pos += data.len() as u64;
            if self.tx.send(Ok(data)).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn report_bad(&self, block: &pb::ExtendedBlock, dn: &pb::DatanodeInfo, e: &Error) {
        let req = pb::ReportBadBlocksRequest {
            block: Some(*block),
            datanode_id: dn.datanode_id.clone(),
            reason: e.to_string(),
        };
        if let Err(e) = rpc!(self.conn, report_bad_blocks, req).await {
            tracing::warn!(error = %e, "could not report a bad replica");
        }
    }
}
