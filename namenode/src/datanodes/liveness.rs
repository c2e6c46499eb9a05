//! Liveness: live, stale or dead, as a pure function of the time since a node's last heartbeat
//! (so it is tested without a clock). HDFS marks a node stale after 30 s and dead after 10.5
//! min; here both are flags of the namenode (`--heartbeat-interval`, `--dead-after`).

use std::time::Duration;

/// Heartbeats a node may miss before it is stale (HDFS: 30 s at 3 s heartbeats is 10; we are
/// quicker to avoid a slow node for new writes).
pub const STALE_AFTER_MISSED: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Liveness {
    Live,
    /// Missed a few heartbeats: no new replicas, read last.
    Stale,
    Dead,
}

/// The liveness of a node last heard from `since` ago.
pub fn liveness(since: Duration, heartbeat: Duration, dead_after: Duration) -> Liveness {
    if since >= dead_after {
        Liveness::Dead
    } else if since >= heartbeat * STALE_AFTER_MISSED {
        Liveness::Stale
    } else {
        Liveness::Live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_thresholds() {
        let hb = Duration::from_secs(3);
        let dead = Duration::from_secs(30);
        assert_eq!(liveness(Duration::from_secs(0), hb, dead), Liveness::Live);
        assert_eq!(liveness(Duration::from_secs(8), hb, dead), Liveness::Live);
        assert_eq!(liveness(Duration::from_secs(9), hb, dead), Liveness::Stale);
        assert_eq!(liveness(Duration::from_secs(30), hb, dead), Liveness::Dead);
    }
}
