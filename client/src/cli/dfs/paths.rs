//! Path arguments as `hdfs dfs` takes them (Hadoop's `PathData`): absolute, relative to the home
//! directory `/user/NAME` (`HADOOP_USER_NAME`, else the OS user: `hdfs_client::current_user`),
//! or URIs `hdfs://HOST:PORT/path`, with globs expanded against the namespace one component at
//! a time.
//!
//! A URI naming a namenode other than the default one (`--namenode`, `-fs`) is served by a
//! client connected to `http://HOST:PORT` (port 8020 when none is given); `hdfs:///path` is the
//! default namenode, and `hdfs://NAMESERVICE/path` the members of a nameservice of the
//! configuration files. Each path is shown as it was given: relative stays relative, a URI a URI.

use std::collections::HashMap;

use hdfs_client::{Client, Error, FileStatus, Result};

use super::glob::{self, Glob};
use crate::cli::basename;

/// Hadoop's namenode port, for URIs that name none.
const DEFAULT_PORT: u16 = 8020;

/// One path a command works on.
#[derive(Clone)]
pub struct Item {
    pub client: Client,
    /// The namenode URL of `client`: items with the same one are on the same file system.
    pub url: String,
    /// Absolute, normalized.
    pub path: String,
    /// As Hadoop shows it.
    pub shown: String,
    /// `None` when the path (not a glob) does not exist.
    pub stat: Option<FileStatus>,
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Item").field("path", &self.path).field("shown", &self.shown).finish_non_exhaustive()
    }
}

impl Item {
    pub fn exists(&self) -> bool {
        self.stat.is_some()
    }

    pub fn is_dir(&self) -> bool {
        self.stat.as_ref().is_some_and(FileStatus::is_dir)
    }

    pub fn len(&self) -> u64 {
        self.stat.as_ref().map_or(0, |s| s.length)
    }

    pub fn name(&self) -> &str {
        basename(&self.path)
    }

    /// The entry `name` of this directory (not looked up: no status).
    pub fn join(&self, name: &str) -> Item {
        let path = if self.path == "/" { format!("/{name}") } else { format!("{}/{name}", self.path) };
        let shown =
            if self.shown == "." { name.to_string() } else { format!("{}/{name}", self.shown.trim_end_matches('/')) };
        Item { client: self.client.clone(), url: self.url.clone(), path, shown, stat: None }
    }

    /// This directory's entries in name order.
    pub async fn children(&self) -> Result<Vec<Item>> {
        let entries = self.client.list(&self.path).await?;
        Ok(entries
            .into_iter()
            .filter(|e| e.path != self.path)
            .map(|e| {
                let mut child = self.join(basename(&e.path));
                child.stat = Some(e);
                child
            })
            .collect())
    }

    /// Looks the path up again.
    pub async fn refresh(&mut self) -> Result<()> {
        self.stat = lookup(&self.client, &self.path).await?;
        Ok(())
    }

    /// The directory holding this path, looked up (`None` for the root).
    pub async fn parent(&self) -> Result<Option<Item>> {
        let Some(cut) = self.path.rfind('/') else { return Ok(None) };
        if self.path == "/" {
            return Ok(None);
        }
        let path = if cut == 0 { "/".to_string() } else { self.path[..cut].to_string() };
        let shown = match self.shown.trim_end_matches('/').rsplit_once('/') {
            Some(("", _)) => "/".to_string(),
            Some((head, _)) => head.to_string(),
            None => ".".to_string(),
        };
        let stat = lookup(&self.client, &path).await?;
        Ok(Some(Item { client: self.client.clone(), url: self.url.clone(), path, shown, stat }))
    }
}

