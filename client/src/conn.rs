//! [`Conn`]: the connection state a client's handles share: a channel to each namenode of the
//! group and which one leads, the cache of datanode connections, the client name leases are
//! held under, and the count of open writers that keeps lease renewal going.
//!
//! [`Client`](crate::Client), [`FileReader`](crate::FileReader), [`FileWriter`](crate::FileWriter)
//! and the admin calls all hold a `Conn` (as hdfs-native's file handles hold its protocol
//! state, not its client), so none of them depends on the `Client` façade, and a reader or
//! writer keeps working after the `Client` it came from is dropped. Lease renewal lives here
//! too: it ends when the last `Conn` clone goes.
//!
//! # Failover
//!
//! Every namenode call goes through [`Conn::call`] (the [`rpc!`] macro): it goes to the member
//! last known to lead; a member that does not lead answers UNAVAILABLE with the leader's URL
//! (`x-hdfs-leader`) and the call goes there; a member that cannot be reached, or knows no
//! leader, makes the call try the next one, with backoff once every member has been tried, all
//! within [`CALL_TIMEOUT`] (HDFS's `ConfiguredFailoverProxyProvider` does the same). Each call
//! carries the client's id and a call id (`x-hdfs-client-id`, `x-hdfs-call-id`), the same on
//! every retry, so a non-idempotent call retried after a lost answer is answered from the
//! group's retry cache instead of being applied twice.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use hdfs_proto::path::HdfsPath;
use hdfs_proto::pb::datanode::data_transfer_client::DataTransferClient;
use hdfs_proto::pb::namenode::{self as pb, client_protocol_client::ClientProtocolClient};
use tonic::transport::Channel;
use tonic::{Code, Status};

use hdfs_proto::user::USER_HEADER;

use crate::error::{Error, Result};

/// How long a namenode call may take in all, failovers and retries included.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// How often an open writer's lease is renewed (the namenode's hard limit defaults to 60 s).
const LEASE_RENEW_INTERVAL: Duration = Duration::from_secs(10);
/// First and longest pause between rounds over the members.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_millis(250));

/// Metadata of the protocol between clients and the namenode group.
const LEADER_HEADER: &str = "x-hdfs-leader";
const MEMBER_HEADER: &str = "x-hdfs-namenode-id";
/// On every error status a namenode gives (one without it came from a broken connection).
const FROM_HEADER: &str = "x-hdfs-from";
const CLIENT_ID_HEADER: &str = "x-hdfs-client-id";
const CALL_ID_HEADER: &str = "x-hdfs-call-id";

/// One namenode of the group.
struct Member {
    url: String,
    client: ClientProtocolClient<Channel>,
}

struct Shared {
    members: Mutex<Vec<Member>>,
    /// How many URLs the client was given (members learned from hints come after them).
    given: usize,
    /// Index in `members` of the one last known to lead.
    leader: AtomicUsize,
    /// Whether any namenode has ever answered this client (until one has, a namenode that
    /// cannot be reached is reported at once rather than waited for).
    reached_once: AtomicBool,
    client_name: String,
    /// Who calls (sent as `x-hdfs-user` with every call; the namenode checks permissions for it).
    user: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    next_call: AtomicU64,
    datanodes: Mutex<HashMap<String, Channel>>,
    open_writers: Mutex<usize>,
}

/// Cheap to clone; clones share the connections.
#[derive(Clone)]
pub(crate) struct Conn {
    shared: Arc<Shared>,
}

/// Calls a `ClientProtocol` method on the group's leader, with failover: `rpc!(conn, create,
/// request)` gives the answer's message.
macro_rules! rpc {
    ($conn:expr, $method:ident, $req:expr) => {
        $conn.call($req, |mut nn, r| async move { nn.$method(r).await })
    };
}
pub(crate) use rpc;

/// A path checked here, for a clear error before any round trip.
pub(crate) fn path(p: &str) -> Result<HdfsPath> {
    Ok(HdfsPath::parse(p)?)
}

fn client_of(channel: Channel) -> ClientProtocolClient<Channel> {
    ClientProtocolClient::new(channel)
        .max_decoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(hdfs_proto::grpc::MAX_MESSAGE_SIZE)
}

