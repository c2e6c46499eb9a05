//! The data directory's lock: an exclusive `flock` on `in_use.lock`, held for as long as a
//! namenode has the directory open, since two namenodes appending to one segment would garble it.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};

/// Held (an exclusive `flock`) for as long as a namenode has the directory open.
pub const LOCK_FILE: &str = "in_use.lock";

/// Takes `dir`'s lock, or says which directory another namenode holds.
pub(super) fn lock_dir(dir: &Path) -> Result<fs::File> {
    let path = dir.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::storage("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::storage_refused(format!(
            "refusing to start: {}: another namenode has this data directory open",
            dir.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(Error::storage("lock", &path, e)),
    }
}

/// Whether a namenode has `dir` open (its lock is held).
pub fn in_use(dir: &Path) -> bool {
    match fs::OpenOptions::new().write(true).open(dir.join(LOCK_FILE)) {
        Ok(f) => matches!(f.try_lock(), Err(fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}
