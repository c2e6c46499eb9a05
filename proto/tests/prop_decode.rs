//! Nothing panics on bad bytes (issue 15): every wire message decoded from random and mutated
//! bytes, the packet conversion, paths, WebHDFS parameters, sizes, durations, the cluster secret
//! and block access tokens, fed random input. A bounded number of cases (`PROPTEST_CASES`
//! overrides it), and no failure files written into the repository.

use bytes::Bytes;
use hdfs_proto::auth::{BlockAccess, BlockTokens, ClusterSecret};
use hdfs_proto::checksum::BYTES_PER_CHECKSUM;
use hdfs_proto::packet::{Packet, aligned_checksums};
use hdfs_proto::path::{HdfsPath, MAX_COMPONENT_LEN};
use hdfs_proto::pb::datanode as dn;
use hdfs_proto::pb::namenode as nn;
use hdfs_proto::webhdfs::{self, Params};
use hdfs_proto::{BlockRef, units};
use proptest::prelude::*;
use proptest::test_runner::Config;
use prost::Message;

fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Decodes `bytes` as each message type; whatever decodes encodes and decodes back to itself.
macro_rules! decode_all {
    ($bytes:expr; $($ty:ty),* $(,)?) => {$(
        if let Ok(m) = <$ty>::decode($bytes) {
            let again = <$ty>::decode(m.encode_to_vec().as_slice()).expect(stringify!($ty));
            assert_eq!(again, m, "{} does not round-trip", stringify!($ty));
        }
    )*};
}

fn decode_every_message(bytes: &[u8]) {
    decode_all!(bytes;
        dn::BlockRef, dn::BlockToken, dn::WriteHeader, dn::Packet, dn::WriteBlockRequest, dn::WriteBlockAck,
        dn::ReadBlockRequest, dn::ReadBlockResponse, dn::InitReplicaRecoveryRequest,
        dn::InitReplicaRecoveryResponse, dn::FinalizeReplicaRecoveryRequest, dn::FinalizeReplicaRecoveryResponse,
        dn::BlockChecksumRequest, dn::BlockChecksumResponse, dn::ReplicaVisibleLengthRequest,
        dn::ReplicaVisibleLengthResponse,
    );
    decode_all!(bytes;
        nn::DatanodeInfo, nn::ExtendedBlock, nn::LocatedBlock, nn::FileStatus, nn::MkdirsRequest,
        nn::MkdirsResponse, nn::GetFileInfoRequest, nn::GetFileInfoResponse, nn::GetListingRequest,
        nn::GetListingResponse, nn::DeleteRequest, nn::DeleteResponse, nn::RenameRequest, nn::RenameResponse,
        nn::CreateRequest, nn::CreateResponse, nn::AddBlockRequest, nn::AddBlockResponse, nn::CompleteRequest,
        nn::CompleteResponse, nn::GetBlockLocationsRequest, nn::GetBlockLocationsResponse,
        nn::SetReplicationRequest, nn::SetReplicationResponse, nn::GetContentSummaryRequest,
        nn::GetContentSummaryResponse, nn::RenewLeaseRequest, nn::RenewLeaseResponse, nn::ReportBadBlocksRequest,
        nn::ReportBadBlocksResponse, nn::DatanodeReport, nn::UpdatePipelineRequest, nn::UpdatePipelineResponse,
        nn::AbandonBlockRequest, nn::AbandonBlockResponse, nn::FsckRequest, nn::FsckBlock, nn::FsckFile,
        nn::FsckResponse, nn::SetSafeModeRequest, nn::SetSafeModeResponse, nn::DecommissionRequest,
        nn::DecommissionResponse, nn::SetPermissionRequest, nn::SetPermissionResponse, nn::SetOwnerRequest,
        nn::SetOwnerResponse, nn::SetTimesRequest, nn::SetTimesResponse, nn::CheckAccessRequest,
        nn::CheckAccessResponse, nn::AppendRequest, nn::AppendResponse, nn::TruncateRequest,
        nn::TruncateResponse, nn::ConcatRequest, nn::ConcatResponse, nn::GetDatanodeReportRequest,
        nn::GetDatanodeReportResponse, nn::StorageReport, nn::RegisterRequest, nn::RegisterResponse,
        nn::HeartbeatRequest, nn::DeleteBlocksCommand, nn::ReplicateCommand, nn::RecoverBlockCommand,
        nn::DatanodeCommand, nn::HeartbeatResponse, nn::BlockReportRequest, nn::BlockReportResponse,
        nn::BlockReceivedAndDeletedRequest, nn::BlockReceivedAndDeletedResponse, nn::CommitBlockRecoveryRequest,
        nn::CommitBlockRecoveryResponse, nn::RaftMessage, nn::GroupStatusRequest, nn::MemberStatus,
        nn::GroupStatusResponse, nn::ChangeMembershipRequest, nn::AddMember, nn::ChangeMembershipResponse,
    );
}