/// The namenode URLs of `list` (`http://a:8020,http://b:8020`; bare `host:port` works too).
fn urls(list: &str) -> Vec<String> {
    list.split(',').map(str::trim).filter(|u| !u.is_empty()).map(hdfs_proto::grpc::url).collect()
}

impl Conn {
    /// Connects to the namenodes at `urls` (one URL, or the group's, comma-separated) and
    /// starts lease renewal. At least one must answer now; the others are tried when needed.
    pub(crate) async fn connect(list: &str, user: &str) -> Result<Conn> {
        let user = user.parse().map_err(|_| Error::InvalidArgument(format!("{user:?} is not a valid user name")))?;
        let urls = urls(list);
        if urls.is_empty() {
            return Err(Error::InvalidArgument("no namenode URL given".into()));
        }
        let mut members = Vec::new();
        let mut first_error = None;
        let mut connected = 0;
        let tries: Vec<_> = urls.iter().map(|u| (u.clone(), tokio::spawn(open_owned(u.clone())))).collect();
        for (url, opened) in tries {
            let opened = opened.await.map_err(|e| Error::Connect { addr: url.clone(), reason: e.to_string() })?;
            let channel = match opened {
                Ok(c) => {
                    connected += 1;
                    c
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    lazy(&url)?
                }
            };
            members.push(Member { url, client: client_of(channel) });
        }
        if connected == 0 {
            return Err(first_error.expect("every member failed"));
        }
        let given = members.len();
        let shared = Arc::new(Shared {
            members: Mutex::new(members),
            given,
            leader: AtomicUsize::new(0),
            reached_once: AtomicBool::new(false),
            client_name: format!("hdfs-client-{}", uuid::Uuid::new_v4()),
            user,
            next_call: AtomicU64::new(1),
            datanodes: Mutex::new(HashMap::new()),
            open_writers: Mutex::new(0),
        });
        tokio::spawn(renew_leases(Arc::downgrade(&shared)));
        Ok(Conn { shared })
    }

    /// The name this client's leases are held under.
    pub(crate) fn client_name(&self) -> &str {
        &self.shared.client_name
    }

    /// The user this client calls as.
    pub(crate) fn user(&self) -> &str {
        self.shared.user.to_str().unwrap_or_default()
    }

    /// The caller's name as the `x-hdfs-user` metadata carries it.
    pub(crate) fn user_header(&self) -> tonic::metadata::AsciiMetadataValue {
        self.shared.user.clone()
    }

    fn member(&self, i: usize) -> (String, ClientProtocolClient<Channel>) {
        let m = self.shared.members.lock().unwrap_or_else(|p| p.into_inner());
        let m = &m[i % m.len()];
        (m.url.clone(), m.client.clone())
    }

