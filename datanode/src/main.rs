//! `datanode`: parses flags, starts tracing, binds the listener, then runs until Ctrl-C/SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use hdfs_proto::auth::ClusterSecret;
use hdfs_proto::units::parse_duration;

#[derive(Parser, Debug)]
#[command(version, about = "A datanode of the file system: stores and serves block replicas")]
struct Args {
    /// URL of the namenode, or of every member of the namenode group, comma-separated (the
    /// datanode reports to each and obeys only the leader).
    #[arg(long, env = "DATANODE_NAMENODE", default_value = "http://127.0.0.1:8020")]
    namenode: String,
    /// Address of the data-transfer service.
    #[arg(long, env = "DATANODE_RPC_ADDR", default_value = "0.0.0.0:9866")]
    rpc_addr: String,
    /// host:port that clients and other datanodes use to reach this one (default: derived from
    /// --rpc-addr, with this host's name if it listens on all interfaces).
    #[arg(long, env = "DATANODE_ADVERTISE_ADDR")]
    advertise_addr: Option<String>,
    /// Address of the HTTP port: WebHDFS data, its page, Prometheus metrics ("" for none).
    /// Advertised with --advertise-addr's host.
    #[arg(long, env = "DATANODE_HTTP_ADDR", default_value = "0.0.0.0:9864")]
    http_addr: String,
    /// Directory of the block store.
    #[arg(long, env = "DATANODE_DATA_DIR")]
    data_dir: PathBuf,
    /// Interval between heartbeats to the namenode.
    #[arg(long, env = "DATANODE_HEARTBEAT_INTERVAL", default_value = "3s", value_parser = parse_duration)]
    heartbeat_interval: Duration,
    /// Interval between full block reports.
    #[arg(long, env = "DATANODE_BLOCK_REPORT_INTERVAL", default_value = "1h", value_parser = parse_duration)]
    block_report_interval: Duration,
    /// Bytes per second the block scanner may read to verify replicas (0 turns it off).
    #[arg(long, env = "DATANODE_SCAN_BYTES_PER_SEC", default_value = "8MiB", value_parser = hdfs_proto::units::parse_size)]
    scan_bytes_per_sec: u64,
    /// The scanner starts a pass over every replica at most this often.
    #[arg(long, env = "DATANODE_SCAN_PERIOD", default_value = "6h", value_parser = parse_duration)]
    scan_period: Duration,
    /// The cluster's secret (64 hex digits): what the namenode keeps in its data directory's
    /// `cluster-secret` file. Datanodes present it to the namenodes and check block access
    /// tokens with keys derived from it.
    #[arg(long, env = "HDFS_CLUSTER_SECRET", hide_env_values = true, value_parser = ClusterSecret::parse)]
    cluster_secret: Option<ClusterSecret>,
    /// Bytes of the volume to keep free of replicas, for other uses (HDFS's
    /// `dfs.datanode.du.reserved`). The datanode also keeps 32 MiB free for its index.
    #[arg(long, env = "DATANODE_RESERVED", default_value = "0", value_parser = hdfs_proto::units::parse_size)]
    reserved: u64,
    /// TLS on the data-transfer and HTTP ports: this node's certificate chain (PEM), with
    /// --tls-key.
    #[arg(long, env = "DATANODE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "DATANODE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The CA certificate (PEM) namenodes and datanodes are checked against; with it, this
    /// node reaches them over TLS (give the namenodes as https:// URLs).
    #[arg(long, env = "HDFS_TLS_CA")]
    tls_ca: Option<PathBuf>,
    /// A file holding the cluster's secret, e.g. a copy of the namenode's `cluster-secret`.
    #[arg(long, env = "HDFS_CLUSTER_SECRET_FILE", conflicts_with = "cluster_secret")]
    cluster_secret_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    hdfs_proto::daemon::tune_allocator();
    hdfs_proto::daemon::init_tracing();
    if let Err(e) = serve(Args::parse()).await {
        eprintln!("datanode: {e:#}");
        std::process::exit(1);
    }
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let secret = ClusterSecret::given(args.cluster_secret.as_ref(), args.cluster_secret_file.as_deref())
        .map_err(anyhow::Error::msg)?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no cluster secret: give --cluster-secret-file with a copy of the namenode's \
                 <data-dir>/cluster-secret (or HDFS_CLUSTER_SECRET / HDFS_CLUSTER_SECRET_FILE)"
            )
        })?;
    let mut config = hdfs_datanode::Config::new(args.namenode, args.data_dir, secret);
    config.advertise_addr = args.advertise_addr;
    config.heartbeat_interval = args.heartbeat_interval;
    config.block_report_interval = args.block_report_interval;
    config.scan_bytes_per_sec = args.scan_bytes_per_sec;
    config.scan_period = args.scan_period;
    config.reserved = args.reserved;
    (config.tls_cert, config.tls_key, config.tls_ca) = (args.tls_cert, args.tls_key, args.tls_ca);
    config.validate().map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind(&args.rpc_addr)
        .await
        .map_err(|e| anyhow::anyhow!("bind --rpc-addr {}: {e}", args.rpc_addr))?;
    let http = hdfs_proto::http::bind("--http-addr", &args.http_addr).await?;
    let shutdown = hdfs_proto::daemon::shutdown_on_signal();
    hdfs_datanode::run(config, listener, http, shutdown).await
}
