//! Hadoop's client configuration (`Configuration`): `core-site.xml` then `hdfs-site.xml` from
//! `$HADOOP_CONF_DIR` (else `$HADOOP_HOME/etc/hadoop`), those present, so a machine already set
//! up for HDFS points `hdfs` at this cluster with nothing more.
//!
//! Read as Hadoop reads them: a property marked `<final>` is not overridden by a later file (but
//! is by `-D`, which [`Configuration::set`] applies over everything); `${other.key}` and
//! `${env.VAR}` (with `:-default` / `-default`) are expanded when a value is read, at most
//! [`MAX_SUBST`] substitutions, so a cycle is an error rather than a hang; `fs.default.name` and
//! `dfs.block.size` are the old names of `fs.defaultFS` and `dfs.blocksize`.
//!
//! The keys used: `fs.defaultFS` (the namenode, or a nameservice whose members are
//! `dfs.ha.namenodes.NS` at `dfs.namenode.rpc-address.NS.NN`), `dfs.replication`,
//! `dfs.blocksize`. Which source wins over which (flags, `HDFS_NAMENODE`, these files) is
//! decided by the callers: `cli::run` and `dfs::args`.

mod names;
mod xml;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use names::parse_block_size;

/// The files read, in order: the later overrides the earlier (except final properties).
const FILES: [&str; 2] = ["core-site.xml", "hdfs-site.xml"];

/// Substitutions in one value before giving up, as Hadoop's `Configuration.MAX_SUBST`.
const MAX_SUBST: usize = 20;

/// Old key names, read as the new ones (Hadoop's deprecation table, the keys used here).
const DEPRECATED: [(&str, &str); 2] = [("fs.default.name", "fs.defaultFS"), ("dfs.block.size", "dfs.blocksize")];

/// A configuration problem, said in one line naming the file (or `-D`) and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("{file}: cannot read: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}:{line}:{column}: {what}")]
    Malformed { file: String, line: usize, column: usize, what: String },
    /// A value that cannot be used: `dfs.replication=two`, a nameservice without addresses.
    #[error("{from}: {key}={value}: {what}")]
    Value { from: String, key: String, value: String, what: String },
}

/// A configuration problem stops an `hdfs` command as bad input does: one line, exit status 1.
impl From<ConfError> for hdfs_client::Error {
    fn from(e: ConfError) -> Self {
        hdfs_client::Error::InvalidArgument(e.to_string())
    }
}

/// Where a property was set: a file's path, or `-D` on the command line.
#[derive(Debug, Clone)]
struct Prop {
    value: String,
    from: String,
}

/// The properties of the configuration files and `-D`.
#[derive(Debug, Clone, Default)]
pub struct Configuration {
    props: HashMap<String, Prop>,
    finals: HashSet<String>,
}

/// `$HADOOP_CONF_DIR`, else `$HADOOP_HOME/etc/hadoop`, as Hadoop's scripts choose it.
pub fn conf_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    var("HADOOP_CONF_DIR").map(PathBuf::from).or_else(|| var("HADOOP_HOME").map(|h| Path::new(&h).join("etc/hadoop")))
}

impl Configuration {
    /// The files of [`conf_dir`], those present; none when it is not set.
    pub fn load() -> Result<Configuration, ConfError> {
        let mut conf = Configuration::default();
        if let Some(dir) = conf_dir() {
            for name in FILES {
                conf.add_file(&dir.join(name))?;
            }
        }
        Ok(conf)
    }

    /// Adds the properties of the file at `path`; a missing file adds nothing.
    pub fn add_file(&mut self, path: &Path) -> Result<(), ConfError> {
        let file = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.add_xml(&file, &text),
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let before = String::from_utf8_lossy(&e.as_bytes()[..at]);
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    Err(ConfError::Malformed { file, line, column, what: "not UTF-8".into() })
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ConfError::Read { file, source }),
        }
    }

    /// Adds the properties of `text`, a configuration document; `file` names it in errors.
    pub fn add_xml(&mut self, file: &str, text: &str) -> Result<(), ConfError> {
        let malformed = |(line, column): (usize, usize), what: String| ConfError::Malformed {
            file: file.to_string(),
            line,
            column,
            what,
        };
        let root = xml::parse(text).map_err(|e| malformed((e.line, e.column), e.what))?;
        if root.name != "configuration" {
            return Err(malformed(root.at, format!("the root element is <{}>, not <configuration>", root.name)));
        }
        let mut found = Vec::new();
        properties(&root, &mut found).map_err(|(at, what)| malformed(at, what))?;
        for (name, value, is_final) in found {
            let name = canonical(&name).to_string();
            if let Some(value) = value
                && !self.finals.contains(&name)
            {
                self.props.insert(name.clone(), Prop { value, from: file.to_string() });
            }
            if is_final {
                self.finals.insert(name);
            }
        }
        Ok(())
    }

    /// Sets `key` (`-D key=value`), over any file's value, final or not.
    pub fn set(&mut self, key: &str, value: &str) {
        self.props.insert(canonical(key).to_string(), Prop { value: value.to_string(), from: "-D".into() });
    }

    /// The value of `key`, `${…}` expanded (Hadoop's `get`).
    pub fn get(&self, key: &str) -> Result<Option<String>, ConfError> {
        self.get_with(key, &|var| std::env::var(var).ok())
    }

    /// The value of `key` trimmed (Hadoop's `getTrimmed`, what typed reads use).
    pub fn get_trimmed(&self, key: &str) -> Result<Option<String>, ConfError> {
        Ok(self.get(key)?.map(|v| v.trim().to_string()))
    }

    fn get_with(&self, key: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, ConfError> {
        let key = canonical(key);
        let Some(prop) = self.props.get(key) else { return Ok(None) };
        let lookup = |var: &str| -> Option<String> {
            match var.strip_prefix("env.").filter(|v| !v.is_empty()) {
                Some(v) => env_var(v, env),
                None => system_property(var),
            }
            .or_else(|| self.props.get(canonical(var)).map(|p| p.value.clone()))
        };
        expand(&prop.value, &lookup).map(Some).map_err(|what| self.bad(key, what))
    }

    /// An error about the value of `key` (which is set).
    fn bad(&self, key: &str, what: String) -> ConfError {
        let prop = &self.props[canonical(key)];
        ConfError::Value { from: prop.from.clone(), key: key.to_string(), value: prop.value.clone(), what }
    }

    /// `dfs.replication`, when set.
    pub fn replication(&self) -> Result<Option<u32>, ConfError> {
        let Some(v) = self.get_trimmed("dfs.replication")? else { return Ok(None) };
        match v.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(self.bad("dfs.replication", "not a replication factor (a whole number from 1)".into())),
        }
    }

    /// `dfs.blocksize` in bytes, when set (`134217728`, `128m`, `1g`…).
    pub fn block_size(&self) -> Result<Option<u64>, ConfError> {
        let Some(v) = self.get_trimmed("dfs.blocksize")? else { return Ok(None) };
        parse_block_size(&v).map(Some).map_err(|what| self.bad("dfs.blocksize", what))
    }

    /// The namenode URL(s) of `fs.defaultFS`, when set: `http://HOST:PORT`, or every member of
    /// a nameservice, comma-separated.
    pub fn default_fs_url(&self) -> Result<Option<String>, ConfError> {
        let Some(uri) = self.get_trimmed("fs.defaultFS")? else { return Ok(None) };
        names::default_fs_url(self, &uri).map(Some)
    }

    /// Every nameservice of `dfs.nameservices` with its members' URLs, those that resolve: what
    /// `hdfs://NAMESERVICE/path` arguments name.
    pub fn nameservices(&self) -> Vec<(String, String)> {
        names::nameservices(self)
    }
}

