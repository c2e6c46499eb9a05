//! CRC32C over fixed-size chunks.
//!
//! Every byte of a block is covered by the CRC32C of its chunk: [`BYTES_PER_CHECKSUM`] bytes
//! aligned to the start of the block (the last chunk of a block may be shorter). The client
//! computes them, every datanode in a write pipeline verifies them before storing, the datanode
//! stores them in its sled record and verifies them again on every read, and the client checks
//! them once more on receipt.
//!
//! HDFS uses 512-byte chunks. We use 64 KiB: CRC32C runs at ~6 GB/s in 512-byte pieces and
//! ~9 GB/s on large buffers here, so the check is cheap either way, but a 128 MiB block then
//! needs 2,048 checksums (8 KiB in its sled record) rather than 262,144 (1 MiB). The cost is
//! that a ranged read must fetch whole 64 KiB chunks to verify them.

use bytes::Bytes;

/// Bytes covered by one checksum.
pub const BYTES_PER_CHECKSUM: usize = 64 * 1024;

/// The CRC32C of each `chunk`-byte piece of `data` (the last piece may be shorter).
pub fn chunk_checksums(data: &[u8], chunk: usize) -> Vec<u32> {
    data.chunks(chunk).map(crc32c::crc32c).collect()
}

/// A chunk whose checksum did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("checksum mismatch in chunk {chunk} (expected {expected:#010x}, computed {actual:#010x})")]
pub struct ChecksumMismatch {
    /// Index of the chunk within the checked buffer.
    pub chunk: usize,
    pub expected: u32,
    pub actual: u32,
}

/// Why a buffer and its checksums do not agree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("{chunks} chunk(s) of data but {checksums} checksum(s)")]
    CountMismatch { chunks: usize, checksums: usize },
    #[error(transparent)]
    Mismatch(#[from] ChecksumMismatch),
}

/// Checks `data` against one checksum per `chunk`-byte piece.
pub fn verify(data: &[u8], chunk: usize, checksums: &[u32]) -> Result<(), VerifyError> {
    let chunks = data.len().div_ceil(chunk);
    if chunks != checksums.len() {
        return Err(VerifyError::CountMismatch { chunks, checksums: checksums.len() });
    }
    for (i, (piece, &expected)) in data.chunks(chunk).zip(checksums).enumerate() {
        let actual = crc32c::crc32c(piece);
        if actual != expected {
            return Err(ChecksumMismatch { chunk: i, expected, actual }.into());
        }
    }
    Ok(())
}

/// A buffer with the checksum of each of its chunks, as it travels in packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksummedData {
    pub data: Bytes,
    pub checksums: Vec<u32>,
}

impl ChecksummedData {
    pub fn new(data: Bytes) -> Self {
        let checksums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        Self { data, checksums }
    }
}

/// The CRC32C of pieces laid end to end, from each piece's CRC32C and length: how a replica's
/// CRC is made from its chunks' and a file's from its blocks' (Hadoop's COMPOSITE_CRC), so the
/// result is the CRC32C of the bytes whatever the sizes of the pieces. No pieces: 0, the CRC32C
/// of nothing.
///
/// `crc32c::crc32c_combine` would do, but it builds its zeros operator anew on every call
/// (~35 µs here in a release build; the 2,048 chunks of a 128 MiB block took 73 ms, longer than
/// the CRC32C of the block's bytes, 26 ms); a [`CrcShift`] made once per distinct length costs
/// one 32-step multiplication per piece.
pub fn concat_crcs(pieces: impl IntoIterator<Item = (u32, u64)>) -> u32 {
    let mut shift = CrcShift::new(0);
    pieces.into_iter().fold(0, |crc, (piece, len)| {
        if shift.len != len {
            shift = CrcShift::new(len);
        }
        shift.concat(crc, piece)
    })
}

/// CRC32C's reflected polynomial (Castagnoli).
const POLY: u32 = 0x82f6_3b78;

/// `x^(2^k) mod P` for every k a `u64` length in bytes needs (k = 3 + its bit), as zlib's
/// `crc32_combine` keeps them (zlib keeps 32 and cycles, which needs P's order to divide
/// 2^32 - 1; keeping them all needs no such argument).
const X2N: [u32; 67] = {
    let mut t = [0u32; 67];
    t[0] = 1 << 30; // x^1 (bit 31 is x^0 in the reflected order)
    let mut k = 1;
    while k < t.len() {
        t[k] = mul_mod_p(t[k - 1], t[k - 1]);
        k += 1;
    }
    t
};