    /// The URLs of the namenodes this client knows.
    pub(crate) fn member_urls(&self) -> Vec<String> {
        self.shared.members.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|m| m.url.clone()).collect()
    }

    fn member_count(&self) -> usize {
        self.shared.members.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The index of the member at `url`, added if the group named one this client was not given.
    fn index_of(&self, url: &str) -> Result<usize> {
        let mut m = self.shared.members.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = m.iter().position(|x| x.url == url) {
            return Ok(i);
        }
        m.push(Member { url: url.to_string(), client: client_of(lazy(url)?) });
        Ok(m.len() - 1)
    }

    /// Calls the group's leader with `req` (see the module doc); `f` makes the one call.
    pub(crate) async fn call<Req, Resp, F, Fut>(&self, req: Req, f: F) -> Result<Resp>
    where
        Req: Clone,
        F: Fn(ClientProtocolClient<Channel>, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<Resp>, Status>>,
    {
        let deadline = Instant::now() + CALL_TIMEOUT;
        let call_id = self.shared.next_call.fetch_add(1, Ordering::Relaxed);
        let mut at = self.shared.leader.load(Ordering::Relaxed);
        // The members in turn, whatever hints say; and the hinted ones that failed this round
        // (a hint may name an address this client cannot reach, e.g. a container's name).
        let mut turn = at;
        let mut dead_hints = std::collections::HashSet::new();
        let mut backoff = BACKOFF.0;
        // Members that answered (leading or not) in this call, and the last failure.
        let mut answered = std::collections::BTreeSet::new();
        let mut tried_since_pause = 0;
        let mut last: Option<(String, Status)> = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let (url, client) = self.member(at);
            let mut r = tonic::Request::new(req.clone());
            r.set_timeout(deadline - now);
            let md = r.metadata_mut();
            if let Ok(v) = self.shared.client_name.parse() {
                md.insert(CLIENT_ID_HEADER, v);
            }
            md.insert(CALL_ID_HEADER, call_id.into());
            md.insert(USER_HEADER, self.shared.user.clone());
            let status = match f(client, r).await {
                Ok(answer) => {
                    self.shared.leader.store(at, Ordering::Relaxed);
                    self.shared.reached_once.store(true, Ordering::Relaxed);
                    return Ok(answer.into_inner());
                }
                Err(s) => s,
            };
            let from_member = status.metadata().contains_key(MEMBER_HEADER);
            let from_namenode = status.metadata().contains_key(FROM_HEADER);
            // "Try another member" from the group, or a connection that broke or never formed.
            let elsewhere = status.code() == Code::Unavailable
                || (!from_namenode
                    && matches!(
                        status.code(),
                        Code::Unknown | Code::Internal | Code::Cancelled | Code::DeadlineExceeded
                    ));
            if !elsewhere {
                self.shared.reached_once.store(true, Ordering::Relaxed);
                return Err(status.into());
            }
            if from_member {
                self.shared.reached_once.store(true, Ordering::Relaxed);
                answered.insert(url.clone());
            }
            let hinted = status.metadata().get(LEADER_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
            if !from_member {
                dead_hints.insert(url.clone());
            }
            last = Some((url.clone(), status));
            match hinted {
                Some(leader) if leader != url && !dead_hints.contains(&leader) => {
                    at = self.index_of(&leader)?;
                    continue;
                }
                _ => {
                    turn += 1;
                    at = turn;
                }
            }
            tried_since_pause += 1;
            if tried_since_pause >= self.member_count() {
                if !self.shared.reached_once.load(Ordering::Relaxed) && answered.is_empty() {
                    // Never reached any namenode: say so now rather than after the whole timeout.
                    let (addr, s) = last.expect("a failure");
                    return Err(Error::Connect { addr, reason: s.message().to_string() });
                }
                tried_since_pause = 0;
                dead_hints.clear();
                tokio::time::sleep(backoff.min(deadline.saturating_duration_since(Instant::now()))).await;
                backoff = (backoff * 2).min(BACKOFF.1);
            }
        }
        let total = self.shared.given.max(answered.len());
        let why = last.map_or(String::new(), |(url, s)| format!(" (last: {url}: {})", s.message()));
        Err(Error::Unavailable(format!(
            "no quorum: {} of {total} namenodes reachable within {CALL_TIMEOUT:?}{why}; \
             if this call was a change, it may still be applied once a majority is back",
            answered.len()
        )))
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

async fn open_owned(addr: String) -> Result<Channel> {
    open(&addr).await
}

/// A new channel to `addr` (a URL or `host:port`).
async fn open(addr: &str) -> Result<Channel> {
    let err = |e: &dyn std::fmt::Display| Error::Connect { addr: addr.to_string(), reason: e.to_string() };
    hdfs_proto::grpc::endpoint(addr).map_err(|e| err(&e))?.connect().await.map_err(|e| err(&describe_transport(&e)))
}

/// A channel to `addr` that connects on first use.
fn lazy(addr: &str) -> Result<Channel> {
    hdfs_proto::grpc::endpoint(addr)
        .map(|e| e.connect_lazy())
        .map_err(|e| Error::Connect { addr: addr.to_string(), reason: e.to_string() })
}

/// Tonic's transport errors say "transport error"; the cause underneath says what happened.
pub(crate) fn describe_transport(e: &tonic::transport::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    if msg.contains("HTTPS without TLS") {
        msg = "an https:// namenode needs the cluster's CA to check it against (--tls-ca or HDFS_TLS_CA)".into();
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
            let conn = Conn { shared };
            let req = pb::RenewLeaseRequest { client_name: conn.client_name().to_string() };
            if let Err(e) = rpc!(conn, renew_lease, req).await {
                tracing::warn!(error = %e, "lease renewal failed");
            }
        }
    }
}
