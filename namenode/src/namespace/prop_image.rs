//! Damaged images (issue 15): a namespace made by random ops, encoded as the fsimage holds it,
//! then cut, bit flipped or extended, is refused when decoded or by [`Namespace::check`], or
//! else every lookup over it works without a panic. `PROPTEST_CASES` overrides the bounded
//! number of cases; no failure files are written.

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::prop_ops::{op, steer};
use super::*;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Every read the namesystem makes of the tree, over all of it.
fn read_everything(ns: &Namespace) {
    let mut stack = vec![HdfsPath::root()];
    while let Some(path) = stack.pop() {
        let id = ns.resolve(&path).expect("a listed entry resolves");
        assert_eq!(ns.path_of(id), path);
        let on = ns.inodes_on(&path);
        assert_eq!(ns.resolved(&path, &on).ok(), Some(id));
        ns.content_summary(&path).expect("a summary");
        let (entries, _) = ns.list(&path, "", usize::MAX).expect("a listing");
        if ns.inode(id).is_some_and(Inode::is_dir) {
            stack.extend(entries.into_iter().map(|(p, _)| p));
        }
    }
    for (id, f) in ns.files() {
        let _ = (ns.writer(id), ns.truncating(id), f.length(), f.replication(), f.block_size());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_damaged_image_is_refused_or_reads_without_a_panic(
        ops in prop::collection::vec(op(), 1..40),
        at in any::<usize>(),
        how in 0..3u8,
        tail in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let mut ns = Namespace::default();
        for op in &ops {
            let _ = ns.apply(&steer(&ns, op));
        }
        prop_assert_eq!(ns.check(), Ok(()));
        let mut bytes = bincode::serialize(&ns).unwrap();
        let at = at % bytes.len();
        match how {
            0 => bytes[at] ^= 1 << (at % 8),
            1 => bytes.truncate(at),
            _ => bytes.splice(at..at, tail).for_each(drop),
        }
        if let Ok(back) = bincode::deserialize::<Namespace>(&bytes)
            && back.check().is_ok()
        {
            read_everything(&back);
        }
    }
}
