//! [`BlockWriter`]: a file writer's background task, which turns the stream of packets into
//! blocks: it allocates each block at the namenode (committing the previous one), drives the
//! block's [`Pipeline`], finishes it at the block boundary, and completes the file at close.
//!
//! When a pipeline breaks it drops the node the error names (`x-hdfs-bad-node`), gets a new
//! generation stamp for the block (`update_pipeline`) and resumes on the survivors from the
//! length all of them acknowledged, as HDFS's `DataStreamer` does; it fails only when no node is
//! left. A pipeline that fails while being set up is abandoned and the block allocated again
//! without the failed node, up to [`SETUP_ATTEMPTS`] times.

use std::time::Duration;

use bytes::Bytes;
use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::namenode as pb;
use tokio::sync::mpsc;

use super::pipeline::{Broken, Pipeline};
use crate::conn::{Conn, rpc};
use crate::error::{Error, Result};

/// Longest wait for the namenode to hear of the last block's replicas at close.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the front sends the task.
pub(super) enum Item {
    Packet(Bytes),
    /// hflush: answered once every node of the pipeline acked all that was sent before it and
    /// serves it to readers.
    Flush(tokio::sync::oneshot::Sender<Result<()>>),
    Close,
}

/// The background task: allocates blocks and drives their pipelines.
pub(super) struct BlockWriter {
    conn: Conn,
    path: HdfsPath,
    block_size: u64,
    /// The last finished block (id, generation stamp, length), committed by the next call.
    previous: Option<pb::ExtendedBlock>,
    block: Option<Pipeline>,
    /// An append's partial last block, continued when the first bytes come.
    resume: Option<pb::LocatedBlock>,
    /// Bytes in the file before this writer's.
    start: u64,
}

/// Times an allocation is retried with the failed datanodes excluded before giving up.
const SETUP_ATTEMPTS: usize = 3;

impl BlockWriter {
    pub(super) fn new(conn: Conn, path: HdfsPath, block_size: u64) -> Self {
        Self { conn, path, block_size, previous: None, block: None, resume: None, start: 0 }
    }

    /// The task of an append to a file of `length` bytes whose last block is `last`: a partial
    /// one is continued, a full one committed with the first new block.
    pub(super) fn appending(
        conn: Conn,
        path: HdfsPath,
        block_size: u64,
        length: u64,
        last: Option<pb::LocatedBlock>,
    ) -> Self {
        let mut w = Self::new(conn, path, block_size);
        w.start = length;
        match last {
            Some(l) if l.block.is_some_and(|b| b.num_bytes < block_size) => w.resume = Some(l),
            Some(l) => w.previous = l.block,
            None => {}
        }
        w
    }

