//! Hadoop's spellings: `hdfs dfs -VERB …` as Hadoop's `FsShell` parses and answers it, and
//! `hdfs dfsadmin`, `hdfs getconf`, `hdfs version`, so an HDFS user's scripts run unchanged.
//!
//! - `args`: which commands these are, generic options, and each verb's flags (`CommandFormat`);
//! - `shell`: what a verb works with, and Hadoop's error lines and exit statuses;
//! - `paths`, `glob`: path arguments (relative, URIs) and glob expansion (`PathData`);
//! - the verbs: `listing` (`-ls -stat -find -test`), `space` (`-count -du -df`), `read`
//!   (`-cat -head -tail -getmerge`), `checksum` (`-checksum`), `copy` (`-put -get -cp -mv` and
//!   their aliases, over the local and remote `ends`), `change` (`-mkdir -touchz -touch -rm
//!   -rmdir -setrep`), `perms`
//!   (`-chmod -chown -chgrp`, with `mode`, Hadoop's `ChmodParser`), `admin` (`dfsadmin`,
//!   `getconf`, `version`);
//! - `usage`: the verbs' usage and help.
//!
//! Exit statuses are Hadoop's: 0; 1 when some path failed (each said as `VERB: MESSAGE`, the
//! others still done); 255 (Hadoop's -1) for bad input, which changes nothing.

mod admin;
mod append;
mod args;
mod change;
mod checksum;
mod copy;
mod ends;
mod glob;
mod listing;
mod mode;
mod paths;
mod perms;
mod read;
mod shell;
mod space;
mod usage;

pub use args::invocation;

use args::{Invocation, Tool};
use shell::{BAD_INPUT, BadInput, Shell, say};

/// Runs a Hadoop-spelled command; returns its exit status (1 when the configuration files
/// cannot be used: one line naming the file and what is wrong).
pub async fn run(mut inv: Invocation) -> u8 {
    if inv.tool != Tool::Version
        && let Err(e) = inv.resolve()
    {
        eprintln!("hdfs: {e}");
        return 1;
    }
    match inv.tool {
        Tool::Dfs => dfs(&inv).await,
        Tool::Dfsadmin => admin::dfsadmin(&inv).await,
        Tool::Getconf => admin::getconf(&inv),
        Tool::Version => admin::version(),
    }
}

async fn dfs(inv: &Invocation) -> u8 {
    let Some(word) = inv.args.first() else {
        eprint!("{}", usage::all_usages());
        return BAD_INPUT;
    };
    let Some(name) = word.strip_prefix('-').filter(|n| !n.is_empty()) else {
        eprintln!("{word}: Unknown command");
        if usage::find(word).is_some() {
            eprintln!("Did you mean -{word}?  This command begins with a dash.");
        }
        return BAD_INPUT;
    };
    let rest = &inv.args[1..];
    let mut sh = Shell::new(name, &inv.namenode, inv.conf, inv.quiet);
    sh.fs.add_nameservices(inv.site.nameservices());
    let done = match name {
        "cat" => read::cat(&mut sh, rest).await,
        "head" => read::head(&mut sh, rest).await,
        "tail" => read::tail(&mut sh, rest).await,
        "getmerge" => read::getmerge(&mut sh, rest).await,
        "appendToFile" => append::append_to_file(&mut sh, rest).await,
        "truncate" => append::truncate(&mut sh, rest).await,
        "concat" => append::concat(&mut sh, rest).await,
        "checksum" => checksum::checksum(&mut sh, rest).await,
        "put" | "copyFromLocal" => copy::put(&mut sh, rest, false).await,
        "moveFromLocal" => copy::put(&mut sh, rest, true).await,
        "get" | "copyToLocal" => copy::get(&mut sh, rest).await,
        "cp" => copy::cp(&mut sh, rest).await,
        "mv" => copy::mv(&mut sh, rest).await,
        "ls" => listing::ls(&mut sh, rest).await,
        "stat" => listing::stat(&mut sh, rest).await,
        "find" => listing::find(&mut sh, rest).await,
        "test" => listing::test(&mut sh, rest).await,
        "count" => space::count(&mut sh, rest).await,
        "du" => space::du(&mut sh, rest).await,
        "df" => space::df(&mut sh, rest).await,
        "mkdir" => change::mkdir(&mut sh, rest).await,
        "touchz" => change::touchz(&mut sh, rest).await,
        "touch" => change::touch(&mut sh, rest).await,
        "rm" => change::rm(&mut sh, rest).await,
        "rmdir" => change::rmdir(&mut sh, rest).await,
        "setrep" => change::setrep(&mut sh, rest).await,
        "chmod" => perms::chmod(&mut sh, rest).await,
        "chown" => perms::chown(&mut sh, rest).await,
        "chgrp" => perms::chgrp(&mut sh, rest).await,
        "help" | "usage" => return help(name == "help", rest),
        _ => {
            eprintln!("{word}: Unknown command");
            return BAD_INPUT;
        }
    };
    match done {
        Ok(()) => sh.exit_code(),
        Err(BadInput(message)) => {
            eprintln!("{word}: {message}");
            if let Some(v) = usage::find(name) {
                eprintln!("{}", usage::usage_line(v));
            }
            BAD_INPUT
        }
    }
}

/// `-help [VERB…]` and `-usage [VERB…]` (on stdout; exit 0), or every verb's.
fn help(long: bool, verbs: &[String]) -> u8 {
    if verbs.is_empty() {
        say(usage::all_usages());
        if long {
            for v in usage::VERBS {
                say(format_args!("\n{}", usage::help(v)));
            }
        }
        return 0;
    }
    let mut status = 0;
    for name in verbs {
        match usage::find(name.trim_start_matches('-')) {
            Some(v) if long => say(usage::help(v)),
            Some(v) => say(format_args!("{}\n", usage::usage_line(v))),
            None => {
                eprintln!("{}: `{name}': Unknown command", if long { "help" } else { "usage" });
                status = 1;
            }
        }
    }
    status
}
