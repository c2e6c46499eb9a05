//! The ha phase's rates: the same client load on a group of one (no `--peers`) and on the
//! leader of a group of three, both running side by side, measured alternately (one, three,
//! three, one for each kind of operation) so that a change in the machine's load between the
//! two is spread over both. The load is the meta phase's: `clients` clients, each on its own
//! gRPC connection, `ops` operations of each kind.
//!
//! - create + close of an empty file (two durable calls);
//! - stat of one of those files, spread over all of them;
//! - listing of one of their directories (32 files each).
//!
//! Each rate comes with what it cost (`cpu.rs`): CPU per operation of the side's namenodes and
//! of the clients, how busy the two cores were, and the TCP connections opened meanwhile.

use anyhow::bail;
use hdfs_proto::pb::namenode as pb;

use crate::load::{Rate, combined, each, spread};
use crate::meta::{Clients, FILES_PER_DIR, client_name, create_close, measure};
use crate::report::{Row, Target};

/// One kind of operation, measured twice on each side (each rate with what it cost).
pub struct Compared {
    pub single: Vec<Rate>,
    pub group: Vec<Rate>,
}

/// A side: its clients, and the pids of its namenodes.
pub struct Side {
    pub clients: Clients,
    pub pids: Vec<u32>,
}

pub struct Rates {
    pub ops: u64,
    pub create_close: Compared,
    pub stat: Compared,
    pub list: Compared,
}

/// File `i` of create-close run `run`, and its directory.
fn file(run: u64, i: u64) -> String {
    format!("{}/f{i}", dir(run, i / FILES_PER_DIR))
}

fn dir(run: u64, d: u64) -> String {
    format!("/ha/cc{run}/d{d}")
}

/// Measures both sides; `single` and `group` are the clients of each (the group's connected to
/// its leader) and their namenodes.
pub fn run(
    rt: &tokio::runtime::Runtime,
    single: &Side,
    group: &Side,
    ops: u64,
    step: &dyn Fn(&str),
) -> anyhow::Result<Rates> {
    let dirs = ops.div_ceil(FILES_PER_DIR);
    step(&format!("ha: mkdirs of {} directories on each side", 2 * dirs));
    for side in [single, group] {
        measure(rt, &side.clients, &side.pids, 2 * dirs, move |mut nn, _, i| {
            let path = dir(i / dirs, i % dirs);
            async move {
                nn.mkdirs(pb::MkdirsRequest { path, create_parent: true }).await?;
                Ok(())
            }
        })?;
    }
    // One, three, three, one: run `r` of each side.
    let order = [(false, 0), (true, 0), (true, 1), (false, 1)];
    let both = |what: &str, f: &dyn Fn(&Side, u64) -> anyhow::Result<Rate>| -> anyhow::Result<Compared> {
        let mut c = Compared { single: Vec::new(), group: Vec::new() };
        for (on_group, r) in order {
            let side = if on_group { "group of 3" } else { "group of 1" };
            step(&format!("ha: {what}, {side}, run {}", r + 1));
            let rate = f(if on_group { group } else { single }, r)?;
            if on_group { &mut c.group } else { &mut c.single }.push(rate);
        }
        Ok(c)
    };
    let create_close = both(&format!("create-close of {ops} empty files"), &|side, r| {
        measure(rt, &side.clients, &side.pids, ops, move |nn, k, i| create_close(nn, file(r, i), client_name(k)))
    })?;
    let stat = both(&format!("stat of {ops} files"), &|side, r| {
        measure(rt, &side.clients, &side.pids, ops, move |mut nn, _, i| {
            // Files of both create-close runs, in another order each time.
            let j = spread(i + r * ops, 2 * ops);
            let path = file(j / ops, j % ops);
            async move {
                let st = nn.get_file_info(pb::GetFileInfoRequest { path }).await?.into_inner();
                if st.status.is_none_or(|s| s.length != 0) {
                    bail!("stat did not return the empty file");
                }
                Ok(())
            }
        })
    })?;
    let full_dirs = ops / FILES_PER_DIR;
    let list = both(&format!("listing of {ops} directories"), &|side, r| {
        measure(rt, &side.clients, &side.pids, ops, move |mut nn, _, i| {
            let j = spread(i + r * ops, 2 * full_dirs);
            let path = dir(j / full_dirs, j % full_dirs);
            async move {
                let req = pb::GetListingRequest { path, start_after: String::new(), limit: 0 };
                let page = nn.get_listing(req).await?.into_inner();
                if page.entries.len() as u64 != FILES_PER_DIR {
                    bail!("listing returned {} entries, not {FILES_PER_DIR}", page.entries.len());
                }
                Ok(())
            }
        })
    })?;
    Ok(Rates { ops, create_close, stat, list })
}

impl Compared {
    fn rows(&self, key: &str, what: &str, share: f64) -> [Row; 2] {
        let single = combined(&self.single);
        [
            Row::new(
                format!("ha_single_{key}_ops"),
                format!("group of 1 (no --peers): {what}"),
                crate::report::Unit::OpsPerS,
                Some(single),
            )
            .note(each(&self.single)),
            Row::new(
                format!("ha_group_{key}_ops"),
                format!("group of 3, on the leader: {what}"),
                crate::report::Unit::OpsPerS,
                Some(combined(&self.group)),
            )
            .against(single)
            .target(Target::MinShareOfBaseline(share))
            .note(each(&self.group)),
        ]
    }
}

impl Rates {
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        rows.extend(self.create_close.rows("create_close", "create + close of an empty file, both durable", 0.5));
        rows.extend(self.stat.rows("stat", &format!("stat of a file among {}", 2 * self.ops), 0.9));
        rows.extend(self.list.rows("list", &format!("list of a directory of {FILES_PER_DIR} files"), 0.9));
        rows
    }
}
