//! The retry cache (HDFS's `RetryCache`): the outcome of every recent non-idempotent call, by
//! the caller's (client id, call id), kept in the replicated state and in the fsimage, so a call
//! retried after its answer was lost (a leader died, a timeout) gets the first outcome from any
//! member instead of being applied twice ("already exists" for a create that worked).
//!
//! Entries expire by the leader's clock recorded in each log entry, never a member's own, so every
//! member holds the same cache; it is also bounded, oldest first, as HDFS bounds its own.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::namespace::Effects;
use crate::raft::CallId;

/// How long an outcome is kept (HDFS's `dfs.namenode.retrycache.expirytime.millis`).
const EXPIRY_MS: u64 = 10 * 60 * 1000;
/// The most outcomes kept; the oldest go first.
const CAPACITY: usize = 100_000;

/// Kept compact, since it is full under any steady load: each call once (shared by the map and
/// the expiry queue) and its outcome bincode-encoded (a create's is ~30 bytes; the outcome's
/// type is 176), about 150 bytes an entry instead of ~370. Read back only for a retried call.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(from = "Image")]
pub struct RetryCache {
    outcomes: HashMap<Arc<CallId>, Box<[u8]>>,
    /// Calls by when they were applied, oldest first.
    order: VecDeque<(u64, Arc<CallId>)>,
}

/// The cache as the fsimage holds it (the layout it always had, so older images load).
#[derive(Serialize, Deserialize)]
struct Image {
    outcomes: HashMap<CallId, Result<Effects, Error>>,
    order: VecDeque<(u64, CallId)>,
}

fn encode(outcome: &Result<Effects, Error>) -> Box<[u8]> {
    bincode::serialize(outcome).expect("an outcome encodes").into_boxed_slice()
}

fn decode(bytes: &[u8]) -> Result<Effects, Error> {
    bincode::deserialize(bytes).expect("an outcome this cache encoded decodes")
}

impl RetryCache {
    pub fn get(&self, call: &CallId) -> Option<Result<Effects, Error>> {
        self.outcomes.get(call).map(|b| decode(b))
    }

    /// Records `call`'s outcome, applied at `at_ms`, and drops what has expired by then.
    pub fn insert(&mut self, call: CallId, at_ms: u64, outcome: &Result<Effects, Error>) {
        let call = Arc::new(call);
        if self.outcomes.insert(call.clone(), encode(outcome)).is_none() {
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

impl From<Image> for RetryCache {
    fn from(image: Image) -> Self {
        let mut outcomes: HashMap<Arc<CallId>, Box<[u8]>> = HashMap::with_capacity(image.outcomes.len());
        let order = image
            .order
            .into_iter()
            .filter_map(|(at, call)| {
                let outcome = image.outcomes.get(&call)?;
                let call = Arc::new(call);
                outcomes.insert(call.clone(), encode(outcome));
                Some((at, call))
            })
            .collect();
        Self { outcomes, order }
    }
}

/// Written in the fsimage's layout from a borrow (serde's `into` would clone the whole cache
/// first).
impl Serialize for RetryCache {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let outcomes = self.outcomes.iter().map(|(call, b)| (CallId::clone(call), decode(b))).collect();
        let order = self.order.iter().map(|(at, call)| (*at, CallId::clone(call))).collect();
        Image { outcomes, order }.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> hdfs_proto::path::HdfsPath {
        hdfs_proto::path::HdfsPath::parse("/a/b").unwrap()
    }

    fn call(n: u64) -> CallId {
        CallId { client: "c".into(), call: n }
    }

    #[test]
    fn keeps_outcomes_until_they_expire_by_the_logged_clock() {
        let mut c = RetryCache::default();
        c.insert(call(1), 1_000, &Ok(Effects::default()));
        c.insert(call(2), 2_000, &Err(Error::NoLiveDatanodes));
        assert!(c.get(&call(1)).is_some_and(|r| r.is_ok()));
        assert!(matches!(c.get(&call(2)), Some(Err(Error::NoLiveDatanodes))));
        c.insert(call(3), 1_000 + EXPIRY_MS + 1, &Ok(Effects::default()));
        assert!(c.get(&call(1)).is_none(), "expired");
        assert!(c.get(&call(2)).is_some(), "not yet");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn the_fsimage_keeps_outcomes_and_their_order_in_the_layout_older_images_have() {
        let mut c = RetryCache::default();
        let created = Effects { created: Some(7), ..Effects::default() };
        c.insert(call(1), 1_000, &Ok(created.clone()));
        c.insert(call(2), 2_000, &Err(Error::NotFound(path())));
        let bytes = bincode::serialize(&c).unwrap();
        // An image written before the cache was compact: the same bytes.
        let older = Image {
            outcomes: [(call(1), Ok(created.clone())), (call(2), Err(Error::NotFound(path())))].into(),
            order: [(1_000, call(1)), (2_000, call(2))].into(),
        };
        let back: RetryCache = bincode::deserialize(&bincode::serialize(&older).unwrap()).unwrap();
        for mut c in [bincode::deserialize::<RetryCache>(&bytes).unwrap(), back] {
            assert_eq!(c.get(&call(1)).unwrap().unwrap().created, Some(7));
            // The same error, not its neighbour in the enum.
            assert!(matches!(c.get(&call(2)), Some(Err(Error::NotFound(p))) if p == path()));
            // The oldest still goes first.
            c.insert(call(3), 1_000 + EXPIRY_MS + 1, &Ok(Effects::default()));
            assert!(c.get(&call(1)).is_none() && c.get(&call(2)).is_some());
        }
    }
}
