//! The metadata load's clients and operations, shared by the meta, ha and permission
//! comparisons: raw `ClientProtocol` clients, each on its own connection as separate client
//! processes would be, the measuring loop, and create-and-close.

use std::sync::Arc;

use anyhow::{Context, bail};
use hdfs_proto::pb::namenode as pb;
use hdfs_proto::user::{NamenodeClient, namenode_client};

use crate::load::{self, Rate};

/// The replication of every file the metadata load makes.
pub const REPLICATION: u32 = 3;

pub type Clients = Arc<Vec<NamenodeClient>>;

/// Runs operations `0..ops` spread over the clients (see `load::run`); `op` gets its client's
/// handle, the client's number and the operation's. The rate carries the CPU the run cost the
/// servers `pids` and the clients.
pub fn measure<F, Fut>(
    rt: &tokio::runtime::Runtime,
    clients: &Clients,
    pids: &[u32],
    ops: u64,
    op: F,
) -> anyhow::Result<Rate>
where
    F: Fn(NamenodeClient, usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let clients = clients.clone();
    let (rate, cpu) = crate::cpu::around(pids, || {
        rt.block_on(load::run(clients.len(), ops, move |k, i| op(clients[k].clone(), k, i)))
    });
    Ok(Rate { cpu: Some(cpu), ..rate? })
}

pub fn client_name(k: usize) -> String {
    format!("meta-bench-{k}")
}

/// A create of `path` by `client_name`, at the benchmark's replication.
pub fn create_request(path: &str, client_name: &str) -> pb::CreateRequest {
    pb::CreateRequest {
        path: path.into(),
        client_name: client_name.into(),
        replication: REPLICATION,
        ..Default::default()
    }
}

/// Creates the empty file `path` and closes it: two durable calls.
pub async fn create_close(mut nn: NamenodeClient, path: String, client_name: String) -> anyhow::Result<()> {
    nn.create(create_request(&path, &client_name)).await?;
    let done = nn.complete(pb::CompleteRequest { path, client_name, last: None }).await?;
    if !done.into_inner().completed {
        bail!("complete of an empty file was refused");
    }
    Ok(())
}

/// One connection per client, as separate client processes would have, calling as `user`.
pub async fn connect(url: &str, n: usize, user: &str) -> anyhow::Result<Clients> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let channel = hdfs_proto::grpc::endpoint(url)?.connect().await.context("connect to the namenode")?;
        clients.push(namenode_client(channel, user));
    }
    Ok(Arc::new(clients))
}
