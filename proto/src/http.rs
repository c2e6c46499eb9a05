//! The HTTP ports of the namenode and the datanodes (WebHDFS, status pages, metrics): one server
//! loop with the limits every such port needs.
//!
//! - Request heads are bounded in size ([`MAX_HEAD_BYTES`]: a longer URL or header set is refused
//!   by hyper with 431) and in time ([`HEAD_TIMEOUT`]: a client that trickles its headers, the
//!   slowloris attack, or keeps an idle connection open is disconnected).
//! - Bodies are read by the handlers that accept one, each with its own limits (WebHDFS data
//!   streams; [`BODY_IDLE_TIMEOUT`] between chunks).
//! - On shutdown every connection is asked to finish its request and close, and the loop waits
//!   at most `grace` for them.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::{TlsAcceptor, rustls};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The largest request head (request line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 64 << 10;
/// How long a client has to send a whole request head, counted from the connection being ready
/// for one (so an idle keep-alive connection is closed after this long, too).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may go without a byte before the request is abandoned.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Binds the HTTP port named by `flag` (`""` for none).
pub async fn bind(flag: &str, addr: &str) -> std::io::Result<Option<TcpListener>> {
    if addr.is_empty() {
        return Ok(None);
    }
    let listener =
        TcpListener::bind(addr).await.map_err(|e| std::io::Error::new(e.kind(), format!("bind {flag} {addr}: {e}")))?;
    Ok(Some(listener))
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown` is cancelled, then lets
/// open requests finish for up to `grace`.
pub async fn serve_until(
    router: Router,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
    grace: Duration,
) -> std::io::Result<()> {
    let tls = tls.map(TlsAcceptor::from);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the connections we have.
                    tracing::warn!(error = %e, "http accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let result = match tls {
                None => serve_connection(&builder, TokioIo::new(stream), service, &shutdown).await,
                // The handshake is bounded like a request head.
                Some(tls) => match tokio::time::timeout(HEAD_TIMEOUT, tls.accept(stream)).await {
                    Ok(Ok(stream)) => serve_connection(&builder, TokioIo::new(stream), service, &shutdown).await,
                    Ok(Err(e)) => Err(e.into()),
                    Err(_) => Err("TLS handshake timed out".into()),
                },
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "http connection ended with an error");
            }
        });
    }
    connections.close();
    if tokio::time::timeout(grace, connections.wait()).await.is_err() {
        tracing::warn!(?grace, "http requests still open after shutdown; closing them");
    }
    Ok(())
}

type Service = TowerToHyperService<Router>;
type ConnError = Box<dyn std::error::Error + Send + Sync>;

/// One connection's requests, until it closes or shutdown asks it to finish.
async fn serve_connection<I>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    service: Service,
    shutdown: &CancellationToken,
) -> Result<(), ConnError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}

/// A router's fallback: 404 with a plain message.
pub async fn not_found(uri: axum::http::Uri) -> Result<(axum::http::StatusCode, String), Infallible> {
    Ok((axum::http::StatusCode::NOT_FOUND, format!("no such page: {}\n", uri.path())))
}

/// A registry in Prometheus's text format: the answer to `GET /metrics`.
pub fn metrics_answer(registry: &prometheus_client::registry::Registry) -> axum::response::Response {
    use axum::response::IntoResponse;
    use prometheus_client::encoding::prometheus_text;
    let mut text = String::new();
    match prometheus_text::encode(&mut text, registry) {
        Ok(()) => ([(axum::http::header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)], text).into_response(),
        Err(_) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "could not encode the metrics\n").into_response(),
    }
}

/// One gauge sample, read at scrape time by a collector.
pub fn gauge(
    e: &mut prometheus_client::encoding::DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<prometheus_client::registry::Unit>,
    v: u64,
) -> std::fmt::Result {
    use prometheus_client::encoding::EncodeMetric;
    let m = e.encode_descriptor(name, help, unit.as_ref(), prometheus_client::metrics::MetricType::Gauge)?;
    prometheus_client::metrics::gauge::ConstGauge::new(v).encode(m)
}
