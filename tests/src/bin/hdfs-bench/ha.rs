//! The `ha` phase: the namenode group of three on this one machine, against a group of one
//! (a namenode without `--peers`), with the default Raft timeouts (`--raft-heartbeat 100ms`,
//! `--election-timeout 400ms`, `--quorum-timeout 5s`). Three parts, each a file:
//!
//! 1. rates (`ha_rates.rs`): create + close, stat and list with the meta phase's client load,
//!    on a group of one and on the leader of a group of three started side by side;
//! 2. failovers (`ha_failover.rs`): on that group of three, `--ha-kills` times, SIGKILL to the
//!    leader and the time until a client's create succeeds, with where the time went;
//! 3. the big namespace (`ha_join.rs`): on a new group of three, `--ha-files` single-block
//!    files; each member's memory per file; a rolling restart so the snapshot covers them; a
//!    fourth member added with `--join`, timed until it has caught up.
//!
//! docs/BENCHMARKS.md ("Namenode group") says what each figure is and records the results.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::cluster::{Binaries, Cluster};
use crate::group::Group;
use crate::ha_failover::Kill;
use crate::ha_join::Join;
use crate::ha_rates::{Rates, Side};
use crate::meta::connect;
use crate::options::Options;
use crate::report::Row;

pub struct Ha {
    pub rates: Rates,
    pub kills: Vec<Kill>,
    pub join: Join,
}

/// The phase's clusters and load, as the table's heading states them.
pub fn setup(opts: &Options) -> String {
    format!(
        "1 namenode (no --peers) beside a group of 3, {} clients, {} ops of each kind; {} leader kills; then {} single-block files on a new group of 3 and a 4th member joining; default Raft timeouts",
        opts.clients, opts.meta_ops, opts.ha_kills, opts.ha_files
    )
}

pub fn run(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Ha> {
    let root = root.join("ha");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("start a tokio runtime")?;
    // As in the meta phase: no safe-mode extension (a wait an operator chooses, not work).
    let args = ["--safemode-extension".to_string(), "0s".to_string()];
    step("ha: a namenode alone and a group of 3");
    let single = Cluster::start(bins.clone(), &root.join("single"), 0, &args)?;
    let mut group = rt.block_on(Group::start(bins.clone(), &root.join("group"), 3, &args))?;
    let (leader, _) = rt.block_on(group.wait_leader(None, Duration::from_secs(60)))?;
    let single_clients = rt.block_on(connect(&single.namenode_url, opts.clients, &hdfs_proto::user::current_user()))?;
    let group_clients =
        rt.block_on(connect(&group.members[leader].url(), opts.clients, &hdfs_proto::user::current_user()))?;
    let single_side = Side { clients: single_clients, pids: single.namenode_pid().into_iter().collect() };
    let group_side = Side { clients: group_clients, pids: group.members.iter().filter_map(|m| m.pid()).collect() };
    let rates = crate::ha_rates::run(&rt, &single_side, &group_side, opts.meta_ops, step)?;
    drop((single_side, group_side, single));

    let kills = crate::ha_failover::run(&rt, &mut group, opts.ha_kills, step)?;
    drop(group);

    let join = crate::ha_join::run(&rt, bins, &root.join("join"), opts.ha_files, opts.clients, step)?;
    Ok(Ha { rates, kills, join })
}

impl Ha {
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = self.rates.rows();
        rows.extend(crate::ha_failover::rows(&self.kills));
        rows.extend(self.join.rows());
        rows
    }
}
