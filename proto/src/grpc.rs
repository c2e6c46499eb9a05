//! Transport settings shared by every gRPC channel and server.
//!
//! Measured on this machine kind (notes/grpc-and-storage.md): raising HTTP/2's frame size from
//! 16 KiB to 1 MiB on both ends gave 1.5-2x single-stream throughput and 30-50% less CPU with
//! 1 MiB messages; 16/64 MiB stream/connection windows added 5-15%; the adaptive window did not
//! help. The default 4 MiB message limit is raised so a full packet plus framing always fits.

use std::time::Duration;

use tonic::transport::{Endpoint, Server};

/// HTTP/2 frame size on both ends.
pub const MAX_FRAME_SIZE: u32 = 1 << 20;
/// Per-stream flow-control window.
pub const STREAM_WINDOW: u32 = 16 << 20;
/// Per-connection flow-control window.
pub const CONNECTION_WINDOW: u32 = 64 << 20;
/// Largest message either end accepts: packets carry at most 1 MiB of data plus checksums, and a
/// block report of a datanode with millions of replicas stays well under this.
pub const MAX_MESSAGE_SIZE: usize = 64 << 20;
/// Deadline for establishing a connection, name lookup included. A killed container's address
/// makes a connect hang rather than fail (notes/containers.md), so every connect needs one.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `addr` as a URL: as it is if it has a scheme, else with this process's (`https` in a TLS
/// cluster, see [`crate::tls`]).
pub fn url(addr: &str) -> String {
    let addr = addr.trim().trim_end_matches('/');
    if addr.contains("://") { addr.to_string() } else { format!("{}://{addr}", crate::tls::scheme()) }
}

/// The host of a URL or `host:port` (brackets of an IPv6 address removed).
fn host_of(url: &str) -> &str {
    let authority = url.split_once("://").map_or(url, |(_, a)| a);
    let authority = authority.split('/').next().unwrap_or_default();
    authority.rsplit_once(':').map_or(authority, |(h, _)| h).trim_matches(['[', ']'])
}

/// An endpoint with the shared tuning. `url` is `http://host:port` or `https://host:port`; a bare
/// `host:port` takes this process's scheme ([`url`]). An `https` endpoint trusts the CA this
/// process was given ([`crate::tls::trust`]).
pub fn endpoint(url: &str) -> Result<Endpoint, tonic::transport::Error> {
    let url = self::url(url);
    let tls = if url.starts_with("https://") { crate::tls::client_config(host_of(&url)) } else { None };
    let endpoint = Endpoint::from_shared(url)?;
    let endpoint = match tls {
        Some(tls) => endpoint.tls_config(tls)?,
        None => endpoint,
    };
    Ok(endpoint
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .max_frame_size(MAX_FRAME_SIZE)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(20)))
}

/// Accepted connections with `TCP_NODELAY`. The server builder's own `tcp_nodelay` does not
/// apply to an incoming stream passed in, and without it Nagle's algorithm and delayed ACKs
/// stalled about a third of new connections for ~40 ms on their first call (measured by the
/// cluster benchmark: 20 `hdfs ls` took 0.9 s instead of 0.045 s).
pub fn incoming(listener: tokio::net::TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Serves until `shutdown` is cancelled, then waits at most `grace` for open connections (a
/// stopped client could otherwise hold a graceful shutdown open for ever).
pub async fn serve_until(
    router: tonic::transport::server::Router,
    listener: tokio::net::TcpListener,
    shutdown: tokio_util::sync::CancellationToken,
    grace: Duration,
) -> Result<(), tonic::transport::Error> {
    let serve = router.serve_with_incoming_shutdown(incoming(listener), shutdown.clone().cancelled_owned());
    tokio::pin!(serve);
    tokio::select! {
        r = &mut serve => r,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "connections still open after shutdown; closing them");
            Ok(())
        }
    }
}

/// A server builder with the shared tuning, presenting `tls` if given.
/// (`TCP_NODELAY` is set on the listener by [`incoming`]: the builder's setting does not apply
/// to an incoming stream.)
pub fn server(tls: Option<&crate::tls::ServerTls>) -> Result<Server, tonic::transport::Error> {
    let server = Server::builder()
        .max_frame_size(MAX_FRAME_SIZE)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)));
    match tls {
        Some(t) => server.tls_config(t.grpc.clone()),
        None => Ok(server),
    }
}

/// Metadata key naming the datanode a failed write pipeline should drop.
const BAD_NODE_KEY: &str = "x-hdfs-bad-node";

/// Marks `status` as caused by the datanode at `addr`, unless a node further down the pipeline
/// was already named.
pub fn blame(mut status: tonic::Status, addr: &str) -> tonic::Status {
    if bad_node(&status).is_none()
        && let Ok(v) = addr.parse()
    {
        status.metadata_mut().insert(BAD_NODE_KEY, v);
    }
    status
}

/// The datanode a pipeline error names, if any.
pub fn bad_node(status: &tonic::Status) -> Option<String> {
    status.metadata().get(BAD_NODE_KEY).and_then(|v| v.to_str().ok()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(host_of("https://nn1:8020"), "nn1");
        assert_eq!(host_of("127.0.0.1:9866"), "127.0.0.1");
        assert_eq!(host_of("https://[::1]:8020/"), "::1");
        assert_eq!(host_of("http://host"), "host");
    }
}