/// One mutation of an encoded message.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Truncate { at: usize },
    Extend { bytes: Vec<u8> },
    Splice { at: usize, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        2 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        1 => prop::collection::vec(any::<u8>(), 1..40).prop_map(|bytes| Mutation::Extend { bytes }),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..12))
            .prop_map(|(at, bytes)| Mutation::Splice { at, bytes }),
    ]
}

fn mutate(mut b: Vec<u8>, m: &Mutation) -> Vec<u8> {
    match m {
        _ if b.is_empty() => b.push(0x80),
        Mutation::Flip { at, bit } => {
            let at = at % b.len();
            b[at] ^= 1 << bit;
        }
        Mutation::Truncate { at } => b.truncate(at % b.len()),
        Mutation::Extend { bytes } => b.extend_from_slice(bytes),
        Mutation::Splice { at, bytes } => {
            let at = at % b.len();
            b.splice(at..at, bytes.iter().copied());
        }
    }
    b
}

/// What a receiving node checks a packet's data against.
fn verifies(p: &Packet) -> bool {
    p.checksums == aligned_checksums(p.offset, &p.data)
}

fn packet() -> impl Strategy<Value = Packet> {
    let data = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..300),
        1 => (1usize..3 * BYTES_PER_CHECKSUM).prop_map(|n| (0..n).map(|i| (i * 31 % 251) as u8).collect()),
    ];
    (any::<u64>(), 0u64..(1 << 31), data, any::<bool>())
        .prop_map(|(seqno, offset, data, last)| Packet::checksummed(seqno, offset, Bytes::from(data), last))
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[/a.\\x00é%+=&;:]{0,24}",
        "(/[a.]{0,3}){0,6}/?",
        (0usize..600).prop_map(|n| format!("/{}", "x".repeat(n))),
    ]
}

