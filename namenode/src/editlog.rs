//! Durable namespace: an edit log of [`Op`]s in sled, and fsimage checkpoints in a plain file.
//!
//! A mutation is appended to the log (a sled tree keyed by big-endian index) while the namespace
//! lock is held, so log order is apply order; the caller then awaits [`EditLog::sync`] (sled's
//! flush, an fsync) before acknowledging. Concurrent callers share a flush, which gives group
//! commit without a queue of our own.
//!
//! Every `checkpoint_every` records, the whole namespace is written to `fsimage` (a temp file,
//! fsync, rename, fsync of the directory) and the log up to its index is dropped. Start-up loads
//! the image and replays the records after it. The image is a file rather than a sled value
//! because it is one large blob, which sled stores badly (notes/grpc-and-storage.md).

use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::namespace::{Namespace, Op};

const IMAGE_FILE: &str = "fsimage";
const IMAGE_MAGIC: &[u8; 8] = b"HDFSIMG1";

#[derive(Serialize, Deserialize)]
struct Image {
    /// Index of the last log record the image includes.
    last_index: u64,
    namespace: Namespace,
}

pub struct EditLog {
    db: sled::Db,
    log: sled::Tree,
    dir: PathBuf,
    next_index: u64,
    since_checkpoint: u64,
}

impl EditLog {
    /// Opens (or creates) the log in `dir` and rebuilds the namespace from image and log.
    pub fn open(dir: &Path) -> Result<(Self, Namespace)> {
        fs::create_dir_all(dir).map_err(|e| Error::Image(format!("create {}: {e}", dir.display())))?;
        let db = sled::Config::new().path(dir.join("editlog")).cache_capacity(32 << 20).open()?;
        let log = db.open_tree("log")?;
        let (mut last_index, mut ns) = match read_image(dir)? {
            Some(img) => (img.last_index, img.namespace),
            None => (0, Namespace::default()),
        };
        let mut replayed = 0;
        for item in log.range((last_index + 1).to_be_bytes()..) {
            let (k, v) = item?;
            let index = u64::from_be_bytes(k.as_ref().try_into().map_err(|_| Error::CorruptLog {
                index: last_index + 1,
                reason: format!("key of {} bytes", k.len()),
            })?);
            if index != last_index + 1 {
                return Err(Error::CorruptLog { index, reason: format!("gap after record {last_index}") });
            }
            let op: Op = bincode::deserialize(&v).map_err(|e| Error::CorruptLog { index, reason: e.to_string() })?;
            ns.apply(&op).map_err(|e| Error::CorruptLog { index, reason: format!("{op:?} does not apply: {e}") })?;
            last_index = index;
            replayed += 1;
        }
        tracing::info!(dir = %dir.display(), last_index, replayed, inodes = ns.inode_count(), "namespace loaded");
        let this = Self { db, log, dir: dir.to_path_buf(), next_index: last_index + 1, since_checkpoint: replayed };
        Ok((this, ns))
    }

    /// Appends `op` (not yet durable: call [`sync`](Self::sync) before acknowledging).
    pub fn append(&mut self, op: &Op) -> Result<u64> {
        let index = self.next_index;
        let bytes = bincode::serialize(op).map_err(|e| Error::CorruptLog { index, reason: e.to_string() })?;
        self.log.insert(index.to_be_bytes(), bytes)?;
        self.next_index += 1;
        self.since_checkpoint += 1;
        Ok(index)
    }

    /// Makes every appended record durable.
    pub async fn sync(db: &sled::Db) -> Result<()> {
        db.flush_async().await?;
        Ok(())
    }

    /// The handle [`sync`](Self::sync) needs, usable without the namespace lock.
    pub fn db(&self) -> sled::Db {
        self.db.clone()
    }

    pub fn needs_checkpoint(&self, every: u64) -> bool {
        self.since_checkpoint >= every
    }

    /// Writes `ns` (which must include every appended record) as the new image and trims the log.
    pub fn checkpoint(&mut self, ns: &Namespace) -> Result<()> {
        let last_index = self.next_index - 1;
        write_image(&self.dir, last_index, ns)?;
        // Records up to the image are now redundant; removing them is not urgent to be durable,
        // since replay skips what the image already holds.
        let mut batch = sled::Batch::default();
        for key in self.log.range(..=last_index.to_be_bytes()).keys() {
            batch.remove(key?);
        }
        self.log.apply_batch(batch)?;
        self.since_checkpoint = 0;
        tracing::info!(last_index, inodes = ns.inode_count(), "checkpoint written");
        Ok(())
    }
}

fn image_err(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Image(format!("{what} {}: {e}", path.display()))
}

fn read_image(dir: &Path) -> Result<Option<Image>> {
    let path = dir.join(IMAGE_FILE);
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(image_err("open", &path, e)),
    };
    let mut r = BufReader::new(file);
    let mut magic = [0u8; 8];
    std::io::Read::read_exact(&mut r, &mut magic).map_err(|e| image_err("read", &path, e))?;
    if &magic != IMAGE_MAGIC {
        return Err(image_err("read", &path, "not an fsimage (bad magic)"));
    }
    let img: Image = bincode::deserialize_from(r).map_err(|e| image_err("decode", &path, e))?;
    Ok(Some(img))
}

fn write_image(dir: &Path, last_index: u64, ns: &Namespace) -> Result<()> {
    let path = dir.join(IMAGE_FILE);
    let tmp = dir.join(format!("{IMAGE_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut w = BufWriter::new(fs::File::create(&tmp)?);
        w.write_all(IMAGE_MAGIC)?;
        #[derive(Serialize)]
        struct ImageRef<'a> {
            last_index: u64,
            namespace: &'a Namespace,
        }
        bincode::serialize_into(&mut w, &ImageRef { last_index, namespace: ns }).map_err(std::io::Error::other)?;
        w.into_inner()?.sync_all()?;
        fs::rename(&tmp, &path)?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| image_err("write", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdfs_proto::path::HdfsPath;

    fn mkdir(n: u32) -> Op {
        Op::Mkdirs { path: format!("/d{n}"), mtime_ms: 1 }
    }

    async fn append_and_apply(log: &mut EditLog, ns: &mut Namespace, op: Op) {
        ns.apply(&op).unwrap();
        log.append(&op).unwrap();
        EditLog::sync(&log.db()).await.unwrap();
    }

    #[tokio::test]
    async fn replays_log_over_image_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
            for i in 0..5 {
                append_and_apply(&mut log, &mut ns, mkdir(i)).await;
            }
            log.checkpoint(&ns).unwrap();
            for i in 5..8 {
                append_and_apply(&mut log, &mut ns, mkdir(i)).await;
            }
        }
        let (log, ns) = EditLog::open(dir.path()).unwrap();
        for i in 0..8 {
            ns.resolve(&HdfsPath::parse(&format!("/d{i}")).unwrap()).unwrap();
        }
        assert_eq!(log.next_index, 9);
        assert_eq!(log.log.len(), 3, "records up to the checkpoint were trimmed");
    }

    #[tokio::test]
    async fn refuses_a_garbled_record() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
            append_and_apply(&mut log, &mut ns, mkdir(0)).await;
            log.log.insert(2u64.to_be_bytes(), &b"\xff\xff\xff"[..]).unwrap();
            log.db.flush().unwrap();
        }
        match EditLog::open(dir.path()) {
            Err(Error::CorruptLog { index: 2, .. }) => {}
            Err(e) => panic!("expected corrupt record 2, got {e}"),
            Ok(_) => panic!("expected corrupt record 2, got a namespace"),
        }
    }
}
