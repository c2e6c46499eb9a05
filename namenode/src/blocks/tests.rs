//! The block manager's decisions, tested with no sockets and no clock.

use hdfs_proto::{BlockId, BlockRef, GenStamp};

use super::*;
use crate::datanodes::Command;
use crate::namespace::{CommittedBlock, Op};

/// A namespace with one complete file `/f` at `replication` of one block (id 1, generation
/// 1, 10 bytes); returns the file's inode and the block.
fn one_block_file(replication: u32) -> (Namespace, crate::namespace::InodeId, Block) {
    let mut ns = Namespace::default();
    let create = Op::Create {
        path: "/f".into(),
        client: "c".into(),
        replication,
        block_size: 1 << 20,
        overwrite: false,
        create_parent: false,
        mtime_ms: 0,
        owner: "alice".into(),
        mode: 0o644,
        dir_mode: 0o755,
    };
    let file = ns.apply(&create).unwrap().created.unwrap();
    let add = Op::AddBlock { path: "/f".into(), previous: None, block: BlockId(1), generation_stamp: GenStamp(1) };
    let block = ns.apply(&add).unwrap().added_block.unwrap().1;
    ns.apply(&Op::Complete {
        path: "/f".into(),
        last: Some(CommittedBlock { id: BlockId(1), num_bytes: 10 }),
        mtime_ms: 0,
    })
    .unwrap();
    (ns, file, block)
}

/// `one_block_file(1)`, its block known to a block manager with one registered datanode
/// "dn".
fn setup() -> (Namespace, BlockManager) {
    let (ns, file, block) = one_block_file(1);
    let mut bm = BlockManager::new(&Config::new("/unused"));
    bm.add_block(&block, file);
    bm.register("dn", "h:1", "", Storage::default(), Instant::now()).unwrap();
    bm.safe_mode.leave();
    (ns, bm)
}

