//! Bad input gets an error that names the problem, with a fitting status, and nothing is lost:
//! through the client library, and through raw (malformed or truncated) gRPC messages.

mod common;

use common::{get, put, random_bytes};
use hdfs_client::{Client, CreateOptions, Error};
use hdfs_proto::pb::datanode::{self as dpb, data_transfer_client::DataTransferClient};
use hdfs_proto::pb::namenode as pb;
use hdfs_tests::MiniCluster;
use tokio::io::AsyncWriteExt;
use tonic::Code;

fn assert_err(r: Result<impl std::fmt::Debug, Error>, expect: fn(&Error) -> bool, needle: &str) {
    match r {
        Err(e) => {
            assert!(expect(&e), "unexpected error kind: {e:?}");
            assert!(e.to_string().contains(needle), "{e:?} should mention {needle:?}");
        }
        Ok(v) => panic!("expected an error mentioning {needle:?}, got {v:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_misuse_is_refused_with_clear_errors() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let c = Client::connect(&cluster.namenode_url()).await.unwrap();
    let data = random_bytes(1000, 1);
    put(&c, "/dir/file", &data, 1).await;

    assert_err(c.stat("relative/path").await, |e| matches!(e, Error::InvalidPath(_)), "must be absolute");
    assert_err(c.mkdirs("/a//b", true).await, |e| matches!(e, Error::InvalidPath(_)), "empty component");
    assert_err(c.mkdirs("/a/../b", true).await, |e| matches!(e, Error::InvalidPath(_)), "'..'");
    let long = format!("/{}", "n".repeat(256));
    assert_err(c.mkdirs(&long, true).await, |e| matches!(e, Error::InvalidPath(_)), "256 bytes");
    assert_err(c.mkdirs("/dir/file/sub", true).await, |e| matches!(e, Error::FailedPrecondition(_)), "not a directory");
    assert_err(c.stat("/dir/file/sub").await, |e| matches!(e, Error::FailedPrecondition(_)), "not a directory");
    assert_err(
        c.create("/dir/file", CreateOptions::default()).await,
        |e| matches!(e, Error::AlreadyExists(_)),
        "already exists",
    );
    assert_err(c.open("/missing").await, |e| matches!(e, Error::NotFound(_)), "no such file");
    assert_err(c.delete("/dir", false).await, |e| matches!(e, Error::FailedPrecondition(_)), "not empty");
    assert_err(c.delete("/", true).await, |e| matches!(e, Error::InvalidArgument(_)), "root");
    assert_err(c.rename("/dir", "/dir/inner").await, |e| matches!(e, Error::InvalidArgument(_)), "into itself");
    assert_err(c.mkdirs("/x/y", false).await, |e| matches!(e, Error::NotFound(_)), "parent directory does not exist");
    assert_err(c.open("/dir").await, |e| matches!(e, Error::FailedPrecondition(_)), "is a directory");
    let opts = CreateOptions::default();
    assert_err(
        c.create("/r0", opts.replication(513)).await,
        |e| matches!(e, Error::InvalidArgument(_)),
        "replication 513",
    );
    assert_err(
        c.create("/bs", opts.block_size(4096)).await,
        |e| matches!(e, Error::InvalidArgument(_)),
        "block size 4096",
    );
    assert_err(c.set_replication("/dir/file", 0).await, |e| matches!(e, Error::InvalidArgument(_)), "replication 0");
    // HDFS's fs-limits on new names, and no control characters (a newline could fake `ls` lines).
    let control = |e: &Error| matches!(e, Error::InvalidArgument(_));
    assert_err(c.mkdirs("/bad\nname", true).await, control, "control character");
    assert_err(c.create("/dir/tab\there", opts).await, control, "control character");
    assert_err(c.rename("/dir/file", "/dir/new\rline").await, control, "control character");
    assert_err(c.mkdirs(&"/d".repeat(1001), true).await, control, "1001 components exceeds the limit of 1000");
    assert!(c.stat("/bad\nname").await.is_err() && c.stat("/d").await.is_err(), "nothing was made");
    assert!(c.stat("/dir/file").await.is_ok(), "the refused rename left the file");

    // Nothing above changed what was there.
    assert_eq!(get(&c, "/dir/file").await, data);
    let names: Vec<_> = c.list("/").await.unwrap().into_iter().map(|e| e.path).collect();
    assert_eq!(names, ["/dir"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_per_file_and_unclosed_files_stay_invisible_as_complete() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let first = Client::connect(&cluster.namenode_url()).await.unwrap();
    let second = Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut w = first.create("/busy", CreateOptions::default()).await.unwrap();
    w.write_all(b"partial").await.unwrap();
    let overwrite = CreateOptions::default().overwrite(true);
    // Refused, and without the holder's client name (it stays in the namenode's log).
    match second.create("/busy", overwrite).await {
        Err(Error::FailedPrecondition(m)) => assert_eq!(m, "/busy: being written by another client"),
        other => panic!("another client's file is refused, got {other:?}"),
    }
    assert!(first.stat("/busy").await.unwrap().under_construction);
    assert_eq!(w.close().await.unwrap(), 7);
    assert!(!first.stat("/busy").await.unwrap().under_construction);
    // Closed: now another client may overwrite it.
    let mut w2 = second.create("/busy", overwrite).await.unwrap();
    w2.close().await.unwrap();
    assert_eq!(second.stat("/busy").await.unwrap().length, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_replicas_than_datanodes_still_succeeds_and_says_so() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let c = Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut w = c.create("/r3", CreateOptions::default().replication(3)).await.unwrap();
    assert_eq!((w.replication(), w.live_datanodes()), (3, 1));
    w.write_all(b"abc").await.unwrap();
    w.close().await.unwrap();
    assert_eq!(get(&c, "/r3").await, b"abc");
    assert_eq!(c.replica_counts("/r3").await.unwrap(), [1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_namenode_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    assert_err(Client::connect(&url).await.map(|_| ()), |e| matches!(e, Error::Connect { .. }), "cannot connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_to_every_service_get_status_codes_not_panics() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let mut nn = cluster.namenode_client().await.unwrap();
    // Client protocol: empty paths and missing fields.
    assert_eq!(nn.mkdirs(pb::MkdirsRequest::default()).await.unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(
        nn.create(pb::CreateRequest { path: "/x".into(), ..Default::default() }).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let add = pb::AddBlockRequest { path: "/nope".into(), client_name: "c".into(), ..Default::default() };
    assert_eq!(nn.add_block(add).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        nn.report_bad_blocks(pb::ReportBadBlocksRequest::default()).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let listing = pb::GetListingRequest { path: "/".into(), start_after: "\u{10FFFF}".into(), limit: u32::MAX };
    assert!(nn.get_listing(listing).await.unwrap().into_inner().entries.is_empty());

    // Datanode protocol: unknown nodes and missing fields.
    let mut dnp = hdfs_proto::pb::namenode::datanode_protocol_client::DatanodeProtocolClient::new(
        hdfs_proto::grpc::endpoint(&cluster.namenode_url()).unwrap().connect().await.unwrap(),
    );
    let member = cluster.secret();
    let register = member.request(pb::RegisterRequest::default());
    assert_eq!(dnp.register(register).await.unwrap_err().code(), Code::InvalidArgument);
    let hb = pb::HeartbeatRequest { datanode_id: "nobody".into(), storage: None };
    assert_eq!(dnp.heartbeat(member.request(hb)).await.unwrap_err().code(), Code::NotFound);

    // Bytes that are not a protobuf message, and a message cut short (field 1 says 5 bytes,
    // 2 follow), to a unary and to a server-streaming method of each server.
    let datanode_url = format!("http://{}", cluster.datanode_addr(0).unwrap());
    for body in [vec![0xff; 7], vec![0x0a, 0x05, b'/', b'a']] {
        for (url, method) in [
            (cluster.namenode_url(), "/hdfs.namenode.ClientProtocol/Mkdirs"),
            (cluster.namenode_url(), "/hdfs.namenode.DatanodeProtocol/Heartbeat"),
            (datanode_url.clone(), "/hdfs.datanode.DataTransfer/ReadBlock"),
        ] {
            let status = raw_call(&url, method, body.clone()).await;
            assert_eq!(status.code(), Code::InvalidArgument, "{method}: {status:?}");
            assert!(status.message().contains("malformed message"), "{status:?}");
        }
    }

    // Data transfer: a write must start with a header; reads of unknown blocks are NotFound.
    let addr = cluster.datanode_addr(0).unwrap().to_string();
    let mut dt = DataTransferClient::new(hdfs_proto::grpc::endpoint(&addr).unwrap().connect().await.unwrap());
    let packet = dpb::WriteBlockRequest { msg: Some(dpb::write_block_request::Msg::Packet(dpb::Packet::default())) };
    let r = dt.write_block(tokio_stream::iter(vec![packet])).await;
    assert_eq!(r.err().map(|s| s.code()), Some(Code::InvalidArgument));
    let tokens = cluster.block_tokens();
    let grant = |id, access| Some(tokens.issue(hdfs_proto::BlockRef::new(id, 1), access, "test"));
    let read = dpb::ReadBlockRequest {
        block: Some(dpb::BlockRef { block_id: 999, generation_stamp: 1 }),
        offset: 0,
        length: 0,
        token: grant(999, hdfs_proto::auth::BlockAccess::READ),
    };
    let r = dt.read_block(read).await;
    assert_eq!(r.err().map(|s| s.code()), Some(Code::NotFound));
    assert_eq!(
        dt.read_block(dpb::ReadBlockRequest::default()).await.err().map(|s| s.code()),
        Some(Code::InvalidArgument)
    );

    // A header with a bad checksum size, and a packet whose checksums do not match its data.
    let header = |bpc| dpb::WriteBlockRequest {
        msg: Some(dpb::write_block_request::Msg::Header(dpb::WriteHeader {
            block: Some(dpb::BlockRef { block_id: 4242, generation_stamp: 1 }),
            downstream: vec![],
            bytes_per_checksum: bpc,
            client_name: "t".into(),
            token: grant(4242, hdfs_proto::auth::BlockAccess::WRITE),
            ..Default::default()
        })),
    };
    assert_eq!(
        dt.write_block(tokio_stream::iter(vec![header(7)])).await.err().map(|s| s.code()),
        Some(Code::InvalidArgument)
    );
    let bad = dpb::WriteBlockRequest {
        msg: Some(dpb::write_block_request::Msg::Packet(dpb::Packet {
            seqno: 0,
            offset_in_block: 0,
            data: bytes::Bytes::from_static(b"hello"),
            checksums: vec![0xdead_beef],
            last: true,
            sync: false,
        })),
    };
    let mut acks = dt.write_block(tokio_stream::iter(vec![header(64 * 1024), bad])).await.unwrap().into_inner();
    let status = acks.message().await.unwrap_err();
    assert_eq!(status.code(), Code::DataLoss, "{status:?}");
    assert!(status.message().contains("checksum"), "{status:?}");

    // The servers are still fine.
    let c = Client::connect(&cluster.namenode_url()).await.unwrap();
    put(&c, "/still-ok", b"yes", 1).await;
    assert_eq!(get(&c, "/still-ok").await, b"yes");
}

/// Sends `body` as the message of a unary call, bypassing the generated encoders.
async fn raw_call(url: &str, method: &'static str, body: Vec<u8>) -> tonic::Status {
    let channel = hdfs_proto::grpc::endpoint(url).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
    grpc.unary(tonic::Request::new(body), path, raw::RawCodec).await.expect_err("garbage must be refused")
}

mod raw {
    use tonic::Status;
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
    use tonic::codegen::Bytes;

    /// Writes the given bytes as the message; reads any reply as raw bytes.
    pub struct RawCodec;
    pub struct Raw;

    impl Codec for RawCodec {
        type Encode = Vec<u8>;
        type Decode = Bytes;
        type Encoder = Raw;
        type Decoder = Raw;
        fn encoder(&mut self) -> Raw {
            Raw
        }
        fn decoder(&mut self) -> Raw {
            Raw
        }
    }

    impl Encoder for Raw {
        type Item = Vec<u8>;
        type Error = Status;
        fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
            use bytes::BufMut;
            dst.put_slice(&item);
            Ok(())
        }
    }

    impl Decoder for Raw {
        type Item = Bytes;
        type Error = Status;
        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
            use bytes::Buf;
            Ok(Some(src.copy_to_bytes(src.remaining())))
        }
    }
}
