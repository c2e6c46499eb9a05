//! `hdfs`: the command line of the file system.
//!
//! Parses flags, connects, runs one command, and reports failure as one line on stderr
//! (`hdfs: put: /a/b: already exists (use -f to overwrite)`) with a non-zero exit status.
//! Hadoop's spellings are parsed and answered as Hadoop's shell does (`cli/dfs/`):
//! `hdfs dfs -put a /b`, `hdfs dfsadmin -report`, `hdfs getconf -namenodes`, `hdfs version`;
//! and `hdfs fsck PATH -files -blocks -locations` takes Hadoop's single dashes.

mod cli;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    hdfs_proto::daemon::tune_allocator();
    let argv: Vec<OsString> = std::env::args_os().collect();
    if let Some(invocation) = cli::dfs::invocation(&argv) {
        let invocation = match invocation {
            Ok(i) => i,
            Err(message) => {
                eprintln!("hdfs: {message}");
                return ExitCode::from(255);
            }
        };
        init_logging(invocation.verbose);
        // Hadoop's spellings take no flag for it: the environment's CA, if any.
        if let Err(e) = trust(std::env::var_os("HDFS_TLS_CA").map(Into::into).as_ref()) {
            eprintln!("hdfs: {e}");
            return ExitCode::from(255);
        }
        let Some(runtime) = runtime() else { return ExitCode::FAILURE };
        return ExitCode::from(runtime.block_on(cli::dfs::run(invocation)));
    }
    let args = cli::Args::parse_from(fsck_spelling(argv));
    init_logging(args.verbose);
    if let Err(e) = trust(args.tls_ca.as_ref()) {
        eprintln!("hdfs: {e}");
        return ExitCode::FAILURE;
    }
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    let name = args.command.name();
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hdfs: {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Trusts the cluster's CA (TLS) for every connection, if one is given.
fn trust(ca: Option<&std::path::PathBuf>) -> Result<(), String> {
    ca.map_or(Ok(()), |ca| hdfs_client::trust_ca(ca))
}

fn init_logging(verbose: bool) {
    let filter = if verbose { "info" } else { "error" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| filter.into()))
        .with_writer(std::io::stderr)
        .init();
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("hdfs: cannot start: {e}");
            None
        }
    }
}

/// `hdfs fsck PATH -files -blocks -locations` (Hadoop's single dashes) as `--files …`.
fn fsck_spelling(mut args: Vec<OsString>) -> Vec<OsString> {
    const HADOOP: [&str; 4] = ["-files", "-blocks", "-locations", "-list-corruptfileblocks"];
    let mut i = 1;
    while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
        match a {
            "--namenode" => i += 2,
            "-q" | "--quiet" | "--verbose" => i += 1,
            a if a.starts_with("--namenode=") => i += 1,
            _ => break,
        }
    }
    if args.get(i).is_some_and(|a| a == "fsck") {
        for a in &mut args[i + 1..] {
            if let Some(flag) = a.to_str().filter(|f| HADOOP.contains(f)) {
                *a = format!("-{flag}").into();
            }
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spell(args: &[&str]) -> Vec<String> {
        fsck_spelling(args.iter().map(OsString::from).collect()).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn fsck_takes_hadoop_single_dash_flags() {
        assert_eq!(
            spell(&["hdfs", "fsck", "/", "-files", "-blocks", "-locations"]),
            ["hdfs", "fsck", "/", "--files", "--blocks", "--locations"]
        );
        assert_eq!(
            spell(&["hdfs", "-q", "fsck", "-list-corruptfileblocks"]),
            ["hdfs", "-q", "fsck", "--list-corruptfileblocks"]
        );
        assert_eq!(spell(&["hdfs", "fsck", "/", "--files"]), ["hdfs", "fsck", "/", "--files"]);
        assert_eq!(spell(&["hdfs", "put", "-files", "/x"]), ["hdfs", "put", "-files", "/x"]);
    }
}
