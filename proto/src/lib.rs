//! The wire protocol of the file system and the few small types every component shares.
//!
//! - [`pb`]: the generated protobuf/gRPC types (`namenode` and `datanode` packages). They stop
//!   at the edge of each crate: handlers convert them to domain types on receipt.
//! - [`ids`]: [`BlockId`], [`GenStamp`] and [`BlockRef`], names for the numbers that identify blocks.
//! - [`path`]: validated absolute paths, checked identically by the client and the namenode.
//! - [`checksum`]: CRC32C over fixed-size chunks, the unit every byte is verified in.
//! - [`packet`]: [`Packet`], a piece of a block in a write pipeline, validated on receipt.
//! - [`units`]: human-readable sizes and durations for flags (`128MiB`, `3s`).
//! - [`codec`]: prost's codec, with malformed messages reported as `InvalidArgument`.
//! - [`daemon`]: logging and signal handling for the server binaries.
//! - [`grpc`]: transport tuning shared by every channel and server (frame and message sizes).
//! - [`user`]: who is calling (Hadoop's "simple" authentication), and the metadata naming it.
//! - [`perm`]: permission bits as HDFS has them, and their `drwxr-xr-x` spelling.
//! - [`http`]: the HTTP ports' server loop and its limits; [`webhdfs`]: WebHDFS's query
//!   parameters, paths and `RemoteException` errors, shared by the namenode and the datanodes.
//! - [`auth`]: the cluster secret, the member credential servers present to each other, and
//!   block access tokens.
//! - [`tls`]: TLS on every port when a cluster has certificates (rustls).
//! - [`html`]: the status pages' escaping, skeleton, JSON answers and time formats.

pub mod auth;
pub mod checksum;
pub mod codec;
pub mod daemon;
pub mod grpc;
pub mod html;
pub mod http;
pub mod ids;
pub mod packet;
pub mod path;
pub mod perm;
pub mod tls;
pub mod units;
pub mod user;
pub mod webhdfs;

pub use ids::{BlockId, BlockRef, GenStamp};
pub use packet::Packet;

/// Generated protobuf and gRPC code.
pub mod pb {
    /// Namenode services: `ClientProtocol` and `DatanodeProtocol`.
    pub mod namenode {
        tonic::include_proto!("hdfs.namenode");
    }
    /// The datanode's `DataTransfer` service.
    pub mod datanode {
        tonic::include_proto!("hdfs.datanode");
    }
}

/// Replication factors are limited as in HDFS (`dfs.replication.max`).
pub const MAX_REPLICATION: u32 = 512;
/// The smallest block size accepted (HDFS's `dfs.namenode.fs-limits.min-block-size` is 1 MiB).
pub const MIN_BLOCK_SIZE: u64 = 1 << 20;
/// The largest block size accepted: a replica must fit comfortably in one file and one sled record
/// of checksums (2 GiB / 64 KiB chunks = 32 Ki checksums = 128 KiB).
pub const MAX_BLOCK_SIZE: u64 = 2 << 30;
/// The default block size, as HDFS.
pub const DEFAULT_BLOCK_SIZE: u64 = 128 << 20;
