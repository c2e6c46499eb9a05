//! The fsimage: the whole namespace in one file (`fsimage`: magic, then bincode of the last
//! included log index and the namespace), written to a temp file, fsynced, renamed over the old
//! one, and the directory fsynced, so a crash leaves either image whole.

use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::namespace::Namespace;

const IMAGE_FILE: &str = "fsimage";
const IMAGE_MAGIC: &[u8; 8] = b"HDFSIMG1";

#[derive(Serialize, Deserialize)]
pub(super) struct Image {
    /// Index of the last log record the image includes.
    pub(super) last_index: u64,
    pub(super) namespace: Namespace,
}

pub(super) fn read_image(dir: &Path) -> Result<Option<Image>> {
    let path = dir.join(IMAGE_FILE);
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::storage("open", &path, e)),
    };
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(|e| Error::storage("read", &path, e))?;
    if &magic != IMAGE_MAGIC {
        return Err(Error::storage_refused(format!("read {}: not an fsimage (bad magic)", path.display())));
    }
    let img: Image = bincode::deserialize_from(r)
        .map_err(|e| Error::storage("decode", &path, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    Ok(Some(img))
}

pub(super) fn write_image(dir: &Path, last_index: u64, ns: &Namespace) -> Result<()> {
    let path = dir.join(IMAGE_FILE);
    let tmp = dir.join(format!("{IMAGE_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
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
    write().map_err(|e| Error::storage("write", &path, e))
}
