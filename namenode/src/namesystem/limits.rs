//! HDFS's fs-limits: what a new name may be, and how full a directory may get.
//!
//! Checked on the leader, under the lock, before an op that adds a name is proposed (create,
//! mkdirs, the destination of a rename), as HDFS checks them when it adds an inode: a path of at
//! most `--max-path-length` characters and `--max-path-depth` components, each component at most
//! `--max-component-length` bytes (`HdfsPath` already refuses more than 255 everywhere), no
//! control character (a newline or a tab in a name would let it fake lines of `ls` or `fsck`), and
//! room in the directory that receives it (`--max-directory-items`). Names already in the
//! namespace are left alone: an fsimage or a log written before a limit was lowered still loads,
//! and its names can still be read, renamed away and deleted.

use hdfs_proto::path::HdfsPath;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::namespace::Namespace;

#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    path_length: usize,
    path_depth: usize,
    component_length: usize,
    directory_items: usize,
}

impl Limits {
    pub(super) fn new(config: &Config) -> Self {
        Self {
            path_length: config.max_path_length,
            path_depth: config.max_path_depth,
            component_length: config.max_component_length,
            directory_items: config.max_directory_items,
        }
    }

    /// Checks that `path` may be added to `ns`: the name itself, and room in the directory that
    /// will receive its first new component (for `mkdirs -p`, the deepest that exists).
    pub(super) fn check_new(&self, ns: &Namespace, path: &HdfsPath) -> Result<()> {
        self.check_name(path)?;
        let mut dir = path.parent();
        if ns.resolve(path).is_ok() {
            return Ok(()); // replaced or already there: nothing is added
        }
        while let Some(d) = dir {
            match ns.resolve(&d) {
                Ok(id) => {
                    let items = ns.child_count(id);
                    if items >= self.directory_items {
                        return Err(Error::DirectoryItemLimit { dir: d, limit: self.directory_items, items });
                    }
                    return Ok(());
                }
                Err(Error::NotFound(_)) => dir = d.parent(),
                // Whatever else is wrong (a file on the way) the op itself says.
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    }

    /// Checks `path` as a new name, whatever the room in its directory.
    pub(super) fn check_name(&self, path: &HdfsPath) -> Result<()> {
        let chars = path.as_str().chars().count();
        if chars > self.path_length {
            return Err(Error::InvalidName(format!(
                "{}...: path of {chars} characters exceeds the limit of {} (--max-path-length)",
                path.as_str().chars().take(64).collect::<String>(),
                self.path_length
            )));
        }
        let depth = path.components().count();
        if depth > self.path_depth {
            return Err(Error::InvalidName(format!(
                "{}...: path of {depth} components exceeds the limit of {} (--max-path-depth)",
                path.as_str().chars().take(64).collect::<String>(),
                self.path_depth
            )));
        }
        for c in path.components() {
            if c.len() > self.component_length {
                return Err(Error::InvalidName(format!(
                    "The maximum path component name limit of {c} in directory {} is exceeded: limit={} length={}",
                    path.parent().map_or_else(|| "/".to_string(), |p| p.to_string()),
                    self.component_length,
                    c.len()
                )));
            }
            if let Some(bad) = c.chars().find(|ch| ch.is_control()) {
                return Err(Error::InvalidName(format!(
                    "{:?}: a name may not contain a control character ({bad:?})",
                    path.as_str()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::Op;

    fn path(s: &str) -> HdfsPath {
        HdfsPath::parse(s).unwrap()
    }

    fn limits(items: usize) -> Limits {
        let mut config = Config::new("/nonexistent");
        config.max_directory_items = items;
        Limits::new(&config)
    }

    fn mkdir(ns: &mut Namespace, p: &str) {
        ns.apply(&Op::Mkdirs { path: p.into(), mtime_ms: 0 }).unwrap();
    }

    #[test]
    fn new_names_keep_to_hdfs_limits_and_no_control_characters() {
        let (ns, l) = (Namespace::default(), limits(10));
        let deep = "/d".repeat(1000);
        assert!(l.check_new(&ns, &path(&deep)).is_ok());
        let err = l.check_new(&ns, &path(&format!("{deep}/d"))).unwrap_err().to_string();
        assert!(err.contains("1001 components exceeds the limit of 1000"), "{err}");
        let long = format!("/{}", vec!["x".repeat(250); 32].join("/"));
        let err = l.check_new(&ns, &path(&long)).unwrap_err().to_string();
        assert!(err.contains("8032 characters exceeds the limit of 8000"), "{err}");
        for bad in ["/a\nb", "/x/tab\there", "/del\u{7f}", "/c1\u{85}"] {
            let err = l.check_new(&ns, &path(bad)).unwrap_err().to_string();
            assert!(err.contains("control character"), "{bad:?}: {err}");
        }
        assert!(l.check_new(&ns, &path("/ünïcode names/ and spaces")).is_ok());
        let mut config = Config::new("/nonexistent");
        config.max_component_length = 8;
        let err = Limits::new(&config).check_new(&ns, &path("/dir/ninechars")).unwrap_err().to_string();
        assert!(err.contains("limit of ninechars in directory /dir is exceeded: limit=8 length=9"), "{err}");
    }

    #[test]
    fn a_full_directory_takes_no_new_entry_but_keeps_its_own() {
        let (mut ns, l) = (Namespace::default(), limits(2));
        mkdir(&mut ns, "/full/a");
        mkdir(&mut ns, "/full/b");
        let err = l.check_new(&ns, &path("/full/c")).unwrap_err().to_string();
        assert_eq!(err, "The directory item limit of /full is exceeded: limit=2 items=2");
        // mkdir -p: the deepest directory that exists receives the new entry.
        assert!(l.check_new(&ns, &path("/full/c/d/e")).is_err());
        assert!(l.check_new(&ns, &path("/full/a/x/y")).is_ok());
        // Replacing or re-making an entry adds none.
        assert!(l.check_new(&ns, &path("/full/b")).is_ok());
    }
}
