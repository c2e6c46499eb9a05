//! Hadoop's command-line parsing.
//!
//! - [`invocation`]: which commands take Hadoop's spellings (`dfs`, `dfsadmin`, `getconf`,
//!   `version`), with the flags before them (`--namenode`, `-q`, `--verbose`) and Hadoop's
//!   generic options after them (`-fs URI`, `-D key=value`); [`Invocation::resolve`] then
//!   reads the configuration files under them (`crate::cli::conf`);
//! - [`parse`]: one verb's flags as Hadoop's `CommandFormat` reads them: each flag a whole word
//!   after one dash (`-skipTrash`; `-rf` is not `-r -f` but an illegal option), flags before
//!   the arguments, `--` ends them, and `-` alone is an argument (stdin or stdout).

use std::ffi::OsString;

use crate::cli::DEFAULT_NAMENODE;
use crate::cli::conf::{ConfError, Configuration, parse_block_size};

/// The Hadoop-spelled commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Dfs,
    Dfsadmin,
    Getconf,
    Version,
}

/// Settings from `-D key=value`, else the configuration files, that the commands use (zero:
/// the namenode's default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Conf {
    /// `dfs.replication`.
    pub replication: u32,
    /// `dfs.blocksize`.
    pub block_size: u64,
}

#[derive(Debug)]
pub struct Invocation {
    pub tool: Tool,
    /// The namenode URL(s). The most specific source wins: `--namenode`, `-fs` or
    /// `-D fs.defaultFS` (the last given), then `HDFS_NAMENODE`, then the files' `fs.defaultFS`
    /// (by [`Invocation::resolve`]), then [`DEFAULT_NAMENODE`].
    pub namenode: String,
    /// Whether `namenode` is `--namenode`'s or `HDFS_NAMENODE`'s, which the files do not change.
    named: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub conf: Conf,
    /// `-D key=value`, and `-fs URI` as `fs.defaultFS`, in order: set over the files.
    defines: Vec<(String, String)>,
    /// The configuration files with `defines` over them (empty until `resolve`).
    pub site: Configuration,
    /// The verb (`-ls`) and what follows it.
    pub args: Vec<String>,
}

/// The Hadoop-spelled command `argv` asks for, or `None` for the other commands (clap's). The
/// error is bad input (a generic option without its value, a non-UTF-8 argument).
pub fn invocation(argv: &[OsString]) -> Option<Result<Invocation, String>> {
    let mut namenode = std::env::var("HDFS_NAMENODE").ok().filter(|s| !s.is_empty());
    let (mut quiet, mut verbose) = (false, false);
    let mut i = 1;
    let word = |i: usize| argv.get(i).and_then(|a| a.to_str());
    loop {
        match word(i) {
            Some("--namenode") => {
                namenode = Some(word(i + 1)?.to_string());
                i += 2;
            }
            Some(a) if a.starts_with("--namenode=") => {
                namenode = Some(a["--namenode=".len()..].to_string());
                i += 1;
            }
            Some("-q" | "--quiet") => (quiet, i) = (true, i + 1),
            Some("--verbose") => (verbose, i) = (true, i + 1),
            _ => break,
        }
    }
    let tool = match word(i)? {
        "dfs" => Tool::Dfs,
        "dfsadmin" => Tool::Dfsadmin,
        "getconf" => Tool::Getconf,
        "version" => Tool::Version,
        _ => return None,
    };
    let mut args = Vec::new();
    for a in &argv[i + 1..] {
        match a.to_str() {
            Some(s) => args.push(s.to_string()),
            None => return Some(Err(format!("{}: not a UTF-8 argument", a.to_string_lossy()))),
        }
    }
    let mut inv = Invocation {
        tool,
        named: namenode.is_some(),
        namenode: namenode.unwrap_or_else(|| DEFAULT_NAMENODE.to_string()),
        quiet,
        verbose,
        conf: Conf::default(),
        defines: Vec::new(),
        site: Configuration::default(),
        args: Vec::new(),
    };
    Some(generic_options(&mut inv, args).map(|()| inv))
}

