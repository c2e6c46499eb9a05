//! The namespace's transitions, one behaviour per test.

use hdfs_proto::{BlockId, GenStamp};

use super::*;
use crate::namespace::CommittedBlock;

fn p(s: &str) -> HdfsPath {
    HdfsPath::parse(s).unwrap()
}

fn mkdirs(ns: &mut Namespace, path: &str) -> Result<Effects> {
    ns.apply(&Op::Mkdirs { path: path.into(), mtime_ms: 1, owner: "alice".into(), mode: 0o755 })
}

fn create(ns: &mut Namespace, path: &str, overwrite: bool) -> Result<Effects> {
    ns.apply(&Op::Create {
        path: path.into(),
        client: "c1".into(),
        replication: 3,
        block_size: 1 << 20,
        overwrite,
        create_parent: false,
        mtime_ms: 1,
        owner: "alice".into(),
        mode: 0o644,
        dir_mode: 0o755,
    })
}

/// One inode per file and directory: docs/SCALE.md counts on this size.
#[test]
fn an_inode_slot_stays_small() {
    assert!(std::mem::size_of::<Option<Inode>>() <= 88, "{}", std::mem::size_of::<Option<Inode>>());
}

#[test]
fn children_stay_sorted_through_creates_renames_and_deletes() {
    let mut ns = Namespace::default();
    for n in ["m", "b", "z", "a", "k"] {
        create(&mut ns, &format!("/{n}"), false).unwrap();
    }
    ns.apply(&Op::Rename { src: "/z".into(), dst: "/c".into(), mtime_ms: 1 }).unwrap();
    ns.apply(&Op::Delete { path: "/k".into(), recursive: false, mtime_ms: 1 }).unwrap();
    let (page, _) = ns.list(&p("/"), "", 10).unwrap();
    let names: Vec<_> = page.iter().map(|(p, _)| p.name().to_string()).collect();
    assert_eq!(names, ["a", "b", "c", "m"]);
    for n in &names {
        assert!(ns.resolve(&p(&format!("/{n}"))).is_ok(), "{n} resolves");
    }
    assert!(ns.resolve(&p("/z")).is_err() && ns.resolve(&p("/k")).is_err());
    let (page, more) = ns.list(&p("/"), "b", 1).unwrap();
    assert_eq!((page[0].0.name(), more > 0), ("c", true));
}

#[test]
fn mkdirs_creates_parents_and_is_idempotent() {
    let mut ns = Namespace::default();
    mkdirs(&mut ns, "/a/b/c").unwrap();
    mkdirs(&mut ns, "/a/b/c").unwrap();
    assert!(ns.resolve(&p("/a/b/c")).is_ok());
    assert_eq!(ns.content_summary(&p("/")).unwrap().directories, 4);
}

#[test]
fn mkdirs_through_a_file_fails() {
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    assert!(matches!(mkdirs(&mut ns, "/f/x"), Err(Error::NotADirectory(_))));
    assert!(matches!(mkdirs(&mut ns, "/f"), Err(Error::AlreadyExists(_))));
}

#[test]
fn create_refuses_existing_unless_overwrite_and_reports_removed_blocks() {
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    ns.apply(&Op::AddBlock { path: "/f".into(), previous: None, block: BlockId(7), generation_stamp: GenStamp(1) })
        .unwrap();
    ns.apply(&Op::Complete {
        path: "/f".into(),
        last: Some(CommittedBlock { id: BlockId(7), num_bytes: 100 }),
        mtime_ms: 2,
    })
    .unwrap();
    assert!(matches!(create(&mut ns, "/f", false), Err(Error::AlreadyExists(_))));
    let fx = create(&mut ns, "/f", true).unwrap();
    assert_eq!(fx.removed_files.len(), 1);
    assert_eq!(
        fx.removed_files[0].blocks,
        vec![Block { id: BlockId(7), generation_stamp: GenStamp(1), num_bytes: 100 }]
    );
    assert_eq!(fx.removed_files[0].writer, None);
    assert_eq!(ns.next_block_id(), BlockId(8));
}

