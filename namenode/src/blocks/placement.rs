//! Where new replicas go: distinct live datanodes, spreading load and space.
//!
//! Pure: the caller passes a snapshot of the candidates (dead nodes left out). Stale nodes (a few
//! heartbeats missed) are used only when there are not enough others, as HDFS does with
//! `dfs.namenode.avoid.write.stale.datanode`. Candidates are shuffled first so that
//! equal nodes share the work, then ordered by load (transfers in progress plus replicas already
//! scheduled on them) and by fullness in 5% steps, so that a slightly fuller node is not shunned
//! for ever but a much fuller one is. HDFS picks at random among good nodes; ordering by load
//! additionally keeps concurrent writers from piling onto one node between heartbeats.

use crate::datanodes::NodeIdx;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub node: NodeIdx,
    pub stale: bool,
    pub load: u32,
    pub capacity: u64,
    pub remaining: u64,
}

impl Candidate {
    fn fullness_step(&self) -> u64 {
        if self.capacity == 0 {
            return 0;
        }
        let used = self.capacity.saturating_sub(self.remaining);
        (used as u128 * 20 / self.capacity as u128) as u64
    }
}

/// Picks up to `n` distinct nodes with room for `block_size` bytes, skipping `exclude`.
pub fn choose_targets(mut candidates: Vec<Candidate>, n: usize, block_size: u64, exclude: &[NodeIdx]) -> Vec<NodeIdx> {
    candidates.retain(|c| !exclude.contains(&c.node) && (c.capacity == 0 || c.remaining >= block_size));
    fastrand::shuffle(&mut candidates);
    candidates.sort_by_key(|c| (c.stale, c.load, c.fullness_step()));
    candidates.into_iter().take(n).map(|c| c.node).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(node: u32, load: u32, remaining: u64) -> Candidate {
        Candidate { node: NodeIdx(node), stale: false, load, capacity: 1000, remaining }
    }

    fn nodes(ids: &[u32]) -> Vec<NodeIdx> {
        ids.iter().copied().map(NodeIdx).collect()
    }

    #[test]
    fn uses_stale_nodes_only_when_short() {
        let mut c = vec![cand(0, 0, 900), cand(1, 9, 900), cand(2, 0, 900)];
        c[0].stale = true;
        let mut t = choose_targets(c.clone(), 2, 100, &[]);
        t.sort();
        assert_eq!(t, nodes(&[1, 2]));
        assert_eq!(choose_targets(c, 3, 100, &[]).len(), 3);
    }

    #[test]
    fn picks_distinct_least_loaded_nodes_with_room() {
        let c = vec![cand(0, 5, 900), cand(1, 0, 900), cand(2, 1, 900), cand(3, 0, 10)];
        let t = choose_targets(c, 2, 100, &[]);
        assert_eq!(t, nodes(&[1, 2]));
    }

    #[test]
    fn returns_fewer_when_not_enough_nodes_and_honours_exclusions() {
        let c = vec![cand(0, 0, 900), cand(1, 0, 900)];
        let mut t = choose_targets(c.clone(), 3, 100, &[]);
        t.sort();
        assert_eq!(t, nodes(&[0, 1]));
        assert_eq!(choose_targets(c, 3, 100, &nodes(&[0])), nodes(&[1]));
    }

    #[test]
    fn spreads_among_equal_nodes() {
        let c: Vec<_> = (0..4).map(|i| cand(i, 0, 900)).collect();
        let mut seen = [0u32; 4];
        for _ in 0..400 {
            seen[choose_targets(c.clone(), 1, 100, &[])[0].0 as usize] += 1;
        }
        assert!(seen.iter().all(|&s| s > 40), "uneven spread {seen:?}");
    }

    #[test]
    fn prefers_emptier_nodes_at_equal_load() {
        let c = vec![cand(0, 0, 100), cand(1, 0, 900)];
        assert_eq!(choose_targets(c, 1, 50, &[]), nodes(&[1]));
    }
}
