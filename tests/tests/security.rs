//! A datanode obeys only the namenode's grants, and servers' calls are the servers': each
//! attack of issue 15's table, crafted with the generated gRPC clients straight at the ports,
//! is refused and the file stays intact (read back, fsck healthy).

mod common;

use std::time::Duration;

use common::{get, put, random_bytes, wait_healthy};
use hdfs_client::Client;
use hdfs_proto::BlockRef;
use hdfs_proto::auth::{BlockAccess, BlockTokens, ClusterSecret, KEY_INTERVAL, TOKEN_LIFETIME};
use hdfs_proto::pb::datanode::{self as dpb, data_transfer_client::DataTransferClient};
use hdfs_proto::pb::namenode::{self as pb, datanode_protocol_client::DatanodeProtocolClient};
use hdfs_tests::MiniCluster;
use tonic::Code;
use tonic::transport::Channel;

async fn datanode(cluster: &MiniCluster, i: usize) -> DataTransferClient<Channel> {
    let addr = cluster.datanode_addr(i).unwrap().to_string();
    DataTransferClient::new(hdfs_proto::grpc::endpoint(&addr).unwrap().connect().await.unwrap())
}

/// The one block of `path`.
async fn only_block(cluster: &MiniCluster, path: &str) -> pb::LocatedBlock {
    let mut blocks = cluster.block_locations(path).await.unwrap();
    assert_eq!(blocks.len(), 1);
    blocks.remove(0)
}

fn block_ref(b: &pb::ExtendedBlock) -> Option<dpb::BlockRef> {
    Some(dpb::BlockRef { block_id: b.block_id, generation_stamp: b.generation_stamp })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The whole of a read, or its refusal.
async fn read_all(dn: &mut DataTransferClient<Channel>, req: dpb::ReadBlockRequest) -> Result<Vec<u8>, tonic::Status> {
    let mut stream = dn.read_block(req).await?.into_inner();
    let mut out = Vec::new();
    while let Some(m) = stream.message().await? {
        out.extend_from_slice(&m.data);
    }
    Ok(out)
}

fn assert_denied<T: std::fmt::Debug>(r: Result<T, tonic::Status>, what: &str, needle: &str) {
    let e = r.expect_err(what);
    assert_eq!(e.code(), Code::PermissionDenied, "{what}: {e:?}");
    assert!(e.message().contains(needle), "{what}: {:?} should say {needle:?}", e.message());
}

/// `ReadBlock(id)` for sequential ids, with no token, a forged one, an expired one, one for
/// another block or generation, or one that does not allow reading: all refused. With the
/// namenode's token, the bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_need_the_namenodes_token_for_that_block() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(100_000, 1);
    put(&client, "/secret", &data, 1).await;
    let located = only_block(&cluster, "/secret").await;
    let b = located.block.unwrap();
    let mut dn = datanode(&cluster, 0).await;
    let read = |token| dpb::ReadBlockRequest { block: block_ref(&b), offset: 0, length: 0, token };

    // Guessing ids: 1, 2, 3, ... with no token.
    for id in 1..=3 {
        let req = dpb::ReadBlockRequest {
            block: Some(dpb::BlockRef { block_id: id, generation_stamp: 1 }),
            ..Default::default()
        };
        assert_denied(read_all(&mut dn, req).await, "a read without a token", "no block access token");
    }
    let forged = BlockTokens::new(ClusterSecret::generate()).issue(
        BlockRef::new(b.block_id, b.generation_stamp),
        BlockAccess::READ,
        "mallory",
    );
    assert_denied(read_all(&mut dn, read(Some(forged))).await, "a token signed by another key", "not signed");
    let mut widened = located.token.clone().unwrap();
    widened.block_id += 1;
    let other = dpb::ReadBlockRequest {
        block: Some(dpb::BlockRef { block_id: b.block_id + 1, generation_stamp: b.generation_stamp }),
        token: Some(widened),
        ..Default::default()
    };
    assert_denied(read_all(&mut dn, other).await, "a token edited to name another block", "not signed");

    let tokens = cluster.block_tokens();
    let this = BlockRef::new(b.block_id, b.generation_stamp);
    let expired = tokens.issue_at(now_ms() - TOKEN_LIFETIME.as_millis() as u64 - 1_000, this, BlockAccess::READ, "u");
    assert_denied(read_all(&mut dn, read(Some(expired))).await, "an expired token", "expired");
    let future = tokens.issue_at(now_ms() + 3 * KEY_INTERVAL.as_millis() as u64, this, BlockAccess::READ, "u");
    assert_denied(read_all(&mut dn, read(Some(future))).await, "a token from a key not in use yet", "not yet in use");
    let other_gen = tokens.issue(BlockRef::new(b.block_id, b.generation_stamp + 1), BlockAccess::READ, "u");
    assert_denied(read_all(&mut dn, read(Some(other_gen))).await, "a token for another generation", "generation");
    let write_only = tokens.issue(this, BlockAccess::WRITE, "u");
    assert_denied(read_all(&mut dn, read(Some(write_only))).await, "a write token used to read", "allows write");
    let sum = dpb::BlockChecksumRequest { block: block_ref(&b), length: 0, token: None };
    assert_denied(dn.block_checksum(sum).await, "a checksum without a token", "no block access token");
    let visible = dpb::ReplicaVisibleLengthRequest { block: block_ref(&b), token: None };
    assert_denied(
        dn.replica_visible_length(visible).await,
        "a visible length without a token",
        "no block access token",
    );

    // The namenode's own grant reads the bytes.
    assert_eq!(read_all(&mut dn, read(located.token.clone())).await.unwrap(), data);
}

