//! The `small` phase, after SeaweedFS's published benchmark: many 1 KiB files written, then read
//! back, by concurrent clients, each a `hdfs_client::Client` of its own (its own connections),
//! on a cluster of real processes. Every file is written at replication 3 (create, one block
//! through a three-datanode pipeline, fsynced on all three, complete) and every read checks the
//! bytes it got.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use hdfs_client::{Client, CreateOptions};
use hdfs_proto::units::format_size;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cluster::{Binaries, Cluster};
use crate::load::{self, Rate, spread};
use crate::options::Options;
use crate::report::{Row, Target};

const REPLICATION: u32 = 3;
const FILES_PER_DIR: u64 = 1000;

struct Settings {
    pub files: u64,
    pub size: u64,
    pub clients: usize,
}

pub struct Small {
    pub write: Rate,
    pub read: Rate,
}

fn path(i: u64) -> String {
    format!("/small/d{}/f{i}", i / FILES_PER_DIR)
}

/// The contents of file `i`: its number repeated, so a read of the wrong file is noticed.
fn contents(i: u64, size: u64) -> Vec<u8> {
    i.to_le_bytes().iter().copied().cycle().take(size as usize).collect()
}

/// The phase's cluster and load, as the table's heading states them.
pub fn setup(opts: &Options) -> String {
    format!(
        "1 namenode + 3 datanodes, {} clients, {} files of {} at replication 3",
        opts.clients,
        opts.small_files,
        format_size(opts.small_size)
    )
}

pub fn run(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Small> {
    let s = &Settings { files: opts.small_files, size: opts.small_size, clients: opts.clients };
    let cluster = Cluster::start(bins, &root.join("small"), 3, &[])?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("start a tokio runtime")?;
    let clients = rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..s.clients {
            clients.push(Client::connect(&cluster.namenode_url).await?);
        }
        for d in 0..s.files.div_ceil(FILES_PER_DIR) {
            clients[0].mkdirs(&format!("/small/d{d}"), true).await?;
        }
        anyhow::Ok(Arc::new(clients))
    })?;

    let (files, size) = (s.files, s.size);
    step(&format!("small: writing {files} files of {size} bytes at replication {REPLICATION}, {} clients", s.clients));
    let write = rt.block_on(load::run(s.clients, files, {
        let clients = clients.clone();
        move |k, i| {
            let client = clients[k].clone();
            async move {
                let mut w = client.create(&path(i), CreateOptions::default().replication(REPLICATION)).await?;
                w.write_all(&contents(i, size)).await?;
                w.close().await?;
                Ok(())
            }
        }
    }))?;

    step(&format!("small: reading {files} files in random order"));
    let read = rt.block_on(load::run(s.clients, files, {
        let clients = clients.clone();
        move |k, i| {
            let client = clients[k].clone();
            let i = spread(i, files);
            async move {
                let mut r = client.open(&path(i)).await?;
                let mut got = Vec::with_capacity(size as usize);
                r.read_to_end(&mut got).await?;
                if got != contents(i, size) {
                    bail!("{} came back with other contents ({} bytes)", path(i), got.len());
                }
                Ok(())
            }
        }
    }))?;
    drop(clients);
    drop(cluster);
    Ok(Small { write, read })
}

impl Small {
    /// The performance issue's small-file figures.
    pub fn rows(&self, opts: &Options) -> Vec<Row> {
        let size = format_size(opts.small_size);
        vec![
            self.write
                .row("small_write_ops", format!("small files: write of {size}, replication 3"))
                .target(Target::AtLeast(3000.0)),
            self.read
                .row("small_read_ops", format!("small files: read of {size}, checked"))
                .target(Target::AtLeast(10000.0)),
        ]
    }
}
