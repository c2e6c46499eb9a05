//! The namenode's validated configuration.

use std::path::PathBuf;
use std::time::Duration;

use hdfs_proto::{MAX_BLOCK_SIZE, MAX_REPLICATION, MIN_BLOCK_SIZE};

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the edit log segments and the fsimage live.
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
    /// Log records between two fsimage checkpoints (at least; more once the namespace has more
    /// inodes than this, see `EditLog::needs_checkpoint`).
    pub checkpoint_every: u64,
    /// How often the replication monitor looks for work.
    pub replication_interval: Duration,
    /// Copies in flight per source datanode (2 more for blocks down to one replica).
    pub max_replication_streams: u32,
    /// A copy not confirmed by the target's report within this is scheduled again.
    pub replication_timeout: Duration,
    /// Fraction of blocks that must be reported before safe mode ends by itself.
    pub safemode_threshold: f64,
    /// How long the threshold must hold before safe mode ends.
    pub safemode_extension: Duration,
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
            replication_interval: Duration::from_secs(1),
            max_replication_streams: 2,
            replication_timeout: Duration::from_secs(60),
            safemode_threshold: 0.999,
            safemode_extension: Duration::from_secs(5),
        }
    }

    /// Checks that the settings make sense together.
    pub fn validate(&self) -> Result<(), String> {
        if self.default_replication == 0 || self.default_replication > MAX_REPLICATION {
            return Err(format!("--replication {} is out of range (1..={MAX_REPLICATION})", self.default_replication));
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
        if !(0.0..=1.0).contains(&self.safemode_threshold) {
            return Err(format!("--safemode-threshold {} must be between 0 and 1", self.safemode_threshold));
        }
        if self.max_replication_streams == 0 {
            return Err("--max-replication-streams must be at least 1".into());
        }
        if self.replication_interval.is_zero() || self.replication_timeout <= self.replication_interval {
            return Err("--replication-timeout must be longer than the (positive) replication interval".into());
        }
        if self.checkpoint_every == 0 {
            return Err("checkpoint interval must be positive".into());
        }
        Ok(())
    }
}