#[test]
fn create_without_parent_fails_unless_asked() {
    let mut ns = Namespace::default();
    assert!(matches!(create(&mut ns, "/x/y", false), Err(Error::ParentNotFound(_))));
    let op = Op::Create {
        path: "/x/y".into(),
        client: "c".into(),
        replication: 1,
        block_size: 1 << 20,
        overwrite: false,
        create_parent: true,
        mtime_ms: 1,
        owner: "alice".into(),
        mode: 0o644,
        dir_mode: 0o755,
    };
    ns.apply(&op).unwrap();
    assert!(ns.resolve(&p("/x/y")).is_ok());
}

#[test]
fn create_validates_replication_and_block_size_before_changing_anything() {
    let mut ns = Namespace::default();
    let mut op = Op::Create {
        path: "/f".into(),
        client: "c".into(),
        replication: 0,
        block_size: 1 << 20,
        overwrite: false,
        create_parent: false,
        mtime_ms: 1,
        owner: "alice".into(),
        mode: 0o644,
        dir_mode: 0o755,
    };
    assert!(matches!(ns.apply(&op), Err(Error::InvalidReplication(0))));
    if let Op::Create { replication, block_size, .. } = &mut op {
        *replication = 3;
        *block_size = 1000;
    }
    assert!(matches!(ns.apply(&op), Err(Error::InvalidBlockSize(1000))));
    assert!(ns.resolve(&p("/f")).is_err());
}

/// `AddBlock` of block `block` (generation 1) to `/f`, committing `previous` (id, bytes).
fn add_block(previous: Option<(u64, u64)>, block: u64) -> Op {
    Op::AddBlock {
        path: "/f".into(),
        previous: previous.map(|(id, num_bytes)| CommittedBlock { id: BlockId(id), num_bytes }),
        block: BlockId(block),
        generation_stamp: GenStamp(1),
    }
}

#[test]
fn blocks_commit_in_order() {
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    assert!(matches!(ns.apply(&add_block(Some((9, 1)), 1)), Err(Error::BlockMismatch { .. })));
    ns.apply(&add_block(None, 1)).unwrap();
    ns.apply(&add_block(Some((1, 10)), 2)).unwrap();
    ns.apply(&Op::Complete {
        path: "/f".into(),
        last: Some(CommittedBlock { id: BlockId(2), num_bytes: 5 }),
        mtime_ms: 3,
    })
    .unwrap();
    let f = ns.inode(ns.resolve(&p("/f")).unwrap()).unwrap().as_file().unwrap();
    assert_eq!(f.length(), 15);
    assert!(ns.writer(ns.resolve(&p("/f")).unwrap()).is_none());
    assert!(matches!(ns.apply(&add_block(Some((2, 5)), 3)), Err(Error::NotUnderConstruction(_))));
}

#[test]
fn recovery_ops_touch_only_the_last_block_of_an_open_file() {
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    ns.apply(&add_block(None, 1)).unwrap();
    ns.apply(&add_block(Some((1, 10)), 2)).unwrap();
    let bump = |block| Op::UpdateBlock { path: "/f".into(), block: BlockId(block), generation_stamp: GenStamp(5) };
    assert!(matches!(ns.apply(&bump(1)), Err(Error::BlockMismatch { .. })));
    assert_eq!(ns.apply(&bump(2)).unwrap().updated_block.map(|b| b.generation_stamp), Some(GenStamp(5)));
    let fx = ns.apply(&Op::AbandonBlock { path: "/f".into(), block: BlockId(2) }).unwrap();
    assert_eq!(fx.dropped_block.map(|b| b.id), Some(BlockId(2)));
    ns.apply(&add_block(Some((1, 10)), 3)).unwrap();
    let commit = Op::CommitRecovery {
        path: "/f".into(),
        block: BlockId(3),
        generation_stamp: GenStamp(6),
        num_bytes: 7,
        mtime_ms: 9,
    };
    let fx = ns.apply(&commit).unwrap();
    assert!(fx.completed.is_some());
    let f = ns.inode(ns.resolve(&p("/f")).unwrap()).unwrap().as_file().unwrap();
    let open = ns.writer(ns.resolve(&p("/f")).unwrap()).is_some();
    assert_eq!((f.length(), open, f.blocks[1].generation_stamp), (17, false, GenStamp(6)));
    assert!(matches!(ns.apply(&commit), Err(Error::NotUnderConstruction(_))));
}

