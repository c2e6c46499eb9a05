//! Absolute, validated paths in the namespace.
//!
//! The client validates before sending (for a clear message without a round trip) and the
//! namenode validates again on receipt (it trusts nothing). The rules follow HDFS: absolute,
//! `/`-separated, no empty, `.` or `..` components, each component at most 255 bytes. A single
//! trailing `/` is accepted and dropped, as `hdfs dfs` does.

use std::fmt;

/// Longest component, in bytes (HDFS's `dfs.namenode.fs-limits.max-component-length`).
pub const MAX_COMPONENT_LEN: usize = 255;

/// Why a path string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum PathError {
    #[error("{0:?}: path must be absolute (start with '/')")]
    NotAbsolute(String),
    #[error("{0:?}: path has an empty component")]
    EmptyComponent(String),
    #[error("{0:?}: path components '.' and '..' are not allowed")]
    DotComponent(String),
    #[error("{path:?}: component of {len} bytes exceeds the limit of {MAX_COMPONENT_LEN}")]
    ComponentTooLong { path: String, len: usize },
    #[error("{0:?}: path contains a NUL character")]
    Nul(String),
    #[error("{0:?}: not a single path component")]
    NotAComponent(String),
}

/// An absolute path that passed validation. `/` is the root. Serialized as its string, and
/// validated again when deserialized.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HdfsPath(String);

impl TryFrom<String> for HdfsPath {
    type Error = PathError;
    fn try_from(s: String) -> Result<Self, PathError> {
        Self::parse(&s)
    }
}

impl From<HdfsPath> for String {
    fn from(p: HdfsPath) -> String {
        p.0
    }
}

impl HdfsPath {
    /// The root directory.
    pub fn root() -> Self {
        Self("/".to_string())
    }

    /// Validates `s`.
    pub fn parse(s: &str) -> Result<Self, PathError> {
        if !s.starts_with('/') {
            return Err(PathError::NotAbsolute(s.to_string()));
        }
        if s.contains('\0') {
            return Err(PathError::Nul(s.to_string()));
        }
        if s == "/" {
            return Ok(Self::root());
        }
        let trimmed = s.strip_suffix('/').unwrap_or(s);
        for c in trimmed[1..].split('/') {
            match c {
                "" => return Err(PathError::EmptyComponent(s.to_string())),
                "." | ".." => return Err(PathError::DotComponent(s.to_string())),
                c if c.len() > MAX_COMPONENT_LEN => {
                    return Err(PathError::ComponentTooLong { path: s.to_string(), len: c.len() });
                }
                _ => {}
            }
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The components after the root, in order (none for the root).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0[1..].split('/').filter(|c| !c.is_empty())
    }

    /// The last component (`""` for the root).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// The parent directory (`None` for the root).
    pub fn parent(&self) -> Option<HdfsPath> {
        if self.is_root() {
            return None;
        }
        let idx = self.0.rfind('/').unwrap_or(0);
        Some(if idx == 0 { Self::root() } else { Self(self.0[..idx].to_string()) })
    }

    /// The path of the first `n` components: the root for 0, the whole path for its depth or
    /// more (an ancestor, as a permission error or a walk names it).
    pub fn prefix(&self, n: usize) -> HdfsPath {
        if n == 0 {
            return Self::root();
        }
        match self.0.match_indices('/').nth(n) {
            Some((end, _)) => Self(self.0[..end].to_string()),
            None => self.clone(),
        }
    }

    /// This path with `name` appended; `name` must be a valid single component.
    pub fn join(&self, name: &str) -> Result<HdfsPath, PathError> {
        if name.is_empty() || name.contains('/') {
            return Err(PathError::NotAComponent(name.to_string()));
        }
        let base = if self.is_root() { "" } else { self.0.as_str() };
        Self::parse(&format!("{base}/{name}"))
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &HdfsPath) -> bool {
        other.is_root() || self.0 == other.0 || self.0.starts_with(&format!("{}/", other.0))
    }
}

impl fmt::Display for HdfsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for HdfsPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_the_ancestors() {
        let p = HdfsPath::parse("/a/bb/c").unwrap();
        let got: Vec<String> = (0..5).map(|n| p.prefix(n).to_string()).collect();
        assert_eq!(got, ["/", "/a", "/a/bb", "/a/bb/c", "/a/bb/c"]);
        assert_eq!(HdfsPath::root().prefix(2), HdfsPath::root());
    }

    #[test]
    fn accepts_ordinary_paths_and_trims_one_trailing_slash() {
        assert_eq!(HdfsPath::parse("/").unwrap().as_str(), "/");
        assert_eq!(HdfsPath::parse("/a/b").unwrap().as_str(), "/a/b");
        assert_eq!(HdfsPath::parse("/a/b/").unwrap().as_str(), "/a/b");
        let p = HdfsPath::parse("/a/b/c").unwrap();
        assert_eq!(p.components().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(p.name(), "c");
        assert_eq!(p.parent().unwrap().as_str(), "/a/b");
        assert_eq!(HdfsPath::parse("/a").unwrap().parent().unwrap(), HdfsPath::root());
        assert!(HdfsPath::root().parent().is_none());
        assert_eq!(HdfsPath::root().components().count(), 0);
    }

    #[test]
    fn refuses_bad_paths_with_the_reason() {
        assert!(matches!(HdfsPath::parse("a/b"), Err(PathError::NotAbsolute(_))));
        assert!(matches!(HdfsPath::parse(""), Err(PathError::NotAbsolute(_))));
        assert!(matches!(HdfsPath::parse("/a//b"), Err(PathError::EmptyComponent(_))));
        assert!(matches!(HdfsPath::parse("//"), Err(PathError::EmptyComponent(_))));
        assert!(matches!(HdfsPath::parse("/a/../b"), Err(PathError::DotComponent(_))));
        assert!(matches!(HdfsPath::parse("/."), Err(PathError::DotComponent(_))));
        let long = format!("/{}", "x".repeat(256));
        assert!(matches!(HdfsPath::parse(&long), Err(PathError::ComponentTooLong { len: 256, .. })));
        assert!(HdfsPath::parse(&format!("/{}", "x".repeat(255))).is_ok());
        assert!(matches!(HdfsPath::parse("/a\0b"), Err(PathError::Nul(_))));
    }

    #[test]
    fn starts_with_respects_component_boundaries() {
        let ab = HdfsPath::parse("/a/b").unwrap();
        assert!(HdfsPath::parse("/a/b/c").unwrap().starts_with(&ab));
        assert!(ab.starts_with(&ab));
        assert!(!HdfsPath::parse("/a/bc").unwrap().starts_with(&ab));
        assert!(ab.starts_with(&HdfsPath::root()));
    }

    #[test]
    fn join_appends_one_component() {
        assert_eq!(HdfsPath::root().join("x").unwrap().as_str(), "/x");
        assert_eq!(HdfsPath::parse("/a").unwrap().join("x").unwrap().as_str(), "/a/x");
        assert!(HdfsPath::parse("/a").unwrap().join("x/y").is_err());
        assert!(HdfsPath::parse("/a").unwrap().join("").is_err());
    }
}
