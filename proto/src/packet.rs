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
    /// CRC32C of each [`BYTES_PER_CHECKSUM`]-byte chunk of `data`, in order.
    pub checksums: Vec<u32>,
    /// The block ends with this packet.
    pub last: bool,
}

impl Packet {
    /// A packet carrying `data` with the checksum of each of its chunks.
    pub fn checksummed(seqno: u64, offset: u64, data: Bytes, last: bool) -> Self {
        let checksums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        Self { seqno, offset, data, checksums, last }
    }

    /// Offset in the block just past this packet's data.
    pub fn end(&self) -> u64 {
        self.offset + self.data.len() as u64
    }
}

/// Why a received packet was refused.
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
        Ok(Self { seqno: p.seqno, offset: p.offset_in_block, data: p.data, checksums: p.checksums, last: p.last })
    }
}

impl From<Packet> for pb::Packet {
    fn from(p: Packet) -> Self {
        Self { seqno: p.seqno, offset_in_block: p.offset, data: p.data, checksums: p.checksums, last: p.last }
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
    fn refuses_data_larger_than_a_message() {
        let wire = pb::Packet { data: Bytes::from(vec![0u8; crate::grpc::MAX_MESSAGE_SIZE + 1]), ..Default::default() };
        let e = Packet::try_from(wire).unwrap_err();
        assert!(matches!(e, PacketError::TooLarge { .. }));
        let status = tonic::Status::from(e);
        assert_eq!((status.code(), status.message()), (tonic::Code::InvalidArgument, "packet too large"));
    }
}
