//! Restarts lose nothing: the namenode's namespace survives a kill (log replay) and a clean stop
//! (checkpoint), and a datanode's replicas survive its restart.

mod common;

use common::{MIB, get, put, random_bytes};
use hdfs_client::Client;
use hdfs_tests::{ClusterOptions, MiniCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namenode_restart_keeps_the_namespace_and_files_stay_readable() {
    let mut cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let a = random_bytes(2 * MIB + 3, 1);
    let b = random_bytes(10, 2);
    put(&client, "/keep/a", &a, 3).await;
    put(&client, "/keep/b", &b, 2).await;
    client.mkdirs("/keep/empty/dir", true).await.unwrap();
    client.rename("/keep/b", "/keep/b2").await.unwrap();
    put(&client, "/gone", &b, 1).await;
    client.delete("/gone", false).await.unwrap();
    // Calls refused as they are applied (concurrent renames of one file: one wins, the others
    // find it gone) leave their errors in the retry cache, and so in the fsimage, which must
    // load again: it once wrote errors it could not read back.
    put(&client, "/race", &b, 1).await;
    let mut renames = tokio::task::JoinSet::new();
    for i in 0..16 {
        let client = client.clone();
        renames.spawn(async move { client.rename("/race", &format!("/keep/race-{i:02}")).await.is_ok() });
    }
    assert_eq!(renames.join_all().await.into_iter().filter(|won| *won).count(), 1);

    for graceful in [false, true] {
        // Killed: replayed from the edit log. Stopped: loaded from the checkpoint.
        cluster.restart_namenode(graceful).await.unwrap();
        cluster.wait_live_datanodes(3).await.unwrap();
        cluster.wait_safe_mode_off().await.unwrap();
        let client = Client::connect(&cluster.namenode_url()).await.unwrap();
        cluster.wait_replicas("/keep/a", 3).await.unwrap();
        cluster.wait_replicas("/keep/b2", 2).await.unwrap();
        assert!(get(&client, "/keep/a").await == a, "graceful={graceful}");
        assert_eq!(get(&client, "/keep/b2").await, b);
        assert!(client.stat("/keep/empty/dir").await.unwrap().is_dir());
        assert!(client.stat("/keep/b").await.is_err());
        assert!(client.stat("/gone").await.is_err());
        let names: Vec<_> = client.list("/keep").await.unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(names[..2], ["/keep/a", "/keep/b2"]);
        assert!(names[2] == "/keep/empty" && names[3].starts_with("/keep/race-"), "{names:?}");
        // New writes after the restart do not reuse block ids.
        put(&client, &format!("/after-{graceful}"), &b, 3).await;
        assert_eq!(get(&client, &format!("/after-{graceful}")).await, b);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datanode_restart_keeps_its_replicas() {
    let opts = ClusterOptions { datanodes: 2, replication: 1, ..Default::default() };
    let mut cluster = MiniCluster::with_options(opts).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(3 * MIB + 5, 3);
    put(&client, "/f", &data, 2).await;
    cluster.wait_replicas("/f", 2).await.unwrap();

    // Restart datanode 0, then take datanode 1 away: every read must come from the restarted one.
    cluster.restart_datanode(0).await.unwrap();
    cluster.stop_datanode(1).await;
    let restarted = cluster.datanode_addr(0).unwrap().to_string();
    hdfs_tests::wait_until("the restarted datanode to report its replicas", hdfs_tests::SETTLE_TIMEOUT, || async {
        cluster
            .block_locations("/f")
            .await
            .is_ok_and(|bs| bs.iter().all(|b| b.locations.first().is_some_and(|l| l.address == restarted)))
    })
    .await
    .unwrap();
    assert!(get(&client, "/f").await == data);
}
