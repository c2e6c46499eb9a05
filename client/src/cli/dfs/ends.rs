//! The two ends of a copy (Hadoop's `PathData` as `CommandWithDestination` uses it): a local
//! path or a path in the file system, what is at each, and (`-p`) the modification time and mode
//! a copy keeps of its source.

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use super::paths::Item;
use super::shell::hadoop_words;

/// One end of a copy: a local path, or a path in the file system.
#[derive(Debug, Clone)]
pub enum End {
    Local { path: PathBuf, shown: String },
    Remote(Item),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file, with its length when known (stdin's is not).
    File(Option<u64>),
    Dir,
}

/// Why a step failed, already in Hadoop's words.
pub type Said = String;

pub fn local_words(shown: &str, e: &io::Error) -> Said {
    let why = match e.kind() {
        io::ErrorKind::NotFound => "No such file or directory".to_string(),
        io::ErrorKind::AlreadyExists => "File exists".to_string(),
        io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        io::ErrorKind::IsADirectory => "Is a directory".to_string(),
        io::ErrorKind::NotADirectory => "Is not a directory".to_string(),
        io::ErrorKind::DirectoryNotEmpty => "Directory is not empty".to_string(),
        _ => e.to_string(),
    };
    format!("`{shown}': {why}")
}

/// A local path argument without its scheme (`file:///x` and `file:/x` are `/x`).
pub fn local_path(arg: &str) -> &str {
    arg.strip_prefix("file://").or_else(|| arg.strip_prefix("file:")).unwrap_or(arg)
}

/// A local path argument.
pub fn local(arg: &str) -> End {
    End::Local { path: PathBuf::from(local_path(arg)), shown: arg.to_string() }
}

impl End {
    pub fn shown(&self) -> &str {
        match self {
            End::Local { shown, .. } => shown,
            End::Remote(i) => &i.shown,
        }
    }

    pub fn name(&self) -> String {
        match self {
            End::Local { path, .. } => path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            End::Remote(i) => i.name().to_string(),
        }
    }

    pub fn join(&self, name: &str) -> End {
        match self {
            End::Local { path, shown } => {
                let shown =
                    if shown == "." { name.to_string() } else { format!("{}/{name}", shown.trim_end_matches('/')) };
                End::Local { path: path.join(name), shown }
            }
            End::Remote(i) => End::Remote(i.join(name)),
        }
    }

    /// What is there now, if anything.
    pub async fn kind(&mut self) -> Result<Option<Kind>, Said> {
        match self {
            End::Local { path, .. } if path.as_os_str() == "-" => Ok(Some(Kind::File(None))),
            End::Local { path, shown } => match std::fs::metadata(&*path) {
                Ok(m) if m.is_dir() => Ok(Some(Kind::Dir)),
                Ok(m) => Ok(Some(Kind::File(Some(m.len())))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(local_words(shown, &e)),
            },
            End::Remote(item) => {
                if item.stat.is_none() {
                    item.refresh().await.map_err(|e| hadoop_words(&item.shown, &e))?;
                }
                Ok(item.stat.as_ref().map(|s| if s.is_dir() { Kind::Dir } else { Kind::File(Some(s.length)) }))
            }
        }
    }

    /// What holds this path, if anything (`Dir` for the root).
    pub async fn parent_kind(&self) -> Result<Option<Kind>, Said> {
        match self {
            End::Local { path, shown } => {
                let parent = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                End::Local { path: parent, shown: shown.clone() }.kind().await
            }
            End::Remote(item) => match item.parent().await.map_err(|e| hadoop_words(&item.shown, &e))? {
                None => Ok(Some(Kind::Dir)),
                Some(p) => Ok(p.stat.map(|s| if s.is_dir() { Kind::Dir } else { Kind::File(Some(s.length)) })),
            },
        }
    }

    pub async fn children(&self) -> Result<Vec<End>, Said> {
        match self {
            End::Local { path, shown } => {
                let mut names: Vec<String> = std::fs::read_dir(path)
                    .and_then(|d| d.map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned())).collect())
                    .map_err(|e| local_words(shown, &e))?;
                names.sort();
                Ok(names.iter().map(|n| self.join(n)).collect())
            }
            End::Remote(item) => Ok(item
                .children()
                .await
                .map_err(|e| hadoop_words(&item.shown, &e))?
                .into_iter()
                .map(End::Remote)
                .collect()),
        }
    }

    pub async fn mkdir(&self) -> Result<(), Said> {
        match self {
            End::Local { path, shown } => std::fs::create_dir(path).map_err(|e| local_words(shown, &e)),
            End::Remote(item) => item.client.mkdirs(&item.path, false).await.map_err(|e| hadoop_words(&item.shown, &e)),
        }
    }
}

/// What `-p` keeps of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attrs {
    pub modified: SystemTime,
    pub mode: u16,
}

impl End {
    /// The modification time and mode of what is here (`None` for stdin and stdout).
    pub async fn attrs(&mut self) -> Result<Option<Attrs>, Said> {
        match self {
            End::Local { path, .. } if path.as_os_str() == "-" => Ok(None),
            End::Local { path, shown } => {
                let meta = std::fs::metadata(&*path).map_err(|e| local_words(shown, &e))?;
                let modified = meta.modified().map_err(|e| local_words(shown, &e))?;
                Ok(Some(Attrs { modified, mode: local_mode(&meta) }))
            }
            End::Remote(item) => {
                if item.stat.is_none() {
                    item.refresh().await.map_err(|e| hadoop_words(&item.shown, &e))?;
                }
                Ok(item.stat.as_ref().map(|s| Attrs { modified: s.modification_time(), mode: s.permission }))
            }
        }
    }

    /// Gives what is here `attrs`: the time first, as a mode may take away the right to set it.
    pub async fn set_attrs(&self, attrs: Attrs) -> Result<(), Said> {
        match self {
            End::Local { path, .. } if path.as_os_str() == "-" => Ok(()),
            End::Local { path, shown } => {
                let set = std::fs::File::open(path).and_then(|f| f.set_modified(attrs.modified));
                set.and_then(|()| set_local_mode(path, attrs.mode)).map_err(|e| local_words(shown, &e))
            }
            End::Remote(item) => {
                let set = async {
                    item.client.set_times(&item.path, attrs.modified).await?;
                    item.client.set_permission(&item.path, attrs.mode).await
                };
                set.await.map_err(|e| hadoop_words(&item.shown, &e))
            }
        }
    }
}

#[cfg(unix)]
fn local_mode(meta: &std::fs::Metadata) -> u16 {
    use std::os::unix::fs::PermissionsExt;
    (meta.permissions().mode() & u32::from(hdfs_proto::perm::MODE_MASK)) as u16
}

/// Without Unix modes: read-only or not.
#[cfg(not(unix))]
fn local_mode(meta: &std::fs::Metadata) -> u16 {
    if meta.permissions().readonly() { 0o444 } else { 0o644 }
}

#[cfg(unix)]
fn set_local_mode(path: &std::path::Path, mode: u16) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(u32::from(mode)))
}

#[cfg(not(unix))]
fn set_local_mode(path: &std::path::Path, mode: u16) -> io::Result<()> {
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_readonly(mode & 0o222 == 0);
    std::fs::set_permissions(path, perms)
}
