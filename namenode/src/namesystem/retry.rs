//! The retry cache (HDFS's `RetryCache`): the outcome of every recent non-idempotent call, by
//! the caller's (client id, call id), kept in the replicated state and in the fsimage, so a call
//! retried after its answer was lost (a leader died, a timeout) gets the first outcome from any
//! member instead of being applied twice ("already exists" for a create that worked).
//!
//! Entries expire by the leader's clock recorded in each log entry, never a member's own, so every
//! member holds the same cache; it is also bounded, oldest first, as HDFS bounds its own.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::namespace::Effects;
use crate::raft::CallId;

/// How long an outcome is kept (HDFS's `dfs.namenode.retrycache.expirytime.millis`).
const EXPIRY_MS: u64 = 10 * 60 * 1000;
/// The most outcomes kept; the oldest go first.
const CAPACITY: usize = 100_000;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RetryCache {
    outcomes: HashMap<CallId, Result<Effects, Error>>,
    /// Calls by when they were applied, oldest first.
    order: VecDeque<(u64, CallId)>,
}

impl RetryCache {
    pub fn get(&self, call: &CallId) -> Option<&Result<Effects, Error>> {
        self.outcomes.get(call)
    }

    /// Records `call`'s outcome, applied at `at_ms`, and drops what has expired by then.
    pub fn insert(&mut self, call: CallId, at_ms: u64, outcome: Result<Effects, Error>) {
        if self.outcomes.insert(call.clone(), outcome).is_none() {
            self.order.push_back((at_ms, call));
        }
        while let Some((at, _)) = self.order.front()
            && (at.saturating_add(EXPIRY_MS) < at_ms || self.order.len() > CAPACITY)
        {
            let (_, old) = self.order.pop_front().expect("front exists");
            self.outcomes.remove(&old);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(n: u64) -> CallId {
        CallId { client: "c".into(), call: n }
    }

    #[test]
    fn keeps_outcomes_until_they_expire_by_the_logged_clock() {
        let mut c = RetryCache::default();
        c.insert(call(1), 1_000, Ok(Effects::default()));
        c.insert(call(2), 2_000, Err(Error::NoLiveDatanodes));
        assert!(c.get(&call(1)).is_some_and(|r| r.is_ok()));
        assert!(matches!(c.get(&call(2)), Some(Err(Error::NoLiveDatanodes))));
        c.insert(call(3), 1_000 + EXPIRY_MS + 1, Ok(Effects::default()));
        assert!(c.get(&call(1)).is_none(), "expired");
        assert!(c.get(&call(2)).is_some(), "not yet");
        assert_eq!(c.len(), 2);
    }
}
