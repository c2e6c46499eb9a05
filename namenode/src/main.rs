//! `namenode`: parses flags, starts tracing, binds the listener, then runs until Ctrl-C/SIGTERM.

use clap::Parser;

#[derive(Parser, Debug)]
#[command(version, about = "The namenode of the file system: namespace, block map, datanode liveness")]
struct Args {
    /// Address of the gRPC service (clients and datanodes).
    #[arg(long, env = "NAMENODE_RPC_ADDR", default_value = "0.0.0.0:8020")]
    rpc_addr: String,
    /// Address of the HTTP port: WebHDFS, the status page, Prometheus metrics ("" for none).
    #[arg(long, env = "NAMENODE_HTTP_ADDR", default_value = "0.0.0.0:9870")]
    http_addr: String,
    #[command(flatten)]
    config: hdfs_namenode::Config,
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
    args.config.validate().map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind(&args.rpc_addr)
        .await
        .map_err(|e| anyhow::anyhow!("bind --rpc-addr {}: {e}", args.rpc_addr))?;
    let http = hdfs_proto::http::bind("--http-addr", &args.http_addr).await?;
    let shutdown = hdfs_proto::daemon::shutdown_on_signal();
    hdfs_namenode::run(args.config, listener, http, shutdown).await
}
