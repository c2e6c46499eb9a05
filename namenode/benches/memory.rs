//! How the namenode's structures grow with files, without RPC: bytes per file, counted by the
//! allocator, and the time of a full block report, a heartbeat and a monitor tick.
//!
//! `cargo bench -p hdfs-namenode --bench memory [-- FILES]` builds a namespace of FILES
//! single-block files (default 1,000,000) at replication 3, 32 files per directory, through the
//! same `Namespace::apply` and `BlockManager` calls the namenode makes, with three datanodes
//! reporting every replica; it prints the bytes allocated (live, as the allocator counts them,
//! not RSS) per file for the namespace, then for the block map and datanode state on top. The
//! `meta` phase of `hdfs-bench` measures the whole process's resident memory instead; the gap
//! between the two is allocator overhead and everything else in the process.
//!
//! Then, as after a namenode restart, a fresh block map takes the three datanodes' full block
//! reports (timed), and a heartbeat and a monitor tick are timed on the full map
//! (docs/SCALE.md uses these figures), then again with 1,000 registered datanodes.

use hdfs_proto::GenStamp;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use hdfs_namenode::Config;
use hdfs_namenode::Storage;
use hdfs_namenode::{BlockManager, ReportedReplica};
use hdfs_namenode::{CommittedBlock, Namespace, Op};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const FILES_PER_DIR: u64 = 32;

