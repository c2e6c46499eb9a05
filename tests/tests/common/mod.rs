//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::time::Duration;

use hdfs_client::{Client, CreateOptions};
use hdfs_tests::{SETTLE_TIMEOUT, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const MIB: usize = 1 << 20;

pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

/// Writes `data` in odd-sized pieces (so the writer, not the caller, cuts packets) with 1 MiB
/// blocks.
pub async fn put(client: &Client, path: &str, data: &[u8], replication: u32) -> u64 {
    let opts = CreateOptions::default().replication(replication).block_size(MIB as u64).create_parent(true);
    let mut w = client.create(path, opts).await.unwrap();
    for piece in data.chunks(100_003) {
        w.write_all(piece).await.unwrap();
    }
    w.close().await.unwrap()
}

pub async fn get(client: &Client, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    client.open(path).await.unwrap().read_to_end(&mut out).await.unwrap();
    out
}

/// Waits until fsck says HEALTHY with every block at its target.
pub async fn wait_healthy(client: &Client) {
    wait_healthy_within(client, SETTLE_TIMEOUT).await
}

pub async fn wait_healthy_within(client: &Client, timeout: Duration) {
    wait_until("fsck to report HEALTHY with every block at its target", timeout, || async {
        client
            .fsck("/", false)
            .await
            .is_ok_and(|r| r.is_healthy() && r.under_replicated_blocks == 0 && r.over_replicated_blocks == 0)
    })
    .await
    .unwrap();
}
