//! The block scanner: re-reads every finalized replica at a bounded rate and checks each chunk
//! against its stored checksum, so that a replica rotting on disk is found before a reader
//! needs it. A bad replica is reported to the namenode, which has a good copy made from another
//! replica and only then deletes the bad one.
//!
//! The rate is a budget in bytes per second (HDFS's `dfs.block.scanner.volume.bytes.per.second`,
//! 1 MiB/s there; 8 MiB/s by default here): after each piece the scanner waits as long as the
//! budget requires, so it never competes with clients for more than that. A pass over all
//! replicas starts at most every `period`.

use std::time::{Duration, Instant};

use hdfs_proto::pb::namenode as pb;
use tokio_util::sync::CancellationToken;

use crate::link::{NamenodeLink, extended};
use crate::metrics::Metrics;
use crate::store::{ReplicaInfo, StoreError};

/// Bytes read per step.
const PIECE: usize = 1 << 20;

pub(crate) struct BlockScanner {
    /// Every namenode: a bad replica is reported to each (only the leader acts on it).
    pub(crate) links: Vec<NamenodeLink>,
    pub(crate) bytes_per_sec: u64,
    pub(crate) period: Duration,
    /// Bytes verified and bad replicas found.
    pub(crate) metrics: Metrics,
}

impl BlockScanner {
    pub(crate) async fn run(self, shutdown: CancellationToken) {
        if self.bytes_per_sec == 0 {
            return;
        }
        loop {
            let started = Instant::now();
            let pass = tokio::select! {
                r = self.pass() => r,
                _ = shutdown.cancelled() => return,
            };
            match pass {
                Ok((replicas, bad)) => tracing::debug!(replicas, bad, "scanner pass done"),
                Err(e) => tracing::warn!(error = %e, "scanner pass failed"),
            }
            let next = self.period.saturating_sub(started.elapsed()).max(Duration::from_millis(100));
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Any link: they share the store and the node's identity.
    fn link(&self) -> &NamenodeLink {
        &self.links[0]
    }

    /// One pass over every finalized replica; returns (replicas scanned, bad ones found).
    async fn pass(&self) -> Result<(usize, usize), StoreError> {
        let (replicas, _) = self.link().store.blocking(|s| s.list()).await?;
        let mut bad = 0;
        for r in &replicas {
            if let Some(reason) = self.scan(r).await {
                bad += 1;
                self.metrics.scan_errors.inc();
                tracing::warn!(block = %r.block.id, %reason, "scanner found a corrupt replica");
                let req = pb::ReportBadBlocksRequest {
                    block: Some(extended(r)),
                    datanode_id: self.link().datanode_id.clone(),
                    reason,
                };
                let mut taken = false;
                let mut last_error = None;
                for link in &self.links {
                    match link.client_protocol.clone().report_bad_blocks(NamenodeLink::request(req.clone())).await {
                        Ok(_) => taken = true,
                        Err(e) => last_error = Some(e),
                    }
                }
                if let (false, Some(e)) = (taken, last_error) {
                    tracing::warn!(block = %r.block.id, error = %e.message(), "could not report a corrupt replica");
                }
            }
        }
        Ok((replicas.len(), bad))
    }

    /// Reads one replica at the allowed rate; returns why it is bad, if it is.
    async fn scan(&self, replica: &ReplicaInfo) -> Option<String> {
        let (block, len) = (replica.block, replica.len);
        let mut reader = match self.link().store.blocking(move |s| s.open_reader(block)).await {
            Ok(r) => r,
            // Deleted or replaced since the listing, or the store task did not run to the end
            // (shutdown): nothing to judge.
            Err(StoreError::NotFound(_) | StoreError::WrongGeneration { .. } | StoreError::Task(_)) => return None,
            Err(e) => return Some(e.to_string()),
        };
        let mut pos = 0;
        while pos < len {
            let started = Instant::now();
            let r = tokio::task::spawn_blocking(move || {
                let r = reader.read_chunks(pos, PIECE).map(|(d, _)| d.len() as u64);
                (reader, r)
            })
            .await;
            let Ok((back, r)) = r else { return None };
            reader = back;
            match r {
                Ok(n) => {
                    pos += n;
                    self.metrics.scanned.inc_by(n);
                }
                Err(e @ (StoreError::Checksum { .. } | StoreError::Io { .. })) => return Some(e.to_string()),
                Err(_) => return None,
            }
            let budget = Duration::from_secs_f64(PIECE as f64 / self.bytes_per_sec as f64);
            tokio::time::sleep(budget.saturating_sub(started.elapsed())).await;
        }
        None
    }
}