fn main() {
    let files: u64 =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let start = Instant::now();
    let base = LIVE.load(Ordering::Relaxed);
    let mut ns = Namespace::default();
    let mut bm = BlockManager::new(&Config::new("/nonexistent"));
    let storage = Storage { capacity: 1 << 50, used: 0, remaining: 1 << 50, active_transfers: 0 };
    let nodes = ["dn-0", "dn-1", "dn-2"];
    for (i, n) in nodes.iter().enumerate() {
        bm.register(n, &format!("127.0.0.1:{}", 10 + i), "", storage, Instant::now()).unwrap();
    }
    let apply = |ns: &mut Namespace, op: Op| ns.apply(&op).unwrap_or_else(|e| panic!("{op:?}: {e}"));
    let mut blocks = Vec::with_capacity(files as usize);
    for i in 0..files {
        let path = format!("/meta/files/d{}/f{i}", i / FILES_PER_DIR);
        if i % FILES_PER_DIR == 0 {
            apply(
                &mut ns,
                Op::Mkdirs {
                    path: format!("/meta/files/d{}", i / FILES_PER_DIR),
                    mtime_ms: 1,
                    owner: "bench".into(),
                    mode: 0o755,
                },
            );
        }
        let created = apply(
            &mut ns,
            Op::Create {
                path: path.clone(),
                client: "c".into(),
                replication: 3,
                block_size: 128 << 20,
                overwrite: false,
                create_parent: false,
                mtime_ms: 1,
                owner: "bench".into(),
                mode: 0o644,
                dir_mode: 0o755,
            },
        )
        .created
        .expect("created");
        let block = ns.next_block_id();
        let fx =
            apply(&mut ns, Op::AddBlock { path: path.clone(), previous: None, block, generation_stamp: GenStamp(1) });
        apply(
            &mut ns,
            Op::Complete { path, last: Some(CommittedBlock { id: block, num_bytes: 1 << 20 }), mtime_ms: 2 },
        );
        blocks.push((created, fx.added_block.expect("added").1));
    }
    // The list of blocks kept for the second pass is not the namespace's.
    let ns_bytes = LIVE.load(Ordering::Relaxed) - base - blocks.capacity() * std::mem::size_of_val(&blocks[0]);
    for (i, (created, b)) in blocks.iter().enumerate() {
        bm.add_block(b, *created);
        let replica = ReportedReplica { block: b.id, generation_stamp: GenStamp(1), num_bytes: 1 << 20 };
        for n in nodes {
            bm.incremental_report(&ns, n, &[replica], &[]).expect("report");
        }
        if i % 10_000 == 0 {
            // As the replication monitor does every second: drains the blocks to classify.
            bm.tick(&ns, Instant::now(), true, true);
        }
    }
    bm.tick(&ns, Instant::now(), true, true);
    drop(blocks);
    let total = LIVE.load(Ordering::Relaxed) - base;
    let per = |b: usize| b as f64 / files as f64;
    println!(
        "{files} single-block files, replication 3, {FILES_PER_DIR} per directory ({:.1} s)",
        start.elapsed().as_secs_f64()
    );
    println!(
        "sizes: inode slot {} B, block map slot {} B",
        std::mem::size_of::<Option<hdfs_namenode::Inode>>(),
        std::mem::size_of::<Option<hdfs_namenode::BlockEntry>>()
    );
    println!("namespace (inodes, names, directory entries): {:.0} B/file", per(ns_bytes));
    println!("namespace + block map + datanode state, live at the end: {:.0} B/file", per(total));
    println!("inodes: {}", ns.inode_count());
    drop(bm);

    // A restart: the block map is rebuilt from the namespace, then from full reports.
    let mut bm = BlockManager::new(&Config::new("/nonexistent"));
    let t = Instant::now();
    for (id, file) in ns.files() {
        for b in &file.blocks {
            bm.add_block(b, id);
        }
    }
    println!("block map rebuilt from the namespace: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let report: Vec<ReportedReplica> = ns
        .files()
        .flat_map(|(_, f)| {
            f.blocks.iter().map(|b| ReportedReplica { block: b.id, generation_stamp: GenStamp(1), num_bytes: 1 << 20 })
        })
        .collect();
    for (i, n) in nodes.iter().enumerate() {
        bm.register(n, &format!("127.0.0.1:{}", 10 + i), "", storage, Instant::now()).unwrap();
        let t = Instant::now();
        bm.block_report(&ns, n, &report, &[]).expect("report");
        let took = t.elapsed();
        println!(
            "full block report of {} replicas from {n}: {:.0} ms ({:.2} us a replica)",
            report.len(),
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e6 / report.len() as f64
        );
    }
    let t = Instant::now();
    bm.tick(&ns, Instant::now(), true, true);
    println!("monitor tick in safe mode (counts reported blocks): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    // Every block is reported: what the extension would end after its wait, ended now, so what
    // follows is the work of a namenode in service.
    bm.safe_mode.leave();
    let t = Instant::now();
    let beats = 10_000;
    for i in 0..beats {
        bm.heartbeat(nodes[i % 3], storage, Instant::now()).expect("heartbeat");
    }
    println!("heartbeat: {:.2} us", t.elapsed().as_secs_f64() * 1e6 / beats as f64);
    let t = Instant::now();
    bm.tick(&ns, Instant::now(), true, true);
    println!("monitor tick leaving safe mode (classifies every block): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    bm.tick(&ns, Instant::now(), true, true);
    println!("monitor tick after that: {:.3} ms", t.elapsed().as_secs_f64() * 1e3);

    // The same with 1,000 datanodes: a heartbeat looks at every node's deadline.
    let many: Vec<String> = (0..997).map(|i| format!("idle-{i}")).collect();
    for (i, n) in many.iter().enumerate() {
        bm.register(n, &format!("127.0.0.2:{}", 10 + i), "", storage, Instant::now()).unwrap();
    }
    let t = Instant::now();
    for i in 0..beats {
        bm.heartbeat(&many[i % many.len()], storage, Instant::now()).expect("heartbeat");
    }
    println!("heartbeat with 1,000 datanodes: {:.2} us", t.elapsed().as_secs_f64() * 1e6 / beats as f64);
    let t = Instant::now();
    bm.tick(&ns, Instant::now(), true, true);
    println!("monitor tick with 1,000 datanodes: {:.3} ms", t.elapsed().as_secs_f64() * 1e3);
}
