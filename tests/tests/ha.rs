//! The namenode group (3 members, in process): a leader is elected and serves; it dies, is cut
//! off, or its links slow down, and the group carries on with nothing acknowledged lost and
//! nothing applied twice; a retried call is answered from the retry cache.

use std::time::{Duration, Instant};

use hdfs_client::{Client, CreateOptions, Error};
use hdfs_proto::pb::namenode as pb;
use hdfs_tests::{ClusterOptions, MiniCluster, SETTLE_TIMEOUT, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn group_options(datanodes: usize) -> ClusterOptions {
    ClusterOptions { namenodes: 3, datanodes, replication: datanodes.min(3) as u32, ..Default::default() }
}

async fn put(client: &Client, path: &str, data: &[u8]) -> Result<(), Error> {
    let mut w = client.create(path, CreateOptions { create_parent: true, ..Default::default() }).await?;
    w.write_all(data).await?;
    w.shutdown().await?;
    Ok(())
}

async fn get(client: &Client, path: &str) -> Result<Vec<u8>, Error> {
    let mut r = client.open(path).await?;
    let mut out = Vec::new();
    r.read_to_end(&mut out).await?;
    Ok(out)
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_elects_a_leader_and_serves_through_its_death() {
    let mut cluster = MiniCluster::with_options(group_options(3)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let first = data(3 << 20, 1);
    put(&client, "/before", &first).await.unwrap();

    let leader = cluster.wait_leader(None).await.unwrap();
    let killed_at = Instant::now();
    cluster.stop_namenode(leader, false).await;
    // The client was talking to the dead leader: its next call finds the new one by itself.
    client.mkdirs("/after-failover", true).await.unwrap();
    let window = killed_at.elapsed();
    let new_leader = cluster.wait_leader(Some(leader)).await.unwrap();
    assert_ne!(new_leader, leader);
    eprintln!("unavailability window (kill to first successful mkdir): {window:?}");
    assert!(window < Duration::from_secs(10), "failover took {window:?}");

    let second = data(2 << 20, 2);
    put(&client, "/after", &second).await.unwrap();
    assert_eq!(get(&client, "/before").await.unwrap(), first);
    assert_eq!(get(&client, "/after").await.unwrap(), second);

    // The killed member comes back and catches up.
    cluster.start_namenode(leader).await.unwrap();
    cluster.wait_namenodes_caught_up().await.unwrap();
    let back = cluster.namesystem_of(leader).unwrap().group_status();
    assert!(!back.me.role.is_empty() && back.me.role != "leader", "{back:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_leader_accepts_no_write_and_follows_after_healing() {
    let cluster = MiniCluster::with_options(group_options(1)).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    client.mkdirs("/kept", true).await.unwrap();
    let old = cluster.wait_leader(None).await.unwrap();
    cluster.partition_namenode(old, true);

    // A client that knows only the isolated member: its write never succeeds there.
    let old_url = cluster.namenode_url().split(',').nth(old).unwrap().to_string();
    let mut raw = pb::client_protocol_client::ClientProtocolClient::connect(old_url).await.unwrap();
    let refused = raw.mkdirs(pb::MkdirsRequest { path: "/split-brain".into(), create_parent: true }).await;
    let status = refused.expect_err("an isolated leader must not acknowledge a write");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");

    // The majority elects a new leader and takes writes.
    let new = cluster.wait_leader(Some(old)).await.unwrap();
    client.mkdirs("/during-partition", true).await.unwrap();
    cluster.partition_namenode(old, false);
    cluster.wait_namenodes_caught_up().await.unwrap();
    assert_eq!(cluster.leader(), Some(new), "the healed member follows");
    let names: Vec<String> = client.list("/").await.unwrap().into_iter().map(|s| s.path).collect();
    assert!(names.contains(&"/kept".to_string()) && names.contains(&"/during-partition".to_string()), "{names:?}");
    assert!(!names.contains(&"/split-brain".to_string()), "the isolated write was applied: {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_call_is_answered_from_the_retry_cache_even_after_failover() {
    let mut cluster = MiniCluster::with_options(group_options(1)).await.unwrap();
    let leader = cluster.wait_leader(None).await.unwrap();
    let urls: Vec<String> = cluster.namenode_url().split(',').map(str::to_string).collect();
    let url = |i: usize| urls[i].clone();
    let create = |call: u64| {
        let mut r = tonic::Request::new(pb::CreateRequest {
            path: "/once".into(),
            client_name: "retrying-client".into(),
            create_parent: true,
            ..Default::default()
        });
        r.metadata_mut().insert("x-hdfs-client-id", "retrying-client".parse().unwrap());
        r.metadata_mut().insert("x-hdfs-call-id", call.into());
        r
    };
    let mut c = pb::client_protocol_client::ClientProtocolClient::connect(url(leader)).await.unwrap();
    c.create(create(7)).await.unwrap();
    // The same call again (its answer was lost): the first outcome, not "already exists".
    c.create(create(7)).await.unwrap();
    // A new call is a new create: refused.
    let again = c.create(create(8)).await.expect_err("a second create of the same file");
    assert_eq!(again.code(), tonic::Code::AlreadyExists);

    // The leader dies; the retry reaches the new one, whose state machine has the cache too.
    cluster.stop_namenode(leader, false).await;
    let new = cluster.wait_leader(Some(leader)).await.unwrap();
    let mut c = pb::client_protocol_client::ClientProtocolClient::connect(url(new)).await.unwrap();
    wait_until("the new leader to take the retried create", SETTLE_TIMEOUT, || {
        let mut c = c.clone();
        async move { c.create(create(7)).await.is_ok() }
    })
    .await
    .unwrap();
    assert_eq!(c.create(create(9)).await.expect_err("applied once").code(), tonic::Code::AlreadyExists);
}
