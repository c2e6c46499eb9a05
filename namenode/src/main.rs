//! `namenode`: parses flags, starts tracing, binds the listener, then runs until Ctrl-C/SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use hdfs_proto::units::{parse_duration, parse_size};

#[derive(Parser, Debug)]
#[command(version, about = "The namenode of the file system: namespace, block map, datanode liveness")]
struct Args {
    /// Address of the gRPC service (clients and datanodes).
    #[arg(long, env = "NAMENODE_RPC_ADDR", default_value = "0.0.0.0:8020")]
    rpc_addr: String,
    /// Directory of the edit log and the fsimage.
    #[arg(long, env = "NAMENODE_DATA_DIR")]
    data_dir: PathBuf,
    /// Replication of files created without an explicit factor.
    #[arg(long, env = "NAMENODE_REPLICATION", default_value_t = 3)]
    replication: u32,
    /// Block size of files created without an explicit one (e.g. 128MiB).
    #[arg(long, env = "NAMENODE_BLOCK_SIZE", default_value = "128MiB", value_parser = parse_size)]
    block_size: u64,
    /// Expected interval between datanode heartbeats.
    #[arg(long, env = "NAMENODE_HEARTBEAT_INTERVAL", default_value = "3s", value_parser = parse_duration)]
    heartbeat_interval: Duration,
    /// A datanode silent for this long is declared dead.
    #[arg(long, env = "NAMENODE_DEAD_AFTER", default_value = "30s", value_parser = parse_duration)]
    dead_after: Duration,
    /// A writer's lease is lost after this long without renewal.
    #[arg(long, env = "NAMENODE_LEASE_HARD_LIMIT", default_value = "60s", value_parser = parse_duration)]
    lease_hard_limit: Duration,
    /// How often the replication monitor looks for work.
    #[arg(long, env = "NAMENODE_REPLICATION_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    replication_interval: Duration,
    /// Copies in flight per source datanode (2 more for blocks down to one replica).
    #[arg(long, env = "NAMENODE_MAX_REPLICATION_STREAMS", default_value_t = 2)]
    max_replication_streams: u32,
    /// A copy not confirmed within this is scheduled again, elsewhere if need be.
    #[arg(long, env = "NAMENODE_REPLICATION_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    replication_timeout: Duration,
    /// Fraction of blocks that must be reported before safe mode ends by itself.
    #[arg(long, env = "NAMENODE_SAFEMODE_THRESHOLD", default_value_t = 0.999)]
    safemode_threshold: f64,
    /// How long the threshold must hold before safe mode ends.
    #[arg(long, env = "NAMENODE_SAFEMODE_EXTENSION", default_value = "5s", value_parser = parse_duration)]
    safemode_extension: Duration,
}

#[tokio::main]
async fn main() {
    hdfs_proto::daemon::tune_allocator();
    hdfs_proto::daemon::init_tracing();
    if let Err(e) = serve(Args::parse()).await {
        eprintln!("namenode: {e:#}");
        std::process::exit(1);
    }
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let mut config = hdfs_namenode::Config::new(args.data_dir);
    config.default_replication = args.replication;
    config.default_block_size = args.block_size;
    config.heartbeat_interval = args.heartbeat_interval;
    config.dead_after = args.dead_after;
    config.lease_hard_limit = args.lease_hard_limit;
    config.replication_interval = args.replication_interval;
    config.max_replication_streams = args.max_replication_streams;
    config.replication_timeout = args.replication_timeout;
    config.safemode_threshold = args.safemode_threshold;
    config.safemode_extension = args.safemode_extension;
    config.validate().map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind(&args.rpc_addr)
        .await
        .map_err(|e| anyhow::anyhow!("bind --rpc-addr {}: {e}", args.rpc_addr))?;
    let shutdown = hdfs_proto::daemon::shutdown_on_signal();
    hdfs_namenode::run(config, listener, shutdown).await
}
