//! Random op sequences (issue 15): over a small alphabet of paths, so ops collide, every op is
//! applied to the namespace and to a plain model (a map from path to directory or file); after
//! each one both agree on what exists, its kind, a file's blocks and writer, and the
//! namespace's own invariants hold (every inode reachable, parents and sorted children
//! consistent, writers on files). A refused op changes nothing. `PROPTEST_CASES` overrides the
//! bounded number of cases; no failure files are written.

use std::collections::BTreeMap;

use hdfs_proto::{BlockId, GenStamp, MAX_BLOCK_SIZE, MAX_REPLICATION, MIN_BLOCK_SIZE};
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::*;

/// A file as the model knows it: blocks as (id, generation stamp, length).
#[derive(Debug, Clone, PartialEq, Eq)]
struct MFile {
    blocks: Vec<(u64, u64, u64)>,
    writer: Option<String>,
    replication: u16,
    /// Being truncated inside its last block: only the recovery closes it.
    truncating: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File(MFile),
}

/// Path (as parsed) → node; the root is implicit.
type Model = BTreeMap<String, Node>;

fn parent_of(p: &str) -> Option<String> {
    HdfsPath::parse(p).ok()?.parent().map(|p| p.to_string())
}

/// The ancestors of `p` below the root, outermost first (`p` itself excluded).
fn ancestors(p: &str) -> Vec<String> {
    let path = HdfsPath::parse(p).unwrap();
    (1..path.components().count()).map(|n| path.prefix(n).to_string()).collect()
}

fn is_dir(m: &Model, p: &str) -> bool {
    p == "/" || m.get(p) == Some(&Node::Dir)
}

/// What resolving `p` finds: `Some(None)` the root, `Some(Some(node))` a node, `None` nothing
/// (missing, or a file on the way).
fn node<'a>(m: &'a Model, p: &str) -> Option<Option<&'a Node>> {
    if p == "/" {
        return Some(None);
    }
    if !ancestors(p).iter().all(|a| is_dir(m, a)) {
        return None;
    }
    m.get(p).map(Some)
}

/// `Some(true)`: the parent is a directory; `Some(false)`: missing with only directories or
/// nothing above it (create_parent may make it); `None`: a file on the way, or the root.
fn parent_state(m: &Model, p: &str) -> Option<bool> {
    let parent = parent_of(p)?;
    let mut chain = ancestors(p);
    chain.push(parent);
    for a in chain.iter().filter(|a| *a != "/") {
        match m.get(a) {
            Some(Node::Dir) => {}
            Some(Node::File(_)) => return None,
            None => return Some(false),
        }
    }
    Some(true)
}

fn subtree(m: &Model, p: &str) -> Vec<String> {
    m.keys().filter(|k| *k == p || k.starts_with(&format!("{p}/"))).cloned().collect()
}

fn open_file<'a>(m: &'a mut Model, p: &str) -> Option<&'a mut MFile> {
    node(m, p)??;
    match m.get_mut(p) {
        Some(Node::File(f)) if f.writer.is_some() && !f.truncating => Some(f),
        _ => None,
    }
}

fn closed_file(m: &Model, p: &str) -> Option<MFile> {
    match node(m, p)?? {
        Node::File(f) if f.writer.is_none() => Some(f.clone()),
        _ => None,
    }
}

/// Commits the last block's length, as `commit_last` does.
fn commit(f: &mut MFile, c: Option<CommittedBlock>) -> Option<()> {
    match (f.blocks.last_mut(), c) {
        (None, None) => Some(()),
        (Some(last), Some(c)) if last.0 == c.id.0 && c.num_bytes <= MAX_BLOCK_SIZE => {
            last.2 = c.num_bytes;
            Some(())
        }
        _ => None,
    }
}

fn canon(p: &str) -> Option<String> {
    HdfsPath::parse(p).ok().map(|p| p.to_string())
}

/// Applies `op` to the model; `None` if it must be refused (the model is then unchanged).
fn model_apply(m: &mut Model, op: &Op) -> Option<()> {
    let mut next = m.clone();
    apply_to(&mut next, op)?;
    *m = next;
    Some(())
}

