//! A replica damaged on disk is caught by checksums on read, and the read carries on from
//! another replica at the same offset.

mod common;

use common::{MIB, get, put, random_bytes};
use hdfs_client::Client;
use hdfs_tests::MiniCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_chunk_is_detected_and_the_read_succeeds_from_another_replica() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(2 * MIB + 100, 7);
    put(&client, "/f", &data, 3).await;
    cluster.wait_replicas("/f", 3).await.unwrap();

    // Damage the second block on the replica readers try first, in its second chunk.
    let blocks = cluster.block_locations("/f").await.unwrap();
    let second = &blocks[1];
    let block_id = second.block.unwrap().block_id;
    let first_choice = &second.locations[0].address;
    let i = cluster.datanode_index(first_choice).unwrap();
    let path = cluster.replica_path(i, block_id);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[70_000] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();

    assert!(get(&client, "/f").await == data, "read must survive one bad replica");

    // The bad replica was reported: readers are no longer sent to it.
    hdfs_tests::wait_until("the corrupt replica to be hidden", hdfs_tests::SETTLE_TIMEOUT, || async {
        cluster
            .block_locations("/f")
            .await
            .is_ok_and(|b| b[1].locations.len() == 2 && b[1].locations.iter().all(|l| &l.address != first_choice))
    })
    .await
    .unwrap();
    assert!(get(&client, "/f").await == data);
}
