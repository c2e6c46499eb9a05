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
}

/// Times an allocation is retried with the failed datanodes excluded before giving up.
const SETUP_ATTEMPTS: usize = 3;

impl BlockWriter {
    pub(super) fn new(conn: Conn, path: HdfsPath, block_size: u64) -> Self {
        Self { conn, path, block_size, previous: None, block: None }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Item>) -> Result<u64> {
        let mut total = 0u64;
        loop {
            match rx.recv().await {
                Some(Item::Packet(data)) => {
                    total += data.len() as u64;
                    if self.block.is_none() {
                        self.block = Some(self.next_block().await?);
                    }
                    self.send(data, false).await?;
                    if self.block.as_ref().is_some_and(|b| b.len() == self.block_size) {
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
    async fn recover(&mut self, mut broken: Broken) -> Result<()> {
        loop {
            let (path, client) = (self.path.to_string(), self.conn.client_name().to_string());
            let p = self.block.as_mut().expect("a block is open");
            p.nodes.retain(|n| n.address != broken.bad);
            tracing::warn!(path, block = p.block.block_id, bad = %broken.bad, left = p.nodes.len(), error = %broken.error, "pipeline broke; recovering");
            if p.nodes.is_empty() {
                return Err(broken.error);
            }
            self.conn.drop_datanode(&broken.bad);
            let req = pb::UpdatePipelineRequest { path, client_name: client, block_id: p.block.block_id };
            p.block.generation_stamp = rpc!(self.conn, update_pipeline, req).await?.generation_stamp;
            let from = p.acked_len();
            match p.connect(&self.conn, Some(from)).await {
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
