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

/// Checks that `path` may be added to `ns`: the name itself, and room in the directory that
/// will receive its first new component (for `mkdirs -p`, the deepest that exists).
pub(super) fn check_new(config: &Config, ns: &Namespace, path: &HdfsPath) -> Result<()> {
    check_name(config, path)?;
    if ns.resolve(path).is_ok() {
        return Ok(()); // replaced or already there: nothing is added
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        match ns.resolve(&d) {
            Ok(id) => {
                let (items, limit) = (ns.child_count(id), config.max_directory_items);
                if items >= limit {
                    return Err(Error::DirectoryItemLimit { dir: d, limit, items });
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
pub(super) fn check_name(config: &Config, path: &HdfsPath) -> Result<()> {
    let too_long = |what: String, limit: usize, flag: &str| {
        let start: String = path.as_str().chars().take(64).collect();
        Err(Error::InvalidName(format!("{start}...: path of {what} exceeds the limit of {limit} ({flag})")))
    };
    let chars = path.as_str().chars().count();
    if chars > config.max_path_length {
        return too_long(format!("{chars} characters"), config.max_path_length, "--max-path-length");
    }
    let depth = path.components().count();
    if depth > config.max_path_depth {
        return too_long(format!("{depth} components"), config.max_path_depth, "--max-path-depth");
    }
    for c in path.components() {
        if c.len() > config.max_component_length {
            return Err(Error::InvalidName(format!(
                "The maximum path component name limit of {c} in directory {} is exceeded: limit={} length={}",
                path.parent().map_or_else(|| "/".to_string(), |p| p.to_string()),
                config.max_component_length,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::Op;

    fn path(s: &str) -> HdfsPath {
        HdfsPath::parse(s).unwrap()
    }

    fn limits(items: usize) -> Config {
        let mut config = Config::new("/nonexistent");
        config.max_directory_items = items;
        config
    }

    fn mkdir(ns: &mut Namespace, p: &str) {
        ns.apply(&Op::Mkdirs { path: p.into(), mtime_ms: 0, owner: "alice".into(), mode: 0o755 }).unwrap();
    }

    #[test]
    fn new_names_keep_to_hdfs_limits_and_no_control_characters() {
        let (ns, l) = (Namespace::default(), limits(10));
        let deep = "/d".repeat(1000);
        assert!(check_new(&l, &ns, &path(&deep)).is_ok());
        let err = check_new(&l, &ns, &path(&format!("{deep}/d"))).unwrap_err().to_string();
        assert!(err.contains("1001 components exceeds the limit of 1000"), "{err}");
        let long = format!("/{}", vec!["x".repeat(250); 32].join("/"));
        let err = check_new(&l, &ns, &path(&long)).unwrap_err().to_string();
        assert!(err.contains("8032 characters exceeds the limit of 8000"), "{err}");
        for bad in ["/a\nb", "/x/tab\there", "/del\u{7f}", "/c1\u{85}"] {
            let err = check_new(&l, &ns, &path(bad)).unwrap_err().to_string();
            assert!(err.contains("control character"), "{bad:?}: {err}");
        }
        assert!(check_new(&l, &ns, &path("/ünïcode names/ and spaces")).is_ok());
        let mut config = Config::new("/nonexistent");
        config.max_component_length = 8;
        let err = check_new(&config, &ns, &path("/dir/ninechars")).unwrap_err().to_string();
        assert!(err.contains("limit of ninechars in directory /dir is exceeded: limit=8 length=9"), "{err}");
    }

    #[test]
    fn a_full_directory_takes_no_new_entry_but_keeps_its_own() {
        let (mut ns, l) = (Namespace::default(), limits(2));
        mkdir(&mut ns, "/full/a");
        mkdir(&mut ns, "/full/b");
        let err = check_new(&l, &ns, &path("/full/c")).unwrap_err().to_string();
        assert_eq!(err, "The directory item limit of /full is exceeded: limit=2 items=2");
        // mkdir -p: the deepest directory that exists receives the new entry.
        assert!(check_new(&l, &ns, &path("/full/c/d/e")).is_err());
        assert!(check_new(&l, &ns, &path("/full/a/x/y")).is_ok());
        // Replacing or re-making an entry adds none.
        assert!(check_new(&l, &ns, &path("/full/b")).is_ok());
    }
}