proptest! {
    #![proptest_config(config(5000))]

    #[test]
    fn random_bytes_decode_to_an_error_or_a_message_that_round_trips(
        bytes in prop::collection::vec(any::<u8>(), 0..96),
    ) {
        decode_every_message(&bytes);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn mutated_messages_decode_to_an_error_or_a_message_that_round_trips(
        path in tricky_string(),
        n in any::<u64>(),
        m in mutation(),
    ) {
        let located = nn::LocatedBlock {
            block: Some(nn::ExtendedBlock { block_id: n, generation_stamp: n >> 3, num_bytes: n >> 7 }),
            offset: n,
            locations: vec![nn::DatanodeInfo { datanode_id: path.clone(), address: "a:1".into(), http_address: path.clone() }],
            token: None,
        };
        let listing = nn::GetListingResponse { entries: vec![nn::FileStatus { path: path.clone(), file_type: n as i32, ..Default::default() }], ..Default::default() };
        let header = dn::WriteHeader { block: Some(dn::BlockRef { block_id: n, generation_stamp: 1 }), downstream: vec![path.clone()], client_name: path.clone(), ..Default::default() };
        for bytes in [located.encode_to_vec(), listing.encode_to_vec(), header.encode_to_vec()] {
            decode_every_message(&mutate(bytes, &m));
        }
    }

    /// A packet is refused only for its size; whatever a mutation does to its data or its
    /// checksums, the data that arrives verifies only if it is the data that was sent.
    #[test]
    fn a_mutated_packet_is_refused_or_fails_verification_unless_its_data_is_intact(p in packet(), m in mutation()) {
        prop_assert!(verifies(&p));
        let wire = dn::WriteBlockRequest::from(p.clone()).encode_to_vec();
        let Ok(req) = dn::WriteBlockRequest::decode(mutate(wire, &m).as_slice()) else { return Ok(()) };
        let Some(dn::write_block_request::Msg::Packet(got)) = req.msg else { return Ok(()) };
        let got = Packet::try_from(got).expect("a packet within the size limit is accepted");
        if verifies(&got) && !got.data.is_empty() {
            prop_assert_eq!(&got.data, &p.data, "changed data verified");
        }
    }

    #[test]
    fn a_packet_converts_from_any_fields(
        seqno in any::<u64>(), offset in any::<u64>(), data in prop::collection::vec(any::<u8>(), 0..64),
        checksums in prop::collection::vec(any::<u32>(), 0..4), last in any::<bool>(), sync in any::<bool>(),
    ) {
        let wire = dn::Packet { seqno, offset_in_block: offset, data: Bytes::from(data), checksums, last, sync };
        let p = Packet::try_from(wire.clone()).expect("small packets are accepted");
        let _ = verifies(&p);
        prop_assert_eq!(dn::Packet::from(p), wire);
    }

    /// A path parses to one that follows every rule, and parses to itself again.
    #[test]
    fn paths_parse_to_valid_paths_or_an_error(s in tricky_string()) {
        let Ok(p) = HdfsPath::parse(&s) else { return Ok(()) };
        let text = p.as_str();
        prop_assert!(text.starts_with('/') && !text.contains('\0'));
        prop_assert!(p.is_root() || !text.ends_with('/'));
        for c in p.components() {
            prop_assert!(!c.is_empty() && c != "." && c != ".." && c.len() <= MAX_COMPONENT_LEN, "{c:?} in {text:?}");
        }
        prop_assert_eq!(HdfsPath::parse(text), Ok(p.clone()));
        let depth = p.components().count();
        prop_assert_eq!(&p.prefix(depth), &p);
        if let Some(parent) = p.parent() {
            prop_assert_eq!(parent.join(p.name()), Ok(p.clone()));
            prop_assert!(p.starts_with(&parent));
        }
    }

    #[test]
    fn webhdfs_parameters_parse_without_panics(query in tricky_string(), uri in tricky_string()) {
        let params = Params::parse(Some(&query));
        for name in ["op", "offset", "length", "permission", "overwrite", "user.name"] {
            let _ = (params.get(name), params.u64(name), params.i64(name), params.bool(name, false));
            if let Ok(Some(m)) = params.permission(name) {
                prop_assert!(m <= 0o1777);
            }
        }
        let _ = params.op();
        let _ = webhdfs::path(&format!("/webhdfs/v1{uri}"));
        let _ = webhdfs::path(&uri);
    }

    #[test]
    fn sizes_durations_and_secrets_parse_without_panics(s in tricky_string(), n in any::<u64>(), unit in "[kKmMgGtTbBiIsh]{0,3}") {
        let _ = units::parse_size(&s);
        let _ = units::parse_duration(&s);
        let _ = units::parse_size(&format!("{n}{unit}"));
        let _ = units::parse_duration(&format!("{n}.{n}{unit}"));
        let _ = ClusterSecret::parse(&s);
        if n < 1 << 53 {
            prop_assert_eq!(units::parse_size(&n.to_string()), Ok(n));
        }
    }

    /// A token is accepted only as the namenode issued it: any changed field is refused.
    #[test]
    fn block_tokens_are_refused_unless_issued_for_the_block(
        id in any::<u64>(), gs in any::<u64>(), field in 0..7usize, value in any::<u64>(),
        mac in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let tokens = BlockTokens::new(ClusterSecret::parse(&"ab".repeat(32)).unwrap());
        let block = BlockRef::new(id, gs);
        let issued = tokens.issue(block, BlockAccess::READ, "alice");
        prop_assert!(tokens.check(Some(&issued), block, BlockAccess::READ).is_ok());
        let mut t = issued.clone();
        match field {
            0 => t.key_id = value,
            1 => t.expiry_ms = value,
            2 => t.user = format!("{value:x}"),
            3 => t.block_id = value,
            4 => t.generation_stamp = value,
            5 => t.access = value as u32,
            _ => t.mac = Bytes::from(mac),
        }
        if t != issued {
            prop_assert!(tokens.check(Some(&t), block, BlockAccess::READ).is_err(), "{:?} accepted", t);
        }
        let random = dn::BlockToken { key_id: value, expiry_ms: value, user: String::new(), block_id: id, generation_stamp: gs, access: 1, mac: Bytes::new() };
        prop_assert!(tokens.check(Some(&random), block, BlockAccess::READ).is_err());
    }
}