fn apply_to(m: &mut Model, op: &Op) -> Option<()> {
    match op {
        Op::Mkdirs { path, .. } | Op::MkdirsV1 { path, .. } => {
            let p = canon(path)?;
            if p == "/" {
                return Some(());
            }
            let mut chain = ancestors(&p);
            chain.push(p.clone());
            for a in chain {
                match m.get(&a) {
                    Some(Node::Dir) => {}
                    Some(Node::File(_)) => return None,
                    None => {
                        m.insert(a, Node::Dir);
                    }
                }
            }
        }
        Op::Create { path, client, replication, block_size, overwrite, create_parent, .. } => {
            let p = canon(path)?;
            if *replication == 0 || *replication > MAX_REPLICATION {
                return None;
            }
            if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(block_size) {
                return None;
            }
            match parent_state(m, &p)? {
                true => {}
                false if *create_parent => apply_to(m, &Op::MkdirsV1 { path: parent_of(&p)?, mtime_ms: 0 })?,
                false => return None,
            }
            match m.get(&p) {
                Some(Node::Dir) => return None,
                Some(Node::File(_)) if !overwrite => return None,
                _ => {}
            }
            let file = MFile {
                blocks: vec![],
                writer: Some(client.clone()),
                replication: *replication as u16,
                truncating: false,
            };
            m.insert(p, Node::File(file));
        }
        Op::AddBlock { path, previous, block, generation_stamp } => {
            let f = open_file(m, &canon(path)?)?;
            commit(f, *previous)?;
            if block.0 == u64::MAX {
                return None;
            }
            f.blocks.push((block.0, generation_stamp.0, 0));
        }
        Op::Complete { path, last, .. } => {
            let f = open_file(m, &canon(path)?)?;
            commit(f, *last)?;
            f.writer = None;
        }
        Op::UpdateBlock { path, block, generation_stamp } => {
            let last = open_file(m, &canon(path)?)?.blocks.last_mut().filter(|b| b.0 == block.0)?;
            last.1 = generation_stamp.0;
        }
        Op::AbandonBlock { path, block } => {
            let f = open_file(m, &canon(path)?)?;
            f.blocks.last().filter(|b| b.0 == block.0)?;
            f.blocks.pop();
        }
        Op::CommitRecovery { path, block, generation_stamp, num_bytes, .. } => {
            let p = canon(path)?;
            node(m, &p)??;
            let Some(Node::File(f)) = m.get_mut(&p).filter(|n| matches!(n, Node::File(f) if f.writer.is_some())) else {
                return None;
            };
            f.blocks.last().filter(|b| b.0 == block.0 && *num_bytes <= MAX_BLOCK_SIZE)?;
            if *num_bytes == 0 {
                f.blocks.pop();
            } else {
                *f.blocks.last_mut()? = (block.0, generation_stamp.0, *num_bytes);
            }
            f.writer = None;
            f.truncating = false;
        }
        Op::Delete { path, recursive, .. } => {
            let p = canon(path)?;
            node(m, &p)??;
            let gone = subtree(m, &p);
            if gone.len() > 1 && !recursive {
                return None;
            }
            for k in gone {
                m.remove(&k);
            }
        }
        Op::Rename { src, dst, .. } => {
            let (src, dst) = (canon(src)?, canon(dst)?);
            node(m, &src)??;
            if dst == "/" {
                return None;
            }
            if src == dst {
                return Some(());
            }
            if dst.starts_with(&format!("{src}/")) || parent_state(m, &dst) != Some(true) || m.contains_key(&dst) {
                return None;
            }
            for k in subtree(m, &src) {
                let n = m.remove(&k)?;
                m.insert(format!("{dst}{}", &k[src.len()..]), n);
            }
        }
        Op::SetReplication { path, replication } => {
            if *replication == 0 || *replication > MAX_REPLICATION {
                return None;
            }
            match m.get_mut(&canon(path)?)? {
                Node::File(f) => f.replication = *replication as u16,
                Node::Dir => return None,
            }
        }
        Op::SetPermission { path, .. } | Op::SetTimes { path, .. } | Op::SetOwner { path, .. } => {
            node(m, &canon(path)?)?;
        }
        Op::Append { path, client } => {
            let p = canon(path)?;
            node(m, &p)??;
            match m.get_mut(&p)? {
                Node::File(f) if f.writer.is_none() => f.writer = Some(client.clone()),
                _ => return None,
            }
        }
        Op::Truncate { path, client, new_length, .. } => {
            let p = canon(path)?;
            node(m, &p)??;
            let Some(Node::File(f)) = m.get_mut(&p) else { return None };
            let length: u64 = f.blocks.iter().map(|b| b.2).sum();
            if f.writer.is_some() || *new_length > length {
                return None;
            }
            let (mut start, mut keep) = (0, 0);
            while keep < f.blocks.len() && start < *new_length {
                start += f.blocks[keep].2;
                keep += 1;
            }
            f.blocks.truncate(keep);
            if start > *new_length {
                f.blocks.last_mut()?.2 -= start - new_length;
                f.writer = Some(client.clone());
                f.truncating = true;
            }
        }
        Op::Concat { target, sources, .. } => {
            let t = canon(target)?;
            let mut file = closed_file(m, &t)?;
            let mut seen = vec![t.clone()];
            if sources.is_empty() {
                return None;
            }
            for s in sources {
                let s = canon(s)?;
                let src = closed_file(m, &s).filter(|f| !f.blocks.is_empty() && !seen.contains(&s))?;
                seen.push(s);
                file.blocks.extend(src.blocks);
                file.replication = file.replication.max(src.replication);
            }
            for s in &seen[1..] {
                m.remove(s);
            }
            m.insert(t, Node::File(file));
        }
        Op::CreateV1 { .. } => unreachable!("not generated"),
    }
    Some(())
}