/// The new name of `key` if it is an old one.
fn canonical(key: &str) -> &str {
    DEPRECATED.iter().find(|(old, _)| *old == key).map_or(key, |(_, new)| new)
}

/// `(name, value, final)` of each `<property>` under `root` (nested `<configuration>`s too), or
/// where and what is wrong.
type Found = Vec<(String, Option<String>, bool)>;

fn properties(root: &xml::Element, found: &mut Found) -> Result<(), ((usize, usize), String)> {
    for e in root.elements() {
        match e.name.as_str() {
            "property" => {
                let mut name = e.attr("name").map(str::to_string);
                let mut value = e.attr("value").map(str::to_string);
                let mut is_final = e.attr("final").is_some_and(|f| f.trim() == "true");
                for field in e.elements() {
                    match field.name.as_str() {
                        "name" => name = Some(field.text()),
                        "value" => value = Some(field.text()),
                        "final" => is_final = field.text().trim() == "true",
                        _ => {} // description, source, tag: for people
                    }
                }
                // A property without a name is skipped, as Hadoop skips it.
                if let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
                    found.push((name, value, is_final));
                }
            }
            "configuration" => properties(e, found)?,
            n if n == "include" || n.ends_with(":include") => {
                return Err((e.at, format!("<{n}> is not supported (copy the included properties in)")));
            }
            _ => {} // Hadoop warns and goes on
        }
    }
    Ok(())
}

/// `${env.VAR}`, `${env.VAR:-default}` (when unset or empty), `${env.VAR-default}` (when unset).
fn env_var(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(i) = spec.find('-') {
        let (name, default) = (&spec[..i], &spec[i + 1..]);
        if let Some(name) = name.strip_suffix(':') {
            return env(name).filter(|v| !v.is_empty()).or_else(|| Some(default.to_string()));
        }
        return env(name).or_else(|| Some(default.to_string()));
    }
    env(spec)
}

/// The Java system properties a configuration may refer to that have a meaning here.
fn system_property(name: &str) -> Option<String> {
    match name {
        "user.name" => std::env::var("USER").ok().or_else(|| std::env::var("USERNAME").ok()),
        "user.home" => std::env::var("HOME").ok(),
        "java.io.tmpdir" => Some(std::env::temp_dir().display().to_string()),
        _ => None,
    }
}

/// `value` with its `${var}`s replaced by `lookup`, leftmost first, as Hadoop's
/// `substituteVars`: an unbound variable stops the expansion (it stays as written), a value
/// referring to itself is left unexpanded, and more than [`MAX_SUBST`] substitutions (a cycle)
/// is an error.
fn expand(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut eval = value.to_string();
    for _ in 0..MAX_SUBST {
        let Some((start, end)) = find_variable(&eval) else { return Ok(eval) };
        let Some(val) = lookup(&eval[start + 2..end]) else { return Ok(eval) };
        if val.contains(&eval[start..=end]) {
            return Ok(value.to_string());
        }
        eval = format!("{}{val}{}", &eval[..start], &eval[end + 1..]);
    }
    Err(format!("variable substitution depth too large: {MAX_SUBST} (a cycle?)"))
}

/// The first `${name}` in `s`: the byte offsets of its `$` and `}`. A name is not empty and
/// has no space, `$` or `}`.
fn find_variable(s: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = s[from..].find("${") {
        let start = from + i;
        let name_at = start + 2;
        if let Some(j) = s[name_at..].find(['}', ' ', '$'])
            && j > 0
            && s[name_at + j..].starts_with('}')
        {
            return Some((start, name_at + j));
        }
        from = start + 1;
    }
    None
}

#[cfg(test)]
mod prop_xml;
#[cfg(test)]
mod tests;
