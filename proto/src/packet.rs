//! [`Packet`]: one piece of a block on its way through a write pipeline, validated at the edge.
//!
//! A write streams a block as packets (HDFS's `DFSPacket`): a sequence number the acks come
//! back with, the packet's offset in the block, up to one packet of data (1 MiB: the size that
//! gave the best throughput here, docs/BENCHMARKS.md) with the CRC32C of each of its chunks, and
//! the `last` flag, set on an empty packet that ends the block. The client builds them
//! ([`Packet::checksummed`]), each datanode receives, forwards and stores them, and a datanode
//! copying a replica to another sends them too: one type for all three, converted from and to
//! [`pb::Packet`] only on the wire.
//!
//! What is checked on receipt is what a datanode can judge before touching its disk: the data
//! must fit in a message. Whether the checksums match the data (their number and their values)
//! is the store's check, made while appending, so a mismatch is reported as lost data by the
//! node that found it, as before.

use bytes::Bytes;

use crate::checksum::{BYTES_PER_CHECKSUM, chunk_checksums};
use crate::pb::datanode::{self as pb, write_block_request::Msg};

/// One packet of a block write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Packet {
    /// Position in the write's stream; acks name it.
    pub seqno: u64,
    /// Offset in the block of the first byte of `data`.
    pub offset: u64,
    pub data: Bytes,
    /// CRC32C of each piece of `data` between the block's chunk boundaries, in order
    /// ([`aligned_checksums`]).
    pub checksums: Vec<u32>,
    /// The block ends with this packet.
    pub last: bool,
    /// hflush: the nodes make the replica's bytes so far readable before acking this packet.
    pub sync: bool,
}

impl Packet {
    /// A packet carrying `data` with the checksum of each of its chunks.
    pub fn checksummed(seqno: u64, offset: u64, data: Bytes, last: bool) -> Self {
        let checksums = aligned_checksums(offset, &data);
        Self { seqno, offset, data, checksums, last, sync: false }
    }

    /// Offset in the block just past this packet's data.
    pub fn end(&self) -> u64 {
        self.offset + self.data.len() as u64
    }
}

/// Why a received packet was refused.
/// The CRC32C of each piece of `data` (which starts `offset` bytes into its block) cut at the
/// block's chunk boundaries: a packet that starts inside a chunk (after an hflush or an append
/// left the block's last chunk partial) first has the piece up to the next boundary, which the
/// datanode folds into the stored chunk's CRC.
pub fn aligned_checksums(offset: u64, data: &[u8]) -> Vec<u32> {
    let chunk = BYTES_PER_CHECKSUM as u64;
    let head = ((chunk - offset % chunk) % chunk).min(data.len() as u64) as usize;
    let mut sums = Vec::with_capacity(data.len() / BYTES_PER_CHECKSUM + 2);
    if head > 0 {
        sums.push(crc32c::crc32c(&data[..head]));
    }
    sums.extend(chunk_checksums(&data[head..], BYTES_PER_CHECKSUM));
    sums
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("packet too large")]
    TooLarge { len: usize, max: usize },
}

impl From<PacketError> for tonic::Status {
    fn from(e: PacketError) -> Self {
        match e {
            PacketError::TooLarge { .. } => tonic::Status::invalid_argument(e.to_string()),
        }
    }
}

impl TryFrom<pb::Packet> for Packet {
    type Error = PacketError;
    fn try_from(p: pb::Packet) -> Result<Self, PacketError> {
        let max = crate::grpc::MAX_MESSAGE_SIZE;
        if p.data.len() > max {
            return Err(PacketError::TooLarge { len: p.data.len(), max });
        }
        Ok(Self {
            seqno: p.seqno,
            offset: p.offset_in_block,
            data: p.data,
            checksums: p.checksums,
            last: p.last,
            sync: p.sync,
        })
    }
}

impl From<Packet> for pb::Packet {
    fn from(p: Packet) -> Self {
        Self {
            seqno: p.seqno,
            offset_in_block: p.offset,
            data: p.data,
            checksums: p.checksums,
            last: p.last,
            sync: p.sync,
        }
    }
}

/// A packet as the write-stream message that carries it.
impl From<Packet> for pb::WriteBlockRequest {
    fn from(p: Packet) -> Self {
        Self { msg: Some(Msg::Packet(p.into())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_wire_type() {
        let p = Packet::checksummed(3, 1 << 20, Bytes::from(vec![5u8; BYTES_PER_CHECKSUM + 1]), false);
        assert_eq!(p.checksums.len(), 2);
        assert_eq!(p.end(), (1 << 20) + BYTES_PER_CHECKSUM as u64 + 1);
        let wire = pb::Packet::from(p.clone());
        assert_eq!(wire.offset_in_block, 1 << 20);
        assert_eq!(Packet::try_from(wire), Ok(p));
    }

    #[test]
    fn checksums_follow_the_blocks_chunk_boundaries() {
        let c = BYTES_PER_CHECKSUM;
        let data = vec![7u8; c + 10];
        assert_eq!(aligned_checksums(0, &data), chunk_checksums(&data, c));
        let sums = aligned_checksums(c as u64 - 4, &data);
        assert_eq!(sums, [crc32c::crc32c(&data[..4]), crc32c::crc32c(&data[4..c + 4]), crc32c::crc32c(&data[c + 4..])]);
        assert_eq!(aligned_checksums(3, &data[..2]), [crc32c::crc32c(&data[..2])]);
        assert!(aligned_checksums(5, &[]).is_empty());
    }

    #[test]
    fn refuses_data_larger_than_a_message() {
        let wire = pb::Packet { data: Bytes::from(vec![0u8; crate::grpc::MAX_MESSAGE_SIZE + 1]), ..Default::default() };
        let e = Packet::try_from(wire).unwrap_err();
        assert!(matches!(e, PacketError::TooLarge { .. }));
        let status = tonic::Status::from(e);
        assert_eq!((status.code(), status.message()), (tonic::Code::InvalidArgument, "packet too large"));
    }
}
