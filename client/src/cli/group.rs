//! `hdfs haadmin` in Hadoop's spellings, and the namenode group's part of `hdfs report`.
//!
//! - `-getAllServiceState`: each member's address and state (`active` is the leader,
//!   `standby` a follower; `candidate` during an election; `unreachable` with why);
//! - `-getServiceState ID`: one member's state (ID as in `--peers`, or `nnID`);
//! - `-report`: every member's role, term, last log index, applied index and lag;
//! - `-addNameNode ID HOST:PORT` (start it with `--join` first), `-removeNameNode ID`.

use hdfs_client::{Client, Error, NamenodeStatus, Result};

use super::print_json;

const USAGE: &str = "usage: hdfs haadmin -getAllServiceState [--json] | -getServiceState ID | -report [--json] \
                     | -addNameNode ID HOST:PORT | -removeNameNode ID";

/// The address part of a member's URL.
fn address(s: &NamenodeStatus) -> &str {
    s.url.trim_start_matches("http://").trim_start_matches("https://")
}

pub async fn haadmin(client: &Client, args: &[String]) -> Result<()> {
    let json = args.iter().any(|a| a == "--json" || a == "-json");
    let words: Vec<&str> = args.iter().map(String::as_str).filter(|a| *a != "--json" && *a != "-json").collect();
    match words.as_slice() {
        ["-getAllServiceState"] => {
            let group = client.namenode_group().await;
            if json {
                print_json(&group);
            } else {
                for s in &group {
                    match &s.error {
                        Some(e) => println!("{:<50} unreachable ({e})", address(s)),
                        None => println!("{:<50} {}", address(s), s.service_state()),
                    }
                }
            }
            Ok(())
        }
        ["-getServiceState", id] => {
            let want: u64 = id
                .trim_start_matches("nn")
                .parse()
                .map_err(|_| Error::InvalidArgument(format!("{id:?} is not a namenode id (1, 2, … or nn1, nn2, …)")))?;
            let group = client.namenode_group().await;
            let s = group.iter().find(|s| s.id == want).ok_or_else(|| {
                Error::NotFound(format!("namenode {want}: not a member that answered ({} asked)", group.len()))
            })?;
            if json {
                print_json(s);
            } else {
                println!("{}", s.service_state());
            }
            Ok(())
        }
        ["-report"] => {
            let group = client.namenode_group().await;
            if json {
                print_json(&group)
            } else {
                print!("{}", group_text(&group))
            }
            Ok(())
        }
        ["-addNameNode", id, addr] => {
            let id = parse_id(id)?;
            if addr
                .trim_start_matches("http://")
                .rsplit_once(':')
                .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
            {
                return Err(Error::InvalidArgument(format!("{addr:?}: expected HOST:PORT")));
            }
            client.add_namenode(id, addr).await?;
            println!("namenode {id} at {addr} added to the group (it votes once it has caught up)");
            Ok(())
        }
        ["-removeNameNode", id] => {
            let id = parse_id(id)?;
            client.remove_namenode(id).await?;
            println!("namenode {id} removed from the group");
            Ok(())
        }
        _ => Err(Error::InvalidArgument(USAGE.into())),
    }
}

fn parse_id(id: &str) -> Result<u64> {
    match id.trim_start_matches("nn").parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::InvalidArgument(format!("{id:?} is not a namenode id (a number from 1)"))),
    }
}

/// The group as a table: one line per member.
pub fn group_text(group: &[NamenodeStatus]) -> String {
    let leader = group.iter().filter(|s| s.role == "leader").max_by_key(|s| s.term);
    let mut out = match leader {
        Some(l) => format!("Namenodes: {} in the group, leader {} (term {})\n", group.len(), l.id, l.term),
        None => format!("Namenodes: {} asked, no leader (no quorum?)\n", group.len()),
    };
    out += &format!(
        "{:<4} {:<28} {:<12} {:>6} {:>10} {:>10} {:>8}\n",
        "ID", "ADDRESS", "ROLE", "TERM", "LAST LOG", "APPLIED", "LAG"
    );
    for s in group {
        match &s.error {
            Some(e) => out += &format!("{:<4} {:<28} unreachable: {e}\n", "-", address(s)),
            None => {
                out += &format!(
                    "{:<4} {:<28} {:<12} {:>6} {:>10} {:>10} {:>8}\n",
                    s.id,
                    address(s),
                    s.role,
                    s.term,
                    s.last_log_index,
                    s.applied_index,
                    s.lag
                )
            }
        }
    }
    out
}
