//! [`FileChecksum`]: a file's checksum as HDFS gives it with `dfs.checksum.combine.mode=
//! COMPOSITE_CRC` (`FileChecksumHelper`, Hadoop's `CompositeCrcFileChecksum`).
//!
//! Each block's CRC32C comes from one of its replicas (`BlockChecksum`: the datanode composes it
//! from the chunk CRCs it stored, without reading the bytes), failing over to the next replica
//! as the reader does; the client composes the blocks' CRCs in order with their lengths. The
//! result is the CRC32C of the file's bytes, so it is the same whatever the block size the file
//! was written with, and the same as any other tool's CRC32C of the bytes (`gsutil hash -c`,
//! a local `crc32c`): the point of Hadoop's composite mode over its default, `MD5-of-MD5s`,
//! which changes with the block size.
//!
//! A file being written is summed up to the length the namenode knows (its completed blocks),
//! as a reader opening it now would see without asking the datanodes of its last block.

use std::collections::HashSet;
use std::fmt;

use hdfs_proto::BlockRef;
use hdfs_proto::checksum::concat_crcs;
use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::datanode as dpb;
use hdfs_proto::pb::namenode as pb;

use crate::conn::{CALL_TIMEOUT, Conn, rpc};
use crate::error::{Error, Result};

/// Hadoop's name for the algorithm: `COMPOSITE-` and the chunk checksum's type.
pub const COMPOSITE_CRC32C: &str = "COMPOSITE-CRC32C";

/// A file's composite CRC: the CRC32C of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileChecksum {
    /// Always [`COMPOSITE_CRC32C`].
    pub algorithm: &'static str,
    /// Bytes of the file the CRC covers (Hadoop's `getLength()` is that of the checksum
    /// itself, 4: [`FileChecksum::bytes`]'s).
    pub length: u64,
    pub crc: u32,
}

impl FileChecksum {
    /// The checksum as Hadoop's `getBytes()` gives it: the CRC, 4 bytes big-endian.
    pub fn bytes(&self) -> [u8; 4] {
        self.crc.to_be_bytes()
    }

