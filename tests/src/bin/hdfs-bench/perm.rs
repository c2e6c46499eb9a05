//! The meta phase's cost of permission checking: the same operations on one namenode by an
//! ordinary user (every check runs: traverse, write on the parent, ...) and by the superuser
//! (who skips them, as HDFS's does), measured alternately (user, superuser, superuser, user) so
//! that a change in the machine's load is spread over both; both walk the same paths.
//!
//! - create + close of an empty file (two durable calls), in a directory of each user's;
//! - stat of one of the populated files, spread over all of them.

use anyhow::bail;
use hdfs_proto::pb::namenode as pb;

use crate::clients::{Clients, client_name, create_close, measure};
use crate::load::{Rate, combined, each, spread};
use crate::options::META_FILES_PER_DIR as FILES_PER_DIR;
use crate::report::{Row, Target, Unit};

/// Runs of each operation, by the ordinary user and by the superuser.
pub struct Checks {
    pub create_close: (Vec<Rate>, Vec<Rate>),
    pub stat: (Vec<Rate>, Vec<Rate>),
}

fn file(superuser: bool, run: u64, i: u64) -> String {
    format!("{}/f{i}", dir(superuser, run, i / FILES_PER_DIR))
}

fn dir(superuser: bool, run: u64, d: u64) -> String {
    format!("/meta/perm-{}/r{run}/d{d}", if superuser { "super" } else { "user" })
}

/// The files to stat: `files` of them, file `i` at `path(i)`, each `length` bytes long.
pub struct Populated {
    pub files: u64,
    pub path: fn(u64) -> String,
    pub length: u64,
}

/// `user` and `superuser` are clients of the same namenode (`pids`).
pub fn run(
    rt: &tokio::runtime::Runtime,
    user: &Clients,
    superuser: &Clients,
    pids: &[u32],
    ops: u64,
    populated: Populated,
    step: &dyn Fn(&str),
) -> anyhow::Result<Checks> {
    let Populated { files, path: file_path, length } = populated;
    let dirs = ops.div_ceil(FILES_PER_DIR);
    for (clients, su) in [(user, false), (superuser, true)] {
        measure(rt, clients, pids, 2 * dirs, move |mut nn, _, i| {
            let path = dir(su, i / dirs, i % dirs);
            async move {
                nn.mkdirs(pb::MkdirsRequest { path, create_parent: true }).await?;
                Ok(())
            }
        })?;
    }
    let order = [(false, 0), (true, 0), (true, 1), (false, 1)];
    let both = |what: &str, f: &dyn Fn(&Clients, bool, u64) -> anyhow::Result<Rate>| {
        let (mut u, mut s) = (Vec::new(), Vec::new());
        for (su, r) in order {
            step(&format!("meta: permission checks: {what}, {}, run {}", if su { "superuser" } else { "user" }, r + 1));
            let rate = f(if su { superuser } else { user }, su, r)?;
            if su { &mut s } else { &mut u }.push(rate);
        }
        anyhow::Ok((u, s))
    };
    let create_close = both(&format!("create-close of {ops} empty files"), &|clients, su, r| {
        measure(rt, clients, pids, ops, move |nn, k, i| create_close(nn, file(su, r, i), client_name(k)))
    })?;
    let stat = both(&format!("stat of {ops} files"), &|clients, _, r| {
        measure(rt, clients, pids, ops, move |mut nn, _, i| {
            let path = file_path(spread(i + r * ops, files));
            async move {
                let st = nn.get_file_info(pb::GetFileInfoRequest { path }).await?.into_inner();
                if st.status.is_none_or(|s| s.length != length) {
                    bail!("stat did not return the file with its length");
                }
                Ok(())
            }
        })
    })?;
    Ok(Checks { create_close, stat })
}

impl Checks {
    pub fn rows(&self) -> Vec<Row> {
        let pair = |key: &str, what: &str, (user, su): &(Vec<Rate>, Vec<Rate>)| {
            let skipped = combined(su);
            [
                Row::new(
                    format!("meta_perm_super_{key}_ops"),
                    format!("superuser (no checks): {what}"),
                    Unit::OpsPerS,
                    Some(skipped),
                )
                .note(each(su)),
                Row::new(
                    format!("meta_perm_user_{key}_ops"),
                    format!("ordinary user (every check): {what}"),
                    Unit::OpsPerS,
                    Some(combined(user)),
                )
                .against(skipped)
                .target(Target::MinShareOfBaseline(0.95))
                .note(each(user)),
            ]
        };
        let mut rows = Vec::new();
        rows.extend(pair("create_close", "create + close of an empty file, both durable", &self.create_close));
        rows.extend(pair("stat", "stat of a populated file", &self.stat));
        rows
    }
}
