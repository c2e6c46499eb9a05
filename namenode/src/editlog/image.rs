//! The fsimage, which is the Raft snapshot: `fsimage` holds the snapshot's metadata (last
//! included log id, membership) and its body (the state machine's image, opaque here). Written to a temp file, fsynced, renamed over the old one, and the
//! directory fsynced, so a crash leaves either image whole. The small `raft-meta` file (vote,
//! purge point, commit hint) is written the same way.

use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::raft::SnapshotMeta;

pub(super) const IMAGE_FILE: &str = "fsimage";
const IMAGE_MAGIC: &[u8; 8] = b"HDFSIMG2";
/// The fsimage written before the namenode group (no Raft metadata).
const OLD_IMAGE_MAGIC: &[u8; 8] = b"HDFSIMG1";

/// Reads `name` in `dir`: `magic` then one bincode value; `None` if there is no such file.
pub(super) fn read_file<T: DeserializeOwned>(dir: &Path, name: &str, magic: &[u8; 8]) -> Result<Option<T>> {
    let path = dir.join(name);
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::storage("open", &path, e)),
    };
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut found = [0u8; 8];
    r.read_exact(&mut found).map_err(|e| Error::storage("read", &path, e))?;
    if &found == OLD_IMAGE_MAGIC {
        return Err(old_format(&path));
    }
    if &found != magic {
        return Err(Error::storage_refused(format!(
            "read {}: bad magic (not written by this namenode)",
            path.display()
        )));
    }
    let v = bincode::deserialize_from(r)
        .map_err(|e| Error::storage("decode", &path, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    Ok(Some(v))
}

/// Replaces `name` in `dir` with `magic` then `value`, durably.
pub(super) fn write_file<T: Serialize>(dir: &Path, name: &str, magic: &[u8; 8], value: &T) -> Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
        w.write_all(magic)?;
        bincode::serialize_into(&mut w, value).map_err(std::io::Error::other)?;
        w.into_inner()?.sync_all()?;
        fs::rename(&tmp, &path)?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| Error::storage("write", &path, e))
}

/// The snapshot in `dir`: its metadata and the state machine's bytes (`fsimage`: magic, the
/// metadata's length and bincode, then the bytes as they are).
pub fn read_image(dir: &Path) -> Result<Option<(SnapshotMeta, Vec<u8>)>> {
    let path = dir.join(IMAGE_FILE);
    let mut bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::storage("read", &path, e)),
    };
    let bad = |why: &str| Error::storage_refused(format!("read {}: {why}", path.display()));
    if bytes.len() < 16 {
        return Err(bad("too short to be an fsimage"));
    }
    if &bytes[..8] == OLD_IMAGE_MAGIC {
        return Err(old_format(&path));
    }
    if &bytes[..8] != IMAGE_MAGIC {
        return Err(bad("bad magic (not written by this namenode)"));
    }
    let meta_len = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let meta_end = 16usize.checked_add(meta_len).filter(|&e| e <= bytes.len()).ok_or_else(|| bad("cut short"))?;
    let meta: SnapshotMeta =
        bincode::deserialize(&bytes[16..meta_end]).map_err(|e| bad(&format!("undecodable metadata: {e}")))?;
    bytes.drain(..meta_end);
    Ok(Some((meta, bytes)))
}

/// Makes `data` the snapshot in `dir`.
pub fn write_image(dir: &Path, meta: &SnapshotMeta, data: &[u8]) -> Result<()> {
    let path = dir.join(IMAGE_FILE);
    let tmp = dir.join(format!("{IMAGE_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let meta = bincode::serialize(meta).map_err(std::io::Error::other)?;
        let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
        w.write_all(IMAGE_MAGIC)?;
        w.write_all(&(meta.len() as u64).to_le_bytes())?;
        w.write_all(&meta)?;
        w.write_all(data)?;
        w.into_inner()?.sync_all()?;
        fs::rename(&tmp, &path)?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| Error::storage("write", &path, e))
}

fn old_format(path: &Path) -> Error {
    Error::storage_refused(format!(
        "refusing to start: {}: an fsimage of the single-namenode format, from before the namenode group; \
         this version keeps its namespace as a Raft log and snapshot",
        path.display()
    ))
}