#[test]
fn delete_needs_recursive_for_non_empty_directories() {
    let mut ns = Namespace::default();
    mkdirs(&mut ns, "/d/e").unwrap();
    create(&mut ns, "/d/e/f", false).unwrap();
    let del = |recursive| Op::Delete { path: "/d".into(), recursive, mtime_ms: 1 };
    assert!(matches!(ns.apply(&del(false)), Err(Error::DirectoryNotEmpty(_))));
    let fx = ns.apply(&del(true)).unwrap();
    assert_eq!(fx.removed_files.len(), 1);
    assert_eq!(ns.inode_count(), 1);
    assert!(matches!(
        ns.apply(&Op::Delete { path: "/".into(), recursive: true, mtime_ms: 1 }),
        Err(Error::RootOperation(_))
    ));
}

#[test]
fn rename_moves_subtrees_and_refuses_moving_into_itself() {
    let mut ns = Namespace::default();
    mkdirs(&mut ns, "/a/b").unwrap();
    mkdirs(&mut ns, "/z").unwrap();
    create(&mut ns, "/a/b/f", false).unwrap();
    let mv = |s: &str, d: &str| Op::Rename { src: s.into(), dst: d.into(), mtime_ms: 1 };
    assert!(matches!(ns.apply(&mv("/a", "/a/b/c")), Err(Error::RenameIntoSelf { .. })));
    assert!(matches!(ns.apply(&mv("/a", "/z")), Err(Error::AlreadyExists(_))));
    assert!(matches!(ns.apply(&mv("/a", "/nope/x")), Err(Error::ParentNotFound(_))));
    ns.apply(&mv("/a", "/z/a2")).unwrap();
    assert_eq!(ns.path_of(ns.resolve(&p("/z/a2/b/f")).unwrap()), p("/z/a2/b/f"));
    assert!(ns.resolve(&p("/a")).is_err());
}

