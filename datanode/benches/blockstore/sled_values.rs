//! The road not taken, measured: a block's bytes as sled values (64 KiB or 1 MiB each) beside a
//! record of its checksums, instead of a file owned by a record (`hdfs_datanode::store`).
//!
//! Same durability point as the store (`db.flush()` at the end of every block), same 16 MiB
//! cache as its index, and the same verification (packets before they are stored, values after
//! they are read), so the modes differ only in where the bytes live. docs/BENCHMARKS.md has
//! the figures: 1.4-2.9x the bytes on disk, memory growing with the data, writes at a third to
//! a half of the files' speed.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use hdfs_proto::checksum::{self, BYTES_PER_CHECKSUM, chunk_checksums};

use crate::{Layout, PACKET, ReadPhase, fill, packets, peak_rss, timed};

/// The cache the store's sled index uses; the sled modes get the same.
const SLED_CACHE: u64 = 16 << 20;

fn open_sled(dir: &Path) -> Result<(sled::Db, sled::Tree)> {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(SLED_CACHE)
        .open()
        .with_context(|| format!("open sled in {}", dir.display()))?;
    let tree = db.open_tree("blocks").context("open the sled tree")?;
    Ok((db, tree))
}

/// Key of a block's checksum record; it sorts before the block's values.
fn record_key(block: u64) -> [u8; 8] {
    block.to_be_bytes()
}

/// Key of the value holding the bytes of `block` from `offset`.
fn value_key(block: u64, offset: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&block.to_be_bytes());
    key[8..].copy_from_slice(&offset.to_be_bytes());
    key
}

/// Writes the data set as `value_size`-byte values, flushing at the end of every block.
pub(crate) fn write(dir: &Path, layout: Layout, value_size: usize) -> Result<Duration> {
    let (db, tree) = open_sled(dir)?;
    let mut busy = Duration::ZERO;
    let mut buf = Vec::with_capacity(PACKET);
    for (block, len) in layout.blocks() {
        let mut record = Vec::new();
        for (offset, n) in packets(len) {
            fill(&mut buf, n, block, offset);
            let sums = chunk_checksums(&buf, BYTES_PER_CHECKSUM);
            timed(&mut busy, || -> Result<()> {
                checksum::verify(&buf, BYTES_PER_CHECKSUM, &sums)?;
                for (i, value) in buf.chunks(value_size).enumerate() {
                    tree.insert(value_key(block, offset + (i * value_size) as u64), value)?;
                }
                record.extend(sums.iter().flat_map(|s| s.to_le_bytes()));
                Ok(())
            })
            .with_context(|| format!("block {block}: store the packet at {offset}"))?;
        }
        timed(&mut busy, || -> Result<()> {
            tree.insert(record_key(block), record)?;
            db.flush()?;
            Ok(())
        })
        .with_context(|| format!("block {block}: write and flush its record"))?;
    }
    Ok(busy)
}

/// Reopens sled and reads everything back, verifying it.
pub(crate) fn read(dir: &Path, layout: Layout) -> Result<ReadPhase> {
    let start = Instant::now();
    let (_db, tree) = open_sled(dir)?;
    let reopen = start.elapsed();
    let reopen_rss = peak_rss()?;
    let mut busy = Duration::ZERO;
    let mut expected = Vec::with_capacity(PACKET);
    for (block, len) in layout.blocks() {
        let record = timed(&mut busy, || tree.get(record_key(block)))
            .with_context(|| format!("block {block}: read its record"))?
            .ok_or_else(|| anyhow!("block {block}: no record"))?;
        let sums: Vec<u32> = record.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        ensure!(
            sums.len() as u64 == len.div_ceil(BYTES_PER_CHECKSUM as u64),
            "block {block}: record of {} checksums",
            sums.len()
        );
        for (offset, n) in packets(len) {
            let data = timed(&mut busy, || -> Result<Vec<u8>> {
                let mut data = Vec::with_capacity(n);
                for item in tree.range(value_key(block, offset)..value_key(block, offset + n as u64)) {
                    data.extend_from_slice(&item?.1);
                }
                ensure!(data.len() == n, "{} bytes stored, {n} written", data.len());
                let first = (offset / BYTES_PER_CHECKSUM as u64) as usize;
                checksum::verify(&data, BYTES_PER_CHECKSUM, &sums[first..first + n.div_ceil(BYTES_PER_CHECKSUM)])?;
                Ok(data)
            })
            .with_context(|| format!("block {block}: read at {offset}"))?;
            fill(&mut expected, n, block, offset);
            ensure!(data == expected, "block {block} at {offset}: read back something else than was written");
        }
    }
    Ok(ReadPhase { reopen, reopen_rss, busy })
}
