//! `hdfs`: the command line of the file system.
//!
//! Parses flags, connects, runs one command, and reports failure as one line on stderr
//! (`hdfs: put: /a/b: already exists (use -f to overwrite)`) with a non-zero exit status.
//! Hadoop's spellings work too: `hdfs dfs -put a /b` is `hdfs put a /b`.

mod cli;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    hdfs_proto::daemon::tune_allocator();
    let args = cli::Args::parse_from(hadoop_spelling(std::env::args_os()));
    let filter = if args.verbose { "info" } else { "error" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| filter.into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hdfs: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name = args.command.name();
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hdfs: {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Rewrites `hdfs dfs -put …` as `hdfs put …`: drops `dfs` and the dash of the command word.
fn hadoop_spelling(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.collect();
    if args.get(1).is_some_and(|a| a == "dfs") {
        args.remove(1);
        if let Some(cmd) = args.get(1).and_then(|a| a.to_str()).and_then(|a| a.strip_prefix('-'))
            && !cmd.starts_with('-')
            && !cmd.is_empty()
        {
            args[1] = cmd.into();
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spell(args: &[&str]) -> Vec<String> {
        hadoop_spelling(args.iter().map(OsString::from)).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn hadoop_dfs_spelling_maps_to_commands() {
        assert_eq!(spell(&["hdfs", "dfs", "-put", "a", "/b"]), ["hdfs", "put", "a", "/b"]);
        assert_eq!(spell(&["hdfs", "dfs", "-mkdir", "-p", "/x"]), ["hdfs", "mkdir", "-p", "/x"]);
        assert_eq!(spell(&["hdfs", "put", "a", "/b"]), ["hdfs", "put", "a", "/b"]);
        assert_eq!(spell(&["hdfs", "dfs", "--help"]), ["hdfs", "--help"]);
    }
}