#[test]
fn listing_pages_in_name_order() {
    let mut ns = Namespace::default();
    for n in ["c", "a", "b", "d"] {
        mkdirs(&mut ns, &format!("/{n}")).unwrap();
    }
    let (page, more) = ns.list(&p("/"), "", 3).unwrap();
    let names: Vec<_> = page.iter().map(|(p, _)| p.name().to_string()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(more, 1);
    let (page, more) = ns.list(&p("/"), "c", 3).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(more, 0);
}

#[test]
fn resolve_through_a_file_is_not_a_directory() {
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    assert!(matches!(ns.resolve(&p("/f/g")), Err(Error::NotADirectory(d)) if d == p("/f")));
}

fn perm_of(ns: &Namespace, path: &str) -> (String, String, u16) {
    let perm = ns.inode(ns.resolve(&p(path)).unwrap()).unwrap().perm;
    (ns.names().name(perm.owner()).to_string(), ns.names().name(perm.group()).to_string(), perm.mode())
}

#[test]
fn new_entries_take_the_caller_as_owner_and_the_parent_group() {
    let mut ns = Namespace::default();
    ns.apply(&Op::Mkdirs { path: "/a/b".into(), mtime_ms: 1, owner: "alice".into(), mode: 0o750 }).unwrap();
    // The parent made on the way is writable by its owner; the leaf has the mode asked.
    assert_eq!(perm_of(&ns, "/a"), ("alice".into(), "".into(), 0o750 | 0o300));
    assert_eq!(perm_of(&ns, "/a/b"), ("alice".into(), "".into(), 0o750));
    ns.apply(&Op::SetOwner { path: "/a/b".into(), owner: None, group: Some("staff".into()) }).unwrap();
    create(&mut ns, "/a/b/f", false).unwrap();
    assert_eq!(perm_of(&ns, "/a/b/f"), ("alice".into(), "staff".into(), 0o644));
    ns.apply(&Op::SetOwner { path: "/a/b/f".into(), owner: Some("bob".into()), group: None }).unwrap();
    ns.apply(&Op::SetPermission { path: "/a/b/f".into(), mode: 0o1600 }).unwrap();
    assert_eq!(perm_of(&ns, "/a/b/f"), ("bob".into(), "staff".into(), 0o1600));
    ns.apply(&Op::SetTimes { path: "/a/b/f".into(), mtime_ms: 42 }).unwrap();
    assert_eq!(ns.inode(ns.resolve(&p("/a/b/f")).unwrap()).unwrap().mtime_ms, 42);
    // Names are interned once, in the order ops first used them.
    assert_eq!((ns.names().id("alice"), ns.names().id("staff"), ns.names().id("bob")), (Some(1), Some(2), Some(3)));
    assert!(matches!(ns.apply(&Op::SetPermission { path: "/nope".into(), mode: 0o700 }), Err(Error::NotFound(_))));
}

#[test]
fn ops_from_before_owners_make_the_superusers_entries() {
    let mut ns = Namespace::default();
    ns.apply(&Op::MkdirsV1 { path: "/old".into(), mtime_ms: 1 }).unwrap();
    ns.apply(&Op::CreateV1 {
        path: "/old/sub/f".into(),
        client: "c".into(),
        replication: 1,
        block_size: 1 << 20,
        overwrite: false,
        create_parent: true,
        mtime_ms: 1,
    })
    .unwrap();
    assert_eq!(perm_of(&ns, "/"), ("".into(), "".into(), 0o755));
    assert_eq!(perm_of(&ns, "/old"), ("".into(), "".into(), 0o755));
    assert_eq!(perm_of(&ns, "/old/sub"), ("".into(), "".into(), 0o755));
    assert_eq!(perm_of(&ns, "/old/sub/f"), ("".into(), "".into(), 0o644));
    assert_eq!(ns.names().id(""), None);
}

/// A closed file at `path` with one block of `len` bytes, id `block`.
fn closed_file(ns: &mut Namespace, path: &str, block: u64, len: u64) {
    create(ns, path, false).unwrap();
    let add = Op::AddBlock { path: path.into(), previous: None, block: BlockId(block), generation_stamp: GenStamp(1) };
    ns.apply(&add).unwrap();
    let last = Some(CommittedBlock { id: BlockId(block), num_bytes: len });
    ns.apply(&Op::Complete { path: path.into(), last, mtime_ms: 2 }).unwrap();
}

#[test]
fn concat_moves_the_sources_blocks_in_order_and_removes_the_sources() {
    let mut ns = Namespace::default();
    closed_file(&mut ns, "/t", 1, 10);
    closed_file(&mut ns, "/a", 2, 20);
    closed_file(&mut ns, "/b", 3, 5);
    create(&mut ns, "/open", false).unwrap();
    let concat = |target: &str, sources: &[&str]| Op::Concat {
        target: target.into(),
        sources: sources.iter().map(|s| s.to_string()).collect(),
        mtime_ms: 9,
    };
    // Refusals change nothing.
    for (op, what) in [
        (concat("/t", &[]), "no sources"),
        (concat("/t", &["/t"]), "the target as a source"),
        (concat("/t", &["/a", "/a"]), "a source twice"),
        (concat("/t", &["/a", "/missing"]), "a missing source"),
        (concat("/t", &["/open"]), "a source being written"),
        (concat("/open", &["/a"]), "a target being written"),
        (concat("/t", &["/"]), "a directory"),
    ] {
        assert!(ns.apply(&op).is_err(), "{what} was accepted");
        assert!(ns.resolve(&p("/a")).is_ok(), "{what} removed a source");
    }
    assert!(matches!(ns.apply(&concat("/t", &["/open"])), Err(Error::LeaseHeldByOther(_))));
    ns.apply(&concat("/t", &["/b", "/a"])).unwrap();
    let f = ns.inode(ns.resolve(&p("/t")).unwrap()).unwrap().as_file().unwrap();
    assert_eq!(f.blocks.iter().map(|b| b.id.0).collect::<Vec<_>>(), [1, 3, 2]);
    assert_eq!(f.length(), 35);
    assert!(ns.resolve(&p("/a")).is_err() && ns.resolve(&p("/b")).is_err());
}

#[test]
fn a_content_summary_in_steps_matches_one_at_once_and_skips_what_went_meanwhile() {
    let mut ns = Namespace::default();
    for d in 0..30 {
        mkdirs(&mut ns, &format!("/d{d}/e")).unwrap();
        create(&mut ns, &format!("/d{d}/f"), false).unwrap();
    }
    let whole = ns.content_summary(&p("/")).unwrap();
    assert_eq!((whole.directories, whole.files), (61, 30));
    let mut walk = super::SummaryWalk::new(&ns, &p("/")).unwrap();
    let mut steps = 1;
    let stepped = loop {
        match walk.step(&ns, 7) {
            Some(s) => break s,
            None => steps += 1,
        }
    };
    assert_eq!((stepped, steps), (whole, 14), "91 entries, 7 a step");
    let mut walk = super::SummaryWalk::new(&ns, &p("/")).unwrap();
    assert!(walk.step(&ns, 1).is_none());
    ns.apply(&Op::Delete { path: "/d0".into(), recursive: true, mtime_ms: 2 }).unwrap();
    let after = walk.step(&ns, usize::MAX).unwrap();
    assert_eq!((after.directories, after.files), (59, 29));
}

/// Found by the op-sequence property: the next block id after `u64::MAX` overflowed (a panic).
#[test]
fn a_block_id_with_no_successor_is_refused() {
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    let e = ns.apply(&add_block(None, u64::MAX)).unwrap_err();
    assert!(matches!(e, Error::BadBlock { .. }) && e.to_string().contains("out of range"), "{e}");
    assert_eq!(ns.next_block_id(), BlockId(1));
}

/// Committed lengths beyond any block size summed past `u64::MAX` in the file's length (a panic
/// in truncate, the content summary, block locations).
#[test]
fn a_committed_length_beyond_the_largest_block_is_refused() {
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    ns.apply(&add_block(None, 1)).unwrap();
    let e = ns.apply(&add_block(Some((1, u64::MAX)), 2)).unwrap_err();
    assert!(e.to_string().contains("exceeds the largest block size"), "{e}");
    ns.apply(&add_block(Some((1, hdfs_proto::MAX_BLOCK_SIZE)), 2)).unwrap();
    let recover = |num_bytes| Op::CommitRecovery {
        path: "/f".into(),
        block: BlockId(2),
        generation_stamp: GenStamp(2),
        num_bytes,
        mtime_ms: 1,
    };
    assert!(matches!(ns.apply(&recover(u64::MAX)), Err(Error::BadBlock { .. })));
    ns.apply(&recover(5)).unwrap();
    assert_eq!(ns.content_summary(&p("/f")).unwrap().length, hdfs_proto::MAX_BLOCK_SIZE + 5);
}

/// Found by the op-sequence property: a file cut inside a block could be closed by `Complete`
/// (with any length) and kept its truncate target, which a later recovery of the file would
/// have used.
#[test]
fn a_file_being_truncated_is_closed_only_by_its_recovery() {
    let complete = |n| Op::Complete {
        path: "/f".into(),
        last: Some(CommittedBlock { id: BlockId(1), num_bytes: n }),
        mtime_ms: 2,
    };
    let mut ns = Namespace::default();
    create(&mut ns, "/f", false).unwrap();
    ns.apply(&add_block(None, 1)).unwrap();
    ns.apply(&complete(4)).unwrap();
    ns.apply(&Op::Truncate { path: "/f".into(), client: "c1".into(), new_length: 1, mtime_ms: 3 }).unwrap();
    assert!(matches!(ns.apply(&complete(0)), Err(Error::BeingTruncated(_))));
    assert!(matches!(ns.apply(&add_block(Some((1, 1)), 2)), Err(Error::BeingTruncated(_))));
    assert!(matches!(
        ns.apply(&Op::AbandonBlock { path: "/f".into(), block: BlockId(1) }),
        Err(Error::BeingTruncated(_))
    ));
    let recover = Op::CommitRecovery {
        path: "/f".into(),
        block: BlockId(1),
        generation_stamp: GenStamp(2),
        num_bytes: 1,
        mtime_ms: 4,
    };
    ns.apply(&recover).unwrap();
    let id = ns.resolve(&p("/f")).unwrap();
    assert_eq!((ns.writer(id), ns.truncating(id)), (None, None));
    assert_eq!(ns.content_summary(&p("/f")).unwrap().length, 1);
}

#[test]
fn check_finds_what_a_damaged_image_breaks() {
    let mut ns = Namespace::default();
    mkdirs(&mut ns, "/a/b").unwrap();
    create(&mut ns, "/a/f", false).unwrap();
    assert_eq!(ns.check(), Ok(()));
    let b = ns.resolve(&p("/a/b")).unwrap();
    let mut lost = ns.clone();
    lost.inodes.remove(b);
    assert!(lost.check().unwrap_err().contains("not its child"));
    let mut moved = ns.clone();
    moved.inodes.get_mut(b).unwrap().parent = ROOT;
    assert!(moved.check().unwrap_err().contains("its parent is"));
    let mut renamed = ns.clone();
    renamed.inodes.get_mut(b).unwrap().name = "g".into();
    assert!(renamed.check().unwrap_err().contains("out of order"));
}