    /// Runs until close; returns the file's length.
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Item>) -> Result<u64> {
        let mut total = self.start;
        loop {
            match rx.recv().await {
                Some(Item::Packet(data)) => {
                    total += data.len() as u64;
                    if self.block.is_none() {
                        self.block = Some(match self.resume.take() {
                            Some(last) => self.resume_block(last).await?,
                            None => self.next_block().await?,
                        });
                    }
                    self.send(data, false, false).await?;
                    if self.block.as_ref().is_some_and(|b| b.len() == self.block_size) {
                        self.finish_block().await?;
                    }
                }
                Some(Item::Flush(done)) => {
                    let r = self.flush().await;
                    let failed = r.as_ref().err().map(|e| e.to_string());
                    let _ = done.send(r);
                    if let Some(e) = failed {
                        return Err(Error::Unavailable(format!("{}: hflush failed: {e}", self.path)));
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
        if let Some(last) = self.resume.take() {
            // An append that wrote nothing: the last block stays as it was.
            self.previous = last.block;
        }
        self.complete().await?;
        Ok(total)
    }

    /// hflush: an empty packet marked `sync` after everything sent, and every ack.
    async fn flush(&mut self) -> Result<()> {
        if self.block.is_none() {
            return Ok(()); // everything written is in finished blocks
        }
        self.send(Bytes::new(), false, true).await?;
        loop {
            match self.pipeline().wait_all().await {
                Ok(_) => return Ok(()),
                Err(broken) => self.recover(broken).await?,
            }
        }
    }

    /// Continues an append's partial last block: a new generation stamp, and a pipeline over
    /// its holders from its length (a holder that fails is dropped, as in a recovery).
    async fn resume_block(&mut self, last: pb::LocatedBlock) -> Result<Pipeline> {
        self.block = Some(Pipeline::resume(last)?);
        self.reopen(None).await?;
        Ok(self.block.take().expect("reopened"))
    }

    fn pipeline(&mut self) -> &mut Pipeline {
        self.block.as_mut().expect("a block is open")
    }

    /// Sends a packet, recovering the pipeline as often as it breaks.
    async fn send(&mut self, data: Bytes, last: bool, sync: bool) -> Result<()> {
        loop {
            // An error here means the packet was not queued: send it again after recovery.
            match self.pipeline().send(data.clone(), last, sync).await {
                Ok(()) => return Ok(()),
                Err(broken) => self.recover(broken).await?,
            }
        }
    }

    async fn finish_block(&mut self) -> Result<()> {
        self.send(Bytes::new(), true, false).await?;
        let final_len = loop {
            match self.pipeline().wait_all().await {
                Ok(len) => break len,
                Err(broken) => self.recover(broken).await?,
            }
        };
        let p = self.block.take().expect("a block is open");
        if final_len != p.len() {
            return Err(Error::Remote {
                code: tonic::Code::Internal,
                message: format!("block {}: datanodes stored {final_len} bytes of {}", p.block.block_id, p.len()),
            });
        }
        self.previous = Some(pb::ExtendedBlock { num_bytes: p.len(), ..p.block });
        Ok(())
    }

    /// Drops the failed node and continues the block with the others under a new generation
    /// stamp: they cut their replicas back to what every node acknowledged, and the unacked
    /// packets are sent again. Fails only when no node is left.
    async fn recover(&mut self, broken: Broken) -> Result<()> {
        self.reopen(Some(broken)).await
    }

    /// Opens the block's pipeline again under a new generation stamp, from what every node
    /// acknowledged, first dropping the node `broken` names (none when an append opens it).
    async fn reopen(&mut self, mut broken: Option<Broken>) -> Result<()> {
        loop {
            let (path, client) = (self.path.to_string(), self.conn.client_name().to_string());
            let p = self.block.as_mut().expect("a block is open");
            if let Some(b) = broken.take() {
                p.nodes.retain(|n| n.address != b.bad);
                tracing::warn!(path, block = p.block.block_id, bad = %b.bad, left = p.nodes.len(), error = %b.error, "pipeline broke; recovering");
                if p.nodes.is_empty() {
                    return Err(b.error);
                }
                self.conn.drop_datanode(&b.bad);
            }
            let req = pb::UpdatePipelineRequest { path, client_name: client, block_id: p.block.block_id };
            let updated = rpc!(self.conn, update_pipeline, req).await?;
            (p.block.generation_stamp, p.token) = (updated.generation_stamp, updated.token);
            let from = p.acked_len();
            match p.connect(&self.conn, Some(from)).await {
                Ok(()) => return Ok(()),
                Err(b) => broken = Some(b),
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
                client_name: self.conn.client_name().to_string(),
                previous: self.previous,
                exclude_datanodes: exclude.clone(),
            };
            let located = rpc!(self.conn, add_block, req)
                .await?
                .block
                .ok_or_else(|| Error::InvalidArgument("namenode sent no block".into()))?;
            let mut p = Pipeline::new(located)?;
            match p.connect(&self.conn, None).await {
                Ok(()) => return Ok(p),
                Err(broken) if attempt < SETUP_ATTEMPTS => {
                    tracing::warn!(bad = %broken.bad, error = %broken.error, "pipeline setup failed; abandoning the block");
                    self.conn.drop_datanode(&broken.bad);
                    let req = pb::AbandonBlockRequest {
                        path: self.path.to_string(),
                        client_name: self.conn.client_name().to_string(),
                        block_id: p.block.block_id,
                    };
                    rpc!(self.conn, abandon_block, req).await?;
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
                client_name: self.conn.client_name().to_string(),
                last: self.previous,
            };
            if rpc!(self.conn, complete, req).await?.completed {
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