/// Hadoop's generic options before the verb: `-fs URI`, `-D key=value` (`fs.defaultFS`,
/// `dfs.replication`, `dfs.blocksize` are used; other keys are accepted and ignored, as Hadoop
/// ignores keys nothing reads), and `--namenode URL` here too.
fn generic_options(inv: &mut Invocation, args: Vec<String>) -> Result<(), String> {
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.peek().cloned() {
        let (key, value) = match a.as_str() {
            "-fs" | "--namenode" | "-D" => {
                it.next();
                let v = it.next().ok_or_else(|| format!("{a}: missing its value"))?;
                (a, v)
            }
            s if s.starts_with("-D") && s.len() > 2 => {
                it.next();
                ("-D".to_string(), s[2..].to_string())
            }
            s if s.starts_with("--namenode=") => {
                it.next();
                ("--namenode".to_string(), s["--namenode=".len()..].to_string())
            }
            _ => break,
        };
        match key.as_str() {
            "-fs" => {
                (inv.namenode, inv.named) = (namenode_url(&value)?, false);
                inv.defines.push(("fs.defaultFS".into(), value));
            }
            "--namenode" => (inv.namenode, inv.named) = (value, true),
            _ => {
                let (k, v) = value.split_once('=').ok_or_else(|| format!("-D {value}: expected key=value"))?;
                inv.defines.push((k.to_string(), v.to_string()));
                match k {
                    "fs.defaultFS" | "fs.default.name" => (inv.namenode, inv.named) = (namenode_url(v)?, false),
                    "dfs.replication" => {
                        inv.conf.replication =
                            v.parse().map_err(|_| format!("-D {value}: replication must be a number"))?;
                    }
                    "dfs.blocksize" | "dfs.block.size" => {
                        inv.conf.block_size = parse_block_size(v).map_err(|e| format!("-D {value}: {e}"))?;
                    }
                    _ => {}
                }
            }
        }
    }
    inv.args = it.collect();
    Ok(())
}

impl Invocation {
    /// Reads the configuration files (`$HADOOP_CONF_DIR/core-site.xml`, `hdfs-site.xml`) with
    /// the generic options over them, and takes from them what no flag or `HDFS_NAMENODE` gave:
    /// the namenode (`fs.defaultFS`, a nameservice's members), `dfs.replication`,
    /// `dfs.blocksize`.
    pub fn resolve(&mut self) -> Result<(), ConfError> {
        let mut site = Configuration::load()?;
        for (k, v) in &self.defines {
            site.set(k, v);
        }
        if !self.named
            && let Some(url) = site.default_fs_url()?
        {
            self.namenode = url;
        }
        if self.conf.replication == 0 {
            self.conf.replication = site.replication()?.unwrap_or(0);
        }
        if self.conf.block_size == 0 {
            self.conf.block_size = site.block_size()?.unwrap_or(0);
        }
        self.site = site;
        Ok(())
    }
}

/// `hdfs://HOST:PORT` (or `http://…`, or `HOST:PORT`) as the URL the client connects to (a
/// nameservice is resolved later, by [`Invocation::resolve`]).
fn namenode_url(uri: &str) -> Result<String, String> {
    if let Some(rest) = uri.strip_prefix("hdfs://") {
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(format!("{uri}: name the namenode (hdfs://HOST:PORT)"));
        }
        let port = if authority.contains(':') { "" } else { ":8020" };
        return Ok(format!("http://{authority}{port}"));
    }
    if uri.contains("://") && !uri.starts_with("http://") && !uri.starts_with("https://") {
        return Err(format!("{uri}: only hdfs:// file systems are served here"));
    }
    Ok(uri.to_string())
}

/// A verb's parsed flags and its remaining arguments.
#[derive(Debug)]
pub struct Opts {
    flags: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
    pub args: Vec<String>,
}