/// `FinalizeReplicaRecovery(block, gs+1000, len 0)` and `InitReplicaRecovery` straight to every
/// datanode: refused without the cluster's credential (and with another cluster's); the file
/// reads back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_recovery_calls_are_the_datanodes_own() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(300_000, 2);
    put(&client, "/kept", &data, 3).await;
    let b = only_block(&cluster, "/kept").await.block.unwrap();
    let outsider = ClusterSecret::generate();
    for i in 0..3 {
        let mut dn = datanode(&cluster, i).await;
        let cut = || dpb::FinalizeReplicaRecoveryRequest {
            block_id: b.block_id,
            new_generation_stamp: b.generation_stamp + 1000,
            length: 0,
        };
        assert_denied(dn.finalize_replica_recovery(cut()).await, "finalize without a credential", "only members");
        let forged = outsider.request(cut());
        assert_denied(dn.finalize_replica_recovery(forged).await, "finalize with another secret", "does not match");
        let init = dpb::InitReplicaRecoveryRequest { block_id: b.block_id };
        assert_denied(dn.init_replica_recovery(init).await, "init without a credential", "only members");
    }
    assert_eq!(get(&client, "/kept").await, data);
    wait_healthy(&client).await;
}

/// `WriteBlock{recovery, same generation stamp, from byte 0}` with other bytes: refused without
/// a token, and even with a genuine write token for that generation (a finalized replica is
/// never rewritten under its own stamp); a copy token cannot resume a replica either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finalized_replica_is_never_rewritten() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(200_000, 3);
    put(&client, "/final", &data, 1).await;
    let b = only_block(&cluster, "/final").await.block.unwrap();
    let this = BlockRef::new(b.block_id, b.generation_stamp);
    let tokens = cluster.block_tokens();
    let evil = bytes::Bytes::from(vec![0x66u8; 1000]);
    let rewrite = |token| {
        let header = dpb::WriteHeader {
            block: block_ref(&b),
            bytes_per_checksum: hdfs_proto::checksum::BYTES_PER_CHECKSUM as u32,
            client_name: "mallory".into(),
            recovery: true,
            recover_from: 0,
            token,
            ..Default::default()
        };
        let packet = dpb::Packet {
            data: evil.clone(),
            checksums: vec![crc32c::crc32c(&evil)],
            last: true,
            ..Default::default()
        };
        use dpb::write_block_request::Msg;
        tokio_stream::iter(vec![
            dpb::WriteBlockRequest { msg: Some(Msg::Header(header)) },
            dpb::WriteBlockRequest { msg: Some(Msg::Packet(packet)) },
        ])
    };
    let mut dn = datanode(&cluster, 0).await;
    assert_denied(dn.write_block(rewrite(None)).await, "a recovery write without a token", "no block access token");
    let copy = tokens.issue(this, BlockAccess::COPY, "datanode");
    assert_denied(dn.write_block(rewrite(Some(copy))).await, "a recovery write with a copy token", "allows copy");
    let write = tokens.issue(this, BlockAccess::WRITE, "mallory");
    let refused = match dn.write_block(rewrite(Some(write))).await {
        Err(e) => e,
        Ok(acks) => acks.into_inner().message().await.expect_err("the rewrite must fail"),
    };
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("finalized"), "{refused:?}");

    assert_eq!(get(&client, "/final").await, data);
    assert_eq!(client.checksum("/final").await.unwrap().crc, crc32c::crc32c(&data));
    wait_healthy(&client).await;
}