/// The namespace as the model sees it, checking its invariants on the way.
fn observe(ns: &Namespace) -> Model {
    let mut out = Model::new();
    let mut stack = vec![(ROOT, HdfsPath::root())];
    let mut seen = 1;
    while let Some((id, path)) = stack.pop() {
        let children = ns.children_of(id);
        let names: Vec<&str> = children.iter().map(|&c| &*ns.inodes[c].name).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{path}: children unsorted or repeated: {names:?}");
        for &c in children {
            let child = ns.inode(c).unwrap_or_else(|| panic!("{path}: child {c} has no inode"));
            assert_eq!(child.parent, id, "{path}/{}: parent pointer", child.name);
            let p = path.join(&child.name).expect("a valid name");
            assert_eq!(ns.resolve(&p).ok(), Some(c), "{p} resolves to its inode");
            let n = match &child.kind {
                InodeKind::Directory(_) => {
                    stack.push((c, p.clone()));
                    Node::Dir
                }
                InodeKind::File(f) => {
                    for b in &f.blocks {
                        assert!(b.id < ns.next_block, "{p}: block {} not below the next id", b.id);
                    }
                    let blocks = f.blocks.iter().map(|b| (b.id.0, b.generation_stamp.0, b.num_bytes)).collect();
                    let writer = ns.writer(c).map(String::from);
                    let truncating = ns.truncating(c).is_some();
                    Node::File(MFile { blocks, writer, replication: f.replication(), truncating })
                }
            };
            seen += 1;
            out.insert(p.to_string(), n);
        }
    }
    assert_eq!(seen, ns.inode_count(), "inodes not reachable from the root");
    for &id in ns.writers.keys() {
        assert!(ns.inode(id).is_some_and(|i| i.as_file().is_some()), "writer of {id}, not a file");
    }
    for &id in ns.truncating.keys() {
        assert!(ns.writers.contains_key(&id), "{id} truncating without a writer");
    }
    out
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => "/[abc]",
        5 => "/[ab]/[ab]",
        2 => "/a/[ab]/[ab]",
        1 => Just("/".to_string()),
        1 => prop::sample::select(vec!["", "a", "/a//b", "/a/..", "/a/./b", "/a\0", "/a/"]).prop_map(String::from),
    ]
}

fn block() -> impl Strategy<Value = BlockId> {
    prop_oneof![6 => Just(0), 4 => 1u64..5, 1 => Just(u64::MAX)].prop_map(BlockId)
}

fn length() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0u64..6, 1 => Just(MAX_BLOCK_SIZE), 1 => Just(u64::MAX)]
}

fn committed() -> impl Strategy<Value = Option<CommittedBlock>> {
    prop::option::of((block(), length()).prop_map(|(id, num_bytes)| CommittedBlock { id, num_bytes }))
}