/// `a * b mod P` over GF(2), in the reflected bit order.
const fn mul_mod_p(a: u32, mut b: u32) -> u32 {
    let (mut m, mut p) = (1u32 << 31, 0u32);
    while m != 0 {
        if a & m != 0 {
            p ^= b;
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// Appending `len` bytes to a CRC32C: `x^(8 len) mod P`, made once and applied to many pieces
/// of that length.
#[derive(Debug, Clone, Copy)]
pub struct CrcShift {
    len: u64,
    op: u32,
}

impl CrcShift {
    pub fn new(len: u64) -> Self {
        // x^(8 len) = product of x^(2^k) over the bits k of 8 len: len's bit i is 2^(i+3).
        let (mut op, mut n, mut k) = (1u32 << 31, len, 3);
        while n != 0 {
            if n & 1 != 0 {
                op = mul_mod_p(X2N[k], op);
            }
            (n, k) = (n >> 1, k + 1);
        }
        Self { len, op }
    }

    /// The CRC32C of A then B, from A's CRC32C and that of B, `len` bytes long.
    pub fn concat(&self, crc_a: u32, crc_b: u32) -> u32 {
        mul_mod_p(self.op, crc_a) ^ crc_b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_accepts_own_checksums_and_rejects_a_flipped_bit() {
        let mut data = vec![7u8; BYTES_PER_CHECKSUM * 2 + 5];
        let sums = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        assert_eq!(sums.len(), 3);
        verify(&data, BYTES_PER_CHECKSUM, &sums).unwrap();
        data[BYTES_PER_CHECKSUM + 1] ^= 1;
        match verify(&data, BYTES_PER_CHECKSUM, &sums) {
            Err(VerifyError::Mismatch(m)) => assert_eq!(m.chunk, 1),
            other => panic!("expected a mismatch in chunk 1, got {other:?}"),
        }
    }

    #[test]
    fn verify_rejects_wrong_checksum_count() {
        let data = vec![1u8; 10];
        assert!(matches!(
            verify(&data, BYTES_PER_CHECKSUM, &[]),
            Err(VerifyError::CountMismatch { chunks: 1, checksums: 0 })
        ));
        verify(&[], BYTES_PER_CHECKSUM, &[]).unwrap();
    }

    /// A small deterministic generator, so the tests need no crate of random numbers.
    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn concat_crcs_of_random_pieces_is_the_crc_of_the_whole() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let data: Vec<u8> = (0..300_000).map(|_| xorshift(&mut seed) as u8).collect();
        let whole = crc32c::crc32c(&data);
        for round in 0..50 {
            let mut cuts: Vec<usize> = (0..round % 7).map(|_| xorshift(&mut seed) as usize % data.len()).collect();
            if round % 5 == 0 {
                cuts.extend([0, 0, data.len()]); // empty pieces change nothing
            }
            cuts.extend([0, data.len()]);
            cuts.sort_unstable();
            let pieces = cuts.windows(2).map(|w| (crc32c::crc32c(&data[w[0]..w[1]]), (w[1] - w[0]) as u64));
            assert_eq!(concat_crcs(pieces), whole, "cuts {cuts:?}");
        }
        let chunks = chunk_checksums(&data, BYTES_PER_CHECKSUM);
        let lens = data.chunks(BYTES_PER_CHECKSUM).map(|c| c.len() as u64);
        assert_eq!(concat_crcs(chunks.into_iter().zip(lens)), whole);
        assert_eq!(concat_crcs([]), 0);
        assert_eq!(concat_crcs([(whole, data.len() as u64)]), whole);
    }

    #[test]
    fn crc_shift_agrees_with_the_crates_combine() {
        let mut seed = 12345;
        for len in [1u64, 7, 512, 65_536, 65_537, 128 << 20, (1 << 40) + 3] {
            let (a, b) = (xorshift(&mut seed) as u32, xorshift(&mut seed) as u32);
            assert_eq!(CrcShift::new(len).concat(a, b), crc32c::crc32c_combine(a, b, len as usize), "len {len}");
        }
        // Nothing appended (whose CRC32C is 0) leaves a CRC as it was.
        assert_eq!(CrcShift::new(0).concat(0x1234_5678, 0), 0x1234_5678);
    }
}