/// `Register` (and the other datanode calls) without the cluster's credential are refused; with
/// it, a live datanode's id from another address is refused too, and clients are still sent
/// to the real node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_for_members_and_a_live_id_is_not_taken_over() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    put(&client, "/f", b"hello", 1).await;
    let real = cluster.datanode_report().await.unwrap().remove(0).datanode.unwrap();
    let channel = hdfs_proto::grpc::endpoint(&cluster.namenode_url()).unwrap().connect().await.unwrap();
    let mut nn = DatanodeProtocolClient::new(channel);
    let fake = pb::DatanodeInfo { address: "127.0.0.1:9".into(), ..real.clone() };
    let storage = pb::StorageReport { capacity: 909 << 40, remaining: 909 << 40, ..Default::default() };
    let register = || pb::RegisterRequest { datanode: Some(fake.clone()), storage: Some(storage) };

    assert_denied(nn.register(register()).await, "a register without a credential", "only members");
    let hb = pb::HeartbeatRequest { datanode_id: real.datanode_id.clone(), storage: Some(storage) };
    assert_denied(nn.heartbeat(hb).await, "a heartbeat without a credential", "only members");
    let report = pb::BlockReportRequest { datanode_id: real.datanode_id.clone(), ..Default::default() };
    assert_denied(nn.block_report(report).await, "a block report without a credential", "only members");
    let outsider = ClusterSecret::generate().request(register());
    assert_denied(nn.register(outsider).await, "a register with another secret", "does not match");

    let insider = nn.register(cluster.secret().request(register())).await.expect_err("a live id from elsewhere");
    assert_eq!(insider.code(), Code::FailedPrecondition, "{insider:?}");
    assert!(insider.message().contains(&format!("is live at {}", real.address)), "{insider:?}");

    let now = cluster.datanode_report().await.unwrap().remove(0).datanode.unwrap();
    assert_eq!(now.address, real.address, "the namenode still sends clients to the real node");
    assert_eq!(get(&client, "/f").await, b"hello");
}

/// The group's log is the members': AppendEntries and Vote without the credential are refused
/// before they are decoded, and a membership change needs a superuser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_and_the_membership_are_the_groups() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let channel = hdfs_proto::grpc::endpoint(&cluster.namenode_url()).unwrap().connect().await.unwrap();
    let mut raft = pb::raft_service_client::RaftServiceClient::new(channel);
    let msg = || pb::RaftMessage { data: vec![0u8; 16].into() };
    assert_denied(raft.append_entries(msg()).await, "AppendEntries from outside", "only members");
    assert_denied(raft.vote(msg()).await, "Vote from outside", "only members");
    assert_denied(raft.install_snapshot(msg()).await, "InstallSnapshot from outside", "only members");

    let add = pb::ChangeMembershipRequest {
        change: Some(pb::change_membership_request::Change::Add(pb::AddMember {
            id: 9,
            address: "127.0.0.1:9".into(),
        })),
    };
    let mut req = tonic::Request::new(add);
    req.metadata_mut().insert(hdfs_proto::user::USER_HEADER, "mallory".parse().unwrap());
    let e = raft.change_membership(req).await.expect_err("a membership change by a non-superuser");
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    assert_eq!(cluster.namesystem().unwrap().group_status().members.len(), 1);
}

/// A datanode given another cluster's secret is refused by the namenode and never serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datanode_with_another_secret_never_joins() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = hdfs_datanode::Config::new(cluster.namenode_url(), dir.path(), ClusterSecret::generate());
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(hdfs_datanode::run(config, listener, None, stop.clone()));
    // It retries registration every heartbeat: wait until the namenode has refused it three
    // times (its metrics count refusals by method), then it must still be unknown.
    let metrics = format!("{}/metrics", cluster.namenode_http(0).unwrap());
    hdfs_tests::wait_until("three refused registrations", Duration::from_secs(20), || async {
        let text = hdfs_tests::http::get(&metrics).await.map(|a| a.text()).unwrap_or_default();
        refused_registrations(&text) >= 3
    })
    .await
    .unwrap();
    assert_eq!(cluster.datanode_report().await.unwrap().len(), 1, "only the cluster's own datanode");
    stop.cancel();
    task.await.unwrap().unwrap();
}

/// `hdfs_namenode_rpc_calls_total` for Register answered PERMISSION_DENIED.
fn refused_registrations(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("hdfs_namenode_rpc_calls_total{"))
        .filter(|l| l.contains("method=\"Register\"") && l.contains("code=\"PERMISSION_DENIED\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}
