//! File checksums (`COMPOSITE-CRC32C`): the CRC32C of a file's bytes, composed from its blocks'
//! CRCs, which each datanode composes from its stored chunk CRCs. The same bytes written with
//! different block sizes have the same checksum; a replica that cannot answer is skipped for the
//! next; the datanode's `BlockChecksum` refuses what `ReadBlock` refuses.

mod common;

use common::{MIB, random_bytes};
use hdfs_client::{COMPOSITE_CRC32C, Client, CreateOptions, Error, FileChecksum};
use hdfs_proto::pb::datanode::{self as dpb, data_transfer_client::DataTransferClient};
use hdfs_tests::MiniCluster;
use tokio::io::AsyncWriteExt;
use tonic::Code;

/// Writes `data` in odd-sized pieces with `block_size`-byte blocks.
async fn write(client: &Client, path: &str, data: &[u8], block_size: u64) {
    let opts = CreateOptions::default().block_size(block_size).create_parent(true);
    let mut w = client.create(path, opts).await.unwrap();
    for piece in data.chunks(100_003) {
        w.write_all(piece).await.unwrap();
    }
    w.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_bytes_same_checksum_whatever_the_block_size() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(5 * MIB / 2, 42);
    write(&client, "/c/small-blocks", &data, MIB as u64).await;
    write(&client, "/c/large-blocks", &data, 2 * MIB as u64).await;
    assert_eq!(cluster.block_locations("/c/small-blocks").await.unwrap().len(), 3);
    assert_eq!(cluster.block_locations("/c/large-blocks").await.unwrap().len(), 2);

    let want = FileChecksum { algorithm: COMPOSITE_CRC32C, length: data.len() as u64, crc: crc32c::crc32c(&data) };
    assert_eq!(client.checksum("/c/small-blocks").await.unwrap(), want);
    assert_eq!(client.checksum("/c/large-blocks").await.unwrap(), want);

    // One byte changed: another checksum. A file that ends inside a chunk: its CRC still.
    let mut other = data.clone();
    other[MIB + 5] ^= 1;
    write(&client, "/c/other", &other, MIB as u64).await;
    assert_ne!(client.checksum("/c/other").await.unwrap().crc, want.crc);
    let odd = &data[..MIB + 65_536 + 77];
    write(&client, "/c/odd", odd, MIB as u64).await;
    assert_eq!(client.checksum("/c/odd").await.unwrap().crc, crc32c::crc32c(odd));

    // An empty file: the CRC32C of nothing. A directory, a missing file: errors.
    write(&client, "/c/empty", b"", MIB as u64).await;
    let empty = client.checksum("/c/empty").await.unwrap();
    assert_eq!((empty.crc, empty.length, empty.hex().as_str()), (0, 0, "00000000"));
    let e = client.checksum("/c").await.expect_err("a directory has no checksum");
    assert!(matches!(&e, Error::FailedPrecondition(m) if m.ends_with("is a directory")), "{e:?}");
    let e = client.checksum("/c/missing").await.expect_err("no such file");
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_replica_is_skipped_for_the_next() {
    let mut cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(3 * MIB / 2, 7);
    write(&client, "/f", &data, MIB as u64).await;
    cluster.wait_replicas("/f", 3).await.unwrap();
    // The node listed first for the first block stops; the namenode still lists it (it is not
    // dead yet), so the client asks it first and moves on.
    let first = cluster.block_locations("/f").await.unwrap()[0].locations[0].address.clone();
    cluster.stop_datanode(cluster.datanode_index(&first).unwrap()).await;
    assert_eq!(client.checksum("/f").await.unwrap().crc, crc32c::crc32c(&data));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_checksum_refuses_what_a_read_refuses() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(200_000, 3);
    write(&client, "/f", &data, MIB as u64).await;
    let block = cluster.block_locations("/f").await.unwrap()[0].block.unwrap();
    let addr = cluster.datanode_addr(0).unwrap().to_string();
    let mut dt = DataTransferClient::new(hdfs_proto::grpc::endpoint(&addr).unwrap().connect().await.unwrap());
    let at = |block_id, generation_stamp| Some(dpb::BlockRef { block_id, generation_stamp });
    // Each call with a read token for the block it names, as the namenode would grant.
    let tokens = cluster.block_tokens();
    let token = |b: Option<dpb::BlockRef>| {
        let b = b.unwrap_or_default();
        let block = hdfs_proto::BlockRef::new(b.block_id, b.generation_stamp);
        Some(tokens.issue(block, hdfs_proto::auth::BlockAccess::READ, "test"))
    };

    // A prefix, cut inside a chunk; all of it (0); more than it holds: what it holds.
    for (length, covered) in [(100_000, 100_000), (0, 200_000), (300_000, 200_000)] {
        let b = at(block.block_id, block.generation_stamp);
        let req = dpb::BlockChecksumRequest { block: b, length, token: token(b) };
        let r = dt.block_checksum(req).await.unwrap().into_inner();
        assert_eq!((r.crc, r.length), (crc32c::crc32c(&data[..covered as usize]), covered), "length {length}");
    }

    // A wrong generation stamp, an unknown block, no block: the codes a read gets.
    for block_ref in [at(block.block_id, block.generation_stamp + 1), at(block.block_id + 1000, 1), None] {
        let sum =
            dt.block_checksum(dpb::BlockChecksumRequest { block: block_ref, length: 0, token: token(block_ref) }).await;
        let read = dt
            .read_block(dpb::ReadBlockRequest { block: block_ref, offset: 0, length: 0, token: token(block_ref) })
            .await;
        let (sum, read) = (sum.expect_err("checksum refused"), read.map(|_| ()).expect_err("read refused"));
        assert_eq!(sum.code(), read.code(), "{block_ref:?}: {sum:?} / {read:?}");
        assert_ne!(sum.code(), Code::Ok);
    }
}
