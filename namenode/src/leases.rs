//! Leases: one writer per file. A client holds a lease on the files it has open for writing and
//! renews it while it writes; another client may take a file over only after the holder's lease
//! has gone unrenewed for the hard limit.
//!
//! Leases are not persisted: after a restart every file still under construction gets a fresh
//! lease for the writer recorded in the namespace, as HDFS does.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::namespace::InodeId;

#[derive(Debug)]
struct Lease {
    renewed: Instant,
    files: HashSet<InodeId>,
}

#[derive(Debug, Default)]
pub struct Leases {
    by_client: HashMap<String, Lease>,
}

impl Leases {
    pub fn add(&mut self, client: &str, file: InodeId, now: Instant) {
        let lease = self.by_client.entry(client.to_string()).or_insert(Lease { renewed: now, files: HashSet::new() });
        lease.renewed = now;
        lease.files.insert(file);
    }

    pub fn remove(&mut self, client: &str, file: InodeId) {
        if let Some(l) = self.by_client.get_mut(client) {
            l.files.remove(&file);
            if l.files.is_empty() {
                self.by_client.remove(client);
            }
        }
    }

    /// Restarts every lease's timer (a new leader's: leases are timed by the leader alone).
    pub fn renew_all(&mut self, now: Instant) {
        for l in self.by_client.values_mut() {
            l.renewed = now;
        }
    }

    /// Renews every lease of `client`; false if it holds none.
    pub fn renew(&mut self, client: &str, now: Instant) -> bool {
        match self.by_client.get_mut(client) {
            Some(l) => {
                l.renewed = now;
                true
            }
            None => false,
        }
    }

    /// Removes and returns the leases unrenewed for `limit`, with their files.
    pub fn take_expired(&mut self, now: Instant, limit: Duration) -> Vec<(String, Vec<InodeId>)> {
        let expired: Vec<String> = self
            .by_client
            .iter()
            .filter(|(_, l)| now.duration_since(l.renewed) >= limit)
            .map(|(c, _)| c.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|c| self.by_client.remove(&c).map(|l| (c, l.files.into_iter().collect())))
            .collect()
    }

    /// Whether `client`'s lease has gone unrenewed for `limit` (true if it holds none).
    pub fn expired(&self, client: &str, now: Instant, limit: Duration) -> bool {
        self.by_client.get(client).is_none_or(|l| now.duration_since(l.renewed) >= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_expires_after_the_limit_unless_renewed() {
        let mut l = Leases::default();
        let t0 = Instant::now();
        let limit = Duration::from_secs(60);
        l.add("c", 7, t0);
        assert!(!l.expired("c", t0 + Duration::from_secs(59), limit));
        assert!(l.expired("c", t0 + limit, limit));
        assert!(l.renew("c", t0 + Duration::from_secs(50)));
        assert!(!l.expired("c", t0 + Duration::from_secs(100), limit));
        l.add("d", 8, t0);
        let expired = l.take_expired(t0 + Duration::from_secs(61), limit);
        assert_eq!(expired, vec![("d".to_string(), vec![8])]);
        l.remove("c", 7);
        assert!(!l.renew("c", t0));
        assert!(l.expired("c", t0, limit));
    }
}
