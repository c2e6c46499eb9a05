//! The `hdfs` commands: argument definitions and their implementations; Hadoop's spellings
//! (`hdfs dfs -put …`, `hdfs dfsadmin …`) in `dfs/`; Hadoop's configuration files
//! (`$HADOOP_CONF_DIR`) in `conf/`.

mod conf;
pub mod dfs;
mod format;
mod group;
mod health;
mod progress;
mod transfer;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use hdfs_client::{Client, CreateOptions, Error, FileStatus, Result};
use hdfs_proto::units::{parse_duration, parse_size};

use format::{Sizes, ls_line, name_widths};
use health::SafemodeCommand;

#[derive(Parser, Debug)]
#[command(name = "hdfs", version, about = "Move files in and out of the cluster, and look around it")]
pub struct Args {
    /// URL of the namenode (several, comma-separated, for a group) [default: fs.defaultFS of
    /// $HADOOP_CONF_DIR/core-site.xml, else http://127.0.0.1:8020].
    #[arg(long, global = true, env = "HDFS_NAMENODE")]
    pub namenode: Option<String>,
    /// No progress bars or warnings.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// The CA certificate (PEM) of a cluster with TLS: its namenodes are https:// URLs, and
    /// every node is checked against this CA.
    #[arg(long, global = true, env = "HDFS_TLS_CA")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// Log what the client does (to stderr).
    #[arg(long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Upload a local file (`-` reads stdin).
    #[command(visible_alias = "copyFromLocal")]
    Put {
        /// Overwrite REMOTE if it exists.
        #[arg(short = 'f', long = "force")]
        force: bool,
        /// Replicas of each block (default: dfs.replication of $HADOOP_CONF_DIR, else the
        /// namenode's).
        #[arg(long, short = 'r')]
        replication: Option<u32>,
        /// Block size, e.g. 128MiB (default: dfs.blocksize of $HADOOP_CONF_DIR, else the
        /// namenode's).
        #[arg(long, short = 'b', value_parser = parse_size)]
        block_size: Option<u64>,
        local: PathBuf,
        remote: String,
    },
    /// Download a file (`-` writes stdout); checksums are verified.
    #[command(visible_alias = "copyToLocal")]
    Get {
        /// Overwrite LOCAL if it exists.
        #[arg(short = 'f', long = "force")]
        force: bool,
        remote: String,
        local: PathBuf,
    },
    /// Print files to stdout.
    Cat {
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// List a directory: mode, replication, owner, group, size, modification time (UTC), path.
    #[command(disable_help_flag = true)]
    Ls {
        /// Print help (-h means human-readable sizes here, as in `hdfs dfs -ls -h`).
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
        /// Recurse into subdirectories.
        #[arg(short = 'R', long)]
        recursive: bool,
        /// Sizes for people (1.5 GiB).
        #[arg(short = 'h', long = "human")]
        human: bool,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
        #[arg(default_value = "/")]
        path: String,
    },
    /// Create directories.
    Mkdir {
        /// Create parents as needed; no error if it exists.
        #[arg(short = 'p', long)]
        parents: bool,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Delete files or directories.
    Rm {
        /// Delete directories and their contents.
        #[arg(short = 'r', short_alias = 'R', long)]
        recursive: bool,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Rename or move; into DST if it is a directory.
    Mv { src: String, dst: String },
    /// Show a file's or directory's details (mode, owner and group too).
    Stat {
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
        path: String,
    },
    /// Space used: per entry of a directory, or with -s in total.
    #[command(disable_help_flag = true)]
    Du {
        /// Print help (-h means human-readable sizes here, as in `hdfs dfs -du -h`).
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
        /// One total for PATH.
        #[arg(short = 's', long)]
        summary: bool,
        /// Sizes for people (1.5 GiB).
        #[arg(short = 'h', long = "human")]
        human: bool,
        #[arg(default_value = "/")]
        path: String,
    },
    /// Health of the files under PATH: HEALTHY or CORRUPT, with block counts.
    Fsck {
        #[arg(default_value = "/")]
        path: String,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
        /// List each file checked.
        #[arg(long)]
        files: bool,
        /// With --files: each file's blocks.
        #[arg(long)]
        blocks: bool,
        /// With --blocks: where each block's replicas are.
        #[arg(long)]
        locations: bool,
        /// Only the blocks with no good replica left, each with its file (HDFS's
        /// `-list-corruptfileblocks`).
        #[arg(long = "list-corruptfileblocks")]
        list_corrupt: bool,
    },
    /// Live and dead datanodes, with capacity, use and last contact.
    Report {
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// The namenode group (Hadoop's spellings): -getAllServiceState, -getServiceState ID,
    /// -report, -addNameNode ID HOST:PORT, -removeNameNode ID; --json with the first three.
    #[command(disable_help_flag = true)]
    Haadmin {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Safe mode: get, enter, leave, or wait until it is off.
    Safemode {
        #[arg(value_enum)]
        action: SafemodeCommand,
        /// With `wait`: give up after this long (e.g. 30s), exiting 1 with the reason.
        #[arg(long, value_parser = parse_duration)]
        timeout: Option<Duration>,
    },
    /// Drain a datanode (by id or host:port): readable, no new replicas, copies made elsewhere.
    Decommission { node: String },
    /// Undo `decommission`.
    Recommission { node: String },
    /// Change a file's replication (every file below a directory).
    Setrep {
        /// Wait until every block has N replicas.
        #[arg(short = 'w', long)]
        wait: bool,
        replication: u32,
        path: String,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Put { .. } => "put",
            Command::Get { .. } => "get",
            Command::Cat { .. } => "cat",
            Command::Ls { .. } => "ls",
            Command::Mkdir { .. } => "mkdir",
            Command::Rm { .. } => "rm",
            Command::Mv { .. } => "mv",
            Command::Stat { .. } => "stat",
            Command::Du { .. } => "du",
            Command::Setrep { .. } => "setrep",
            Command::Fsck { .. } => "fsck",
            Command::Report { .. } => "report",
            Command::Safemode { .. } => "safemode",
            Command::Haadmin { .. } => "haadmin",
            Command::Decommission { .. } => "decommission",
            Command::Recommission { .. } => "recommission",
        }
    }
}

/// Connects to the namenode at `url`; an unreachable one is said with a hint.
async fn connect(url: &str) -> Result<Client> {
    Client::connect(url).await.map_err(|e| match e {
        Error::Connect { addr, reason } => Error::Unavailable(format!(
            "cannot reach the namenode at {addr} ({reason}); is it running? (--namenode, HDFS_NAMENODE, fs.defaultFS)"
        )),
        e => e,
    })
}

/// The namenode when no flag, `HDFS_NAMENODE` or configuration file names one.
pub const DEFAULT_NAMENODE: &str = "http://127.0.0.1:8020";

pub async fn run(args: Args) -> Result<()> {
    // Most specific first: --namenode (or HDFS_NAMENODE, clap's), then the configuration files.
    let site = conf::Configuration::load()?;
    let namenode = match args.namenode {
        Some(n) => n,
        None => site.default_fs_url()?.unwrap_or_else(|| DEFAULT_NAMENODE.to_string()),
    };
    let client = connect(&namenode).await?;
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    match args.command {
        Command::Put { force, replication, block_size, local, remote } => {
            let replication = replication.map_or_else(|| site.replication(), |r| Ok(Some(r)))?;
            let block_size = block_size.map_or_else(|| site.block_size(), |b| Ok(Some(b)))?;
            let opts = CreateOptions::default()
                .overwrite(force)
                .replication(replication.map_or(Ok(0), check_replication)?)
                .block_size(block_size.unwrap_or(0));
            transfer::put(&client, &local, &remote, opts, show_progress, args.quiet).await
        }
        Command::Get { force, remote, local } => transfer::get(&client, &remote, &local, force, show_progress).await,
        Command::Cat { paths } => {
            for p in paths {
                client.download_to(&p, tokio::io::stdout(), |_| {}).await?;
            }
            Ok(())
        }
        Command::Ls { recursive, human, json, path, .. } => {
            ls(&client, &path, recursive, Sizes::new(human), json).await
        }
        Command::Mkdir { parents, paths } => {
            for p in paths {
                client.mkdirs(&p, parents).await.map_err(|e| match e {
                    Error::NotFound(m) if !parents => Error::NotFound(format!("{m} (use -p to create it)")),
                    e => e,
                })?;
            }
            Ok(())
        }
        Command::Rm { recursive, paths } => {
            for p in paths {
                let st = client.stat(&p).await?;
                if st.is_dir() && !recursive {
                    return Err(Error::FailedPrecondition(format!("{p}: is a directory (use -r to delete it)")));
                }
                client.delete(&p, recursive).await?;
            }
            Ok(())
        }
        Command::Mv { src, dst } => {
            let dst = match client.stat(&dst).await {
                Ok(st) if st.is_dir() => join(&dst, basename(&src))?,
                Err(e @ Error::Unavailable(_)) => return Err(e),
                _ => dst,
            };
            client.rename(&src, &dst).await
        }
        Command::Stat { json, path } => {
            let st = client.stat(&path).await?;
            if json {
                print_json(&status_json(&st))
            } else {
                print!("{}", format::stat_text(&st))
            }
            Ok(())
        }
        Command::Du { summary, human, path, .. } => du(&client, &path, summary, Sizes::new(human)).await,
        Command::Setrep { wait, replication, path } => {
            setrep(&client, &path, check_replication(replication)?, wait, show_progress, args.quiet).await
        }
        Command::Fsck { path, list_corrupt: true, .. } => {
            print!("{}", health::corrupt_file_blocks(&client.fsck(&path, true).await?));
            Ok(())
        }
        Command::Fsck { path, json, files, blocks, locations, list_corrupt: false } => {
            let report = client.fsck(&path, files || blocks || locations || json).await?;
            if json {
                print_json(&report);
            } else {
                print!("{}", format::fsck_text(&report, files || blocks || locations, blocks || locations, locations));
            }
            if report.is_healthy() { Ok(()) } else { Err(Error::DataLoss(format!("{path}: CORRUPT"))) }
        }
        Command::Report { json } => {
            let namenodes = client.namenode_group().await;
            let nodes = client.datanode_report().await?;
            if json {
                print_json(&serde_json::json!({ "namenodes": namenodes, "datanodes": nodes }))
            } else {
                print!("{}\n{}", group::group_text(&namenodes), format::report_text(&nodes))
            }
            Ok(())
        }
        Command::Haadmin { args } => group::haadmin(&client, &args).await,
        Command::Safemode { action, timeout } => health::safemode(&client, action, timeout, args.quiet).await,
        Command::Decommission { node } => {
            let addr = client.decommission(&node, true).await?;
            println!("Decommissioning {addr}: it drains as its blocks are copied elsewhere (see `hdfs report`)");
            Ok(())
        }
        Command::Recommission { node } => {
            let addr = client.decommission(&node, false).await?;
            println!("Recommissioned {addr}");
            Ok(())
        }
    }
}

fn check_replication(n: u32) -> Result<u32> {
    if n == 0 || n > hdfs_proto::MAX_REPLICATION {
        return Err(Error::InvalidArgument(format!(
            "replication {n} is out of range (1..={})",
            hdfs_proto::MAX_REPLICATION
        )));
    }
    Ok(n)
}

fn basename(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

fn join(dir: &str, name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::InvalidArgument(format!("cannot name a file after {dir:?}")));
    }
    Ok(format!("{}/{name}", dir.trim_end_matches('/')))
}

/// A file's status as `--json` prints it: the library's fields, with `permission` as the octal
/// string WebHDFS uses (`"755"`, `"1777"`) rather than a number that reads as decimal.
fn status_json(st: &FileStatus) -> serde_json::Value {
    let mut v = serde_json::to_value(st).unwrap_or_default();
    if let Some(fields) = v.as_object_mut() {
        fields.insert("permission".into(), format!("{:o}", st.permission).into());
    }
    v
}

fn print_json(v: &impl serde::Serialize) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("hdfs: cannot encode JSON: {e}"),
    }
}

async fn ls(client: &Client, path: &str, recursive: bool, sizes: Sizes, json: bool) -> Result<()> {
    // Depth first in name order: each directory is followed by what it holds, as `ls -R` does.
    let mut entries: Vec<FileStatus> = Vec::new();
    let mut stack: Vec<FileStatus> = client.list(path).await?.into_iter().rev().collect();
    while let Some(e) = stack.pop() {
        if recursive && e.is_dir() {
            stack.extend(client.list(&e.path).await?.into_iter().rev());
        }
        entries.push(e);
    }
    if json {
        print_json(&entries.iter().map(status_json).collect::<Vec<_>>());
    } else {
        let widths = name_widths(&entries);
        for e in &entries {
            println!("{}", ls_line(e, sizes, widths));
        }
    }
    Ok(())
}

async fn du(client: &Client, path: &str, summary: bool, sizes: Sizes) -> Result<()> {
    let targets =
        if summary { vec![path.to_string()] } else { client.list(path).await?.into_iter().map(|e| e.path).collect() };
    for t in targets {
        let s = client.content_summary(&t).await?;
        println!("{:>10}  {:>10}  {t}", sizes.show(s.length), sizes.show(s.space_consumed));
    }
    Ok(())
}

async fn setrep(
    client: &Client,
    path: &str,
    replication: u32,
    wait: bool,
    show_progress: bool,
    quiet: bool,
) -> Result<()> {
    let mut files = Vec::new();
    let mut stack = vec![path.to_string()];
    while let Some(p) = stack.pop() {
        let st = client.stat(&p).await?;
        if st.is_dir() {
            stack.extend(client.list(&p).await?.into_iter().map(|e| e.path));
        } else {
            files.push(p);
        }
    }
    for f in &files {
        client.set_replication(f, replication).await?;
        println!("Replication {replication} set: {f}");
    }
    // As put does: a factor above the live datanodes is allowed, and said; a wait for it could
    // never end, so it is refused rather than left hanging.
    let live =
        client.datanode_report().await?.iter().filter(|d| d.state == "live" && d.admin_state == "normal").count();
    if replication as usize > live {
        if wait {
            return Err(Error::FailedPrecondition(format!(
                "replication {replication} set, but -w would never end: only {live} live datanode(s)"
            )));
        }
        if !quiet {
            eprintln!(
                "hdfs: setrep: warning: replication {replication} but only {live} live datanode(s): {path} stays \
                 under-replicated until more join"
            );
        }
    }
    if !wait {
        return Ok(());
    }
    for f in &files {
        if show_progress {
            eprint!("Waiting for {f} ...");
        }
        loop {
            let counts = client.replica_counts(f).await?;
            if counts.iter().all(|&c| c == replication as usize) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        if show_progress {
            eprintln!(" done");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdfs_client::FileKind;

    #[test]
    fn json_has_the_mode_in_octal_with_owner_and_group() {
        let st = FileStatus {
            path: "/tmp".into(),
            kind: FileKind::Directory,
            length: 0,
            replication: 0,
            block_size: 0,
            modification_time_ms: 7,
            under_construction: false,
            children: 2,
            permission: 0o1777,
            owner: "hdfs".into(),
            group: "supergroup".into(),
        };
        let v = status_json(&st);
        assert_eq!(v["permission"], "1777");
        assert_eq!((v["owner"].as_str(), v["group"].as_str()), (Some("hdfs"), Some("supergroup")));
        assert_eq!(
            (v["path"].as_str(), v["type"].as_str(), v["children"].as_u64()),
            (Some("/tmp"), Some("directory"), Some(2))
        );
    }
}