/// The status of `path`, or `None` if nothing is there (a file met on the way included, as
/// Hadoop's `getFileInfo` says no such file then too).
pub async fn lookup(client: &Client, path: &str) -> Result<Option<FileStatus>> {
    match client.stat(path).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_absent(e: &Error) -> bool {
    matches!(e, Error::NotFound(_)) || matches!(e, Error::FailedPrecondition(m) if m.ends_with(": not a directory"))
}

/// The `HOST:PORT` of each namenode URL in `urls` (comma-separated, as `--namenode` takes them).
pub fn authorities(urls: &str) -> impl Iterator<Item = &str> {
    urls.split(',').map(|u| u.trim().trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/'))
}

/// How a path was given, and so how the paths found from it are shown.
enum Shown {
    Absolute,
    Relative,
    Uri(String),
}

/// The file system of `hdfs dfs`: the default namenode, others named by URIs, the home directory.
pub struct Fs {
    default_url: String,
    /// `host:port` of each default namenode: a URI naming one of them uses the default client.
    default_authorities: Vec<String>,
    home: String,
    clients: HashMap<String, Client>,
    /// Nameservices (`hdfs://NAME/path`) and their members' URLs, from the configuration files.
    nameservices: HashMap<String, String>,
}

impl Fs {
    pub fn new(default_url: &str) -> Fs {
        let default_authorities = authorities(default_url).map(str::to_string).collect();
        let home = format!("/user/{}", hdfs_client::current_user());
        Fs {
            default_url: default_url.to_string(),
            default_authorities,
            home,
            clients: HashMap::new(),
            nameservices: HashMap::new(),
        }
    }

    /// Lets `hdfs://NAME/path` name the namenodes of nameservice NAME.
    pub fn add_nameservices(&mut self, nameservices: impl IntoIterator<Item = (String, String)>) {
        self.nameservices.extend(nameservices);
    }

    pub async fn client(&mut self, url: &str) -> Result<Client> {
        if let Some(c) = self.clients.get(url) {
            return Ok(c.clone());
        }
        let c = crate::cli::connect(url).await?;
        self.clients.insert(url.to_string(), c.clone());
        Ok(c)
    }

    /// The namenode URL, the absolute path (maybe a glob) and how to show what `arg` names.
    fn locate(&self, arg: &str) -> Result<(String, String, Shown)> {
        if arg.is_empty() {
            return Err(Error::InvalidArgument("Can not create a Path from an empty string".into()));
        }
        if let Some((scheme, rest)) = arg.split_once(':')
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && rest.starts_with('/')
        {
            if !scheme.eq_ignore_ascii_case("hdfs") {
                return Err(Error::InvalidArgument(format!("No FileSystem for scheme \"{scheme}\"")));
            }
            let (authority, path) = match rest.strip_prefix("//") {
                Some(r) => r.split_at(r.find('/').unwrap_or(r.len())),
                None => ("", rest),
            };
            let path = if path.is_empty() { "/" } else { path };
            let url = if authority.is_empty() {
                self.default_url.clone()
            } else if let Some(members) = self.nameservices.get(authority) {
                members.clone()
            } else {
                let hostport =
                    if authority.contains(':') { authority.to_string() } else { format!("{authority}:{DEFAULT_PORT}") };
                if self.default_authorities.contains(&hostport) {
                    self.default_url.clone()
                } else {
                    format!("http://{hostport}")
                }
            };
            let shown = if authority.is_empty() { format!("{scheme}://") } else { format!("{scheme}://{authority}") };
            return Ok((url, path.to_string(), Shown::Uri(shown)));
        }
        if arg.starts_with('/') {
            return Ok((self.default_url.clone(), arg.to_string(), Shown::Absolute));
        }
        Ok((self.default_url.clone(), format!("{}/{arg}", self.home.trim_end_matches('/')), Shown::Relative))
    }

    fn show(&self, how: &Shown, abs: &str) -> String {
        match how {
            Shown::Absolute => abs.to_string(),
            Shown::Uri(prefix) => format!("{prefix}{abs}"),
            Shown::Relative if abs == self.home => ".".to_string(),
            Shown::Relative => {
                let base = self.home.trim_end_matches('/');
                abs.strip_prefix(base).and_then(|r| r.strip_prefix('/')).unwrap_or(abs).to_string()
            }
        }
    }

    /// The paths `arg` names: itself (looked up; `stat` is `None` if it does not exist), or
    /// every match of a glob in path order. A glob that matches nothing is `NotFound`.
    pub async fn expand(&mut self, arg: &str) -> Result<Vec<Item>> {
        let (url, path, how) = self.locate(arg)?;
        let client = self.client(&url).await?;
        let patterns = glob::expand_slash_braces(&path);
        if patterns.len() == 1 && !glob::has_wildcard(&patterns[0]) {
            let path = normalize(&patterns[0]);
            let stat = lookup(&client, &path).await?;
            return Ok(vec![Item { shown: self.show(&how, &path), client, url, path, stat }]);
        }
        let mut found: Vec<FileStatus> = Vec::new();
        for p in &patterns {
            found.extend(walk(&client, &normalize(p)).await?);
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        found.dedup_by(|a, b| a.path == b.path);
        if found.is_empty() {
            return Err(Error::NotFound(arg.to_string()));
        }
        Ok(found
            .into_iter()
            .map(|s| Item {
                client: client.clone(),
                url: url.clone(),
                path: s.path.clone(),
                shown: self.show(&how, &s.path),
                stat: Some(s),
            })
            .collect())
    }

    /// The one path `arg` names (a destination): a glob must match exactly one.
    pub async fn expand_one(&mut self, arg: &str) -> Result<Item> {
        let mut items = self.expand(arg).await?;
        if items.len() > 1 {
            return Err(Error::InvalidArgument(format!("`{arg}': matches {} paths, expected one", items.len())));
        }
        Ok(items.remove(0))
    }
}

/// `path` with `.` dropped and `..` taken back, as Hadoop's `Path` normalizes it.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Every existing path matching `pattern` (absolute, normalized), component by component.
async fn walk(client: &Client, pattern: &str) -> Result<Vec<FileStatus>> {
    let mut candidates: Vec<(String, Option<FileStatus>)> = vec![("/".to_string(), None)];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let join = |dir: &str, name: &str| if dir == "/" { format!("/{name}") } else { format!("{dir}/{name}") };
        if !glob::has_wildcard(comp) {
            let name = glob::unescape(comp);
            candidates = candidates.into_iter().map(|(dir, _)| (join(&dir, &name), None)).collect();
            continue;
        }
        let pat = Glob::new(comp, false).map_err(Error::InvalidArgument)?;
        let mut next = Vec::new();
        for (dir, stat) in candidates {
            if stat.as_ref().is_some_and(|s| !s.is_dir()) {
                continue;
            }
            let entries = match client.list(&dir).await {
                Ok(e) => e,
                Err(e) if is_absent(&e) => continue,
                Err(e) => return Err(e),
            };
            for e in entries {
                let name = basename(&e.path);
                if e.path == join(&dir, name) && pat.matches(name) {
                    next.push((e.path.clone(), Some(e)));
                }
            }
        }
        candidates = next;
    }
    let mut out = Vec::with_capacity(candidates.len());
    for (path, stat) in candidates {
        match stat {
            Some(s) => out.push(s),
            None => out.extend(lookup(client, &path).await?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_hadoop_path() {
        assert_eq!(normalize("/a/./b/../c/"), "/a/c");
        assert_eq!(normalize("/.."), "/");
        assert_eq!(normalize("/"), "/");
    }

    #[test]
    fn locates_uris_relative_and_absolute_paths() {
        let mut fs = Fs::new("http://127.0.0.1:8020");
        fs.home = "/user/alice".into();
        let (url, path, how) = fs.locate("hdfs://127.0.0.1:8020/x").unwrap();
        assert_eq!((url.as_str(), path.as_str()), ("http://127.0.0.1:8020", "/x"));
        assert_eq!(fs.show(&how, "/x/y"), "hdfs://127.0.0.1:8020/x/y");
        let (url, _, _) = fs.locate("hdfs://other/x").unwrap();
        assert_eq!(url, "http://other:8020");
        let (url, path, _) = fs.locate("hdfs:///x").unwrap();
        assert_eq!((url.as_str(), path.as_str()), ("http://127.0.0.1:8020", "/x"));
        let (_, path, how) = fs.locate("data/f").unwrap();
        assert_eq!(path, "/user/alice/data/f");
        assert_eq!(fs.show(&how, "/user/alice/data/f"), "data/f");
        assert_eq!(fs.show(&how, "/user/alice"), ".");
        assert!(fs.locate("s3a://bucket/x").is_err());
        assert!(fs.locate("").is_err());
    }
}
