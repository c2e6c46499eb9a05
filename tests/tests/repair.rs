//! Failure handling and repair: dead datanodes, priorities, trimming, corruption, decommission,
//! safe mode, and writers or datanodes that disappear mid-operation. Each test waits on
//! conditions with deadlines; intervals are short so the suite stays quick.

mod common;

use std::time::{Duration, Instant};

use common::{MIB, get, put, random_bytes, wait_healthy, wait_healthy_within};
use hdfs_client::{Client, CreateOptions, Error, SafeModeAction};
use hdfs_namenode::Priority;
use hdfs_tests::{ClusterOptions, MiniCluster, SETTLE_TIMEOUT, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Short, but not so short that a busy CI machine makes a healthy node miss it.
const DEAD_AFTER: Duration = Duration::from_secs(3);

fn opts(datanodes: usize) -> ClusterOptions {
    ClusterOptions { datanodes, dead_after: DEAD_AFTER, ..Default::default() }
}

/// Writes `n` files of 2.5 blocks at replication 3; returns their contents.
async fn write_files(client: &Client, n: usize) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for i in 0..n {
        let path = format!("/data/f{i}");
        let data = random_bytes(2 * MIB + MIB / 2, i as u64);
        put(client, &path, &data, 3).await;
        files.push((path, data));
    }
    files
}

/// The address of the `n`th holder of the first block of /data/f0.
/// The nodes holding the first block of the first file, from one answer (the namenode orders
/// locations afresh for every call, so two calls may name one node twice).
async fn holders(cluster: &MiniCluster) -> Vec<String> {
    let blocks = cluster.block_locations("/data/f0").await.unwrap();
    blocks[0].locations.iter().map(|l| l.address.clone()).collect()
}

