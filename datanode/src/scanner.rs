//! The block scanner: re-reads every finalized replica at a bounded rate and checks each chunk
//! against its stored checksum, so that a replica rotting on disk is found before a reader
//! needs it. A bad replica is reported to the namenode, which has a good copy made from another
//! replica and only then deletes the bad one.
//!
//! The rate is a budget in bytes per second (HDFS's `dfs.block.scanner.volume.bytes.per.second`,
//! 1 MiB/s there; 8 MiB/s by default here): after each piece the scanner waits as long as the
//! budget requires, so it never competes with clients for more than that. A pass over all
//! replicas starts at most every `period`.
//!
//! Its progress ([`ScanProgress`]: this pass's replicas and bytes, errors, the last pass) is
//! shared with the datanode's page.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdfs_proto::pb::namenode as pb;
use tokio_util::sync::CancellationToken;

use crate::link::{NamenodeLink, extended};
use crate::metrics::Metrics;
use crate::store::{ReplicaInfo, StoreError};

/// Bytes read per step.
const PIECE: usize = 1 << 20;

/// What the scanner has done, as the datanode's page shows it.
#[derive(Debug, Default)]
pub(crate) struct ScanProgress {
    pub(crate) in_pass: AtomicBool,
    /// This pass (the last one, between passes): when it started (ms since the Unix epoch),
    /// replicas to scan, replicas and bytes scanned, bad replicas found.
    pub(crate) pass_started_ms: AtomicU64,
    pub(crate) pass_replicas: AtomicU64,
    pub(crate) scanned_replicas: AtomicU64,
    pub(crate) scanned_bytes: AtomicU64,
    pub(crate) pass_errors: AtomicU64,
    /// Passes finished, when the last one ended and how long it took.
    pub(crate) passes: AtomicU64,
    pub(crate) last_pass_ended_ms: AtomicU64,
    pub(crate) last_pass_ms: AtomicU64,
    /// Bad replicas found since the datanode started: the metrics' counter
    /// (`hdfs_datanode_scanner_errors_total`), shared.
    pub(crate) errors: prometheus_client::metrics::counter::Counter,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl ScanProgress {
    fn start_pass(&self, replicas: usize) {
        self.pass_started_ms.store(now_ms(), Ordering::Relaxed);
        self.pass_replicas.store(replicas as u64, Ordering::Relaxed);
        self.scanned_replicas.store(0, Ordering::Relaxed);
        self.scanned_bytes.store(0, Ordering::Relaxed);
        self.pass_errors.store(0, Ordering::Relaxed);
        self.in_pass.store(true, Ordering::Relaxed);
    }

    fn scanned(&self, bytes: u64, bad: bool) {
        self.scanned_replicas.fetch_add(1, Ordering::Relaxed);
        self.scanned_bytes.fetch_add(bytes, Ordering::Relaxed);
        if bad {
            self.pass_errors.fetch_add(1, Ordering::Relaxed);
            self.errors.inc();
        }
    }

    fn end_pass(&self, took: Duration) {
        self.in_pass.store(false, Ordering::Relaxed);
        self.passes.fetch_add(1, Ordering::Relaxed);
        self.last_pass_ended_ms.store(now_ms(), Ordering::Relaxed);
        self.last_pass_ms.store(took.as_millis() as u64, Ordering::Relaxed);
    }
}

pub(crate) struct BlockScanner {
    /// Every namenode: a bad replica is reported to each (only the leader acts on it).
    pub(crate) links: Vec<NamenodeLink>,
    pub(crate) bytes_per_sec: u64,
    pub(crate) period: Duration,
    /// Bytes verified and bad replicas found.
    pub(crate) metrics: Metrics,
    pub(crate) progress: Arc<ScanProgress>,
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
            self.progress.end_pass(started.elapsed());
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
        self.progress.start_pass(replicas.len());
        let mut bad = 0;
        for r in &replicas {
            let found = self.scan(r).await;
            self.progress.scanned(r.len, found.is_some());
            if let Some(reason) = found {
                bad += 1;
                tracing::warn!(block = %r.block.id, %reason, "scanner found a corrupt replica");
                let req = pb::ReportBadBlocksRequest {
                    block: Some(extended(r)),
                    datanode_id: self.link().datanode_id.clone(),
                    reason,
                };
                let mut taken = false;
                let mut last_error = None;
                for link in &self.links {
                    match link.client_protocol.clone().report_bad_blocks(link.request(req.clone())).await {
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
