//! The harness's namenode group: which member leads, and faults between members (kill one,
//! cut one off from the others, slow every link), injected through each member's Raft
//! transport so no socket is touched.

use std::sync::Arc;
use std::time::Duration;

use hdfs_namenode::Namesystem;

use crate::{MiniCluster, SETTLE_TIMEOUT, wait_until};

impl MiniCluster {
    /// Number of namenodes (running or not).
    pub fn namenode_count(&self) -> usize {
        self.namenode_addrs.len()
    }

    /// The state of namenode `i`, if it runs.
    pub fn namesystem_of(&self, i: usize) -> Option<Arc<Namesystem>> {
        self.namenodes.get(i)?.as_ref().and_then(|r| r.namesystem.clone())
    }

    /// The running member that leads, as it sees itself (the one with the highest term, should
    /// an isolated old leader still think it leads).
    pub fn leader(&self) -> Option<usize> {
        (0..self.namenode_count())
            .filter_map(|i| Some((i, self.namesystem_of(i)?.role())))
            .filter(|(_, (_, leading))| *leading)
            .max_by_key(|(_, (term, _))| *term)
            .map(|(i, _)| i)
    }

    /// Waits until some member other than `not` leads, and returns it.
    pub async fn wait_leader(&self, not: Option<usize>) -> anyhow::Result<usize> {
        wait_until("a namenode to lead", SETTLE_TIMEOUT, || async { self.leader().is_some_and(|l| Some(l) != not) })
            .await?;
        Ok(self.leader().expect("waited for one"))
    }

    /// Cuts namenode `i` off from every other member, both ways (or heals it).
    pub fn partition_namenode(&self, i: usize, cut: bool) {
        for j in 0..self.namenode_count() {
            if j == i {
                continue;
            }
            let (from_i, to_i) = (j as u64 + 1, i as u64 + 1);
            if let Some(ns) = self.namesystem_of(i) {
                ns.faults().set_cut(from_i, cut);
            }
            if let Some(ns) = self.namesystem_of(j) {
                ns.faults().set_cut(to_i, cut);
            }
        }
    }

    /// Delays every message between members by `delay` (or stops delaying).
    pub fn delay_namenode_links(&self, delay: Option<Duration>) {
        for i in 0..self.namenode_count() {
            if let Some(ns) = self.namesystem_of(i) {
                ns.faults().set_delay(delay);
            }
        }
    }

    /// Starts one more namenode with `--join` (empty, waiting to be added); returns its index.
    /// Add it with `hdfs_client::Client::add_namenode(index + 1, address)`.
    pub async fn join_namenode(&mut self) -> anyhow::Result<usize> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let i = self.namenode_addrs.len();
        self.namenode_addrs.push(listener.local_addr()?);
        let nn = self.spawn_namenode(i, listener).await?;
        self.namenodes.push(Some(nn));
        Ok(i)
    }

    /// The `host:port` of namenode `i`.
    pub fn namenode_addr(&self, i: usize) -> String {
        self.namenode_addrs[i].to_string()
    }

    /// Waits until every running member has applied as far as the leader has.
    pub async fn wait_namenodes_caught_up(&self) -> anyhow::Result<()> {
        wait_until("every namenode to catch up with the leader", SETTLE_TIMEOUT, || async {
            let Some(l) = self.leader().and_then(|l| self.namesystem_of(l)) else { return false };
            let target = l.group_status().me.applied_index;
            (0..self.namenode_count())
                .filter_map(|i| self.namesystem_of(i))
                .all(|ns| ns.group_status().me.applied_index >= target)
        })
        .await
    }
}