    /// [`bytes`](Self::bytes) in lowercase hex, as `hdfs dfs -checksum` prints them (Hadoop's
    /// `StringUtils.byteToHexString`).
    pub fn hex(&self) -> String {
        self.bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `COMPOSITE-CRC32C:0x1234abcd`, Hadoop's `CompositeCrcFileChecksum.toString()`.
impl fmt::Display for FileChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{:#010x}", self.algorithm, self.crc)
    }
}

/// The checksum of the file at `path`: its blocks' CRCs, asked of their replicas, composed.
pub(crate) async fn file_checksum(conn: &Conn, path: HdfsPath) -> Result<FileChecksum> {
    let req = pb::GetBlockLocationsRequest { path: path.to_string(), offset: 0, length: 0 };
    let located = rpc!(conn, get_block_locations, req).await?;
    let mut pieces = Vec::with_capacity(located.blocks.len());
    let mut length = 0;
    let mut failed = HashSet::new();
    for b in &located.blocks {
        let Some(block) = b.block.filter(|block| block.num_bytes > 0) else { continue };
        if b.offset != length {
            return Err(Error::Remote {
                code: tonic::Code::Internal,
                message: format!("{path}: the namenode listed a block at {} where {length} was due", b.offset),
            });
        }
        pieces.push((block_crc(conn, &path, &block, b, &mut failed).await?, block.num_bytes));
        length += block.num_bytes;
    }
    Ok(FileChecksum { algorithm: COMPOSITE_CRC32C, length, crc: concat_crcs(pieces) })
}

/// The CRC32C of a block's `num_bytes`, from the first of its replicas that can give it. Nodes
/// in `failed` (that failed for an earlier block) are asked last, as the reader does, so a dead
/// node costs one try per file, not one per block.
async fn block_crc(
    conn: &Conn,
    path: &HdfsPath,
    block: &pb::ExtendedBlock,
    located: &pb::LocatedBlock,
    failed: &mut HashSet<String>,
) -> Result<u32> {
    let mut last_error = None;
    let mut order: Vec<&pb::DatanodeInfo> = located.locations.iter().collect();
    order.sort_by_key(|dn| failed.contains(&dn.address)); // stable: the namenode's order otherwise
    for dn in order {
        match replica_crc(conn, block, located.token.as_ref(), &dn.address).await {
            Ok(crc) => return Ok(crc),
            Err(e) => {
                tracing::warn!(block = block.block_id, datanode = %dn.address, error = %e, "checksum failed; trying the next replica");
                if matches!(e, Error::Unavailable(_) | Error::Connect { .. } | Error::Remote { .. }) {
                    conn.drop_datanode(&dn.address);
                }
                failed.insert(dn.address.clone());
                last_error = Some(e);
            }
        }
    }
    Err(match last_error {
        None => {
            Error::Unavailable(format!("{path}: block {} has no live replica (are its datanodes up?)", block.block_id))
        }
        Some(e) => {
            Error::DataLoss(format!("{path}: block {}: no replica gave its checksum; last: {e}", block.block_id))
        }
    })
}

/// One replica's CRC32C of the block's `num_bytes`.
async fn replica_crc(
    conn: &Conn,
    block: &pb::ExtendedBlock,
    token: Option<&dpb::BlockToken>,
    addr: &str,
) -> Result<u32> {
    let mut client = conn.datanode(addr).await?;
    let req = dpb::BlockChecksumRequest {
        block: Some(BlockRef::new(block.block_id, block.generation_stamp).into()),
        length: block.num_bytes,
        token: token.cloned(),
    };
    let r = tokio::time::timeout(CALL_TIMEOUT, client.block_checksum(req))
        .await
        .map_err(|_| Error::Unavailable(format!("datanode {addr}: no answer within {CALL_TIMEOUT:?}")))??
        .into_inner();
    if r.length != block.num_bytes {
        return Err(Error::DataLoss(format!(
            "datanode {addr}: block {} holds {} bytes, {} expected",
            block.block_id, r.length, block.num_bytes
        )));
    }
    Ok(r.crc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of random sizes over random bytes: their CRCs composed as `file_checksum` does
    /// are the CRC32C of the whole.
    #[test]
    fn block_crcs_compose_into_the_crc32c_of_the_file() {
        let data: Vec<u8> = (0..1_000_000).map(|_| fastrand::u8(..)).collect();
        let whole = crc32c::crc32c(&data);
        for _ in 0..30 {
            let block_size = fastrand::usize(1..=data.len());
            let len = fastrand::usize(0..=data.len());
            let pieces = data[..len].chunks(block_size).map(|b| (crc32c::crc32c(b), b.len() as u64));
            assert_eq!(concat_crcs(pieces), crc32c::crc32c(&data[..len]), "block size {block_size}, length {len}");
        }
        let pieces = data.chunks(300_000).map(|b| (crc32c::crc32c(b), b.len() as u64));
        assert_eq!(concat_crcs(pieces), whole);
    }

    #[test]
    fn hadoops_formats() {
        let c = FileChecksum { algorithm: COMPOSITE_CRC32C, length: 12, crc: crc32c::crc32c(b"Hello world!") };
        assert_eq!(c.crc, 0x7b98_e751);
        assert_eq!(c.bytes(), [0x7b, 0x98, 0xe7, 0x51]);
        assert_eq!(c.hex(), "7b98e751");
        assert_eq!(c.to_string(), "COMPOSITE-CRC32C:0x7b98e751");
        let empty = FileChecksum { algorithm: COMPOSITE_CRC32C, length: 0, crc: 0 };
        assert_eq!((empty.hex().as_str(), empty.to_string().as_str()), ("00000000", "COMPOSITE-CRC32C:0x00000000"));
    }
}
