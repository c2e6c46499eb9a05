//! The datanode's validated configuration.

use std::path::PathBuf;
use std::time::Duration;

use hdfs_proto::auth::ClusterSecret;

#[derive(Debug, Clone)]
pub struct Config {
    /// URL of the namenode's RPC service, e.g. `http://127.0.0.1:8020`, or of every member of
    /// the namenode group, comma-separated: the datanode reports to all of them.
    pub namenode: String,
    /// Where the block store lives.
    pub data_dir: PathBuf,
    /// The `host:port` other nodes and clients use to reach this datanode. `None`: derived from
    /// the listener (its IP, or this host's name when it listens on all interfaces).
    pub advertise_addr: Option<String>,
    pub heartbeat_interval: Duration,
    /// How often a full block report is sent besides the one at registration.
    pub block_report_interval: Duration,
    /// Bytes per second the block scanner may read (0 turns it off).
    pub scan_bytes_per_sec: u64,
    /// The scanner starts a pass over every replica at most this often.
    pub scan_period: Duration,
    /// The cluster's shared secret: presented to the namenodes and to other datanodes, and the
    /// root of the keys block access tokens are checked with.
    pub cluster_secret: ClusterSecret,
    /// Bytes of the volume kept free of replicas (HDFS's `dfs.datanode.du.reserved`).
    pub reserved: u64,
    /// TLS on this node's ports: its certificate chain and key (PEM files).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The CA (PEM) namenodes and other datanodes are checked against; with it, this node
    /// reaches them over TLS.
    pub tls_ca: Option<PathBuf>,
}

impl Config {
    pub fn new(namenode: impl Into<String>, data_dir: impl Into<PathBuf>, cluster_secret: ClusterSecret) -> Self {
        Self {
            namenode: namenode.into(),
            data_dir: data_dir.into(),
            advertise_addr: None,
            heartbeat_interval: Duration::from_secs(3),
            block_report_interval: Duration::from_secs(3600),
            scan_bytes_per_sec: 8 << 20,
            scan_period: Duration::from_secs(6 * 3600),
            cluster_secret,
            reserved: 0,
            tls_cert: None,
            tls_key: None,
            tls_ca: None,
        }
    }

    /// The namenodes' URLs.
    pub fn namenodes(&self) -> Vec<String> {
        self.namenode.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect()
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.heartbeat_interval.is_zero() {
            return Err("--heartbeat-interval must be positive".into());
        }
        if self.block_report_interval < self.heartbeat_interval {
            return Err("--block-report-interval must not be shorter than the heartbeat interval".into());
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".into());
        }
        if self.namenodes().is_empty() {
            return Err("--namenode: no URL given".into());
        }
        for url in self.namenodes() {
            hdfs_proto::grpc::endpoint(&url).map_err(|e| format!("--namenode {url:?}: {e}"))?;
        }
        if let Some(a) = &self.advertise_addr
            && a.rsplit_once(':').is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
        {
            return Err(format!("--advertise-addr {a:?}: expected host:port"));
        }
        Ok(())
    }
}