fn client() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["c1", "c2"]).prop_map(String::from)
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    let replication = prop_oneof![8 => 1u32..4, 1 => Just(0), 1 => Just(MAX_REPLICATION + 1)];
    let block_size = prop_oneof![8 => Just(MIN_BLOCK_SIZE), 1 => Just(0u64), 1 => Just(u64::MAX)];
    let create = (path(), client(), replication.clone(), block_size, any::<bool>(), any::<bool>()).prop_map(
        |(path, client, replication, block_size, overwrite, create_parent)| Op::Create {
            path,
            client,
            replication,
            block_size,
            overwrite,
            create_parent,
            mtime_ms: 1,
            owner: "alice".into(),
            mode: 0o644,
            dir_mode: 0o755,
        },
    );
    prop_oneof![
        3 => path().prop_map(|path| Op::Mkdirs { path, mtime_ms: 1, owner: "bob".into(), mode: 0o755 }),
        4 => create,
        4 => (path(), committed(), block(), 1u64..4).prop_map(|(path, previous, block, g)| Op::AddBlock {
            path, previous, block, generation_stamp: GenStamp(g) }),
        3 => (path(), committed()).prop_map(|(path, last)| Op::Complete { path, last, mtime_ms: 2 }),
        1 => (path(), block(), any::<u64>()).prop_map(|(path, block, g)| Op::UpdateBlock {
            path, block, generation_stamp: GenStamp(g) }),
        1 => (path(), block()).prop_map(|(path, block)| Op::AbandonBlock { path, block }),
        1 => (path(), block(), length()).prop_map(|(path, block, num_bytes)| Op::CommitRecovery {
            path, block, generation_stamp: GenStamp(9), num_bytes, mtime_ms: 3 }),
        2 => (path(), any::<bool>()).prop_map(|(path, recursive)| Op::Delete { path, recursive, mtime_ms: 4 }),
        2 => (path(), path()).prop_map(|(src, dst)| Op::Rename { src, dst, mtime_ms: 5 }),
        1 => (path(), replication).prop_map(|(path, replication)| Op::SetReplication { path, replication }),
        1 => (path(), any::<u16>()).prop_map(|(path, mode)| Op::SetPermission { path, mode }),
        1 => (path(), prop::option::of(client())).prop_map(|(path, owner)| Op::SetOwner { path, owner, group: None }),
        1 => (path(), any::<u64>()).prop_map(|(path, mtime_ms)| Op::SetTimes { path, mtime_ms }),
        2 => (path(), client()).prop_map(|(path, client)| Op::Append { path, client }),
        2 => (path(), client(), length()).prop_map(|(path, client, new_length)| Op::Truncate {
            path, client, new_length, mtime_ms: 6 }),
        1 => (path(), prop::collection::vec(path(), 0..3)).prop_map(|(target, sources)| Op::Concat {
            target, sources, mtime_ms: 7 }),
    ]
}

/// Block id 0 in a generated op stands for the last block of the file named (so that commits
/// and recoveries name the right block often enough); a commit of it, for none when the file
/// has no blocks.
pub(super) fn steer(ns: &Namespace, op: &Op) -> Op {
    let last = |path: &str| {
        let id = ns.resolve(&HdfsPath::parse(path).ok()?).ok()?;
        Some(ns.inode(id)?.as_file()?.blocks.last()?.id)
    };
    let pick = |path: &str, b: BlockId| if b.0 == 0 { last(path).unwrap_or(b) } else { b };
    let commit = |path: &str, c: Option<CommittedBlock>| match c {
        Some(c) if c.id.0 == 0 => last(path).map(|id| CommittedBlock { id, ..c }),
        c => c,
    };
    let mut op = op.clone();
    match &mut op {
        Op::AddBlock { path, previous: c, .. } | Op::Complete { path, last: c, .. } => *c = commit(path, *c),
        Op::UpdateBlock { path, block, .. }
        | Op::AbandonBlock { path, block }
        | Op::CommitRecovery { path, block, .. } => *block = pick(path, *block),
        _ => {}
    }
    op
}

/// Applies `ops` to a namespace and the model, checking them against each other after each.
fn run(ops: &[Op]) -> std::result::Result<(), TestCaseError> {
    let (mut ns, mut model) = (Namespace::default(), Model::new());
    for (i, op) in ops.iter().enumerate() {
        let op = &steer(&ns, op);
        let before = observe(&ns);
        let got = ns.apply(op);
        let want = model_apply(&mut model, op);
        let after = observe(&ns);
        prop_assert_eq!(got.is_ok(), want.is_some(), "op {} {:?}: namespace said {:?}", i, op, got);
        if got.is_err() {
            prop_assert_eq!(&before, &after, "op {} {:?} was refused but changed the namespace", i, op);
        }
        prop_assert_eq!(&after, &model, "after op {} {:?}", i, op);
        let sum = ns.content_summary(&HdfsPath::root()).expect("the root");
        let files = model.values().filter(|n| matches!(n, Node::File(_))).count() as u64;
        prop_assert_eq!((sum.files, sum.directories), (files, model.len() as u64 + 1 - files));
    }
    // What was applied survives an image (the fsimage is the namespace in bincode).
    prop_assert_eq!(ns.check(), Ok(()));
    let back: Namespace = bincode::deserialize(&bincode::serialize(&ns).unwrap()).unwrap();
    prop_assert_eq!(observe(&back), model);
    Ok(())
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(3000);
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_op_sequences_agree_with_a_simple_model(ops in prop::collection::vec(op(), 1..80)) {
        run(&ops)?;
    }
}