async fn verify(client: &Client, files: &[(String, Vec<u8>)]) {
    for (path, data) in files {
        assert!(get(client, path).await == *data, "{path}: contents differ");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_datanode_is_detected_and_its_blocks_re_replicated() {
    let mut cluster = MiniCluster::with_options(opts(4)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let files = write_files(&client, 4).await;
    wait_healthy(&client).await;

    // A node that holds replicas (on a busy machine a stale node may have been given none).
    let addr = holders(&cluster).await.swap_remove(0);
    let stopped = Instant::now();
    cluster.stop_datanode(cluster.datanode_index(&addr).unwrap()).await;
    cluster.wait_datanode_dead(&addr, DEAD_AFTER * 3).await.unwrap();
    let detect = stopped.elapsed();
    assert!(detect <= DEAD_AFTER + cluster.options().heartbeat * 2, "declared dead after {detect:?}");

    wait_healthy(&client).await;
    let ns = cluster.namesystem().unwrap();
    assert!(!ns.scheduled_copies().is_empty(), "repair went through the replication monitor");
    for (path, _) in &files {
        cluster.wait_exact_replicas(path, 3).await.unwrap();
    }
    verify(&client, &files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_left_with_one_replica_are_repaired_first() {
    // Five nodes, so that three are left to hold every block again.
    let options = ClusterOptions { max_replication_streams: 64, ..opts(5) };
    let mut cluster = MiniCluster::with_options(options).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let files = write_files(&client, 8).await;
    wait_healthy(&client).await;

    // Hold repairs while both nodes are declared dead, so that one round sees all the damage.
    client.safe_mode(SafeModeAction::Enter).await.unwrap();
    // Two nodes that share a block, so that at least that block is left with one replica.
    let addrs = holders(&cluster).await[..2].to_vec();
    for addr in &addrs {
        cluster.stop_datanode(cluster.datanode_index(addr).unwrap()).await;
    }
    for addr in &addrs {
        cluster.wait_datanode_dead(addr, DEAD_AFTER * 3).await.unwrap();
    }
    let ns = cluster.namesystem().unwrap();
    let before = ns.scheduled_copies().len();
    client.safe_mode(SafeModeAction::Leave).await.unwrap();
    wait_healthy(&client).await;

    let order: Vec<Priority> = ns.scheduled_copies()[before..].iter().map(|c| c.priority).collect();
    let highest = order.iter().filter(|p| **p == Priority::Highest).count();
    assert!(highest > 0 && highest < order.len(), "both kinds of damage present: {order:?}");
    assert!(order[..highest].iter().all(|p| *p == Priority::Highest), "one-replica blocks first: {order:?}");
    verify(&client, &files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datanode_that_returns_after_repair_has_its_extra_replicas_trimmed() {
    let mut cluster = MiniCluster::with_options(opts(4)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let files = write_files(&client, 3).await;
    let addr = holders(&cluster).await.swap_remove(0);
    let i = cluster.datanode_index(&addr).unwrap();
    cluster.stop_datanode(i).await;
    cluster.wait_datanode_dead(&addr, DEAD_AFTER * 3).await.unwrap();
    wait_healthy(&client).await;

    cluster.restart_datanode(i).await.unwrap();
    cluster.wait_live_datanodes(4).await.unwrap();
    for (path, _) in &files {
        cluster.wait_exact_replicas(path, 3).await.unwrap();
    }
    wait_healthy(&client).await;
    verify(&client, &files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datanode_killed_mid_put_and_mid_get_loses_nothing() {
    let mut cluster = MiniCluster::with_options(opts(3)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    // 1 GiB in 8 MiB blocks (128 pipelines); the waits allow for a slow debug build on CI.
    let data = random_bytes(1024 * MIB + 123, 42);
    let slow = SETTLE_TIMEOUT * 6;

    // Put: every pipeline has all three nodes, so the kill lands in the one being written.
    let writer = {
        let (client, data) = (client.clone(), data.clone());
        tokio::spawn(async move {
            let opts = CreateOptions::default().replication(3).block_size(8 * MIB as u64);
            let mut w = client.create("/big", opts).await?;
            for piece in data.chunks(256 * 1024) {
                w.write_all(piece).await?;
            }
            w.close().await
        })
    };
    wait_until("a third of the put", slow, || async {
        client.stat("/big").await.is_ok_and(|s| s.length >= 300 * MIB as u64)
    })
    .await
    .unwrap();
    cluster.kill_datanode(1).await;
    assert_eq!(writer.await.unwrap().unwrap(), data.len() as u64, "the put succeeds without the node");
    assert!(get(&client, "/big").await == data);

    // Get: kill the node most blocks would be read from, a third of the way in.
    cluster.restart_datanode(1).await.unwrap();
    cluster.wait_live_datanodes(3).await.unwrap();
    wait_healthy_within(&client, slow).await;
    let mut reader = client.open("/big").await.unwrap();
    let locations = cluster.block_locations("/big").await.unwrap();
    let mut counts = std::collections::HashMap::new();
    for b in &locations[50..] {
        *counts.entry(b.locations[0].address.clone()).or_insert(0) += 1;
    }
    let busiest = counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0;
    let mut out = vec![0u8; 300 * MIB];
    reader.read_exact(&mut out).await.unwrap();
    cluster.kill_datanode(cluster.datanode_index(&busiest).unwrap()).await;
    reader.read_to_end(&mut out).await.unwrap();
    assert!(out == data, "the get succeeds from the other replicas");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_replica_is_found_by_the_scanner_replaced_then_deleted() {
    let options =
        ClusterOptions { scan_bytes_per_sec: 256 * MIB as u64, scan_period: Duration::from_millis(300), ..opts(4) };
    let cluster = MiniCluster::with_options(options).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let files = write_files(&client, 1).await;
    wait_healthy(&client).await;

    let blocks = cluster.block_locations("/data/f0").await.unwrap();
    let victim = &blocks[0].locations[2].address;
    let i = cluster.datanode_index(victim).unwrap();
    let block_id = blocks[0].block.unwrap().block_id;
    let path = cluster.replica_path(i, block_id);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[123_456] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    // The scanner reports it; a good copy is made elsewhere; then the bad one goes.
    wait_until("the corrupt replica to be replaced", SETTLE_TIMEOUT, || async {
        cluster
            .block_locations("/data/f0")
            .await
            .is_ok_and(|b| b[0].locations.len() == 3 && b[0].locations.iter().all(|l| &l.address != victim))
    })
    .await
    .unwrap();
    wait_until("the corrupt replica file to be deleted", SETTLE_TIMEOUT, || async { !path.exists() }).await.unwrap();
    wait_healthy(&client).await;
    verify(&client, &files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_writer_loses_its_lease_and_the_file_closes_at_a_consistent_length() {
    let options = ClusterOptions { lease_hard_limit: Duration::from_secs(1), ..opts(3) };
    let cluster = MiniCluster::with_options(options).await.unwrap();
    let data = random_bytes(3 * MIB, 5);
    {
        let writer_client = Client::connect(&cluster.namenode_url()).await.unwrap();
        let opts = CreateOptions::default().replication(3).block_size(2 * MIB as u64);
        let mut w = writer_client.create("/orphan", opts).await.unwrap();
        w.write_all(&data).await.unwrap();
        // One block done (committed when the next was allocated), one packet into the next:
        // then the writer vanishes without closing, and stops renewing its lease.
        wait_until("the second block to be allocated", SETTLE_TIMEOUT, || async {
            cluster.block_locations("/orphan").await.is_ok_and(|b| !b.is_empty())
        })
        .await
        .unwrap();
    }
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    wait_until("lease recovery to close the file", SETTLE_TIMEOUT, || async {
        client.stat("/orphan").await.is_ok_and(|s| !s.under_construction)
    })
    .await
    .unwrap();
    let len = client.stat("/orphan").await.unwrap().length as usize;
    assert!(len == 2 * MIB || len == 3 * MIB, "closed at a block or packet boundary, got {len}");
    assert!(get(&client, "/orphan").await == data[..len], "no garbage exposed");
    wait_healthy(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_namenode_stays_in_safe_mode_until_blocks_are_reported() {
    let options = ClusterOptions { safemode_extension: Duration::from_secs(2), ..opts(3) };
    let mut cluster = MiniCluster::with_options(options).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let files = write_files(&client, 2).await;

    cluster.restart_namenode(false).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let (on, status) = client.safe_mode(SafeModeAction::Get).await.unwrap();
    assert!(on, "{status}");
    match client.mkdirs("/new", true).await {
        Err(Error::FailedPrecondition(m)) => assert!(m.contains("safe mode"), "{m}"),
        other => panic!("mutations are refused in safe mode, got {other:?}"),
    }
    cluster.wait_safe_mode_off().await.unwrap();
    verify(&client, &files).await;
    client.mkdirs("/new", true).await.unwrap();
    wait_healthy(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decommission_drains_a_node_without_any_block_dropping_below_its_factor() {
    let cluster = MiniCluster::with_options(opts(4)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let files = write_files(&client, 4).await;
    wait_healthy(&client).await;

    let target = cluster.datanode_addr(3).unwrap().to_string();
    client.decommission(&target, true).await.unwrap();
    wait_until("the node to be decommissioned", SETTLE_TIMEOUT, || async {
        client
            .datanode_report()
            .await
            .is_ok_and(|r| r.iter().any(|d| d.address == target && d.admin_state == "decommissioned"))
    })
    .await
    .unwrap();
    let report = client.fsck("/", true).await.unwrap();
    for f in &report.files_detail {
        for b in &f.blocks {
            assert!(
                b.live_replicas >= 3,
                "{}: block {} has {} in-service replicas",
                f.path,
                b.block_id,
                b.live_replicas
            );
            assert!(!b.locations.is_empty());
        }
    }
    verify(&client, &files).await;
    client.decommission(&target, false).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setrep_up_and_down_and_deletes_reach_the_datanodes() {
    let cluster = MiniCluster::with_options(opts(4)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(3 * MIB, 8);
    put(&client, "/rep", &data, 2).await;
    cluster.wait_exact_replicas("/rep", 2).await.unwrap();

    client.set_replication("/rep", 4).await.unwrap();
    cluster.wait_exact_replicas("/rep", 4).await.unwrap();
    client.set_replication("/rep", 1).await.unwrap();
    cluster.wait_exact_replicas("/rep", 1).await.unwrap();
    wait_healthy(&client).await;
    assert!(get(&client, "/rep").await == data);

    // Deleting the file deletes its replicas on the datanodes' disks.
    let blocks: Vec<u64> =
        cluster.block_locations("/rep").await.unwrap().iter().map(|b| b.block.unwrap().block_id).collect();
    client.delete("/rep", false).await.unwrap();
    wait_until("every replica file to be deleted", SETTLE_TIMEOUT, || async {
        (0..4).all(|i| blocks.iter().all(|&b| !cluster.replica_path(i, b).exists()))
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_the_namenode_no_longer_knows_are_deleted_when_reported() {
    let mut cluster = MiniCluster::with_options(opts(3)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let files = write_files(&client, 1).await;
    let blocks: Vec<u64> =
        cluster.block_locations("/data/f0").await.unwrap().iter().map(|b| b.block.unwrap().block_id).collect();

    // The file is deleted while one holder is down: that holder's replicas become orphans.
    cluster.stop_datanode(0).await;
    client.delete(&files[0].0, false).await.unwrap();
    assert!(blocks.iter().all(|&b| cluster.replica_path(0, b).exists()), "still on the stopped node's disk");
    cluster.restart_datanode(0).await.unwrap();
    wait_until("the orphan replicas to be deleted after the node's block report", SETTLE_TIMEOUT, || async {
        blocks.iter().all(|&b| !cluster.replica_path(0, b).exists())
    })
    .await
    .unwrap();
}
