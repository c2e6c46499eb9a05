//! Append, hflush and truncate, as HDFS has them: a closed file reopened under a lease
//! continues its partial last block under a new generation stamp (or starts a new block); bytes
//! hflushed are readable by new readers before close; a writer killed mid-append leaves, after
//! lease recovery, a file no shorter than before, at a length every replica agrees on; a
//! truncate drops whole blocks at once and has block recovery cut the one it falls inside.

mod common;

use std::time::Duration;

use common::{MIB, get, put, random_bytes, wait_healthy};
use hdfs_client::{Client, CreateOptions, Error};
use hdfs_tests::{ClusterOptions, MiniCluster, SETTLE_TIMEOUT, wait_until};
use tokio::io::AsyncWriteExt;

async fn append(client: &Client, path: &str, data: &[u8]) -> u64 {
    let mut w = client.append(path).await.unwrap();
    for piece in data.chunks(70_001) {
        w.write_all(piece).await.unwrap();
    }
    w.close().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_continue_the_last_block_or_start_a_new_one() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut want = random_bytes(MIB + MIB / 2 + 7, 1);
    put(&client, "/a", &want, 3).await;
    let before = cluster.block_locations("/a").await.unwrap();

    // Into the partial last block (which ends inside a checksum chunk), then past its end.
    let more = random_bytes(MIB, 2);
    assert_eq!(append(&client, "/a", &more).await, (want.len() + more.len()) as u64);
    want.extend_from_slice(&more);
    let after = cluster.block_locations("/a").await.unwrap();
    assert_eq!(after.len(), 3);
    let (old, new) = (before[1].block.unwrap(), after[1].block.unwrap());
    assert_eq!(old.block_id, new.block_id, "the partial block was continued");
    assert!(new.generation_stamp > old.generation_stamp, "under a new generation stamp");
    assert_eq!(get(&client, "/a").await, want);
    let st = client.stat("/a").await.unwrap();
    assert_eq!((st.length, st.under_construction), (want.len() as u64, false));

    // An append that writes nothing changes nothing; small appends add up.
    assert_eq!(append(&client, "/a", b"").await, want.len() as u64);
    for i in 0..3u8 {
        append(&client, "/a", &[i; 10]).await;
        want.extend_from_slice(&[i; 10]);
    }
    assert_eq!(get(&client, "/a").await, want);

    // A file ending on a block boundary gets a new block; so does an empty one.
    let full = random_bytes(MIB, 3);
    put(&client, "/full", &full, 3).await;
    append(&client, "/full", b"tail").await;
    assert_eq!(cluster.block_locations("/full").await.unwrap().len(), 2);
    assert_eq!(get(&client, "/full").await, [&full[..], b"tail"].concat());
    client.create("/empty", CreateOptions::default()).await.unwrap().close().await.unwrap();
    append(&client, "/empty", b"now something").await;
    assert_eq!(get(&client, "/empty").await, b"now something");

    // Every block back at three replicas of its new generation (fsck counts them).
    wait_healthy(&client).await;
    for bad in ["/nope", "/"] {
        assert!(client.append(bad).await.is_err(), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_at_a_time() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let url = cluster.namenode_url();
    let (a, b) = (Client::connect(&url).await.unwrap(), Client::connect(&url).await.unwrap());
    put(&a, "/f", b"start", 1).await;
    let mut w = a.append("/f").await.unwrap();
    w.write_all(b" and more").await.unwrap();
    for refused in
        [b.append("/f").await.map(drop), b.create("/f", CreateOptions::default().overwrite(true)).await.map(drop)]
    {
        match refused {
            Err(Error::FailedPrecondition(m)) => assert!(m.contains("being written by another client"), "{m}"),
            other => panic!("a second writer must be refused, got {other:?}"),
        }
    }
    w.close().await.unwrap();
    assert_eq!(get(&b, "/f").await, b"start and more");
    // Closed: the other client may append now.
    append(&b, "/f", b"!").await;
    assert_eq!(get(&a, "/f").await, b"start and more!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hflushed_bytes_are_read_before_close() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let reader = Client::connect(&cluster.namenode_url()).await.unwrap();
    let opts = CreateOptions::default().replication(3).block_size(MIB as u64);
    let mut w = client.create("/log", opts).await.unwrap();
    let mut want = Vec::new();
    // Pieces that leave the block mid-chunk, then cross a block boundary.
    for (i, len) in [100usize, 70_000, 900_000, 200_000].into_iter().enumerate() {
        let piece = random_bytes(len, i as u64);
        w.write_all(&piece).await.unwrap();
        want.extend_from_slice(&piece);
        w.hflush().await.unwrap();
        let r = reader.open("/log").await.unwrap();
        assert_eq!(r.len(), want.len() as u64, "after hflush {i}");
        assert!(get(&reader, "/log").await == want, "after hflush {i}");
        // stat counts what readers see, as HDFS's does after hflush.
        let st = reader.stat("/log").await.unwrap();
        assert_eq!((st.length, st.under_construction), (want.len() as u64, true), "after hflush {i}");
    }
    // Bytes written but not flushed are not promised to readers.
    w.write_all(b"unflushed").await.unwrap();
    assert!(get(&reader, "/log").await.len() >= want.len());
    want.extend_from_slice(b"unflushed");
    w.close().await.unwrap();
    assert_eq!(get(&reader, "/log").await, want);
    wait_healthy(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_mid_append_leaves_no_shorter_a_file_every_replica_agrees_on() {
    let options = ClusterOptions { lease_hard_limit: Duration::from_secs(1), ..ClusterOptions::default() };
    let cluster = MiniCluster::with_options(options).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let original = random_bytes(MIB / 2 + 11, 9);
    put(&client, "/w", &original, 3).await;
    let extra = random_bytes(MIB, 10);
    {
        let appender = Client::connect(&cluster.namenode_url()).await.unwrap();
        let mut w = appender.append("/w").await.unwrap();
        w.write_all(&extra[..300_000]).await.unwrap();
        w.hflush().await.unwrap();
        w.write_all(&extra[300_000..]).await.unwrap();
        // Gone without closing: its lease lapses and block recovery closes the file.
    }
    wait_until("lease recovery to close the file", SETTLE_TIMEOUT, || async {
        client.stat("/w").await.is_ok_and(|s| !s.under_construction)
    })
    .await
    .unwrap();
    let len = client.stat("/w").await.unwrap().length as usize;
    assert!(len >= original.len() + 300_000, "no shorter than before the append, and the hflushed bytes kept: {len}");
    let got = get(&client, "/w").await;
    assert_eq!(got.len(), len);
    assert!(got[..original.len()] == original[..] && got[original.len()..] == extra[..len - original.len()]);
    // Every holder has the block at the agreed length (one that did not is set aside and
    // replaced), and the file can be appended to again.
    wait_healthy(&client).await;
    cluster.wait_exact_replicas("/w", 3).await.unwrap();
    append(&client, "/w", b"again").await;
    assert_eq!(get(&client, "/w").await.len(), len + 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_drops_blocks_and_cuts_the_last_one_in_place() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(2 * MIB + MIB / 2, 21);
    put(&client, "/t", &data, 3).await;

    // On a block boundary: at once.
    assert!(client.truncate("/t", 2 * MIB as u64).await.unwrap());
    assert_eq!(cluster.block_locations("/t").await.unwrap().len(), 2);
    assert!(get(&client, "/t").await == data[..2 * MIB]);

    // Inside a block: the new length is seen at once; recovery cuts the replicas and closes it.
    let cut = MIB + MIB / 2 + 7;
    assert!(!client.truncate("/t", cut as u64).await.unwrap());
    assert_eq!(client.stat("/t").await.unwrap().length, cut as u64);
    assert!(get(&client, "/t").await == data[..cut]);
    wait_until("block recovery to close the truncated file", SETTLE_TIMEOUT, || async {
        client.stat("/t").await.is_ok_and(|s| !s.under_construction)
    })
    .await
    .unwrap();
    assert!(get(&client, "/t").await == data[..cut]);
    cluster.wait_exact_replicas("/t", 3).await.unwrap();
    wait_healthy(&client).await;

    // The same length changes nothing; a longer one is refused; then it takes appends again.
    assert!(client.truncate("/t", cut as u64).await.unwrap());
    match client.truncate("/t", cut as u64 + 1).await {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("Cannot truncate to a larger file size"), "{m}"),
        other => panic!("{other:?}"),
    }
    append(&client, "/t", b"more").await;
    assert_eq!(get(&client, "/t").await, [&data[..cut], b"more"].concat());
    assert!(client.truncate("/t", 0).await.unwrap());
    assert_eq!(client.stat("/t").await.unwrap().length, 0);
    assert!(cluster.block_locations("/t").await.unwrap().is_empty());

    // Not while it is being written.
    let mut w = client.create("/open", CreateOptions::default()).await.unwrap();
    w.write_all(b"x").await.unwrap();
    assert!(matches!(client.truncate("/open", 0).await, Err(Error::FailedPrecondition(_))));
    w.close().await.unwrap();
    wait_healthy(&client).await;
}
