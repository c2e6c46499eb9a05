//! Segment files: `log-<first index>` (20 digits), each a run of records
//! `[len u32][crc32c u32][bincode Raft entry]` (little-endian; the CRC covers the entry). Reading
//! one checks every record; a record cut short at the very end of the last segment is what a
//! crash in the middle of a write leaves (never acknowledged), so it is dropped.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::raft::Entry;

const SEGMENT_PREFIX: &str = "log-";
/// Record header: length and CRC.
pub(super) const HEADER: usize = 8;
/// Entries hold one op (or a membership); a larger length is garbage.
const MAX_RECORD: u32 = 1 << 24;

/// Appends one record to `out`; returns its length.
pub(super) fn encode(entry: &Entry, out: &mut Vec<u8>) -> Result<u64> {
    let index = entry.log_id.index;
    let body = bincode::serialize(entry).map_err(|e| Error::CorruptLog { index, reason: e.to_string() })?;
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok((HEADER + body.len()) as u64)
}

pub(super) fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{SEGMENT_PREFIX}{first:020}"))
}

/// The segments in `dir`, by first index.
pub(super) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::storage("list", dir, e))? {
        let entry = entry.map_err(|e| Error::storage("list", dir, e))?;
        let name = entry.file_name();
        let Some(first) = name.to_str().and_then(|n| n.strip_prefix(SEGMENT_PREFIX)).and_then(|n| n.parse().ok())
        else {
            continue;
        };
        out.push((first, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// The record at `offset` of the segment at `path` (an entry no longer kept in memory).
pub(super) fn read_at(path: &Path, offset: u64) -> Result<Entry> {
    use std::io::{Read, Seek, SeekFrom};
    let corrupt = |reason: String| Error::CorruptLog { index: 0, reason: format!("{}: {reason}", path.display()) };
    let mut f = fs::File::open(path).map_err(|e| Error::storage("open", path, e))?;
    f.seek(SeekFrom::Start(offset)).map_err(|e| Error::storage("seek", path, e))?;
    let mut header = [0u8; HEADER];
    f.read_exact(&mut header).map_err(|e| Error::storage("read", path, e))?;
    let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
    if len > MAX_RECORD {
        return Err(corrupt(format!("record of {len} bytes at offset {offset}")));
    }
    let mut body = vec![0u8; len as usize];
    f.read_exact(&mut body).map_err(|e| Error::storage("read", path, e))?;
    if crc32c::crc32c(&body) != u32::from_le_bytes(header[4..].try_into().expect("4 bytes")) {
        return Err(corrupt(format!("checksum mismatch at offset {offset}")));
    }
    bincode::deserialize(&body).map_err(|e| corrupt(format!("undecodable at offset {offset}: {e}")))
}

/// The offset of a whole record (its CRC matches, its entry decodes, its index is at least
/// `expected`) somewhere after the record header at `at`, if there is one.
fn whole_record_after(bytes: &[u8], at: usize, expected: Option<u64>) -> Option<usize> {
    (at + 1..bytes.len().saturating_sub(HEADER)).find(|&o| {
        let len = u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(bytes[o + 4..o + HEADER].try_into().expect("4 bytes"));
        let Some(body) = bytes.get(o + HEADER..o + HEADER + len).filter(|b| !b.is_empty()) else { return false };
        crc32c::crc32c(body) == crc
            && bincode::deserialize::<Entry>(body).is_ok_and(|e| e.log_id.index >= expected.unwrap_or(0))
    })
}

/// The records of one segment with their offsets. In the last segment, a record cut short by
/// the end of the file is dropped and the file truncated before it.
pub(super) fn read_segment(path: &Path, is_last: bool) -> Result<Vec<(u64, Entry)>> {
    let bytes = fs::read(path).map_err(|e| Error::storage("read", path, e))?;
    let mut records = Vec::new();
    let mut at = 0;
    let mut expected = None;
    while at < bytes.len() {
        let index_hint = expected.unwrap_or(0);
        let corrupt =
            |reason: String| Error::CorruptLog { index: index_hint, reason: format!("{}: {reason}", path.display()) };
        let rest = &bytes[at..];
        let torn = if rest.len() < HEADER {
            true
        } else {
            let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
            if len > MAX_RECORD {
                return Err(corrupt(format!("record of {len} bytes at offset {at}")));
            }
            rest.len() < HEADER + len as usize
        };
        if torn {
            if !is_last {
                return Err(corrupt(format!("cut short at offset {at}")));
            }
            // A crash leaves its torn write last; a whole record further on means this one's
            // length field was damaged instead, and dropping the rest would drop acknowledged
            // entries.
            if let Some(next) = whole_record_after(&bytes, at, expected) {
                return Err(corrupt(format!(
                    "the record at offset {at} claims to run past the end, but a whole record follows at offset {next}"
                )));
            }
            tracing::warn!(segment = %path.display(), offset = at, dropped = rest.len(), "dropping a record cut short by a crash");
            let f = fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::storage("open", path, e))?;
            f.set_len(at as u64).and_then(|_| f.sync_all()).map_err(|e| Error::storage("truncate", path, e))?;
            break;
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        let body = &rest[HEADER..HEADER + len];
        if crc32c::crc32c(body) != crc {
            return Err(corrupt(format!("checksum mismatch at offset {at}")));
        }
        let entry: Entry = bincode::deserialize(body).map_err(|e| corrupt(format!("undecodable: {e}")))?;
        expected = Some(entry.log_id.index + 1);
        records.push((at as u64, entry));
        at += HEADER + len;
    }
    Ok(records)
}
