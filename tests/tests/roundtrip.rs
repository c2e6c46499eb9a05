//! Files of awkward sizes go in and come back byte for byte, with replicas on distinct nodes.

mod common;

use common::{MIB, get, put, random_bytes};
use hdfs_client::Client;
use hdfs_tests::MiniCluster;
use tokio::io::AsyncReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_around_block_boundaries_round_trip_at_replication_1_and_3() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let sizes = [0, 1, MIB - 1, MIB, 3 * MIB + 12_345];
    for replication in [1u32, 3] {
        for (i, &size) in sizes.iter().enumerate() {
            let path = format!("/r{replication}/f{i}");
            let data = random_bytes(size, (i as u64) << 8 | u64::from(replication));
            client.mkdirs(&format!("/r{replication}"), true).await.unwrap();
            assert_eq!(put(&client, &path, &data, replication).await, size as u64);
            let st = client.stat(&path).await.unwrap();
            assert_eq!(st.length, size as u64, "{path}");
            assert_eq!(st.replication, replication);
            assert!(!st.under_construction);
            assert!(get(&client, &path).await == data, "{path}: contents differ");

            let blocks = cluster.block_locations(&path).await.unwrap();
            assert_eq!(blocks.len(), size.div_ceil(MIB), "{path}: block count");
            for b in &blocks {
                let mut addrs: Vec<_> = b.locations.iter().map(|l| l.address.clone()).collect();
                assert_eq!(addrs.len(), replication as usize, "{path}: replicas of a block");
                addrs.sort();
                addrs.dedup();
                assert_eq!(addrs.len(), replication as usize, "{path}: replicas on distinct datanodes");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_start_at_any_offset() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(2 * MIB + 777, 9);
    put(&client, "/f", &data, 1).await;
    for offset in [0, 1, 65_535, 65_536, MIB - 1, MIB, MIB + 1, 2 * MIB + 776, 2 * MIB + 777] {
        let mut out = Vec::new();
        client.open_at("/f", offset as u64).await.unwrap().read_to_end(&mut out).await.unwrap();
        assert!(out == data[offset..], "from offset {offset}");
    }
    let e = client.open_at("/f", data.len() as u64 + 1).await.expect_err("offset past the end");
    assert!(e.to_string().contains("past the end"), "{e}");
}
