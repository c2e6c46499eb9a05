//! A datanode whose volume is full (its `--reserved` takes all of it, as a disk filled by other
//! data would) reports no room left, the namenode places nothing on it, and writes and repairs
//! go on through the others. Filling a real volume mid-put, and freeing it, is the `disk-full`
//! drill (deploy/drills/disk-full.sh); the store's refusal and its recovery once space is back
//! are unit-tested in `datanode/src/store/writer.rs`.

mod common;

use common::{MIB, get, put, random_bytes, wait_healthy};
use hdfs_client::Client;
use hdfs_tests::{ClusterOptions, MiniCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_datanode_reports_no_room_and_gets_no_replicas() {
    let cluster = MiniCluster::with_options(ClusterOptions {
        datanodes: 4,
        replication: 3,
        datanode_reserved: vec![u64::MAX / 4],
        ..Default::default()
    })
    .await
    .unwrap();
    let full = cluster.datanode_addr(0).unwrap().to_string();
    let report = cluster.datanode_report().await.unwrap();
    let storage = |addr: &str| {
        let r = report.iter().find(|r| r.datanode.as_ref().is_some_and(|d| d.address == addr)).unwrap();
        r.storage.unwrap()
    };
    assert_eq!(storage(&full).remaining, 0, "the full node says so");
    let other = cluster.datanode_addr(1).unwrap().to_string();
    assert!(storage(&other).remaining >= MIB as u64, "the others have room");

    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    for i in 0..4 {
        let data = random_bytes(2 * MIB + 1000, i);
        put(&client, &format!("/f{i}"), &data, 3).await;
        assert_eq!(get(&client, &format!("/f{i}")).await, data);
        for b in cluster.block_locations(&format!("/f{i}")).await.unwrap() {
            let on: Vec<_> = b.locations.iter().map(|l| l.address.as_str()).collect();
            assert!(!on.contains(&full.as_str()), "a replica placed on the full node: {on:?}");
            assert_eq!(on.len(), 3);
        }
    }
    wait_healthy(&client).await;
}

/// The namenode's own volume: below `--reserved` free, writes are refused with one clear error
/// and reads go on; once space is back, writes are taken again with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namenode_low_on_log_space_refuses_writes_until_space_is_back() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    put(&client, "/before", b"kept", 1).await;
    let ns = cluster.namesystem().unwrap();
    // The volume "fills": more must stay free than it has.
    ns.set_reserved(u64::MAX / 4);
    let e = client.mkdirs("/refused", true).await.expect_err("a write while the log's volume is full");
    assert!(e.to_string().contains("Resources are low on NN"), "{e}");
    assert!(client.create("/new", Default::default()).await.is_err(), "a create too");
    assert_eq!(get(&client, "/before").await, b"kept", "reads go on");
    assert!(client.list("/").await.is_ok());
    // Space is back.
    ns.set_reserved(0);
    client.mkdirs("/after", true).await.unwrap();
    put(&client, "/later", b"written", 1).await;
    assert_eq!(get(&client, "/later").await, b"written");
}
