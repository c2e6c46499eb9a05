//! [`Conn`]: the connection state a client's handles share: the namenode channel, the cache of
//! datanode connections, the client name leases are held under, and the count of open writers
//! that keeps lease renewal going.
//!
//! [`Client`](crate::Client), [`FileReader`](crate::FileReader), [`FileWriter`](crate::FileWriter)
//! and the admin calls all hold a `Conn` (as hdfs-native's file handles hold its protocol
//! state, not its client), so none of them depends on the `Client` façade, and a reader or
//! writer keeps working after the `Client` it came from is dropped. Lease renewal lives here
//! too: it ends when the last `Conn` clone goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::datanode::data_transfer_client::DataTransferClient;
use hdfs_proto::pb::namenode::{self as pb, client_protocol_client::ClientProtocolClient};
use tonic::transport::Channel;

use crate::error::{Error, Result};

/// Deadline of each metadata call to the namenode.
pub(crate) const RPC_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an open writer's lease is renewed (the namenode's hard limit defaults to 60 s).
const LEASE_RENEW_INTERVAL: Duration = Duration::from_secs(10);

struct Shared {
    namenode: ClientProtocolClient<Channel>,
    client_name: String,
    datanodes: Mutex<HashMap<String, Channel>>,
    open_writers: Mutex<usize>,
}

/// Cheap to clone; clones share the connections.
#[derive(Clone)]
pub(crate) struct Conn {
    shared: Arc<Shared>,
}

/// A request with the metadata call deadline.
pub(crate) fn request<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.set_timeout(RPC_TIMEOUT);
    r
}

/// A path checked here, for a clear error before any round trip.
pub(crate) fn path(p: &str) -> Result<HdfsPath> {
    Ok(HdfsPath::parse(p)?)
}

impl Conn {
    /// Connects to the namenode at `url` and starts lease renewal.
    pub(crate) async fn connect(url: &str) -> Result<Conn> {
        let channel = open(url).await?;
        let namenode = ClientProtocolClient::new(channel)
            .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE);
        let shared = Arc::new(Shared {
            namenode,
            client_name: format!("hdfs-client-{}", uuid::Uuid::new_v4()),
            datanodes: Mutex::new(HashMap::new()),
            open_writers: Mutex::new(0),
        });
        tokio::spawn(renew_leases(Arc::downgrade(&shared)));
        Ok(Conn { shared })
    }

    pub(crate) fn namenode(&self) -> ClientProtocolClient<Channel> {
        self.shared.namenode.clone()
    }

    /// The name this client's leases are held under.
    pub(crate) fn client_name(&self) -> &str {
        &self.shared.client_name
    }

    /// A data-transfer client for the datanode at `addr`, reusing a connection.
    pub(crate) async fn datanode(&self, addr: &str) -> Result<DataTransferClient<Channel>> {
        let cached = self.shared.datanodes.lock().unwrap_or_else(|p| p.into_inner()).get(addr).cloned();
        let channel = match cached {
            Some(c) => c,
            None => {
                let c = open(addr).await?;
                self.shared.datanodes.lock().unwrap_or_else(|p| p.into_inner()).insert(addr.to_string(), c.clone());
                c
            }
        };
        Ok(DataTransferClient::new(channel)
            .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE))
    }

    /// Forgets a cached datanode connection after it failed.
    pub(crate) fn drop_datanode(&self, addr: &str) {
        self.shared.datanodes.lock().unwrap_or_else(|p| p.into_inner()).remove(addr);
    }

    pub(crate) fn writer_opened(&self) {
        *self.shared.open_writers.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }

    pub(crate) fn writer_closed(&self) {
        let mut n = self.shared.open_writers.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
    }
}

/// A new channel to `addr` (a URL or `host:port`).
async fn open(addr: &str) -> Result<Channel> {
    let err = |e: &dyn std::fmt::Display| Error::Connect { addr: addr.to_string(), reason: e.to_string() };
    hdfs_proto::grpc::endpoint(addr).map_err(|e| err(&e))?.connect().await.map_err(|e| err(&describe_transport(&e)))
}

/// Tonic's transport errors say "transport error"; the cause underneath says what happened.
fn describe_transport(e: &tonic::transport::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

/// Renews this client's leases while it has files open for writing; ends with the connection.
async fn renew_leases(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(LEASE_RENEW_INTERVAL).await;
        let Some(shared) = shared.upgrade() else { return };
        let open = *shared.open_writers.lock().unwrap_or_else(|p| p.into_inner());
        if open > 0 {
            let req = pb::RenewLeaseRequest { client_name: shared.client_name.clone() };
            if let Err(e) = shared.namenode.clone().renew_lease(request(req)).await {
                tracing::warn!(error = %e.message(), "lease renewal failed");
            }
        }
    }
}
