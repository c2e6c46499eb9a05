//! `hdfs dfsadmin -report [-live] [-dead] [-decommissioning]`, `hdfs dfsadmin -safemode
//! get|enter|leave|wait`, `hdfs getconf -namenodes|-nnRpcAddresses|-confKey KEY` and `hdfs version`, in
//! Hadoop's words. Failures exit 255, as Hadoop's `dfsadmin` (-1).
//!
//! The report has the fields the datanodes report; Hadoop's block counts (under-replicated,
//! missing…) are `hdfs fsck`'s, and cache and maintenance fields have nothing behind them here.

use std::time::{Duration, SystemTime};

use hdfs_client::{DatanodeReport, Result};

use super::args::{Invocation, parse};
use super::paths::authorities;
use super::shell::{BAD_INPUT, say};
use crate::cli::format::{binary_prefix, java_date};
use crate::cli::health::{SafemodeCommand, safemode};

const DFSADMIN_USAGE: &str = "Usage: hdfs dfsadmin\n\t[-report [-live] [-dead] [-decommissioning]]\n\t[-safemode <enter | leave | get | wait>]\n\t[-help]";
const GETCONF_USAGE: &str = "Usage: hdfs getconf [-namenodes | -nnRpcAddresses | -confKey [key]]";

pub async fn dfsadmin(inv: &Invocation) -> u8 {
    let Some(cmd) = inv.args.first() else {
        eprintln!("{DFSADMIN_USAGE}");
        return BAD_INPUT;
    };
    let rest = &inv.args[1..];
    let name = cmd.trim_start_matches('-');
    let done = match cmd.as_str() {
        "-report" => match parse(rest, &["live", "dead", "decommissioning"], &[], 0, 0) {
            Ok(o) => {
                let all = !o.has("live") && !o.has("dead") && !o.has("decommissioning");
                report(inv, all || o.has("live"), all || o.has("dead"), o.has("decommissioning")).await
            }
            Err(m) => return bad(name, &m),
        },
        "-safemode" => {
            let action = match rest {
                [a] if a.eq_ignore_ascii_case("get") => SafemodeCommand::Get,
                [a] if a.eq_ignore_ascii_case("enter") => SafemodeCommand::Enter,
                [a] if a.eq_ignore_ascii_case("leave") => SafemodeCommand::Leave,
                [a] if a.eq_ignore_ascii_case("wait") => SafemodeCommand::Wait,
                _ => return bad(name, "expected one of enter, leave, get, wait"),
            };
            match crate::cli::connect(&inv.namenode).await {
                Ok(client) => safemode(&client, action, None, inv.quiet).await,
                Err(e) => Err(e),
            }
        }
        "-help" => {
            say(format_args!("{DFSADMIN_USAGE}\n"));
            return 0;
        }
        _ => {
            eprintln!("{cmd}: Unknown command");
            eprintln!("{DFSADMIN_USAGE}");
            return BAD_INPUT;
        }
    };
    match done {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{name}: {e}");
            BAD_INPUT
        }
    }
}

fn bad(name: &str, message: &str) -> u8 {
    eprintln!("{name}: {message}");
    eprintln!("{DFSADMIN_USAGE}");
    BAD_INPUT
}

/// `Configured Capacity: 1081101176832 (1006.85 GB)`.
fn bytes(n: u64) -> String {
    format!("{n} ({})", binary_prefix(n, "B", 2))
}

fn percent(part: u64, whole: u64) -> String {
    format!("{:.2}%", if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 })
}

