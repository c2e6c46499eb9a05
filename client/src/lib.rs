//! The client library of the file system.
//!
//! Metadata goes to the namenode; file bytes go straight to and from datanodes, checksummed
//! (CRC32C per 64 KiB chunk) end to end. Files are written through [`FileWriter`]
//! (`tokio::io::AsyncWrite`) and read through [`FileReader`] (`tokio::io::AsyncRead`), both with
//! bounded memory whatever the file size.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let cluster = hdfs_tests::MiniCluster::start(3).await?;
//! # let url = cluster.namenode_url();
//! use hdfs_client::{Client, CreateOptions};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let client = Client::connect(&url).await?;            // e.g. "http://127.0.0.1:8020"
//! let mut w = client.create("/reports/2026.csv", CreateOptions::default().create_parent(true)).await?;
//! w.write_all(b"id,total\n1,42\n").await?;
//! w.close().await?;                                       // durable on every replica
//!
//! let mut text = String::new();
//! client.open("/reports/2026.csv").await?.read_to_string(&mut text).await?;
//! assert_eq!(text, "id,total\n1,42\n");
//! client.delete("/reports", true).await?;
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! - `client`: [`Client`], the façade: namespace calls, `create`/`open`, upload and download,
//!   and the admin calls (`admin`: fsck, datanode report, safe mode, decommission);
//! - `conn`: the connection state every handle shares (a channel to each namenode of the group
//!   and failover to its leader, datanode connection cache, client name, lease renewal) —
//!   readers, writers and admin depend on it, never on `client`;
//! - `writer`: [`FileWriter`], split into the `AsyncWrite` front, the background block task and
//!   one block's pipeline;
//! - `reader`: [`FileReader`], with its background fetch task;
//! - `checksum`: [`FileChecksum`], a file's CRC32C composed from its blocks' (`-checksum`);
//! - `group`: the namenode group's members and roles ([`NamenodeStatus`]) and membership
//!   changes, for `hdfs haadmin`;
//! - `error`: [`Error`], one variant per way a caller may branch.
//!
//! ```text
//!                    Client ──create──▶ FileWriter ─▶ BlockWriter ─▶ Pipeline ─packets─▶ datanodes
//!                      │  └───open───▶ FileReader ─▶ Fetcher ◀──────chunks+checksums── datanodes
//!                      │                     │            │             │
//!                      └──── admin ──────────┴─── Conn ───┴─────────────┘ ──metadata──▶ namenode
//! ```
//!
//! The `hdfs` command (`main.rs`, `cli/`) is built on this public API alone.

mod admin;
mod checksum;
mod client;
mod conn;
mod error;
mod group;
mod reader;
mod writer;

pub use admin::{DatanodeReport, FsckBlock, FsckFile, FsckReport, SafeModeAction};
pub use checksum::{COMPOSITE_CRC32C, FileChecksum};
pub use client::{Client, ContentSummary, CreateOptions, FileKind, FileStatus};
pub use error::{Error, Result};
pub use group::NamenodeStatus;
pub use hdfs_proto::perm::Access;
pub use hdfs_proto::user::current_user;
pub use reader::FileReader;
pub use writer::{FileWriter, PACKET_SIZE};

/// Trusts the CA certificate(s) in the PEM file `ca` for every connection this process makes:
/// a cluster with TLS is then reached at its `https://` namenode URLs, and its datanodes over
/// TLS too. Once per process (the `hdfs` command's `--tls-ca`).
pub fn trust_ca(ca: &std::path::Path) -> std::result::Result<(), String> {
    hdfs_proto::tls::trust(ca)
}