impl Opts {
    pub fn has(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    pub fn value(&self, flag: &str) -> Option<&str> {
        self.values.iter().find(|(f, _)| *f == flag).map(|(_, v)| v.as_str())
    }
}

/// Reads the flags (`flags`, and `valued` ones taking the next word) off the front of `args`,
/// then checks that `min..=max` arguments remain. Errors are Hadoop's words.
pub fn parse(
    args: &[String],
    flags: &[&'static str],
    valued: &[&'static str],
    min: usize,
    max: usize,
) -> Result<Opts, String> {
    let mut opts = Opts { flags: Vec::new(), values: Vec::new(), args: Vec::new() };
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.starts_with('-') || a == "-" {
            break;
        }
        i += 1;
        if a == "--" {
            break;
        }
        let name = &a[1..];
        if let Some(f) = flags.iter().find(|f| **f == name) {
            opts.flags.push(f);
        } else if let Some(f) = valued.iter().find(|f| **f == name) {
            let v = args.get(i).ok_or_else(|| format!("Missing value for option {a}"))?;
            opts.values.push((f, v.clone()));
            i += 1;
        } else {
            return Err(format!("Illegal option {a}"));
        }
    }
    opts.args = args[i..].to_vec();
    let n = opts.args.len();
    if n < min {
        return Err(format!("Not enough arguments: expected {min} but got {n}"));
    }
    if n > max {
        return Err(format!("Too many arguments: expected {max} but got {n}"));
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_are_whole_words_before_the_arguments() {
        let o = parse(&strings(&["-r", "-skipTrash", "/a", "-f"]), &["r", "f", "skipTrash"], &[], 1, 9).unwrap();
        assert!(o.has("r") && o.has("skipTrash") && !o.has("f"));
        assert_eq!(o.args, ["/a", "-f"]);
        assert_eq!(parse(&strings(&["-rf", "/a"]), &["r", "f"], &[], 1, 9).unwrap_err(), "Illegal option -rf");
        let o = parse(&strings(&["-", "/b"]), &["f"], &[], 2, 2).unwrap();
        assert_eq!(o.args, ["-", "/b"]);
        let o = parse(&strings(&["--", "-x"]), &["f"], &[], 1, 1).unwrap();
        assert_eq!(o.args, ["-x"]);
        let o = parse(&strings(&["-s", "5", "/f"]), &["f"], &["s"], 1, 1).unwrap();
        assert_eq!(o.value("s"), Some("5"));
        assert_eq!(parse(&strings(&[]), &[], &[], 1, 1).unwrap_err(), "Not enough arguments: expected 1 but got 0");
        assert_eq!(
            parse(&strings(&["a", "b"]), &[], &[], 1, 1).unwrap_err(),
            "Too many arguments: expected 1 but got 2"
        );
    }

    #[test]
    fn hadoop_commands_are_recognised_with_their_generic_options() {
        let argv = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(invocation(&argv(&["hdfs", "put", "a", "/b"])).is_none());
        assert!(invocation(&argv(&["hdfs", "--namenode", "x:1", "ls", "/"])).is_none());
        let inv = invocation(&argv(&[
            "hdfs",
            "-q",
            "dfs",
            "-fs",
            "hdfs://nn:9000",
            "-D",
            "dfs.replication=2",
            "-Ddfs.blocksize=1m",
            "-ls",
            "/",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((inv.tool, inv.namenode.as_str(), inv.quiet), (Tool::Dfs, "http://nn:9000", true));
        assert_eq!((inv.conf.replication, inv.conf.block_size), (2, 1 << 20));
        assert_eq!(inv.args, ["-ls", "/"]);
        let inv = invocation(&argv(&["hdfs", "--namenode=http://a:1", "dfsadmin", "-report"])).unwrap().unwrap();
        assert_eq!((inv.tool, inv.namenode.as_str()), (Tool::Dfsadmin, "http://a:1"));
        assert!(invocation(&argv(&["hdfs", "dfs", "-fs"])).unwrap().is_err());
        assert!(invocation(&argv(&["hdfs", "dfs", "-fs", "s3a://b", "-ls"])).unwrap().is_err());
    }
}