async fn report(inv: &Invocation, live: bool, dead: bool, decommissioning: bool) -> Result<()> {
    let client = crate::cli::connect(&inv.namenode).await?;
    let nodes = client.datanode_report().await?;
    let is_live = |n: &&DatanodeReport| n.state != "dead";
    let (capacity, used, remaining) =
        nodes.iter().filter(is_live).fold((0, 0, 0), |(c, u, r), n| (c + n.capacity, u + n.used, r + n.remaining));
    let present = used + remaining;
    let mut out = format!(
        "Configured Capacity: {}\nPresent Capacity: {}\nDFS Remaining: {}\nDFS Used: {}\nDFS Used%: {}\n\n\
         -------------------------------------------------\n",
        bytes(capacity),
        bytes(present),
        bytes(remaining),
        bytes(used),
        percent(used, present)
    );
    let mut section = |title: &str, pick: &dyn Fn(&DatanodeReport) -> bool| {
        let chosen: Vec<&DatanodeReport> = nodes.iter().filter(|n| pick(n)).collect();
        out += &format!("{title} datanodes ({}):\n\n", chosen.len());
        for n in chosen {
            out += &node_text(n);
            out += "\n";
        }
    };
    if live {
        section("Live", &|n| n.state != "dead");
    }
    if dead {
        section("Dead", &|n| n.state == "dead");
    }
    if decommissioning {
        section("Decommissioning", &|n| n.admin_state == "decommissioning");
    }
    say(out);
    Ok(())
}

fn node_text(n: &DatanodeReport) -> String {
    let host = n.address.rsplit_once(':').map_or(n.address.as_str(), |(h, _)| h);
    let status = match n.admin_state.as_str() {
        "decommissioning" => "Decommission in progress",
        "decommissioned" => "Decommissioned",
        _ => "Normal",
    };
    let contact = SystemTime::now().checked_sub(Duration::from_millis(n.last_contact_ms)).unwrap_or(SystemTime::now());
    format!(
        "Name: {} ({})\nHostname: {host}\nDecommission Status : {status}\nConfigured Capacity: {}\nDFS Used: {}\n\
         Non DFS Used: {}\nDFS Remaining: {}\nDFS Used%: {}\nDFS Remaining%: {}\nXceivers: {}\nLast contact: {}\n\
         Num of Blocks: {}\n",
        n.address,
        n.datanode_id,
        bytes(n.capacity),
        bytes(n.used),
        bytes(n.capacity.saturating_sub(n.used + n.remaining)),
        bytes(n.remaining),
        percent(n.used, n.capacity),
        percent(n.remaining, n.capacity),
        n.active_transfers,
        java_date(contact),
        n.blocks
    )
}

/// `hdfs getconf -namenodes` (host names, space-separated) and `-nnRpcAddresses` (HOST:PORT, one
/// a line): the namenodes this command is configured with (`--namenode`, `HDFS_NAMENODE`, the
/// files' `fs.defaultFS`); `-confKey KEY`: the value of KEY in the configuration files (or
/// `-D`), trimmed. Command names are case-insensitive; failures exit 255, Hadoop's -1.
pub fn getconf(inv: &Invocation) -> u8 {
    let addresses: Vec<&str> = authorities(&inv.namenode).filter(|a| !a.is_empty()).collect();
    let command = inv.args.first().map(|c| c.to_ascii_lowercase());
    let rest: Vec<&str> = inv.args.iter().skip(1).map(String::as_str).collect();
    match (command.as_deref().unwrap_or_default(), rest.as_slice()) {
        ("-confkey", [key]) => match inv.site.get_trimmed(key) {
            Ok(Some(value)) => {
                say(format_args!("{value}\n"));
                0
            }
            Ok(None) => {
                eprintln!("Configuration {key} is missing.");
                BAD_INPUT
            }
            Err(e) => {
                eprintln!("{e}");
                BAD_INPUT
            }
        },
        ("-confkey", _) => {
            eprintln!("usage: -confKey [key]");
            BAD_INPUT
        }
        ("-namenodes", []) => {
            let hosts: Vec<&str> = addresses.iter().map(|a| a.rsplit_once(':').map_or(*a, |(h, _)| h)).collect();
            say(format_args!("{}\n", hosts.join(" ")));
            0
        }
        ("-nnrpcaddresses", []) => {
            for a in addresses {
                say(format_args!("{a}\n"));
            }
            0
        }
        _ => {
            eprintln!("{GETCONF_USAGE}");
            BAD_INPUT
        }
    }
}

/// `hdfs version`: the first line's second word is the version, as scripts read Hadoop's.
pub fn version() -> u8 {
    say(format_args!(
        "hdfs-rs {}\nHadoop's shell spellings: hdfs dfs, dfsadmin, getconf, fsck; wire protocol: gRPC\n",
        env!("CARGO_PKG_VERSION")
    ));
    0
}
