//! The namenode's validated configuration.

use std::path::PathBuf;
use std::time::Duration;

use hdfs_proto::{MAX_BLOCK_SIZE, MAX_REPLICATION, MIN_BLOCK_SIZE};

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the edit log (sled) and the fsimage live.
    pub data_dir: PathBuf,
    /// Replication of files created without an explicit factor.
    pub default_replication: u32,
    /// Block size of files created without an explicit one.
    pub default_block_size: u64,
    /// How often datanodes are expected to heartbeat.
    pub heartbeat_interval: Duration,
    /// A datanode silent for this long is dead.
    pub dead_after: Duration,
    /// A writer that has not renewed its lease for this long loses it to another writer.
    pub lease_hard_limit: Duration,
    /// Log records between two fsimage checkpoints.
    pub checkpoint_every: u64,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            default_replication: 3,
            default_block_size: hdfs_proto::DEFAULT_BLOCK_SIZE,
            heartbeat_interval: Duration::from_secs(3),
            dead_after: Duration::from_secs(30),
            lease_hard_limit: Duration::from_secs(60),
            checkpoint_every: 100_000,
        }
    }

    /// Checks that the settings make sense together.
    pub fn validate(&self) -> Result<(), String> {
        if self.default_replication == 0 || self.default_replication > MAX_REPLICATION {
            return Err(format!(
                "--replication {} is out of range (1..={MAX_REPLICATION})",
                self.default_replication
            ));
        }
        if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&self.default_block_size) {
            return Err(format!(
                "--block-size {} is out of range ({MIN_BLOCK_SIZE}..={MAX_BLOCK_SIZE} bytes)",
                self.default_block_size
            ));
        }
        if self.heartbeat_interval.is_zero() {
            return Err("--heartbeat-interval must be positive".into());
        }
        if self.dead_after <= self.heartbeat_interval * 2 {
            return Err(format!(
                "--dead-after ({:?}) must be more than two heartbeat intervals ({:?})",
                self.dead_after, self.heartbeat_interval
            ));
        }
        if self.checkpoint_every == 0 {
            return Err("checkpoint interval must be positive".into());
        }
        Ok(())
    }
}
