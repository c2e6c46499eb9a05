//! A randomized history against a namenode group of 3: namespace operations and small files,
//! with failovers in between (the leader killed and restarted, the leader cut off and healed,
//! every link slowed). Every operation must succeed through the client's failover, and
//! afterwards the namespace must hold exactly the acknowledged history: nothing acknowledged
//! lost, nothing applied twice (a create, rename or delete applied twice would fail).
//!
//! `HA_SEED=N` replays one history; the seed of each run is printed.

use std::collections::BTreeMap;
use std::time::Duration;

use hdfs_client::{Client, CreateOptions};
use hdfs_tests::{ClusterOptions, MiniCluster};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the group must hold: each file's bytes, and the directories.
#[derive(Default)]
struct Model {
    files: BTreeMap<String, Vec<u8>>,
    dirs: Vec<String>,
}

enum Fault {
    None,
    /// The leader (by index) was killed; it is started again after a few operations.
    Killed(usize, u32),
    /// The leader (by index) is cut off; healed after a few operations.
    Cut(usize, u32),
    Slow(u32),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_with_failovers_keep_exactly_the_acknowledged_namespace() {
    let seed = std::env::var("HA_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    eprintln!("HA_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let opts = ClusterOptions { namenodes: 3, datanodes: 2, replication: 2, ..Default::default() };
    let mut cluster = MiniCluster::with_options(opts).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut model = Model::default();
    let mut fault = Fault::None;
    let mut failovers = 0;

    for step in 0..60u32 {
        // Faults: at most one at a time, so a majority always remains.
        fault = match fault {
            Fault::None if rng.u32(0..8) == 0 => {
                let leader = cluster.wait_leader(None).await.unwrap();
                failovers += 1;
                match rng.u32(0..3) {
                    0 => {
                        cluster.stop_namenode(leader, false).await;
                        Fault::Killed(leader, rng.u32(1..4))
                    }
                    1 => {
                        cluster.partition_namenode(leader, true);
                        Fault::Cut(leader, rng.u32(1..4))
                    }
                    _ => {
                        cluster.delay_namenode_links(Some(Duration::from_millis(rng.u64(5..40))));
                        Fault::Slow(rng.u32(2..6))
                    }
                }
            }
            Fault::Killed(i, 0) => {
                cluster.start_namenode(i).await.unwrap();
                Fault::None
            }
            Fault::Cut(i, 0) => {
                cluster.partition_namenode(i, false);
                Fault::None
            }
            Fault::Slow(0) => {
                cluster.delay_namenode_links(None);
                Fault::None
            }
            Fault::Killed(i, n) => Fault::Killed(i, n - 1),
            Fault::Cut(i, n) => Fault::Cut(i, n - 1),
            Fault::Slow(n) => Fault::Slow(n - 1),
            f => f,
        };
        let op = rng.u32(0..10);
        let files: Vec<String> = model.files.keys().cloned().collect();
        match op {
            0..=1 => {
                let dir = format!("/d{}", rng.u32(0..5));
                client.mkdirs(&dir, true).await.unwrap_or_else(|e| panic!("step {step}: mkdirs {dir}: {e}"));
                if !model.dirs.contains(&dir) {
                    model.dirs.push(dir);
                }
            }
            2..=5 => {
                let dir = format!("/d{}", rng.u32(0..5));
                let path = format!("{dir}/f{step}");
                let data: Vec<u8> = (0..rng.usize(1..200_000)).map(|_| rng.u8(..)).collect();
                let opts = CreateOptions { create_parent: true, ..Default::default() };
                let mut w =
                    client.create(&path, opts).await.unwrap_or_else(|e| panic!("step {step}: create {path}: {e}"));
                w.write_all(&data).await.unwrap();
                w.shutdown().await.unwrap_or_else(|e| panic!("step {step}: close {path}: {e}"));
                if !model.dirs.contains(&dir) {
                    model.dirs.push(dir);
                }
                model.files.insert(path, data);
            }
            6..=7 if !files.is_empty() => {
                let src = &files[rng.usize(0..files.len())];
                let dst = format!("{src}-r{step}");
                client.rename(src, &dst).await.unwrap_or_else(|e| panic!("step {step}: rename {src}: {e}"));
                let data = model.files.remove(src).unwrap();
                model.files.insert(dst, data);
            }
            8..=9 if !files.is_empty() => {
                let victim = &files[rng.usize(0..files.len())];
                client.delete(victim, false).await.unwrap_or_else(|e| panic!("step {step}: delete {victim}: {e}"));
                model.files.remove(victim);
            }
            _ => {}
        }
    }
    match fault {
        Fault::Killed(i, _) => cluster.start_namenode(i).await.unwrap(),
        Fault::Cut(i, _) => cluster.partition_namenode(i, false),
        Fault::Slow(_) => cluster.delay_namenode_links(None),
        Fault::None => {}
    }
    eprintln!("{failovers} faults injected");

    // Exactly the model: every directory, every file with its bytes, nothing else.
    let mut found = BTreeMap::new();
    let mut dirs = Vec::new();
    for entry in client.list("/").await.unwrap() {
        assert!(entry.is_dir(), "unexpected file {}", entry.path);
        dirs.push(entry.path.clone());
        for f in client.list(&entry.path).await.unwrap() {
            found.insert(f.path.clone(), f.length as usize);
        }
    }
    dirs.sort();
    model.dirs.sort();
    assert_eq!(dirs, model.dirs, "directories (seed {seed})");
    let expected: BTreeMap<String, usize> = model.files.iter().map(|(p, d)| (p.clone(), d.len())).collect();
    assert_eq!(found, expected, "files and lengths (seed {seed})");
    for (path, data) in &model.files {
        let mut r = client.open(path).await.unwrap();
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        assert!(got == *data, "{path}: bytes differ (seed {seed})");
    }
    // Every member ends with the same namespace.
    cluster.wait_namenodes_caught_up().await.unwrap();
}