fn deletes(bm: &mut BlockManager) -> Vec<BlockRef> {
    let (cmds, _) = bm.heartbeat("dn", Storage::default(), Instant::now()).unwrap();
    cmds.into_iter()
        .flat_map(|c| match c {
            Command::DeleteBlocks(d) => d,
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn nodes_are_asked_back_early_when_another_is_about_to_be_declared_dead() {
    let (_, mut bm) = setup();
    let t0 = Instant::now();
    bm.register("other", "h:2", "", Storage::default(), t0).unwrap();
    let soon = |bm: &mut BlockManager, at| bm.heartbeat("dn", Storage::default(), at).unwrap().1;
    assert!(!soon(&mut bm, t0), "nothing to do, nobody dying");
    // "other" stays silent: within one interval of its dead-after deadline, "dn" is asked to
    // call early, so it hears of the copies as soon as they are scheduled.
    let near = t0 + bm.dead_after - bm.heartbeat / 2;
    assert!(soon(&mut bm, near));
    bm.heartbeat("other", Storage::default(), near).unwrap();
    assert!(!soon(&mut bm, near), "it called after all");
}

#[test]
fn an_unfinished_replica_of_the_current_generation_is_not_deleted() {
    // Listed as unfinished just before it was finalized and its file completed.
    let (ns, mut bm) = setup();
    let current = ReportedReplica { block: BlockId(1), generation_stamp: GenStamp(1), num_bytes: 10 };
    bm.block_report(&ns, "dn", &[], &[current]).unwrap();
    assert!(deletes(&mut bm).is_empty());
    // An older generation (left by a pipeline recovery) and an unknown block (one the namespace
    // has passed) are junk.
    let stale = ReportedReplica { block: BlockId(1), generation_stamp: GenStamp(0), num_bytes: 10 };
    let unknown = ReportedReplica { block: BlockId(0), generation_stamp: GenStamp(1), num_bytes: 10 };
    bm.block_report(&ns, "dn", &[], &[stale, unknown]).unwrap();
    assert_eq!(deletes(&mut bm), vec![BlockRef::new(1, 0), BlockRef::new(0, 1)]);
}

#[test]
fn a_copy_not_confirmed_in_time_is_scheduled_again() {
    let (ns, file, block) = one_block_file(2);
    let mut config = Config::new("/unused");
    config.replication_timeout = Duration::from_secs(1);
    let mut bm = BlockManager::new(&config);
    bm.safe_mode.leave();
    bm.add_block(&block, file);
    let t0 = Instant::now();
    bm.register("a", "a:1", "", Storage::default(), t0).unwrap();
    bm.register("b", "b:1", "", Storage::default(), t0).unwrap();
    let replica = ReportedReplica { block: BlockId(1), generation_stamp: GenStamp(1), num_bytes: 10 };
    bm.block_report(&ns, "a", &[replica], &[]).unwrap();

    bm.tick(&ns, t0, true, true);
    assert_eq!(bm.history().len(), 1, "one copy for the missing replica");
    assert_eq!(bm.nodes.get(bm.nodes.lookup("a").unwrap()).streams, 1);
    bm.tick(&ns, t0 + Duration::from_millis(500), true, true);
    assert_eq!(bm.history().len(), 1, "still in flight");
    // No report from the target within the timeout: the stream is returned, the copy retried.
    bm.tick(&ns, t0 + Duration::from_secs(2), true, true);
    assert_eq!(bm.history().len(), 2);
    assert_eq!(bm.nodes.get(bm.nodes.lookup("a").unwrap()).streams, 1);
}

#[test]
fn a_replica_reported_before_its_block_is_applied_is_kept_until_it_is() {
    // A member behind the leader: the namespace has block 1; a datanode already reports block 2
    // (allocated by an op this member has not applied yet) and a newer generation of block 1.
    let (mut ns, mut bm) = setup();
    let early = ReportedReplica { block: BlockId(2), generation_stamp: GenStamp(1), num_bytes: 5 };
    bm.incremental_report(&ns, "dn", &[early], &[]).unwrap();
    assert!(deletes(&mut bm).is_empty(), "not an orphan: its op is on the way");
    assert!(bm.read_locations(BlockId(2)).is_empty());

    // The op arrives: the replica counts from then on.
    let create = Op::Create {
        path: "/g".into(),
        client: "c".into(),
        replication: 1,
        block_size: 1 << 20,
        overwrite: false,
        create_parent: false,
        mtime_ms: 0,
        owner: "alice".into(),
        mode: 0o644,
        dir_mode: 0o755,
    };
    let file = ns.apply(&create).unwrap().created.unwrap();
    let add = Op::AddBlock { path: "/g".into(), previous: None, block: BlockId(2), generation_stamp: GenStamp(1) };
    let (_, block) = ns.apply(&add).unwrap().added_block.unwrap();
    bm.add_block(&block, file);
    assert_eq!(bm.read_locations(BlockId(2)).len(), 1, "recorded when its block was applied");

    // A block id the namespace has passed is a true orphan, deleted as before.
    let orphan = ReportedReplica { block: BlockId(0), generation_stamp: GenStamp(1), num_bytes: 5 };
    bm.incremental_report(&ns, "dn", &[orphan], &[]).unwrap();
    assert_eq!(deletes(&mut bm), vec![BlockRef::new(0, 1)]);

    // One no op ever allocates (an old cluster's replica) is deleted by the leader in time.
    let foreign = ReportedReplica { block: BlockId(99), generation_stamp: GenStamp(1), num_bytes: 5 };
    bm.incremental_report(&ns, "dn", &[foreign], &[]).unwrap();
    bm.expire_ahead(Instant::now());
    assert!(deletes(&mut bm).is_empty(), "kept while its op may still come");
    bm.expire_ahead(Instant::now() + bm.dead_after * 2);
    assert_eq!(deletes(&mut bm), vec![BlockRef::new(99, 1)]);
}
